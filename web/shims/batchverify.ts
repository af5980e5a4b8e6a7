/**
 * Browser stand-in for src/audit/batchverify.ts (which uses Node's worker threads and crypto):
 * the page verifies an epoch's proofs one by one with snarkjs, the same check without the
 * batching speed-up. Same signature and result shape as the Node module.
 */
import { sj } from "./snarkjs.js";

interface Item {
  proof: unknown;
  publicSignals: readonly string[];
}

export type Groth16VKey = Record<string, unknown>;

export async function verifyBatch(
  vkey: Groth16VKey,
  items: readonly Item[],
  opts: { onSettled?: (settled: number) => void } = {},
): Promise<{ ok: boolean; bad: number[] }> {
  const bad: number[] = [];
  for (const [i, it] of items.entries()) {
    let ok = false;
    try {
      ok = await sj.groth16.verify(vkey, [...it.publicSignals], it.proof as never);
    } catch {
      ok = false;
    }
    if (!ok) bad.push(i);
    // per proof: the page's progress bar moves with each verification
    opts.onSettled?.(i + 1);
  }
  return { ok: bad.length === 0, bad };
}
