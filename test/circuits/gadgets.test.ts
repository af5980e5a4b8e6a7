/**
 * Circuit soundness: gadgets. For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import { FIELD_P, initPoseidon, listCommitment, mod, poseidon } from "../../src/spec/encoding.js";
import { honest } from "../helpers/circuit-suite.js";
import { type Input, R } from "../helpers/scenario.js";
import {
  compileTestCircuit,
  coverageBandEdits,
  editPresent,
  editWitness,
  expectConstraintFail,
  expectSatisfied,
  expectWitnessFail,
  readSignal,
  type TestCircuit,
  testSpec,
} from "../helpers/witness.js";

describe("circuits (v2)", () => {
  // Poseidon for the TS side of the checks (the circuits are compiled where a test needs them)
  before(async () => {
    await initPoseidon();
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
});
