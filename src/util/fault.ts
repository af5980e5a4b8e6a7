/**
 * Fault injection for crash tests. `BULKHEAD_FAULT=<point>` makes the process kill itself with
 * SIGKILL (no cleanup, no exit handlers: exactly what `kill -9` or a power cut does) the moment it
 * reaches the named point. Tests use it to stop a run right after a chosen step and then check
 * that what is on disk or on chain is consistent and that a re-run repairs it. Without the
 * variable, `faultPoint` does nothing.
 *
 * `BULKHEAD_FAULT=<point>#<n>` kills at the n-th time the point is reached (1-based).
 */
const counts = new Map<string, number>();

/**
 * True exactly when the process reaches `point` for the n-th time that `BULKHEAD_FAULT` names
 * (counted per process). For faults other than a kill: e.g. `native:corrupt-proof` makes the
 * native prover client damage the proof it received, to test that it is caught.
 */
export function faultHit(point: string): boolean {
  const spec = process.env.BULKHEAD_FAULT;
  if (!spec) return false;
  const [name, nth] = spec.split("#");
  if (name !== point) return false;
  const n = (counts.get(point) ?? 0) + 1;
  counts.set(point, n);
  return n === Number(nth ?? 1);
}

export function faultPoint(point: string): void {
  if (!faultHit(point)) return;
  process.stderr.write(`BULKHEAD_FAULT: killed at ${process.env.BULKHEAD_FAULT}\n`);
  process.kill(process.pid, "SIGKILL");
}
