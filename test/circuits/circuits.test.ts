/**
 * Soundness suite of the circuits (issue 3): for every guarantee of docs/SPEC.md, the honest
 * case passes and a forged witness or forged public input is rejected.
 */
import assert from "node:assert/strict";
import { batchValues, type CircuitInput } from "../../src/epoch/inputs.js";
import {
  decodeSegmentSignals,
  FIELD_P,
  initPoseidon,
  listCommitment,
  listStateHash,
  lotLeaf,
  merkleRoot,
  mod,
  packSegmentMeta,
  packSegmentParams,
  poseidon,
  segmentStateHash,
} from "../../src/spec/encoding.js";
import { PROFILES } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { circuitSpec } from "../../src/toolchain/compile.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { sj } from "../../src/util/snarkjs.js";
import {
  EPOCH,
  liability,
  listChain,
  lot,
  MARGIN,
  product,
  R,
  SLOTS,
  segmentChain,
  TEST,
} from "../helpers/scenario.js";
import {
  compileTestCircuit,
  editWitness,
  expectConstraintFail,
  expectSatisfied,
  expectWitnessFail,
  publicSignals,
  readSignal,
  type TestCircuit,
  testSpec,
} from "../helpers/witness.js";

/** Edits of a circuit input by signal name: a value, or `[i, v]` to set one array element. */
type Edits<T> = { [K in keyof T]?: T[K] extends string[] ? [number, bigint] : string | bigint };

/** Copy an input and override some of its entries; `arr: [i, v]` sets one array element. */
function tamper<T extends CircuitInput>(input: T, edits: Edits<T>): T {
  const out = structuredClone(input) as Record<string, string | string[]>;
  for (const [k, v] of Object.entries(edits as Record<string, string | bigint | [number, bigint]>)) {
    if (Array.isArray(v)) {
      const arr = out[k];
      assert.ok(Array.isArray(arr), `${k} is not an array input`);
      arr[v[0]] = String(v[1]);
    } else {
      out[k] = String(v);
    }
  }
  return out as T;
}

describe("circuits", () => {
  let seg: TestCircuit;
  let list: TestCircuit;

  before(async () => {
    await initPoseidon();
    seg = await compileTestCircuit(circuitSpec("segment", TEST));
    list = await compileTestCircuit(circuitSpec("lotlist", TEST));
  });

  describe("gadgets", () => {
    let g: TestCircuit;
    before(async () => {
      g = await compileTestCircuit(
        testSpec(
          "gadgets",
          "gadgets.circom",
          `pragma circom 2.1.6;
include "gadgets.circom";
template Gadgets() {
  signal input x; signal input a; signal input b; signal input slot; signal input active;
  signal input leaves[4]; signal input items[17];
  signal output ge; signal output bits[3]; signal output root; signal output commit;
  RangeCheck(8)(x);
  ge <== SafeGreaterEqThan(8)(a, b);
  Boolean()(active);
  bits <== SlotSelect(3)(slot, active);
  root <== MerkleTreeRoot(2)(leaves);
  commit <== ListCommitment(17)(items);
}
component main = Gadgets();
`,
        ),
      );
    });
    const base = {
      x: "255",
      a: "7",
      b: "7",
      slot: "2",
      active: "1",
      leaves: ["1", "2", "3", "4"],
      items: Array.from({ length: 17 }, (_, i) => String(i + 1)),
    };

    it("RangeCheck: accepts < 2^n, rejects 2^n and p - 1", async () => {
      expectSatisfied(g, await g.witness(base));
      await expectWitnessFail(g, { ...base, x: "256" });
      await expectWitnessFail(g, { ...base, x: String(FIELD_P - 1n) });
    });

    it("SafeGreaterEqThan: a >= b on range-checked inputs", async () => {
      for (const [a, b, want] of [
        [7, 7, 1n],
        [8, 7, 1n],
        [6, 7, 0n],
        [0, 255, 0n],
        [255, 0, 1n],
      ] as const) {
        const w = await g.witness({ ...base, a: String(a), b: String(b) });
        assert.equal(readSignal(g, w, "ge"), want, `${a} >= ${b}`);
        expectConstraintFail(g, editWitness(g, w, { ge: 1n - want }));
      }
    });

    it("SlotSelect: one bit for an active entry, none for padding, slot < A", async () => {
      const w = await g.witness(base);
      assert.deepEqual(
        [0, 1, 2].map((j) => readSignal(g, w, `bits[${j}]`)),
        [0n, 0n, 1n],
      );
      const pad = await g.witness({ ...base, active: "0", slot: "0" });
      assert.deepEqual(
        [0, 1, 2].map((j) => readSignal(g, pad, `bits[${j}]`)),
        [0n, 0n, 0n],
      );
      await expectWitnessFail(g, { ...base, slot: "3" }); // outside the slots
      await expectWitnessFail(g, { ...base, active: "0", slot: "1" }); // padding naming a slot
      // two bits set (with --O2, `active` and `slot` are substituted by sums of the bits, so a
      // single extra bit on padding is the same as the input-level forgery rejected above)
      expectConstraintFail(g, editWitness(g, w, { "bits[0]": 1n }));
      expectConstraintFail(g, editWitness(g, w, { "bits[0]": 1n, "bits[2]": 0n, "bits[1]": 1n }));
    });

    it("MerkleTreeRoot and ListCommitment match src/encoding.ts", async () => {
      const w = await g.witness(base);
      assert.equal(readSignal(g, w, "root"), merkleRoot([1n, 2n, 3n, 4n]));
      assert.equal(
        readSignal(g, w, "commit"),
        listCommitment(Array.from({ length: 17 }, (_, i) => BigInt(i + 1))),
      );
      expectConstraintFail(g, editWitness(g, w, { root: merkleRoot([1n, 2n, 4n, 3n]) }));
    });
  });

  describe("SegmentBatch", () => {
    // segment 1: solvent, two batches (5 lots, 3 liabilities at N = M = 4)
    const lots1 = () => [
      lot(11n, 1n, 0n, 10n * 10n ** 18n),
      lot(12n, 1n, 1n, 5000n * 10n ** 6n),
      lot(13n, 1n, 2n, 2n * 10n ** 8n),
      lot(14n, 1n, 0n, 1n),
      lot(15n, 1n, 1n, 7n),
    ];
    const liabs1 = () => [
      liability(101n, 1n, 1n, 20000n * 10n ** 6n),
      liability(102n, 1n, 0n, 1n * 10n ** 18n),
      liability(103n, 1n, 1n, 5n),
    ];

    it("honest batches satisfy every constraint and expose what the builder predicts", async () => {
      const chain = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      assert.equal(chain.length, 2);
      for (const b of chain) {
        const w = await seg.witness(b.input);
        expectSatisfied(seg, w);
        assert.deepEqual(publicSignals(seg, w), b.publicSignals);
      }
      const last = chain[1];
      assert.ok(last?.healthy, "segment 1 is solvent");
      assert.equal(chain[0]?.publicSignals[2], "0", "healthy is 0 before the last batch");
      assert.equal(chain[0]?.publicSignals[3], "0", "fingerprint is 0 before the last batch");
    });

    it("sums are exact integers (property: random amounts, and the largest allowed values)", async () => {
      let seed = 42n;
      const rnd = (bits: bigint): bigint => {
        seed = (seed * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
        return (seed * 0x2545f4914f6cdd1dn) % 2n ** bits;
      };
      const maxSlots = [
        { price: 2n ** 96n - 1n, cfBps: 10000n },
        { price: 2n ** 96n - 1n, cfBps: 10000n },
        { price: 2n ** 96n - 1n, cfBps: 10000n },
        { price: 2n ** 96n - 1n, cfBps: 10000n },
      ];
      const cases = [
        { slots: SLOTS, margin: MARGIN, amt: () => rnd(90n) },
        { slots: maxSlots, margin: 2n ** 16n - 1n, amt: () => 2n ** 96n - 1n },
      ];
      for (const c of cases) {
        const lots = [0, 1, 2, 3].map((i) => lot(BigInt(i + 1), 3n, BigInt(i % c.slots.length), c.amt()));
        const liabs = [0, 1, 2, 3].map((i) =>
          liability(BigInt(i + 1), 3n, BigInt(i % c.slots.length), c.amt()),
        );
        const [b] = segmentChain({
          segmentId: 3n,
          lots,
          liabilities: liabs,
          slots: c.slots,
          marginBps: c.margin,
        });
        assert.ok(b);
        const w = await seg.witness(b.input);
        expectSatisfied(seg, w);
        const want = batchValues(c.slots, c.margin, lots, liabs);
        assert.ok(want.liab < 2n ** 240n);
        assert.equal(b.next.collSum, want.coll);
        assert.equal(readSignal(seg, w, "nextState"), segmentStateHash(b.next));
        assert.equal(readSignal(seg, w, "healthy"), want.coll >= want.liab ? 1n : 0n);
      }
    });

    it("rejects a negative amount written as p - x, and amounts >= 2^96", async () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 2),
        liabilities: liabs1().slice(0, 2),
      });
      assert.ok(b);
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [0, FIELD_P - 5n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [0, FIELD_P - 5n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [1, 2n ** 96n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [1, 2n ** 96n] }));
    });

    it("rejects prices and factors out of bounds in the public parameters", async () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 2),
        liabilities: liabs1().slice(0, 2),
      });
      assert.ok(b);
      const word = (lo: bigint, hi: bigint) => lo + (hi << 112n);
      const good = packSegmentParams(SLOTS, TEST.assetsPerSegment);
      // cf = 10001
      await expectWitnessFail(seg, tamper(b.input, { params: [0, word(1n + (10001n << 96n), 1n)] }));
      // price 0
      await expectWitnessFail(
        seg,
        tamper(b.input, { params: [0, word(0n + (8500n << 96n), (good[0] as bigint) >> 112n)] }),
      );
      // a word beyond 224 bits (price bits spilling past both slots)
      await expectWitnessFail(seg, tamper(b.input, { params: [1, (good[1] as bigint) + (1n << 230n)] }));
      // params = p - 1
      await expectWitnessFail(seg, tamper(b.input, { params: [0, FIELD_P - 1n] }));
      // meta beyond its 114 bits (epoch >= 2^64)
      await expectWitnessFail(seg, tamper(b.input, { meta: BigInt(b.input.meta as string) + (1n << 114n) }));
    });

    it("rejects running sums pushed near the modulus", async () => {
      const chain = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      const second = chain[1];
      assert.ok(second);
      // open prevState as a sum of p - 1 (so that adding this batch wraps to a small value)
      for (const field of ["prevColl", "prevLiab"] as const) {
        const prev = { ...second.next, salt: 77n, collSum: 5n, liabSum: 5n, fp: 3n };
        if (field === "prevColl") prev.collSum = FIELD_P - 1n;
        else prev.liabSum = FIELD_P - 1n;
        const forged = tamper(second.input, {
          prevState: segmentStateHash(prev),
          prevColl: prev.collSum,
          prevLiab: prev.liabSum,
          prevFp: prev.fp,
          prevSalt: prev.salt,
        });
        await expectWitnessFail(seg, forged);
      }
      // and a sum of exactly 2^240 (the bound itself)
      const prev = { collSum: 2n ** 240n, liabSum: 0n, fp: 1n, salt: 1n };
      await expectWitnessFail(
        seg,
        tamper(second.input, {
          prevState: segmentStateHash(prev),
          prevColl: prev.collSum,
          prevLiab: 0n,
          prevFp: 1n,
          prevSalt: 1n,
        }),
      );
    });

    it("padding slots are inert: no amount, no asset, no leaf, no fingerprint factor", async () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 2),
        liabilities: liabs1().slice(0, 2),
      });
      assert.ok(b);
      await expectWitnessFail(seg, tamper(b.input, { lotAmount: [3, 1000n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabAmount: [3, 1000n] }));
      await expectWitnessFail(seg, tamper(b.input, { lotSlot: [3, 1n] }));
      // whatever the padding's id and salt, the tree and the fingerprint do not change
      const w = await seg.witness(b.input);
      const w2 = await seg.witness(
        tamper(b.input, { lotId: [3, 999n], lotSalt: [3, 123n], liabAccount: [3, 5n] }),
      );
      assert.deepEqual(publicSignals(seg, w2), publicSignals(seg, w));
      // a padding slot forced to carry a leaf into the tree or a factor into the fingerprint
      expectConstraintFail(seg, editWitness(seg, w, { "lotFactor[3].usedLeaf": 5n }));
      expectConstraintFail(seg, editWitness(seg, w, { "lotFactor[3].factor": R - 5n }));
    });

    it("rejects an active entry after padding (entries are a prefix)", async () => {
      const [b] = segmentChain({
        segmentId: 1n,
        lots: lots1().slice(0, 2),
        liabilities: liabs1().slice(0, 2),
      });
      assert.ok(b);
      await expectWitnessFail(seg, tamper(b.input, { lotActive: [3, 1n] }));
      await expectWitnessFail(seg, tamper(b.input, { liabActive: [3, 1n] }));
    });

    it("rejects a first batch that does not start from the canonical empty state", async () => {
      const chain = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      const first = chain[0];
      assert.ok(first);
      const nonEmpty = { collSum: 10n ** 30n, liabSum: 0n, fp: 1n, salt: 9n };
      // a non-zero prevState on the first batch
      await expectWitnessFail(seg, tamper(first.input, { prevState: segmentStateHash(nonEmpty) }));
      // carried-in collateral on the first batch (with the empty public state)
      await expectWitnessFail(seg, tamper(first.input, { prevColl: nonEmpty.collSum }));
      await expectWitnessFail(seg, tamper(first.input, { prevFp: 2n }));
    });

    it("rejects a batch whose prevState is not the opening of its carried state", async () => {
      const chain = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      const [first, second] = chain;
      assert.ok(first && second);
      assert.equal(second.prevState, first.nextState, "honest chaining");
      // inflate the carried collateral without changing prevState
      await expectWitnessFail(seg, tamper(second.input, { prevColl: first.next.collSum + 10n ** 40n }));
      // a prevState that is not the previous batch's nextState: the verifier compares the public
      // prevState with the previous nextState; a self-consistent but different opening differs
      const other = { ...first.next, collSum: first.next.collSum + 10n ** 40n };
      const forged = tamper(second.input, { prevState: segmentStateHash(other), prevColl: other.collSum });
      const w = await seg.witness(forged);
      expectSatisfied(seg, w);
      assert.notEqual(publicSignals(seg, w)[5], String(first.nextState));
    });

    it("rejects a healthy flag claimed for an insolvent segment", async () => {
      // segment 2: liabilities exceed haircut collateral
      const [b] = segmentChain({
        segmentId: 2n,
        lots: [lot(21n, 2n, 0n, 1n * 10n ** 18n)],
        liabilities: [liability(201n, 2n, 1n, 3000n * 10n ** 6n)],
      });
      assert.ok(b);
      assert.equal(b.healthy, false);
      const w = await seg.witness(b.input);
      expectSatisfied(seg, w);
      assert.equal(readSignal(seg, w, "healthy"), 0n);
      expectConstraintFail(seg, editWitness(seg, w, { healthy: 1n }));
      expectConstraintFail(seg, editWitness(seg, w, { healthy: 1n, "geq.out": 1n }));
      // with --O2 the comparator's sign bit is substituted by geq.out: flipping it is the edit above
      const bit0 = readSignal(seg, w, "geq.lt.n2b.out[0]");
      expectConstraintFail(
        seg,
        editWitness(seg, w, { healthy: 1n, "geq.out": 1n, "geq.lt.n2b.out[0]": 1n - bit0 }),
      );
    });

    it("an insolvent segment is proven and flagged unhealthy while others stay healthy", async () => {
      const good = segmentChain({ segmentId: 1n, lots: lots1(), liabilities: liabs1() });
      const bad = segmentChain({
        segmentId: 2n,
        lots: [lot(21n, 2n, 0n, 1n * 10n ** 18n)],
        liabilities: [liability(201n, 2n, 1n, 3000n * 10n ** 6n)],
      });
      const empty = segmentChain({ segmentId: 5n, lots: [], liabilities: [] });
      for (const b of [...good, ...bad, ...empty]) expectSatisfied(seg, await seg.witness(b.input));
      assert.equal(good.at(-1)?.publicSignals[2], "1");
      assert.equal(bad.at(-1)?.publicSignals[2], "0");
      assert.equal(empty.at(-1)?.publicSignals[2], "1", "an empty segment is healthy (0 >= 0)");
      assert.equal(empty.at(-1)?.publicSignals[3], "1", "an empty segment's fingerprint is 1");
    });

    it("binds leaves, liabilities and parameters to the public signals", async () => {
      const [b] = segmentChain({ segmentId: 1n, lots: lots1().slice(0, 3), liabilities: liabs1() });
      assert.ok(b);
      const published = b.publicSignals;
      const sig = async (input: CircuitInput) => publicSignals(seg, await seg.witness(input));
      // a leaf changed after its root was published
      assert.notEqual((await sig(tamper(b.input, { lotAmount: [0, 11n * 10n ** 18n] })))[1], published[1]);
      // a liability omitted (its slot turned into padding)
      const omitted = tamper(b.input, { liabActive: [2, 0n], liabAmount: [2, 0n], liabSlot: [2, 0n] });
      assert.notEqual((await sig(omitted))[1], published[1]);
      // a lot placed in another segment: the leaf (hence the root) names the public segment id
      const meta2 = packSegmentMeta({
        segmentId: 2n,
        marginBps: MARGIN,
        isFirst: true,
        isLast: true,
        epoch: EPOCH,
      });
      assert.notEqual((await sig(tamper(b.input, { meta: meta2 })))[1], published[1]);
      // the same witness cannot produce different parameters: meta and params are inputs the
      // verifier supplies, and the proof check is in test/groth16 below
    });
  });

  describe("LotListBatch", () => {
    const sorted = () =>
      [1n, 5n, 6n, 900n, 2n ** 127n, 2n ** 128n - 1n].map((id, i) => lot(id, 1n + BigInt(i % 3), 0n, 100n));

    it("honest sorted lists satisfy every constraint, across batches", async () => {
      const lots = [
        ...sorted(),
        ...[2n ** 100n, 2n ** 100n + 1n, 2n ** 110n, 2n ** 120n].map((id) => lot(id, 2n, 1n, 5n)),
      ];
      lots.sort((a, b) => (a.lotId < b.lotId ? -1 : 1));
      const chain = listChain(lots);
      assert.equal(chain.length, 2);
      for (const b of chain) {
        const w = await list.witness(b.input);
        expectSatisfied(list, w);
        assert.deepEqual(publicSignals(list, w), b.publicSignals);
      }
      assert.equal(chain[1]?.prevState, chain[0]?.nextState);
      assert.equal(chain[0]?.publicSignals[2], "0");
      assert.equal(chain[1]?.fingerprint, product(lots.map((l) => mod(R - lotLeaf(l)))));
    });

    it("rejects equal or decreasing ids inside a batch", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 5n] })); // equal to its predecessor
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 4n] })); // decreasing
      // an id that "increases" by wrapping around the field
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, FIELD_P - 1n] }));
    });

    it("rejects equal or decreasing ids across a batch boundary", async () => {
      const lots = Array.from({ length: 10 }, (_, i) => lot(BigInt(10 * (i + 1)), 1n, 0n, 1n));
      const [first, second] = listChain(lots);
      assert.ok(first && second);
      expectSatisfied(list, await list.witness(second.input));
      // batch 2 starting at the last id of batch 1 (80) or below it
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 80n] }));
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 15n] }));
      // opening prevState with a smaller last id than batch 1 ended with
      await expectWitnessFail(list, tamper(second.input, { prevLastId: 10n }));
      // a second batch posing as first (restarting at id 0) must use prevState = 0, which the
      // verifier rejects as it is not batch 1's nextState
      const restarted = tamper(second.input, {
        prevState: 0n,
        meta: BigInt(second.input.meta as string) | 1n,
        prevLastId: 0n,
        prevFp: 1n,
        prevSalt: 0n,
        lotId: [0, 3n],
      });
      const w = await list.witness(restarted);
      assert.notEqual(publicSignals(list, w)[4], String(first.nextState));
    });

    it("rejects a gap of 2^128 or more between ids, and a first batch with a non-empty state", async () => {
      const [b] = listChain([lot(1n, 1n, 0n, 1n), lot(2n ** 128n + 2n, 1n, 0n, 1n)].map((l) => l));
      assert.ok(b);
      await expectWitnessFail(list, b.input);
      const [c] = listChain(sorted());
      assert.ok(c);
      await expectWitnessFail(
        list,
        tamper(c.input, { prevState: listStateHash({ lastId: 0n, fp: 1n, salt: 3n }) }),
      );
      await expectWitnessFail(list, tamper(c.input, { prevFp: 7n }));
      await expectWitnessFail(list, tamper(c.input, { prevLastId: 1000n }));
    });

    it("padding is inert and a prefix", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      const w = await list.witness(b.input);
      const w2 = await list.witness(tamper(b.input, { lotId: [7, 3n], lotAmount: [7, 10n ** 20n] }));
      assert.deepEqual(publicSignals(list, w2), publicSignals(list, w));
      await expectWitnessFail(list, tamper(b.input, { lotActive: [7, 1n] }));
      expectConstraintFail(list, editWitness(list, w, { "factor[7].factor": 2n }));
      expectConstraintFail(list, editWitness(list, w, { commitment: listCommitment([1n]) }));
    });
  });

  describe("no shared collateral (fingerprints)", () => {
    it("honest epoch: product of segment fingerprints equals the global list's", () => {
      const a = [lot(3n, 1n, 0n, 10n), lot(9n, 1n, 1n, 20n)];
      const b = [lot(4n, 2n, 0n, 30n)];
      const all = [...a, ...b].sort((x, y) => (x.lotId < y.lotId ? -1 : 1));
      const fa = segmentChain({ segmentId: 1n, lots: a, liabilities: [] }).at(-1)?.fingerprint;
      const fb = segmentChain({ segmentId: 2n, lots: b, liabilities: [] }).at(-1)?.fingerprint;
      const fg = listChain(all).at(-1)?.fingerprint;
      assert.equal(product([fa as bigint, fb as bigint]), fg);
    });

    it("the same lot in two segments: either the list repeats an id (rejected) or the fingerprints differ", async () => {
      const shared = lot(7n, 1n, 0n, 10n ** 18n);
      const inA = [shared];
      const inB = [{ ...shared, segmentId: 2n }];
      const fa = segmentChain({ segmentId: 1n, lots: inA, liabilities: [] }).at(-1)?.fingerprint as bigint;
      const fb = segmentChain({ segmentId: 2n, lots: inB, liabilities: [] }).at(-1)?.fingerprint as bigint;
      // (1) the list holds only one copy: fingerprints do not match
      const one = listChain([shared]).at(-1)?.fingerprint;
      assert.notEqual(product([fa, fb]), one);
      // (2) the list holds both leaves: it must repeat lotId 7, which the circuit rejects
      const both = [shared, inB[0]] as typeof inA;
      const [b] = listChain([lot(1n, 1n, 0n, 1n)]);
      assert.ok(b);
      const forged = structuredClone(b.input);
      const fields = ["lotId", "lotSegment", "lotSlot", "lotAmount", "lotSalt", "lotActive"] as const;
      const key = {
        lotId: "lotId",
        lotSegment: "segmentId",
        lotSlot: "slot",
        lotAmount: "amount",
        lotSalt: "salt",
      } as const;
      for (let i = 0; i < 2; i++) {
        const l = both[i] as (typeof inA)[number];
        for (const f of fields) {
          (forged[f] as string[])[i] = f === "lotActive" ? "1" : String(l[key[f]]);
        }
      }
      await expectWitnessFail(list, forged);
    });

    it("the same lot twice in one segment: the list must repeat its id (rejected)", async () => {
      const l = lot(7n, 1n, 0n, 10n ** 18n);
      const f = segmentChain({ segmentId: 1n, lots: [l, l], liabilities: [] }).at(-1)?.fingerprint as bigint;
      assert.notEqual(f, listChain([l]).at(-1)?.fingerprint);
      const [b] = listChain([l]);
      assert.ok(b);
      await expectWitnessFail(
        list,
        tamper(b.input, {
          lotId: [1, l.lotId],
          lotSegment: [1, 1n],
          lotAmount: [1, l.amount],
          lotSalt: [1, l.salt],
          lotActive: [1, 1n],
        }),
      );
    });

    it("fingerprint factors use r: a leaf equal to r would zero it (probability n/p)", () => {
      const leaf = lotLeaf(lot(1n, 1n, 0n, 1n));
      assert.ok(leaf !== R && leaf < FIELD_P);
      assert.equal(poseidon([1n, 2n]) < FIELD_P, true);
    });
  });

  describe("Groth16: forged public inputs are rejected by the verifier", () => {
    it("segment batch: parameters, flags, state, root and outputs are bound by the proof", async () => {
      const art = await ensureCircuit("segment", "test");
      const [b] = segmentChain({
        segmentId: 2n,
        lots: [lot(21n, 2n, 0n, 1n * 10n ** 18n)],
        liabilities: [liability(201n, 2n, 1n, 3000n * 10n ** 6n)],
      });
      assert.ok(b && !b.healthy);
      await withSnarkjs(async () => {
        const { proof, publicSignals: ps } = await sj.groth16.fullProve(b.input, art.wasm, art.zkey);
        assert.deepEqual(ps, b.publicSignals);
        assert.equal(await sj.groth16.verify(art.vkey, ps, proof), true);
        const forged = (i: number, v: bigint): string[] => ps.map((x, j) => (j === i ? String(v) : x));
        const cheaperPrices = packSegmentParams(
          SLOTS.map((sl, j) => (j === 1 ? { ...sl, price: sl.price / 2n } : sl)),
          TEST.assetsPerSegment,
        );
        const lowerMargin = packSegmentMeta({
          segmentId: 2n,
          marginBps: 0n,
          isFirst: true,
          isLast: true,
          epoch: EPOCH,
        });
        const cases: [string, string[]][] = [
          ["healthy claimed", forged(2, 1n)],
          ["fingerprint changed", forged(3, b.fingerprint + 1n)],
          ["root changed", forged(1, b.batchRoot + 1n)],
          ["next state changed", forged(0, b.nextState + 1n)],
          ["other r", forged(4, R + 1n)],
          ["prevState changed", forged(5, 1n)],
          ["margin lowered after proving", forged(6, lowerMargin)],
          ["price changed after proving", forged(7, cheaperPrices[0] as bigint)],
          ["epoch changed", forged(6, b.meta + (1n << 50n))],
        ];
        for (const [what, sig] of cases) {
          assert.equal(await sj.groth16.verify(art.vkey, sig, proof), false, what);
        }
        // snarkjs reduces public signals mod p, so `healthy = p` would alias 0: our decoder (used
        // by the audit and the chain client) refuses any signal >= p before verifying
        const aliased = forged(2, FIELD_P);
        assert.throws(
          () => decodeSegmentSignals(aliased, TEST.assetsPerSegment),
          /not below the field modulus/,
        );
      });
    });

    it("lot-list batch: commitment, state, r and flags are bound by the proof", async () => {
      const art = await ensureCircuit("lotlist", "test");
      const [b] = listChain([lot(3n, 1n, 0n, 5n), lot(8n, 2n, 1n, 6n)]);
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

  describe("constraint counts (pinned: a change in cost must be seen)", () => {
    // profile -> [segment, lotlist] constraints with circom --O2
    const PINNED: Record<string, [number, number]> = {
      test: [7566, 4646],
      default: [46130, 32466],
      large: [89522, 64118],
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
