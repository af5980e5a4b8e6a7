/**
 * Soundness suite of the circuits: for every guarantee of docs/SPEC.md and ../shared/DESIGN.md,
 * the honest case passes and a forged witness or forged public input is rejected. Inputs are built
 * by test/helpers/scenario.ts straight from docs/SPEC.md.
 */
import assert from "node:assert/strict";
import * as enc from "../../src/spec/encoding.js";
import { FIELD_P, initPoseidon, listCommitment, mod, poseidon } from "../../src/spec/encoding.js";
import { PROFILES } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { circuitSpec } from "../../src/toolchain/compile.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { sj } from "../../src/util/snarkjs.js";
import {
  byId,
  decodeResult,
  EPOCH,
  fingerprintOf,
  gammaOf,
  type Input,
  type ListLot,
  type Lot,
  liability,
  listChain,
  listLot,
  listStateHash,
  lot,
  lotTuple,
  MARGIN,
  MAX_AMOUNT,
  NO_SHOCK,
  packListCaps,
  packSegmentMeta,
  packSlot,
  packStress,
  product,
  R,
  type SegmentBatch,
  SLOTS,
  type Slot,
  segmentChain,
  segmentStateHash,
  TEST,
  UNBOUNDED_CAP,
} from "../helpers/scenario.js";
import {
  compileTestCircuit,
  coverageBandEdits,
  editPresent,
  editWitness,
  expectConstraintFail,
  expectSatisfied,
  expectWitnessFail,
  greaterEqEdits,
  publicSignals,
  readSignal,
  type TestCircuit,
  testSpec,
} from "../helpers/witness.js";

const A = TEST.assetsPerSegment;
const K = TEST.stressScenarios;
const GA = TEST.globalAssets;
const UNUSED_SLOT_ENC: Slot = { price: 1n, cfBps: 0n, asset: 0n, cap: 0n };

/** Copy an input and override some of its entries; `arr: [i, v]` sets one array element. */
function tamper(input: Input, edits: Record<string, bigint | [number, bigint]>): Input {
  const out = structuredClone(input);
  for (const [k, v] of Object.entries(edits)) {
    assert.ok(k in out, `${k} is not an input`);
    if (Array.isArray(v)) {
      const arr = out[k];
      assert.ok(Array.isArray(arr), `${k} is not an array input`);
      assert.ok(v[0] < arr.length, `${k}[${v[0]}] is out of range`);
      arr[v[0]] = String(v[1]);
    } else {
      out[k] = String(v);
    }
  }
  return out;
}

/** Witness of an input that must satisfy every constraint. */
async function honest(c: TestCircuit, input: Input): Promise<bigint[]> {
  const w = await c.witness(input);
  expectSatisfied(c, w);
  return w;
}

/** A deterministic PRNG for the property tests. */
function prng(seed: bigint): (bits: bigint) => bigint {
  let s = seed;
  return (bits) => {
    let v = 0n;
    for (let got = 0n; got < bits; got += 64n) {
      s = (s * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      v = (v << 64n) | ((s * 0x2545f4914f6cdd1dn) % 2n ** 64n);
    }
    return v % 2n ** bits;
  };
}

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;
const BTC = 10n ** 8n;

describe("circuits (v2)", () => {
  let seg: TestCircuit;
  let list: TestCircuit;

  before(async () => {
    await initPoseidon();
    seg = await compileTestCircuit(circuitSpec("segment", TEST));
    list = await compileTestCircuit(circuitSpec("lotlist", TEST));
  });

  // =============================================================================================
  describe("gadgets", () => {
    let g: TestCircuit;
    before(async () => {
      g = await compileTestCircuit(
        testSpec(
          "gadgets-v2",
          "gadgets.circom",
          `pragma circom 2.1.6;
include "gadgets.circom";
template Gadgets() {
  signal input x; signal input a; signal input b; signal input slot; signal input active;
  signal input items[17]; signal input packed; signal input total; signal input cap;
  signal input coll; signal input req; signal input r; signal input tuple;
  signal output ge; signal output bits[3]; signal output commit; signal output fields[3];
  signal output band; signal output covered; signal output gamma; signal output gamma2;
  signal output factor;
  RangeCheck(8)(x);
  ge <== SafeGreaterEqThan(8)(a, b);
  Boolean()(active);
  bits <== SlotSelect(3)(slot, active);
  commit <== ListCommitment(17)(items);
  component up = Unpack(3, [4, 8, 1]);
  up.in <== packed;
  fields <== up.out;
  component capb = CapBound(8);
  capb.total <== total;
  capb.cap <== cap;
  component cb = CoverageBand();
  cb.coll <== coll;
  cb.req <== req;
  band <== cb.band;
  covered <== cb.covered;
  component ch = Challenges();
  ch.r <== r;
  gamma <== ch.gamma;
  gamma2 <== ch.gamma2;
  component tf = TupleFactor();
  tf.active <== active;
  tf.r <== r;
  tf.tuple <== tuple;
  factor <== tf.factor;
}
component main = Gadgets();
`,
        ),
      );
    });
    const base: Input = {
      x: "255",
      a: "7",
      b: "7",
      slot: "2",
      active: "1",
      items: Array.from({ length: 17 }, (_, i) => String(i + 1)),
      packed: String(5n + (200n << 4n) + (1n << 12n)),
      total: "100",
      cap: "200",
      coll: "1000",
      req: "1000",
      r: String(R),
      tuple: "12345",
    };

    it("RangeCheck: accepts < 2^n, rejects 2^n and p - 1", async () => {
      await honest(g, base);
      await honest(g, { ...base, x: "0" });
      await expectWitnessFail(g, { ...base, x: "256" });
      await expectWitnessFail(g, { ...base, x: String(FIELD_P - 1n) });
    });

    it("SafeGreaterEqThan: a >= b on range-checked inputs, the false answer is rejected", async () => {
      for (const [a, b, want] of [
        [7, 7, 1n],
        [8, 7, 1n],
        [6, 7, 0n],
        [0, 255, 0n],
        [255, 0, 1n],
      ] as const) {
        const w = await honest(g, { ...base, a: String(a), b: String(b) });
        assert.equal(readSignal(g, w, "ge"), want, `${a} >= ${b}`);
        expectConstraintFail(g, editWitness(g, w, { ge: 1n - want }));
      }
    });

    it("SlotSelect: one bit for an active entry, none for padding, slot < A", async () => {
      const w = await honest(g, base);
      assert.deepEqual(
        [0, 1, 2].map((j) => readSignal(g, w, `bits[${j}]`)),
        [0n, 0n, 1n],
      );
      const pad = await honest(g, { ...base, active: "0", slot: "0" });
      assert.deepEqual(
        [0, 1, 2].map((j) => readSignal(g, pad, `bits[${j}]`)),
        [0n, 0n, 0n],
      );
      await expectWitnessFail(g, { ...base, slot: "3" }); // outside the slots
      await expectWitnessFail(g, { ...base, slot: String(FIELD_P - 1n) });
      await expectWitnessFail(g, { ...base, active: "0", slot: "1" }); // padding naming a slot
      await expectWitnessFail(g, { ...base, active: "2" }); // not boolean
      expectConstraintFail(g, editWitness(g, w, { "bits[0]": 1n }));
      expectConstraintFail(g, editWitness(g, w, { "bits[0]": 1n, "bits[2]": 0n, "bits[1]": 1n }));
    });

    it("ListCommitment equals the TS sponge (src/spec/encoding.ts listCommitment)", async () => {
      const items = Array.from({ length: 17 }, (_, i) => BigInt(i + 1));
      const w = await honest(g, base);
      const want = listCommitment(items);
      assert.equal(readSignal(g, w, "commit"), want);
      // the sponge by hand: two chunks, 15 then 2 items
      assert.equal(want, poseidon([poseidon([0n, ...items.slice(0, 15)]), 16n, 17n]));
      expectConstraintFail(g, editWitness(g, w, { commit: listCommitment([...items.slice(0, 16), 18n]) }));
      // order matters
      const swapped = [...items];
      [swapped[0], swapped[1]] = [2n, 1n];
      const w2 = await honest(g, { ...base, items: swapped.map(String) });
      assert.notEqual(readSignal(g, w2, "commit"), want);
    });

    it("Unpack: fields low bits first; bits above the widths and p - 1 are rejected", async () => {
      const w = await honest(g, base);
      assert.deepEqual(
        [0, 1, 2].map((i) => readSignal(g, w, `fields[${i}]`)),
        [5n, 200n, 1n],
      );
      const max = (1n << 13n) - 1n;
      const wm = await honest(g, { ...base, packed: String(max) });
      assert.deepEqual(
        [0, 1, 2].map((i) => readSignal(g, wm, `fields[${i}]`)),
        [15n, 255n, 1n],
      );
      await expectWitnessFail(g, { ...base, packed: String(1n << 13n) }); // one bit above the widths
      await expectWitnessFail(g, { ...base, packed: String(5n + (1n << 200n)) });
      await expectWitnessFail(g, { ...base, packed: String(FIELD_P - 1n) });
      // a field cannot be re-split: editing one output alone breaks the decomposition
      expectConstraintFail(g, editWitness(g, w, { "fields[0]": 21n, "fields[1]": 199n }));
    });

    it("CapBound: total == cap passes, cap one below the total fails", async () => {
      await honest(g, { ...base, total: "200", cap: "200" });
      await honest(g, { ...base, total: "0", cap: "0" });
      await honest(g, { ...base, total: "0", cap: "255" });
      await expectWitnessFail(g, { ...base, total: "200", cap: "199" });
      await expectWitnessFail(g, { ...base, total: "255", cap: "0" });
      await expectWitnessFail(g, { ...base, total: "1", cap: "0" });
    });

    describe("CoverageBand", () => {
      /** the honest band, then: forging the honest band reproduces the witness, ±1 is rejected */
      async function checkBand(coll: bigint, req: bigint, want: number): Promise<void> {
        const w = await honest(g, { ...base, coll: String(coll), req: String(req) });
        assert.equal(readSignal(g, w, "band"), BigInt(want), `band of ${coll}/${req}`);
        assert.equal(readSignal(g, w, "covered"), want >= 1 ? 1n : 0n);
        const forge = (b: number) => ({
          ...coverageBandEdits("cb", b, coll, req),
          band: BigInt(b),
          covered: b >= 1 ? 1n : 0n,
        });
        expectSatisfied(g, editPresent(g, w, forge(want)));
        for (const b of [want - 1, want + 1]) {
          if (b < 0 || b > 4) continue;
          expectConstraintFail(g, editPresent(g, w, forge(b)));
        }
        // every other band too
        for (let b = 0; b < 5; b++) if (b !== want) expectConstraintFail(g, editPresent(g, w, forge(b)));
      }

      it("each band floor is exact: 100% is band 1, one unit below is band 0 (and so on)", async () => {
        for (const req of [1000n, 10n ** 60n, 10000n << 218n]) {
          await checkBand(req - 1n, req, 0);
          await checkBand(req, req, 1);
          await checkBand((req * 11n) / 10n - 1n, req, 1);
          await checkBand((req * 11n) / 10n, req, 2);
          await checkBand((req * 3n) / 2n - 1n, req, 2);
          await checkBand((req * 3n) / 2n, req, 3);
          await checkBand(2n * req - 1n, req, 3);
          await checkBand(2n * req, req, 4);
          await checkBand(5n * req, req, 4);
          await checkBand(0n, req, 0);
        }
      });

      it("req = 0 is band 4 (covered), whatever the collateral", async () => {
        await checkBand(0n, 0n, 4);
        await checkBand(123n, 0n, 4);
      });

      it("works at the bounds the segment guarantees (coll < 2^234, req < 2^237)", async () => {
        const coll = (1n << 234n) - 1n;
        await checkBand(coll, (1n << 237n) - 1n, 0);
        await checkBand(coll, coll, 1);
        await checkBand(coll, coll / 2n, 4);
      });
    });

    it("Challenges: gamma = Poseidon(r), gamma2 = gamma^2", async () => {
      const w = await honest(g, base);
      const gamma = poseidon([R]);
      assert.equal(readSignal(g, w, "gamma"), gamma);
      assert.equal(readSignal(g, w, "gamma2"), mod(gamma * gamma));
      expectConstraintFail(g, editWitness(g, w, { gamma: gamma + 1n }));
      expectConstraintFail(g, editWitness(g, w, { gamma2: mod(gamma * gamma) + 1n }));
    });

    it("TupleFactor: r - tuple when active, 1 for padding", async () => {
      const w = await honest(g, base);
      assert.equal(readSignal(g, w, "factor"), mod(R - 12345n));
      const pad = await honest(g, { ...base, active: "0", slot: "0" });
      assert.equal(readSignal(g, pad, "factor"), 1n);
      expectConstraintFail(g, editWitness(g, pad, { factor: mod(R - 12345n) }));
      expectConstraintFail(g, editWitness(g, w, { factor: 1n }));
    });
  });

  // =============================================================================================
  describe("SegmentBatch", () => {
    // segment 1: solvent; 6 lots and 9 liabilities make three batches at N = M = 4
    const lots1 = () => [
      lot(11n, 1n, 0n, 10n * ETH),
      lot(12n, 1n, 1n, 5000n * USDC),
      lot(13n, 1n, 2n, 2n * BTC),
      lot(14n, 1n, 0n, 1n),
      lot(15n, 1n, 1n, 7n),
      lot(16n, 1n, 2n, 3n),
    ];
    const liabs1 = () => [
      liability(101n, 1n, 1n, 20000n * USDC),
      liability(102n, 1n, 0n, 1n * ETH),
      liability(103n, 1n, 1n, 5n),
      liability(104n, 1n, 2n, 1n),
      liability(105n, 1n, 0n, 2n),
      liability(106n, 1n, 1n, 3n),
      liability(107n, 1n, 1n, 4n),
      liability(108n, 1n, 0n, 5n),
      liability(109n, 1n, 2n, 6n),
    ];
    const one = () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 2),
        liabilities: liabs1().slice(0, 2),
      });
      assert.ok(b);
      return b;
    };
    /** segment 2: insolvent (1 ETH against 3000 USDC) */
    const insolvent = () =>
      segmentChain({
        segmentId: 2n,
        lots: [lot(21n, 2n, 0n, 1n * ETH)],
        liabilities: [liability(201n, 2n, 1n, 3000n * USDC)],
      });

    it("honest batches of a multi-batch chain expose the predicted nextState, batchRoot, result, fingerprint", async () => {
      const chain = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      assert.equal(chain.length, 3);
      for (const [i, b] of chain.entries()) {
        const w = await honest(seg, b.input);
        assert.deepEqual(publicSignals(seg, w), b.publicSignals, `batch ${i}`);
        if (i > 0) assert.equal(b.prevState, chain[i - 1]?.nextState, "chained");
        for (let j = 0; j < A; j++) {
          assert.equal(readSignal(seg, w, `nextColl[${j}]`), b.next.coll[j]);
          assert.equal(readSignal(seg, w, `nextLiab[${j}]`), b.next.liab[j]);
        }
      }
      assert.equal(chain[0]?.prevState, 0n, "the first batch starts from the canonical empty state");
      for (const b of chain.slice(0, -1)) {
        assert.equal(b.publicSignals[2], "0", "result is 0 before the last batch");
        assert.equal(b.publicSignals[3], "0", "fingerprint is 0 before the last batch");
      }
      const last = chain[2] as SegmentBatch;
      const got = decodeResult(last.result, K);
      assert.equal(got.healthy, true, "segment 1 is solvent");
      assert.equal(got.band, last.outcome.band);
      assert.ok(last.outcome.band >= 1);
      assert.equal(
        last.fingerprint,
        fingerprintOf(
          R,
          lots1().map((l) => listLot(l)),
        ),
      );
    });

    it("per-slot totals are exact (property: random amounts and slots, and the largest allowed values)", async () => {
      const rnd = prng(42n);
      const N = TEST.lotsPerBatch;
      const M = TEST.liabsPerBatch;
      for (let round = 0; round < 4; round++) {
        // prices from 96 bits down to small ones, amounts from 96 bits down to small ones
        const slots: Slot[] = Array.from({ length: A }, (_, j) => ({
          price: 1n + ((rnd(96n) % MAX_AMOUNT) >> BigInt(24 * round)),
          cfBps: rnd(14n) % 10001n,
          asset: BigInt(j),
          cap: UNBOUNDED_CAP,
        }));
        const amt = () => rnd(96n) >> BigInt(24 * round);
        const lots = Array.from({ length: 7 + round }, (_, i) =>
          lot(BigInt(i + 1), 3n, rnd(8n) % BigInt(A), amt()),
        );
        const liabs = Array.from({ length: 9 - round }, (_, i) =>
          liability(BigInt(i + 1), 3n, rnd(8n) % BigInt(A), amt()),
        );
        const stress = Array.from({ length: K }, () => Array.from({ length: A }, () => rnd(15n)));
        const chain = segmentChain({
          segmentId: 3n,
          lots,
          liabilities: liabs,
          slots,
          marginBps: rnd(16n),
          stress,
        });
        assert.ok(chain.length >= 2);
        for (const [i, b] of chain.entries()) {
          const w = await honest(seg, b.input);
          assert.deepEqual(publicSignals(seg, w), b.publicSignals);
          const inSlot = <T extends { slot: bigint; amount: bigint }>(xs: T[], j: number) =>
            xs.filter((x) => x.slot === BigInt(j)).reduce((s, x) => s + x.amount, 0n);
          for (let j = 0; j < A; j++) {
            assert.equal(readSignal(seg, w, `nextColl[${j}]`), inSlot(lots.slice(0, (i + 1) * N), j));
            assert.equal(readSignal(seg, w, `nextLiab[${j}]`), inSlot(liabs.slice(0, (i + 1) * M), j));
          }
        }
      }
      // the largest values: every slot priced 2^96 - 1 at cf 10000, margin 2^16 - 1, factors 2^15 - 1
      // and 0, amounts 2^96 - 1, carried totals at the cap 2^120 - 1 (a later batch of a long chain)
      const maxSlots: Slot[] = Array.from({ length: A }, (_, j) => ({
        price: MAX_AMOUNT,
        cfBps: 10000n,
        asset: BigInt(j),
        cap: UNBOUNDED_CAP,
      }));
      const start = {
        coll: Array(A).fill(UNBOUNDED_CAP - MAX_AMOUNT),
        liab: Array(A).fill(UNBOUNDED_CAP - MAX_AMOUNT),
        fp: 5n,
        salt: 9n,
      };
      const [b] = segmentChain({
        segmentId: 2n ** 32n - 1n,
        lots: Array.from({ length: A }, (_, j) => lot(BigInt(j + 1), 2n ** 32n - 1n, BigInt(j), MAX_AMOUNT)),
        liabilities: Array.from({ length: A }, (_, j) =>
          liability(BigInt(j + 1), 2n ** 32n - 1n, BigInt(j), MAX_AMOUNT),
        ),
        slots: maxSlots,
        marginBps: 2n ** 16n - 1n,
        stress: [Array(A).fill(2n ** 15n - 1n), Array(A).fill(0n)],
        start,
      });
      assert.ok(b);
      const w = await honest(seg, b.input);
      assert.deepEqual(publicSignals(seg, w), b.publicSignals);
      for (let j = 0; j < A; j++) assert.equal(readSignal(seg, w, `nextColl[${j}]`), UNBOUNDED_CAP);
      assert.equal(b.outcome.healthy, false);
      assert.deepEqual(b.outcome.stress, [false, true], "a 0 factor zeroes both sides: 0 >= 0");
    });

    it("rejects a negative amount written as p - x, and amounts >= 2^96", async () => {
      const b = one();
      await honest(seg, tamper(b.input, { lotAmount: [0, MAX_AMOUNT] }));
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [0, FIELD_P - 5n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [0, FIELD_P - 5n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [1, 2n ** 96n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [1, 2n ** 96n] }));
    });

    it("rejects price 0, cf > 10000 and fields overflowing their widths in the public inputs", async () => {
      const b = one();
      const s0 = SLOTS[0] as Slot;
      const slotWord = (s: Partial<Slot>) => packSlot({ ...s0, ...s });
      await honest(seg, tamper(b.input, { slots: [0, slotWord({ cfBps: 10000n })] }));
      await expectWitnessFail(seg, tamper(b.input, { slots: [0, slotWord({ price: 0n })] }));
      await expectWitnessFail(seg, tamper(b.input, { slots: [0, slotWord({ cfBps: 10001n })] }));
      await expectWitnessFail(seg, tamper(b.input, { slots: [0, slotWord({ cfBps: 2n ** 14n - 1n })] }));
      // the cap is the top field: a cap of 2^120 is a bit above the word's 234 bits
      await expectWitnessFail(seg, tamper(b.input, { slots: [0, slotWord({ cap: 2n ** 120n })] }));
      await expectWitnessFail(
        seg,
        tamper(b.input, { slots: [3, packSlot({ ...s0, cap: 0n }) + (1n << 240n)] }),
      );
      await expectWitnessFail(seg, tamper(b.input, { slots: [0, FIELD_P - 1n] }));
      // stress: K * A = 8 factors of 15 bits; a bit above them, or p - 1
      const stress0 = b.stress[0] as bigint;
      await honest(
        seg,
        tamper(b.input, { stress: [0, packStress([[32767n, 0n, 1n, 2n], [5n]], K, A)[0] as bigint] }),
      );
      await expectWitnessFail(seg, tamper(b.input, { stress: [0, stress0 + (1n << BigInt(15 * K * A))] }));
      await expectWitnessFail(seg, tamper(b.input, { stress: [0, FIELD_P - 1n] }));
      // meta beyond its 114 bits (epoch >= 2^64)
      await expectWitnessFail(seg, tamper(b.input, { meta: b.meta + (1n << 114n) }));
      await expectWitnessFail(seg, tamper(b.input, { meta: FIELD_P - 1n }));
    });

    it("rejects a first batch that does not start from the canonical empty state", async () => {
      const first = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() })[0] as SegmentBatch;
      const nonEmpty = { coll: [10n ** 20n, 0n, 0n, 0n], liab: [0n, 0n, 0n, 0n], fp: 1n, salt: 9n };
      // a non-zero prevState on the first batch, opened consistently
      await expectWitnessFail(
        seg,
        tamper(first.input, {
          prevState: segmentStateHash(nonEmpty),
          prevColl: [0, 10n ** 20n],
          prevSalt: 9n,
        }),
      );
      // a non-zero prevState with the empty opening
      await expectWitnessFail(seg, tamper(first.input, { prevState: segmentStateHash(first.prev) }));
      // carried-in totals or fingerprint on the first batch (with the empty public state)
      await expectWitnessFail(seg, tamper(first.input, { prevColl: [0, 10n ** 20n] }));
      await expectWitnessFail(seg, tamper(first.input, { prevLiab: [1, FIELD_P - 10n] }));
      await expectWitnessFail(seg, tamper(first.input, { prevFp: 2n }));
      // the salt of the empty state is free (it opens nothing)
      await honest(seg, tamper(first.input, { prevSalt: 77n }));
    });

    it("rejects a batch whose prevState is not the opening of its carried state", async () => {
      const [first, second] = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      assert.ok(first && second);
      const c0 = first.next.coll[0] as bigint;
      const l1 = first.next.liab[1] as bigint;
      await expectWitnessFail(seg, tamper(second.input, { prevColl: [0, c0 + 10n ** 20n] }));
      await expectWitnessFail(seg, tamper(second.input, { prevLiab: [1, l1 - 1n] }));
      await expectWitnessFail(seg, tamper(second.input, { prevLiab: [1, 0n] }));
      await expectWitnessFail(seg, tamper(second.input, { prevFp: first.next.fp + 1n }));
      await expectWitnessFail(seg, tamper(second.input, { prevSalt: first.next.salt + 1n }));
      // a later batch cannot pose as first: prevState 0 has no opening unless isFirst
      await expectWitnessFail(seg, tamper(second.input, { prevState: 0n }));
      // a self-consistent but different opening exposes a prevState that is not batch 1's
      // nextState, which the verifier compares
      const other = { ...first.next, coll: [c0 + 10n ** 20n, ...first.next.coll.slice(1)] };
      const w = await honest(
        seg,
        tamper(second.input, { prevState: segmentStateHash(other), prevColl: [0, c0 + 10n ** 20n] }),
      );
      assert.notEqual(publicSignals(seg, w)[5], String(first.nextState));
    });

    describe("result", () => {
      /** the result with `edit` applied to the decoded fields */
      const pack = (healthy: boolean, stress: boolean[], band: number): bigint =>
        (healthy ? 1n : 0n) +
        stress.reduce((a, s, k) => a + (s ? 1n << BigInt(1 + k) : 0n), 0n) +
        (BigInt(band) << BigInt(1 + K));

      /** coll and req as the circuit computes them (read back from the witness) */
      function sums(w: bigint[]): { coll: bigint; req: bigint } {
        let coll = 0n;
        let req = 0n;
        for (let j = 0; j < A; j++) {
          coll += readSignal(seg, w, `res.collValue[${j}]`);
          req += readSignal(seg, w, `res.liabValue[${j}]`);
        }
        return { coll, req };
      }
      /** a witness forged to claim `band` (every CoverageBand signal recomputed from the claim) */
      function forgeBand(b: SegmentBatch, w: bigint[], band: number): bigint[] {
        const { coll, req } = sums(w);
        const d = decodeResult(b.result, K);
        return editPresent(seg, w, {
          ...coverageBandEdits("res.cb", band, coll, req),
          "res.band": BigInt(band),
          "res.covered": band >= 1 ? 1n : 0n,
          result: pack(band >= 1, d.stress, band),
        });
      }
      /** a witness forged to claim stress bit k = `bit` (the comparator recomputed from the claim) */
      function forgeStress(b: SegmentBatch, w: bigint[], k: number, bit: boolean): bigint[] {
        let ck = 0n;
        let lk = 0n;
        for (let j = 0; j < A; j++) {
          ck += readSignal(seg, w, `res.sc[${k}][${j}]`);
          lk += readSignal(seg, w, `res.sl[${k}][${j}]`);
        }
        const d = decodeResult(b.result, K);
        const stress = d.stress.map((s, i) => (i === k ? bit : s));
        return editPresent(seg, w, {
          ...greaterEqEdits(`res.ge[${k}]`, 252, ck, lk, bit ? 1n : 0n),
          [`res.stress[${k}]`]: bit ? 1n : 0n,
          result: pack(d.healthy, stress, d.band),
        });
      }

      it("healthy flipped: an insolvent segment cannot claim health, a solvent one cannot deny it", async () => {
        const bad = insolvent()[0] as SegmentBatch;
        assert.equal(bad.outcome.healthy, false);
        assert.equal(bad.outcome.band, 0);
        const w = await honest(seg, bad.input);
        assert.equal(readSignal(seg, w, "result"), bad.result);
        expectSatisfied(seg, forgeBand(bad, w, 0)); // the forgery itself is faithful
        expectConstraintFail(seg, forgeBand(bad, w, 1));
        expectConstraintFail(seg, editWitness(seg, w, { result: bad.result + 1n }));
        const good = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() }).at(
          -1,
        ) as SegmentBatch;
        const wg = await honest(seg, good.input);
        expectSatisfied(seg, forgeBand(good, wg, good.outcome.band));
        expectConstraintFail(seg, forgeBand(good, wg, 0));
        expectConstraintFail(seg, editWitness(seg, wg, { result: good.result - 1n }));
      });

      it("healthy but failing a stress scenario is proven with exactly those bits; a flipped bit is rejected", async () => {
        // 10 ETH at 3012.55 * 85% = 25,606.7 against 20,000 USDC * 110% = 22,000: 116%, band 2
        const chain = segmentChain({
          segmentId: 4n,
          lots: [lot(41n, 4n, 0n, 10n * ETH)],
          liabilities: [liability(401n, 4n, 1n, 20000n * USDC)],
          stress: [
            [7000n, NO_SHOCK, NO_SHOCK], // ETH -30%: 17,924.7 < 22,000
            [9500n, 9500n, 9500n], // everything -5%: the ratio stands
          ],
        });
        const b = chain[0] as SegmentBatch;
        assert.deepEqual(decodeResult(b.result, K), { healthy: true, stress: [false, true], band: 2 });
        assert.equal(b.result, 1n + (0n << 1n) + (1n << 2n) + (2n << 3n));
        const w = await honest(seg, b.input);
        assert.equal(readSignal(seg, w, "result"), 21n);
        for (let k = 0; k < K; k++) {
          const bit = b.outcome.stress[k] as boolean;
          expectSatisfied(seg, forgeStress(b, w, k, bit));
          expectConstraintFail(seg, forgeStress(b, w, k, !bit));
          expectConstraintFail(seg, editWitness(seg, w, { result: b.result ^ (1n << BigInt(1 + k)) }));
        }
        // the same segment without the shock passes every scenario
        const calm = segmentChain({
          segmentId: 4n,
          lots: [lot(41n, 4n, 0n, 10n * ETH)],
          liabilities: [liability(401n, 4n, 1n, 20000n * USDC)],
        })[0] as SegmentBatch;
        assert.equal((await honest(seg, calm.input))[0], 1n);
        assert.deepEqual(decodeResult(calm.result, K).stress, [true, true]);
      });

      it("a band one step too high or too low is rejected (every floor, both directions)", async () => {
        // one USD-like slot at price 1 and cf 10000, margin 0: coverage = collateral / liabilities
        const usd: Slot[] = [{ price: 1n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP }];
        const cases: [bigint, number][] = [
          [99n, 0],
          [100n, 1],
          [109n, 1],
          [110n, 2],
          [149n, 2],
          [150n, 3],
          [199n, 3],
          [200n, 4],
        ];
        for (const [c, band] of cases) {
          const [b] = segmentChain({
            segmentId: 6n,
            lots: [lot(61n, 6n, 0n, c)],
            liabilities: [liability(601n, 6n, 0n, 100n)],
            slots: usd,
            marginBps: 0n,
          });
          assert.ok(b);
          assert.equal(b.outcome.band, band, `coverage ${c}%`);
          const w = await honest(seg, b.input);
          assert.equal(readSignal(seg, w, "res.band"), BigInt(band));
          expectSatisfied(seg, forgeBand(b, w, band));
          if (band < 4) expectConstraintFail(seg, forgeBand(b, w, band + 1));
          if (band > 0) expectConstraintFail(seg, forgeBand(b, w, band - 1));
          expectConstraintFail(seg, editWitness(seg, w, { result: b.result + (1n << BigInt(1 + K)) }));
        }
        // no liabilities: band 4, healthy, every scenario passes
        const [e] = segmentChain({
          segmentId: 6n,
          lots: [lot(61n, 6n, 0n, 1n)],
          liabilities: [],
          slots: usd,
        });
        assert.ok(e);
        assert.deepEqual(decodeResult(e.result, K), { healthy: true, stress: [true, true], band: 4 });
        const we = await honest(seg, e.input);
        expectConstraintFail(seg, forgeBand(e, we, 3));
      });

      it("an insolvent segment is proven and flagged while others stay healthy; an empty one is band 4", async () => {
        const good = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
        const bad = insolvent();
        const empty = segmentChain({ segmentId: 5n, lots: [], liabilities: [] });
        for (const b of [...good, ...bad, ...empty]) await honest(seg, b.input);
        assert.equal(decodeResult(good.at(-1)?.result as bigint, K).healthy, true);
        assert.equal(decodeResult(bad.at(-1)?.result as bigint, K).healthy, false);
        assert.deepEqual(decodeResult(empty.at(-1)?.result as bigint, K), {
          healthy: true,
          stress: [true, true],
          band: 4,
        });
        assert.equal(empty.at(-1)?.fingerprint, 1n, "an empty segment's fingerprint is 1");
      });
    });

    describe("custody caps", () => {
      const capped = (cap: bigint): Slot[] => SLOTS.map((s, j) => (j === 0 ? { ...s, cap } : s));

      it("totals equal to the cap pass, one unit above fails", async () => {
        const lots = [lot(1n, 7n, 0n, 6n * ETH), lot(2n, 7n, 0n, 4n * ETH), lot(3n, 7n, 1n, 10n ** 27n)];
        const [ok] = segmentChain({ segmentId: 7n, lots, liabilities: [], slots: capped(10n * ETH) });
        assert.ok(ok);
        await honest(seg, ok.input);
        const [over] = segmentChain({ segmentId: 7n, lots, liabilities: [], slots: capped(10n * ETH - 1n) });
        assert.ok(over);
        await expectWitnessFail(seg, over.input);
        // a cap of 0 admits no collateral in its slot (unused slots have cap 0)
        const [zero] = segmentChain({ segmentId: 7n, lots: [lot(1n, 7n, 3n, 1n)], liabilities: [] });
        assert.ok(zero);
        await expectWitnessFail(seg, zero.input);
        // liabilities are not capped
        const [liab] = segmentChain({
          segmentId: 7n,
          lots: [],
          liabilities: [liability(1n, 7n, 0n, 11n * ETH)],
          slots: capped(10n * ETH),
        });
        assert.ok(liab);
        await honest(seg, liab.input);
      });

      it("known limit: two slots naming the same global asset each get their own cap (the verifier must reject duplicate asset indices)", async () => {
        // slots 0 and 1 both hold global asset 0 with a cap of 10 ETH each: 20 ETH of asset 0 is
        // counted under per-segment custody. The circuit cannot see it; the verifiers reject a
        // segment whose used slots repeat an index (audit: manifestProblems; registry: _checkSlots,
        // InvalidAssetSlots).
        const dup: Slot[] = [
          { ...(SLOTS[0] as Slot), cap: 10n * ETH },
          { ...(SLOTS[0] as Slot), cap: 10n * ETH },
        ];
        const lots = [lot(1n, 7n, 0n, 10n * ETH), lot(2n, 7n, 1n, 10n * ETH)];
        const [b] = segmentChain({ segmentId: 7n, lots, liabilities: [], slots: dup });
        assert.ok(b);
        await honest(seg, b.input);
        // the pooled cap of the lot list, which totals by global asset, still binds the sum
        const entries = lots.map((l) => listLot(l, dup));
        await expectWitnessFail(
          list,
          (listChain(entries, { caps: [10n * ETH] })[0] as { input: Input }).input,
        );
      });

      it("the cap binds the running total across batches", async () => {
        const lots = [
          ...Array.from({ length: 4 }, (_, i) => lot(BigInt(i + 1), 7n, 0n, 2n * ETH)),
          lot(5n, 7n, 0n, 2n * ETH),
        ];
        const chain = segmentChain({ segmentId: 7n, lots, liabilities: [], slots: capped(10n * ETH) });
        assert.equal(chain.length, 2);
        for (const b of chain) await honest(seg, b.input);
        const tight = segmentChain({ segmentId: 7n, lots, liabilities: [], slots: capped(10n * ETH - 1n) });
        await honest(seg, (tight[0] as SegmentBatch).input); // 8 ETH so far
        await expectWitnessFail(seg, (tight[1] as SegmentBatch).input); // 10 ETH > cap
        // the second batch cannot open a lower carried total to slip under the cap
        await expectWitnessFail(seg, tamper((tight[1] as SegmentBatch).input, { prevColl: [0, 6n * ETH] }));
      });
    });

    it("padding is inert and a prefix: no amount, no slot, no leaf, no fingerprint factor", async () => {
      const b = one();
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [3, 1000n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [3, 1000n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotSlot: [3, 1n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabSlot: [3, 1n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotActive: [3, 1n] })); // active after padding
      await expectWitnessFail(seg, tamper(b.input, { liabActive: [3, 1n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotActive: [0, 2n] }));
      // whatever the padding's id and salt, nothing public changes
      const w = await honest(seg, b.input);
      const w2 = await honest(
        seg,
        tamper(b.input, { lotId: [3, 999n], lotSalt: [3, 123n], liabAccount: [3, 5n], liabSalt: [2, 8n] }),
      );
      assert.deepEqual(publicSignals(seg, w2), publicSignals(seg, w));
      // a padding slot forced to carry a leaf into the commitment or a factor into the fingerprint
      expectConstraintFail(seg, editWitness(seg, w, { "lots.used[3]": 5n }));
      expectConstraintFail(seg, editWitness(seg, w, { "liabs.used[3]": 5n }));
      expectConstraintFail(seg, editWitness(seg, w, { "factor[3].factor": R - 5n }));
    });

    it("binds leaves and parameters to the public signals", async () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 3),
        liabilities: liabs1().slice(0, 3),
      });
      assert.ok(b);
      const published = b.publicSignals;
      const sig = async (input: Input) => publicSignals(seg, await honest(seg, input));
      const root = async (input: Input) => (await sig(input))[1];
      // a lot or liability changed after its commitment was published
      assert.notEqual(await root(tamper(b.input, { lotAmount: [0, 11n * ETH] })), published[1]);
      assert.notEqual(await root(tamper(b.input, { liabAmount: [0, 1n] })), published[1]);
      assert.notEqual(await root(tamper(b.input, { lotId: [1, 99n] })), published[1]);
      assert.notEqual(await root(tamper(b.input, { lotSalt: [1, 99n] })), published[1]);
      assert.notEqual(await root(tamper(b.input, { lotSlot: [0, 2n] })), published[1]);
      assert.notEqual(await root(tamper(b.input, { liabSlot: [0, 0n] })), published[1]);
      // a liability omitted (turned into padding)
      assert.notEqual(
        await root(tamper(b.input, { liabActive: [2, 0n], liabAmount: [2, 0n], liabSlot: [2, 0n] })),
        published[1],
      );
      // a lot placed in another segment: its leaf names the public segment id
      const meta2 = packSegmentMeta({
        segmentId: 2n,
        marginBps: MARGIN,
        isFirst: true,
        isLast: true,
        epoch: EPOCH,
      });
      assert.notEqual(await root(tamper(b.input, { meta: meta2 })), published[1]);
      // the batch root is H2(sponge(lot leaves), sponge(liability leaves)) exactly
      assert.equal(published[1], String(b.batchRoot));
      // the public parameters are public inputs (bound by the proof, see Groth16 below); a price
      // or a slot's asset changed changes the result or the fingerprint
      const pricey = packSlot({ ...(SLOTS[1] as Slot), price: (SLOTS[1] as Slot).price * 100n });
      assert.notEqual((await sig(tamper(b.input, { slots: [1, pricey] })))[2], published[2]);
      const moved = packSlot({ ...(SLOTS[0] as Slot), asset: 3n });
      assert.notEqual((await sig(tamper(b.input, { slots: [0, moved] })))[3], published[3]);
    });

    it("the fingerprint tuple uses the slot's global asset index (not the slot number)", async () => {
      // slots 0, 1, 2 hold global assets 2, 3, 0
      const slots: Slot[] = SLOTS.map((s, j) => ({ ...s, asset: [2n, 3n, 0n][j] as bigint }));
      const lots = [lot(5n, 8n, 0n, 100n), lot(9n, 8n, 1n, 200n), lot(12n, 8n, 2n, 300n)];
      const [b] = segmentChain({ segmentId: 8n, lots, liabilities: [], slots });
      assert.ok(b);
      const w = await honest(seg, b.input);
      const fp = readSignal(seg, w, "fingerprint");
      const gm = gammaOf(R);
      const byHand = product(
        lots.map((l, j) => mod(R - (l.lotId + gm * l.amount + gm * gm * ([2n, 3n, 0n][j] as bigint)))),
      );
      assert.equal(fp, byHand);
      assert.equal(
        fp,
        fingerprintOf(
          R,
          lots.map((l) => listLot(l, slots)),
        ),
      );
      const bySlot = product(lots.map((l) => mod(R - lotTuple(R, l.lotId, l.amount, l.slot))));
      assert.notEqual(fp, bySlot);
      // the list over the same lots with their global assets reproduces it, in the circuit
      const lb = listChain(lots.map((l) => listLot(l, slots)))[0];
      assert.ok(lb);
      assert.equal(readSignal(list, await honest(list, lb.input), "fingerprint"), fp);
    });
  });

  // =============================================================================================
  describe("LotListBatch", () => {
    const ids = [1n, 5n, 6n, 900n, 2n ** 127n, 2n ** 128n - 1n];
    const sorted = (): ListLot[] =>
      ids.map((id, i) => ({ lotId: id, asset: BigInt(i % 3), amount: 100n + BigInt(i) }));

    it("honest sorted lists satisfy every constraint across batches and expose the predicted signals", async () => {
      const lots: ListLot[] = [
        ...sorted(),
        ...[2n ** 100n, 2n ** 100n + 1n, 2n ** 110n, 2n ** 120n].map((id) => ({
          lotId: id,
          asset: 3n,
          amount: 5n,
        })),
      ].sort(byId);
      const chain = listChain(lots);
      assert.equal(chain.length, 2);
      for (const b of chain) {
        const w = await honest(list, b.input);
        assert.deepEqual(publicSignals(list, w), b.publicSignals);
      }
      assert.equal(chain[0]?.prevState, 0n);
      assert.equal(chain[1]?.prevState, chain[0]?.nextState);
      assert.equal(chain[0]?.publicSignals[2], "0", "fingerprint is 0 before the last batch");
      assert.equal(chain[1]?.fingerprint, fingerprintOf(R, lots));
      // an empty list is one batch with fingerprint 1
      const [e] = listChain([]);
      assert.ok(e);
      assert.equal(readSignal(list, await honest(list, e.input), "fingerprint"), 1n);
    });

    it("rejects equal or decreasing ids inside a batch, and ids that wrap around the field", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 5n] })); // equal to its predecessor
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 4n] })); // decreasing
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, FIELD_P - 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotId: [0, 0n] })); // ids start at 1
    });

    it("rejects equal or decreasing ids across a batch boundary", async () => {
      const lots = Array.from({ length: 10 }, (_, i) => ({
        lotId: BigInt(10 * (i + 1)),
        asset: 0n,
        amount: 1n,
      }));
      const [first, second] = listChain(lots);
      assert.ok(first && second);
      await honest(list, second.input);
      // batch 2 starting at the last id of batch 1 (80) or below it
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 80n] }));
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 15n] }));
      // opening prevState with a smaller last id than batch 1 ended with
      await expectWitnessFail(list, tamper(second.input, { prevLastId: 10n }));
      // a second batch posing as first (restarting at id 0) must expose prevState = 0, which is
      // not batch 1's nextState (the verifier compares them)
      const restarted = tamper(second.input, {
        prevState: 0n,
        meta: first.meta | 1n,
        prevLastId: 0n,
        prevFp: 1n,
        prevTotal: [0, 0n],
        prevSalt: 0n,
        lotId: [0, 3n],
      });
      const w = await honest(list, restarted);
      assert.notEqual(publicSignals(list, w)[4], String(first.nextState));
    });

    it("rejects ids >= 2^128 (last-id check) and gaps >= 2^128", async () => {
      await honest(
        list,
        (listChain([{ lotId: 2n ** 128n - 1n, asset: 0n, amount: 1n }])[0] as { input: Input }).input,
      );
      // a lone id of 2^128: its gap (2^128 - 1) is in range, the last id is not
      const [big] = listChain([{ lotId: 2n ** 128n, asset: 0n, amount: 1n }]);
      assert.ok(big);
      await expectWitnessFail(list, big.input);
      // 2^128 as the last of several ids
      await expectWitnessFail(
        list,
        tamper((listChain(sorted())[0] as { input: Input }).input, { lotId: [5, 2n ** 128n] }),
      );
      // a gap of exactly 2^128
      const [gap] = listChain([
        { lotId: 1n, asset: 0n, amount: 1n },
        { lotId: 2n ** 128n + 2n, asset: 0n, amount: 1n },
      ]);
      assert.ok(gap);
      await expectWitnessFail(list, gap.input);
      // an id of 2^128 + x cannot be folded into the commitment's asset field either
      await expectWitnessFail(
        list,
        tamper((listChain(sorted())[0] as { input: Input }).input, { lotId: [5, (1n << 128n) + 1000n] }),
      );
    });

    it("rejects a first batch with a non-empty state, and a prevState that does not open", async () => {
      const [c] = listChain(sorted());
      assert.ok(c);
      await expectWitnessFail(
        list,
        tamper(c.input, {
          prevState: listStateHash({ lastId: 0n, fp: 1n, totals: [0n, 0n, 0n, 0n], salt: 3n }),
        }),
      );
      await expectWitnessFail(list, tamper(c.input, { prevFp: 7n }));
      await expectWitnessFail(list, tamper(c.input, { prevLastId: 1000n }));
      await expectWitnessFail(list, tamper(c.input, { prevTotal: [1, FIELD_P - 100n] }));
      const lots = Array.from({ length: 10 }, (_, i) => ({ lotId: BigInt(i + 1), asset: 1n, amount: 7n }));
      const [, second] = listChain(lots);
      assert.ok(second);
      await expectWitnessFail(list, tamper(second.input, { prevTotal: [1, 0n] }));
      await expectWitnessFail(list, tamper(second.input, { prevFp: 1n }));
      await expectWitnessFail(list, tamper(second.input, { prevSalt: 1n }));
    });

    it("per-asset pooled totals are exact (property: random assets and amounts)", async () => {
      const rnd = prng(7n);
      let id = 0n;
      const lots: ListLot[] = Array.from({ length: 19 }, () => {
        id += 1n + rnd(100n);
        return { lotId: id, asset: rnd(8n) % BigInt(GA), amount: rnd(96n) };
      });
      const chain = listChain(lots);
      assert.equal(chain.length, 3);
      for (const [i, b] of chain.entries()) {
        const w = await honest(list, b.input);
        assert.deepEqual(publicSignals(list, w), b.publicSignals);
        const seen = lots.slice(0, (i + 1) * TEST.lotsPerGlobalBatch);
        // the totals are substituted away by --O2: check them through the state they open
        const totals = Array.from({ length: GA }, (_, k) =>
          seen.filter((l) => l.asset === BigInt(k)).reduce((s, l) => s + l.amount, 0n),
        );
        const lastId = (seen.at(-1) as ListLot).lotId;
        const state = listStateHash({ lastId, fp: b.next.fp, totals, salt: b.next.salt });
        assert.equal(readSignal(list, w, "nextState"), state, `batch ${i}`);
        assert.equal(b.next.fp, fingerprintOf(R, seen));
      }
    });

    it("pooled cap: equal passes, one above fails, and the cap binds across batches", async () => {
      const lots = Array.from({ length: 10 }, (_, i) => ({
        lotId: BigInt(i + 1),
        asset: BigInt(i % 2),
        amount: 1000n + BigInt(i),
      }));
      const total = (k: bigint, upTo = lots.length) =>
        lots
          .slice(0, upTo)
          .filter((l) => l.asset === k)
          .reduce((s, l) => s + l.amount, 0n);
      const exact = listChain(lots, { caps: [total(0n), total(1n), 0n, 0n] });
      for (const b of exact) await honest(list, b.input);
      // asset 1 one unit below its total: batch 1 (8 lots) is within the cap, batch 2 is not
      const tight = listChain(lots, { caps: [total(0n), total(1n) - 1n, 0n, 0n] });
      assert.ok(total(1n, 8) <= total(1n) - 1n);
      await honest(list, (tight[0] as { input: Input }).input);
      await expectWitnessFail(list, (tight[1] as { input: Input }).input);
      // one batch over the cap right away
      const low = listChain(lots.slice(0, 8), { caps: [total(0n, 8) - 1n] });
      await expectWitnessFail(list, (low[0] as { input: Input }).input);
      // the caps word: two 120-bit caps; a bit above them is rejected
      const [b] = listChain(lots.slice(0, 3));
      assert.ok(b);
      await expectWitnessFail(list, tamper(b.input, { caps: [0, (b.caps[0] as bigint) + (1n << 240n)] }));
      await expectWitnessFail(list, tamper(b.input, { caps: [1, FIELD_P - 1n] }));
      assert.deepEqual(packListCaps([5n, 6n], GA), [
        5n + (6n << 120n),
        UNBOUNDED_CAP + (UNBOUNDED_CAP << 120n),
      ]);
    });

    it("the commitment binds (id, asset, amount) of every lot", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      const w = await honest(list, b.input);
      const c = readSignal(list, w, "commitment");
      assert.equal(c, b.commitment);
      const other = async (edits: Record<string, [number, bigint]>) =>
        readSignal(list, await honest(list, tamper(b.input, edits)), "commitment");
      assert.notEqual(await other({ lotId: [1, 4n] }), c);
      assert.notEqual(await other({ lotAsset: [1, 3n] }), c);
      assert.notEqual(await other({ lotAmount: [1, 102n] }), c);
      expectConstraintFail(list, editWitness(list, w, { commitment: c + 1n }));
    });

    it("padding is inert and a prefix", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      const w = await honest(list, b.input);
      const w2 = await honest(list, tamper(b.input, { lotId: [7, 3n] }));
      assert.deepEqual(publicSignals(list, w2), publicSignals(list, w));
      await expectWitnessFail(list, tamper(b.input, { lotAmount: [7, 10n ** 20n] }));
      await expectWitnessFail(list, tamper(b.input, { lotAsset: [7, 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotActive: [7, 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotActive: [5, 0n] })); // a hole before an active lot
      expectConstraintFail(list, editWitness(list, w, { "factor[7].factor": 2n }));
      expectConstraintFail(list, editWitness(list, w, { "usedId[7]": 3n }));
    });
  });

  // =============================================================================================
  describe("no shared collateral (fingerprints)", () => {
    /** the fingerprint a circuit outputs on its last batch */
    async function segFp(lots: Lot[], segmentId: bigint, slots = SLOTS): Promise<bigint> {
      const b = segmentChain({ segmentId, lots, liabilities: [], slots }).at(-1) as SegmentBatch;
      return readSignal(seg, await honest(seg, b.input), "fingerprint");
    }
    async function listFp(lots: ListLot[], caps?: bigint[]): Promise<bigint> {
      const b = listChain(lots, { caps }).at(-1) as { input: Input };
      return readSignal(list, await honest(list, b.input), "fingerprint");
    }

    it("honest epoch: the product of the segments' fingerprints equals the list's (circuit outputs)", async () => {
      const a = [lot(3n, 1n, 0n, 10n), lot(9n, 1n, 1n, 20n), lot(20n, 1n, 2n, 1n)];
      const b = [
        lot(4n, 2n, 0n, 30n),
        ...Array.from({ length: 5 }, (_, i) => lot(BigInt(30 + i), 2n, 1n, 7n)),
      ];
      const all = [...a, ...b].map((l) => listLot(l)).sort(byId);
      assert.equal(product([await segFp(a, 1n), await segFp(b, 2n)]), await listFp(all));
    });

    it("the same lot in two segments: the list repeats an id (rejected) or the fingerprints differ", async () => {
      const shared = lot(7n, 1n, 0n, ETH);
      const inB = { ...shared, segmentId: 2n };
      const fa = await segFp([shared], 1n);
      const fb = await segFp([inB], 2n);
      // (1) the list holds one copy: the fingerprints do not match
      assert.notEqual(product([fa, fb]), await listFp([listLot(shared)]));
      // (2) the list holds both: it must repeat lotId 7, which the circuit rejects
      const [b] = listChain([listLot(shared)]);
      assert.ok(b);
      const twice = tamper(b.input, {
        lotId: [1, 7n],
        lotAsset: [1, 0n],
        lotAmount: [1, ETH],
        lotActive: [1, 1n],
      });
      await expectWitnessFail(list, twice);
      // ... and with the duplicate the products would have matched: the id check is what rejects it
      assert.equal(product([fa, fb]), fingerprintOf(R, [listLot(shared), listLot(inB)]));
    });

    it("the same lot twice in one segment: the list must repeat its id (rejected)", async () => {
      const l = lot(7n, 1n, 0n, ETH);
      const f = await segFp([l, l], 1n);
      assert.notEqual(f, await listFp([listLot(l)]));
      const [b] = listChain([listLot(l)]);
      assert.ok(b);
      await expectWitnessFail(
        list,
        tamper(b.input, { lotId: [1, 7n], lotAsset: [1, 0n], lotAmount: [1, ETH], lotActive: [1, 1n] }),
      );
    });

    it("the tuple binds amount and asset: a list entry differing from the segment's gives another product", async () => {
      const a = [lot(3n, 1n, 0n, 10n * ETH), lot(9n, 1n, 1n, 20n * USDC)];
      const fa = await segFp(a, 1n);
      const honestList = a.map((l) => listLot(l));
      assert.equal(fa, await listFp(honestList));
      // the same ids with a larger amount (inflating pooled totals), another asset, another id
      const variants: ListLot[][] = [
        [{ ...(honestList[0] as ListLot), amount: 10n * ETH + 1n }, honestList[1] as ListLot],
        [{ ...(honestList[0] as ListLot), asset: 2n }, honestList[1] as ListLot],
        [honestList[0] as ListLot, { ...(honestList[1] as ListLot), amount: 0n }],
        [{ ...(honestList[0] as ListLot), lotId: 4n }, honestList[1] as ListLot],
        // amount and asset swapped between the two lots
        [
          { ...(honestList[0] as ListLot), amount: 20n * USDC, asset: 1n },
          { ...(honestList[1] as ListLot), amount: 10n * ETH, asset: 0n },
        ],
      ];
      for (const v of variants)
        assert.notEqual(
          await listFp(v),
          fa,
          JSON.stringify(v, (_, x) => String(x)),
        );
      // the list does not range-check amounts itself: a "negative" amount (p - x) would lower a
      // pooled total, and the list circuit accepts it, but no segment tuple (amount < 2^96) matches
      // (the total p - 1 = -1 passes any cap below 2^120 - 1)
      const negative = [{ ...(honestList[0] as ListLot), amount: FIELD_P - 1n }, honestList[1] as ListLot];
      assert.notEqual(await listFp(negative, [10n * ETH]), fa);
    });

    it("fingerprint factors use r: a tuple equal to r would zero the product (probability n/p)", () => {
      const t = lotTuple(R, 1n, 1n, 0n);
      assert.ok(t !== R && t < FIELD_P);
    });
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
        assert.equal(enc.lotTuple(e, enc.gammaOf(R)), lotTuple(R, e.lotId, e.amount, e.asset));
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
          { lotId: 3n, asset: 0n, amount: 5n },
          { lotId: 8n, asset: 2n, amount: 6n },
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

  // =============================================================================================
  describe("constraint counts (pinned: a change in cost must be seen)", () => {
    // profile -> [segment, lotlist] constraints with circom --O2
    const PINNED: Record<string, [number, number]> = {
      test: [7769, 4180],
      default: [61921, 33516],
      large: [115945, 63474],
    };
    for (const [name, [segWant, listWant]] of Object.entries(PINNED)) {
      it(`profile ${name}`, async () => {
        const p = PROFILES[name];
        assert.ok(p);
        const s = await compileTestCircuit(circuitSpec("segment", p));
        const l = await compileTestCircuit(circuitSpec("lotlist", p));
        assert.deepEqual([s.r1cs.nConstraints, l.r1cs.nConstraints], [segWant, listWant]);
      });
    }
  });
});
