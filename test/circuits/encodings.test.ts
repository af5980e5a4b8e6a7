/**
 * Circuit soundness: the test helper's encodings equal src/spec/encoding.ts. For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import * as enc from "../../src/spec/encoding.js";
import { initPoseidon } from "../../src/spec/encoding.js";
import { A, BTC, ETH, GA, K, UNUSED_SLOT_ENC, USDC } from "../helpers/circuit-suite.js";
import {
  byId,
  decodeResult,
  EPOCH,
  gammaOf,
  liability,
  listChain,
  listLot,
  lot,
  lotTuple,
  MARGIN,
  R,
  type SegmentBatch,
  SLOTS,
  type Slot,
  segmentChain,
  TEST,
  tagOf,
  UNBOUNDED_CAP,
} from "../helpers/scenario.js";

describe("circuits (v2)", () => {
  // Poseidon for the TS side of the checks (the circuits are compiled where a test needs them)
  before(async () => {
    await initPoseidon();
  });

  // =============================================================================================
  describe("the test helper's encodings equal src/spec/encoding.ts (docs/SPEC.md)", () => {
    it("leaves, commitments, tuples, states, packed inputs and the result agree", () => {
      const slots: Slot[] = SLOTS.map((s, j) => ({
        ...s,
        asset: [2n, 0n, 3n][j] as bigint,
        cap: 10n ** 25n,
      }));
      const lots = [lot(11n, 9n, 0n, 3n * ETH), lot(12n, 9n, 1n, 5000n * USDC), lot(13n, 9n, 2n, BTC)];
      const liabs = [liability(91n, 9n, 1n, 7000n * USDC), liability(92n, 9n, 0n, ETH)];
      const stress = [[5000n], [9000n, 9500n, 11000n]];
      const chain = segmentChain({ segmentId: 9n, lots, liabilities: liabs, slots, stress });
      const b = chain[0] as SegmentBatch;
      const N = TEST.lotsPerBatch;
      const M = TEST.liabsPerBatch;
      assert.equal(
        enc.batchRoot(
          enc.sideCommitment(lots.map(enc.lotLeaf), N),
          enc.sideCommitment(liabs.map(enc.liabilityLeaf), M),
        ),
        b.batchRoot,
      );
      assert.equal(enc.segmentStateHash(b.next), b.nextState);
      assert.equal(
        enc.packSegmentMeta({ segmentId: 9n, marginBps: MARGIN, isFirst: true, isLast: true, epoch: EPOCH }),
        b.meta,
      );
      assert.deepEqual(enc.packSegmentSlots(slots, A), b.slots);
      assert.deepEqual(enc.packStress(stress, K, A), b.stress);
      assert.equal(enc.UNBOUNDED_CAP, UNBOUNDED_CAP);
      assert.equal(enc.gammaOf(R), gammaOf(R));
      const entries = lots.map((l) => listLot(l, slots));
      for (const e of entries)
        assert.equal(enc.lotTuple(e, enc.gammaOf(R)), lotTuple(R, e.lotId, e.amount, tagOf(e)));
      assert.equal(
        entries.reduce((fp, e) => enc.fingerprintStep(fp, R, enc.lotTuple(e, gammaOf(R))), 1n),
        b.fingerprint,
      );
      assert.deepEqual(enc.decodeResult(b.result, K), decodeResult(b.result, K));
      const o = enc.segmentOutcome(b.next.coll, b.next.liab, [...slots, UNUSED_SLOT_ENC], MARGIN, stress);
      assert.deepEqual({ healthy: o.healthy, stress: o.stress, band: o.band }, decodeResult(b.result, K));
      assert.equal(enc.encodeResult(o, K), b.result);
      const sorted = entries.sort(byId);
      const l = listChain(sorted, { caps: [10n ** 25n, 7n] })[0] as {
        commitment: bigint;
        nextState: bigint;
        next: enc.ListState;
        meta: bigint;
        caps: bigint[];
      };
      assert.equal(enc.listBatchCommitment(sorted, TEST.lotsPerGlobalBatch), l.commitment);
      assert.equal(enc.listStateHash(l.next), l.nextState);
      assert.equal(enc.packListMeta({ isFirst: true, isLast: true, epoch: EPOCH }), l.meta);
      assert.deepEqual(enc.packListCaps([10n ** 25n, 7n], GA), l.caps);
    });
  });
});
