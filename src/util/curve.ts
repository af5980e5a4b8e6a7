/**
 * snarkjs keeps one bn128 curve (with worker threads) in `globalThis.curve_bn128`; while it
 * lives, Node does not exit. Wrap in-process snarkjs work in `withSnarkjs` (reference counted
 * across the whole process): the curve is terminated when the last user finishes.
 */

interface CurveGlobal {
  curve_bn128?: { terminate(): Promise<void> } | null;
  __bulkheadSnarkjsUsers?: number;
}

const g = globalThis as CurveGlobal;

/** Terminate snarkjs's bn128 curve workers now (no-op when none). */
export async function terminateCurves(): Promise<void> {
  const c = g.curve_bn128;
  if (c) {
    g.curve_bn128 = null;
    await c.terminate();
  }
}

/** Run `fn`; when no other `withSnarkjs` call is in flight afterwards, terminate the curve. */
export async function withSnarkjs<T>(fn: () => Promise<T>): Promise<T> {
  g.__bulkheadSnarkjsUsers = (g.__bulkheadSnarkjsUsers ?? 0) + 1;
  try {
    return await fn();
  } finally {
    g.__bulkheadSnarkjsUsers = (g.__bulkheadSnarkjsUsers ?? 1) - 1;
    if (g.__bulkheadSnarkjsUsers === 0) await terminateCurves();
  }
}
