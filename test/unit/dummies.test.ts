/**
 * Salted dummy entries and the min-batches policy, on the pure planner and the
 * witness builder: nothing is proven here (test/e2e/dummies.test.ts proves and audits an epoch).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dummyLot } from "../../src/epoch/dummies.js";
import { buildSegmentBatch, type SegmentInput } from "../../src/epoch/inputs.js";
import { buildEpoch, type EpochBuild, MAX_MIN_BATCHES, planEpoch, slotParams } from "../../src/epoch/plan.js";
import { parseSecret } from "../../src/epoch/salts.js";
import { totalsOf } from "../../src/pipeline.js";
import { buildReceipts } from "../../src/receipts/build.js";
import { parseSnapshot, type Snapshot } from "../../src/snapshot/snapshot.js";
import { batchRoot, initPoseidon, sideCommitment } from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { EXAMPLE } from "../helpers/epoch.js";

const TEST = getProfile("test");
const S1 = parseSecret(Buffer.from("11".repeat(32)));
const S2 = parseSecret(Buffer.from("22".repeat(32)));

function example(epoch = 7): Snapshot {
  const raw = JSON.parse(readFileSync(EXAMPLE, "utf8"));
  raw.epoch = epoch;
  return parseSnapshot(raw, { profile: TEST });
}
/** The example's segment 4 has no lot and no liability. */
const EMPTY = 4n;
const seg = (b: EpochBuild, id: bigint) => b.segments.find((s) => s.segment.id === id);
/** The commitment of a batch side holding only padding. */
const zeroRoot = (n: number) => sideCommitment([], n);

describe("dummy entries: an empty segment looks like a small one", () => {
  let allPadding: bigint;
  before(async () => {
    await initPoseidon();
    allPadding = batchRoot(zeroRoot(TEST.lotsPerBatch), zeroRoot(TEST.liabsPerBatch));
  });

  it("an empty segment's batch root is not the all-padding root and differs across secrets and epochs", async () => {
    const a = await buildEpoch(example(), TEST, S1);
    const b = await buildEpoch(example(), TEST, S2);
    const c = await buildEpoch(example(8), TEST, S1);
    const roots = [a, b, c].map((x) => seg(x, EMPTY)?.batches[0]?.batchRoot);
    for (const r of roots) assert.notEqual(r, allPadding);
    assert.equal(new Set(roots).size, 3, "same root in two builds");
    // deterministic: a re-run reuses the same dummies (and so the work cache)
    const again = await buildEpoch(example(), TEST, S1);
    assert.equal(again.manifestHash, a.manifestHash);
    assert.deepEqual(
      again.jobs.map((j) => again.inputOf(j)),
      a.jobs.map((j) => a.inputOf(j)),
    );
  });

  it("an empty segment's last-batch fingerprint is not 1, and the epoch's fingerprints still match", async () => {
    const a = await buildEpoch(example(), TEST, S1);
    const last = seg(a, EMPTY)?.batches.at(-1);
    assert.ok(last?.fingerprint !== undefined && last.fingerprint !== 1n && last.fingerprint !== 0n);
    assert.deepEqual(last.outcome, { healthy: true, stress: [true, true], band: 4 });
    const P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
    const product = a.segments.reduce((p, s) => (p * (s.batches.at(-1)?.fingerprint ?? 0n)) % P, 1n);
    assert.equal(product, a.list.at(-1)?.fingerprint);
  });

  it("no batch is all padding: every batch holds a liability entry, every segment a lot", () => {
    for (const minBatches of [1, 3]) {
      const plan = planEpoch(example(), TEST, S1, { minBatches });
      for (const s of plan.segments) {
        assert.ok(s.batches.some((b) => b.lots.length + b.dummyLots.length > 0));
        for (const b of s.batches) assert.ok(b.liabilities.length + b.dummyLiabilities.length > 0);
      }
      // a segment with real lots gets no dummy lot; segment 4 gets exactly one
      assert.deepEqual(
        plan.segments.map((s) => s.batches.reduce((n, b) => n + b.dummyLots.length, 0)),
        [0, 0, 0, 1],
      );
    }
  });

  it("dummies carry no value and no receipt: totals and receipts equal a build's real positions", async () => {
    const a = await buildEpoch(example(), TEST, S1);
    const padded = await buildEpoch(example(), TEST, S1, { minBatches: 3 });
    const strip = (t: ReturnType<typeof totalsOf>) => ({ ...t, manifestHash: "" });
    assert.deepEqual(strip(totalsOf(padded)), strip(totalsOf(a)));
    assert.equal(buildReceipts(padded).length, buildReceipts(a).length);
    const real = example();
    assert.equal(buildReceipts(a).filter((r) => r.receipt.kind === "lot").length, real.lots.length);
    assert.deepEqual(
      a.segments.map((s) => [s.lots.length, s.liabilities.length]),
      real.segments.map((g) => [
        real.lots.filter((l) => l.segmentId === g.id).length,
        real.liabilities.filter((l) => l.segmentId === g.id).length,
      ]),
    );
    // the circuit's per-slot totals (health, stress, band) are those of the real positions alone
    for (const [i, s] of a.segments.entries()) {
      const sum = (xs: { slot: number; amount: bigint }[]) =>
        s.segment.slots.map((_, j) => xs.filter((x) => x.slot === j).reduce((n, x) => n + x.amount, 0n));
      assert.deepEqual(s.collateralTotals, sum(s.lots.map((p) => p.lot)));
      assert.deepEqual(s.liabilityTotals, sum(s.liabilities.map((p) => p.liability)));
      assert.deepEqual(
        [s.collateralTotals, s.liabilityTotals, s.outcome],
        [
          padded.segments[i]?.collateralTotals,
          padded.segments[i]?.liabilityTotals,
          padded.segments[i]?.outcome,
        ],
      );
    }
  });

  it("a dummy with a non-zero amount would change the sums: dummies are exactly the amount-0 extras", async () => {
    const a = await buildEpoch(example(), TEST, S1);
    const s4 = seg(a, EMPTY);
    assert.ok(s4);
    const job = a.jobs.find((j) => j.segmentId === s4.segment.id && j.batch === 0);
    const inp = job && (a.inputOf(job) as SegmentInput);
    assert.ok(inp && "lotAmount" in inp);
    // the dummy lot and liability are active slot-0 entries of amount 0
    assert.deepEqual([inp.lotActive[0], inp.lotSlot[0], inp.lotAmount[0]], ["1", "0", "0"]);
    assert.deepEqual([inp.liabActive[0], inp.liabSlot[0], inp.liabAmount[0]], ["1", "0", "0"]);
    // forged: the same entries with amount 1 would count as collateral/liability (so the honest
    // builder's unchanged totals are not an accident of the arithmetic)
    const dummyLot = {
      lotId: BigInt(inp.lotId[0] as string),
      segmentId: EMPTY,
      slot: 0n,
      amount: 1n,
      salt: 1n,
    };
    const dummyLiab = { accountId: 5n, segmentId: EMPTY, slot: 0n, amount: 1n, salt: 2n };
    const forged = buildSegmentBatch({
      profile: TEST,
      epoch: 7n,
      segmentId: EMPTY,
      marginBps: s4.segment.marginBps,
      slots: slotParams(s4.segment),
      stress: [],
      isFirst: true,
      isLast: true,
      r: a.r,
      prev: null,
      nextSalt: 3n,
      lots: [dummyLot],
      liabilities: [dummyLiab],
    });
    assert.deepEqual([forged.next.coll[0], forged.next.liab[0]], [1n, 1n]);
    assert.deepEqual([s4.collateralTotals, s4.liabilityTotals], [[0n], [0n]]);
    assert.deepEqual([s4.collateralValue, s4.requiredValue], [0n, 0n]);
  });

  it("a dummy lot id never collides with a real one (nor another dummy), and stays in [1, 2^128)", () => {
    const plan = planEpoch(example(), TEST, S1);
    const ids = plan.list.flat().map((e) => ("lot" in e ? e.lot.lotId : e.dummy.lotId));
    assert.equal(new Set(ids).size, ids.length);
    for (let i = 1; i < ids.length; i++) assert.ok((ids[i - 1] as bigint) < (ids[i] as bigint));
    // forced collision: every id the first attempts would give is taken: the next one is used
    const first = dummyLot(S1, 7n, EMPTY, new Set()).lotId;
    const taken = new Set([first]);
    const second = dummyLot(S1, 7n, EMPTY, taken);
    assert.notEqual(second.lotId, first);
    assert.ok(taken.has(second.lotId), "the new id joins the taken set");
    assert.ok(second.lotId >= 1n && second.lotId < 1n << 128n);
    // and a snapshot whose real lot has exactly the dummy's id gets another dummy id
    const raw = JSON.parse(readFileSync(EXAMPLE, "utf8"));
    raw.collateral[0].lotId = String(first);
    const clash = planEpoch(parseSnapshot(raw, { profile: TEST }), TEST, S1);
    const dummies = clash.list.flat().flatMap((e) => ("dummy" in e ? [e.dummy.lotId] : []));
    assert.equal(dummies.length, 1);
    assert.notEqual(dummies[0], first);
  });
});

describe("min-batches policy", () => {
  before(initPoseidon);

  it("every segment has >= N batches and no batch root repeats", async () => {
    const b = await buildEpoch(example(), TEST, S1, { minBatches: 3 });
    assert.equal(b.minBatches, 3);
    for (const s of b.manifest.segments) assert.ok(s.batchRoots.length >= 3);
    const roots = b.manifest.segments.flatMap((s) => s.batchRoots);
    assert.equal(new Set(roots).size, roots.length, "a batch root repeats");
    // real entries fill batches from the first; batch counts otherwise unchanged
    const plan = planEpoch(example(), TEST, S1, { minBatches: 2 });
    assert.deepEqual(
      plan.segments.map((s) => s.batches.length),
      [2, 2, 2, 2],
    );
  });

  it("rejects a policy that is not an integer in [1, MAX_MIN_BATCHES]", () => {
    for (const n of [0, -1, 1.5, Number.NaN, MAX_MIN_BATCHES + 1]) {
      assert.throws(() => planEpoch(example(), TEST, S1, { minBatches: n }), /minBatches: .* not an integer/);
    }
  });
});
