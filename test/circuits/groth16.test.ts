/**
 * Circuit soundness: forged public inputs rejected by the Groth16 verifier. For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import * as enc from "../../src/spec/encoding.js";
import { FIELD_P, initPoseidon } from "../../src/spec/encoding.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { sj } from "../../src/util/snarkjs.js";
import { A, ETH, K, USDC } from "../helpers/circuit-suite.js";
import {
  decodeResult,
  EPOCH,
  liability,
  listChain,
  lot,
  NO_SHOCK,
  packSegmentMeta,
  packSlot,
  packStress,
  R,
  SLOTS,
  type Slot,
  segmentChain,
  TEST,
} from "../helpers/scenario.js";

describe("circuits (v2)", () => {
  // Poseidon for the TS side of the checks (the circuits are compiled where a test needs them)
  before(async () => {
    await initPoseidon();
  });

  // =============================================================================================
  describe("Groth16: forged public inputs are rejected by the verifier", () => {
    it("segment batch: parameters, flags, state, root and every result field are bound by the proof", async () => {
      const art = await ensureCircuit("segment", "test");
      const [b] = segmentChain({
        segmentId: 4n,
        lots: [lot(41n, 4n, 0n, 10n * ETH)],
        liabilities: [liability(401n, 4n, 1n, 20000n * USDC)],
        stress: [[7000n, NO_SHOCK, NO_SHOCK]],
        slots: SLOTS.map((s, j) => (j === 0 ? { ...s, cap: 10n * ETH } : s)),
      });
      assert.ok(b);
      assert.deepEqual(decodeResult(b.result, K), { healthy: true, stress: [false, true], band: 2 });
      await withSnarkjs(async () => {
        const { proof, publicSignals: ps } = await sj.groth16.fullProve(b.input, art.wasm, art.zkey);
        assert.deepEqual(ps, b.publicSignals);
        assert.equal(await sj.groth16.verify(art.vkey, ps, proof), true);
        const forged = (i: number, v: bigint): string[] => ps.map((x, j) => (j === i ? String(v) : x));
        const SLOT0 = 7;
        const STRESS0 = 7 + A;
        const cases: [string, string[]][] = [
          ["healthy flipped", forged(2, b.result ^ 1n)],
          ["stress bit 0 flipped", forged(2, b.result ^ 2n)],
          ["stress bit 1 flipped", forged(2, b.result ^ 4n)],
          ["band one step too high", forged(2, b.result + (1n << BigInt(1 + K)))],
          ["band one step too low", forged(2, b.result - (1n << BigInt(1 + K)))],
          ["fingerprint changed", forged(3, b.fingerprint + 1n)],
          ["root changed", forged(1, b.batchRoot + 1n)],
          ["next state changed", forged(0, b.nextState + 1n)],
          ["other r", forged(4, R + 1n)],
          ["prevState changed", forged(5, 1n)],
          [
            "margin lowered after proving",
            forged(
              6,
              packSegmentMeta({ segmentId: 4n, marginBps: 0n, isFirst: true, isLast: true, epoch: EPOCH }),
            ),
          ],
          ["epoch changed", forged(6, b.meta + (1n << 50n))],
          ["isLast cleared", forged(6, b.meta - (1n << 49n))],
          ["price changed", forged(SLOT0 + 1, packSlot({ ...(SLOTS[1] as Slot), price: 1n }))],
          ["custody cap lowered", forged(SLOT0, packSlot({ ...(SLOTS[0] as Slot), cap: 10n * ETH - 1n }))],
          [
            "asset index changed",
            forged(SLOT0, packSlot({ ...(SLOTS[0] as Slot), cap: 10n * ETH, asset: 3n })),
          ],
          ["stress scenario softened", forged(STRESS0, packStress([[9000n]], K, A)[0] as bigint)],
        ];
        for (const [what, sig] of cases) {
          assert.equal(await sj.groth16.verify(art.vkey, sig, proof), false, what);
        }
        // snarkjs reduces public signals mod p, so result + p would alias the proven result: the
        // decoder every verifier goes through (audit, chain client) refuses any signal >= p
        assert.throws(
          () => enc.decodeSegmentSignals(forged(2, b.result + FIELD_P), TEST),
          /not below the field modulus/,
        );
        const d = enc.decodeSegmentSignals(ps, TEST);
        assert.deepEqual(
          [d.nextState, d.batchRoot, d.result, d.fingerprint, d.slots, d.stress],
          [b.nextState, b.batchRoot, b.result, b.fingerprint, b.slots, b.stress],
        );
      });
    });

    it("lot-list batch: commitment, state, r, flags and caps are bound by the proof", async () => {
      const art = await ensureCircuit("lotlist", "test");
      const [b] = listChain(
        [
          { lotId: 3n, asset: 0n, amount: 5n, pooled: true },
          { lotId: 8n, asset: 2n, amount: 6n, pooled: true },
        ],
        { caps: [5n, 100n, 6n, 0n] },
      );
      assert.ok(b);
      await withSnarkjs(async () => {
        const { proof, publicSignals: ps } = await sj.groth16.fullProve(b.input, art.wasm, art.zkey);
        assert.deepEqual(ps, b.publicSignals);
        assert.equal(await sj.groth16.verify(art.vkey, ps, proof), true);
        for (let i = 0; i < ps.length; i++) {
          const sig = ps.map((x, j) => (j === i ? String(BigInt(x) + 1n) : x));
          assert.equal(await sj.groth16.verify(art.vkey, sig, proof), false, `signal ${i} changed`);
        }
      });
    });
  });
});
