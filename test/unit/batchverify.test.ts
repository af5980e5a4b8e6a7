/**
 * Offline Groth16 batch verification (src/util/batchverify.ts) against real proofs of the
 * batchtoy fixture (17 public signals): valid batches, bad proofs named (one among many, several,
 * swapped inputs, replay), malformed inputs, a B outside G2's order-r subgroup (the subgroup test
 * cross-checked against [r]B).
 */
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { FIELD_P } from "../../src/spec/encoding.js";
import { type BatchItem, FQ_MODULUS, g2InSubgroup, verifyBatch } from "../../src/util/batchverify.js";
import { packageDir } from "../../src/util/paths.js";
import { type BatchToy, batchToy, proveBatchToy } from "../helpers/batchtoy.js";
import { nonSubgroupG2 } from "../helpers/g2.js";

const clone = (xs: readonly BatchItem[]): BatchItem[] => xs.map((x) => structuredClone(x) as BatchItem);

describe("batch verification (offline)", function () {
  this.timeout(600_000);
  let toy: BatchToy;
  let items: BatchItem[];
  let other: BatchItem[];

  before(async () => {
    toy = await batchToy(16);
    items = await proveBatchToy(toy, 24, 1);
    other = await proveBatchToy(toy, 2, 2);
  });

  it("accepts valid batches (n = 1, 2, 24)", async () => {
    for (const n of [1, 2, 24])
      assert.deepEqual(await verifyBatch(toy.vkey, items.slice(0, n)), { ok: true, bad: [] });
    assert.deepEqual(await verifyBatch(toy.vkey, []), { ok: true, bad: [] });
  });

  it("names one bad proof among many, wherever it is", async () => {
    for (const at of [0, 11, 23]) {
      const xs = clone(items);
      const s = [...(xs[at] as BatchItem).publicSignals];
      s[7] = ((BigInt(s[7] as string) + 1n) % FIELD_P).toString();
      (xs[at] as BatchItem).publicSignals = s;
      assert.deepEqual(await verifyBatch(toy.vkey, xs), { ok: false, bad: [at] });
    }
  });

  it("names several bad proofs: swapped inputs, a replay with other inputs, a proof of another statement", async () => {
    const xs = clone(items);
    const a = xs[3] as BatchItem;
    const b = xs[4] as BatchItem;
    [a.publicSignals, b.publicSignals] = [b.publicSignals, a.publicSignals];
    (xs[10] as BatchItem).publicSignals = (other[0] as BatchItem).publicSignals;
    (xs[20] as BatchItem).proof = (other[1] as BatchItem).proof;
    assert.deepEqual(await verifyBatch(toy.vkey, xs), { ok: false, bad: [3, 4, 10, 20] });
    assert.deepEqual(await verifyBatch(toy.vkey, xs, { findBad: false }), { ok: false, bad: [] });
  });

  it("rejects malformed items without a pairing: signal >= r, coordinate >= q, wrong count, junk", async () => {
    const xs = clone(items.slice(0, 6));
    const s0 = [...(xs[0] as BatchItem).publicSignals];
    s0[2] = (BigInt(s0[2] as string) + FIELD_P).toString();
    (xs[0] as BatchItem).publicSignals = s0;
    const p1 = (xs[1] as BatchItem).proof;
    p1.pi_a = [(BigInt(p1.pi_a[0] as string) + FQ_MODULUS).toString(), p1.pi_a[1] as string, "1"];
    (xs[2] as BatchItem).publicSignals = (xs[2] as BatchItem).publicSignals.slice(0, 16);
    (xs[3] as BatchItem).publicSignals = ["0x01", ...(xs[3] as BatchItem).publicSignals.slice(1)];
    const p4 = (xs[4] as BatchItem).proof;
    p4.pi_c = [p4.pi_c[0] as string, (BigInt(p4.pi_c[1] as string) + 1n).toString(), "1"]; // off the curve
    assert.deepEqual(await verifyBatch(toy.vkey, xs), { ok: false, bad: [0, 1, 2, 3, 4] });
  });

  it("rejects B outside G2's order-r subgroup; the subgroup test agrees with [r]B", async () => {
    const require = createRequire(`${packageDir("snarkjs")}/package.json`);
    const ff = require("ffjavascript");
    const curve = await ff.buildBn128(true);
    const rLE = ff.Scalar.toLEBuff(curve.r);
    for (let seed = 2n; seed < 12n; seed++) {
      const [x, y] = nonSubgroupG2(seed * 7n);
      const obj = [x.map(String), y.map(String), ["1", "0"]];
      const pt = curve.G2.fromObject([x, y]);
      assert.equal(curve.G2.isValid(pt), true, "on the twist");
      const inR = curve.G2.isZero(curve.G2.timesScalar(pt, rLE));
      assert.equal(await g2InSubgroup(obj), inR);
      assert.equal(inR, false);
    }
    const gen = curve.G2.toObject(curve.G2.toAffine(curve.G2.timesScalar(curve.G2.g, 12345n)));
    assert.equal(await g2InSubgroup(gen.map((c: bigint[]) => c.map(String))), true);

    const xs = clone(items.slice(0, 4));
    const [x, y] = nonSubgroupG2(3n);
    (xs[2] as BatchItem).proof.pi_b = [x.map(String), y.map(String), ["1", "0"]];
    assert.deepEqual(await verifyBatch(toy.vkey, xs), { ok: false, bad: [2] });
  });

  it("refuses a malformed verification key", async () => {
    await assert.rejects(
      verifyBatch({ ...toy.vkey, IC: toy.vkey.IC.slice(1) }, items.slice(0, 1)),
      /IC points/,
    );
    await assert.rejects(verifyBatch({ ...toy.vkey, protocol: "plonk" }, items.slice(0, 1)), /groth16/);
  });
});
