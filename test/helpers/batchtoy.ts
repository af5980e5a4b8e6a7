/**
 * A small Groth16 circuit with N + 1 public signals (test/fixtures/circuits/batchtoy.circom),
 * built with the project's toolchain (compile cache, development ptau, dev setup) and proven with
 * snarkjs: the fixture of the batch-verification tests and of scripts/bench-verify.ts.
 */
import * as path from "node:path";
import { type EnsureResult, ensureArtifact } from "../../src/toolchain/artifacts.js";
import type { CircuitSpec } from "../../src/toolchain/compile.js";
import type { BatchItem, Groth16VKey } from "../../src/util/batchverify.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { sj as snarkjs } from "../../src/util/snarkjs.js";

export const FIXTURES_DIR = path.join(PACKAGE_ROOT, "test", "fixtures", "circuits");

export function batchToySpec(nInputs: number): CircuitSpec {
  return {
    id: `batchtoy-${nInputs}`,
    circuit: "batchtoy",
    profile: "fixture",
    entry: "batchtoy.circom",
    mainSource: `pragma circom 2.1.6;\ninclude "batchtoy.circom";\ncomponent main {public [x]} = BatchToy(${nInputs});\n`,
    circuitsDir: FIXTURES_DIR,
    params: { N: nInputs },
  };
}

export interface BatchToy {
  art: EnsureResult;
  vkey: Groth16VKey;
  nInputs: number;
}

/** Build (or reuse) the fixture's artifacts: nInputs + 1 public signals. */
export async function batchToy(nInputs = 16): Promise<BatchToy> {
  const art = await ensureArtifact(batchToySpec(nInputs));
  return { art, vkey: art.vkey as unknown as Groth16VKey, nInputs };
}

/** `count` distinct proofs (inputs derived from `seed`). */
export async function proveBatchToy(toy: BatchToy, count: number, seed = 1): Promise<BatchItem[]> {
  return withSnarkjs(async () => {
    const out: BatchItem[] = [];
    for (let k = 0; k < count; k++) {
      const base = BigInt(seed) * 1_000_003n + BigInt(k);
      const x = Array.from({ length: toy.nInputs }, (_, i) =>
        ((base * 7919n + BigInt(i) * 104729n) ** 3n).toString(),
      );
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        { x, w: (base + 2n).toString() },
        toy.art.wasm,
        toy.art.zkey,
      );
      out.push({ proof, publicSignals });
    }
    return out;
  });
}
