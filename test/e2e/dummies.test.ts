/**
 * An epoch with an empty segment, proven with `minBatches: 2` and audited against anchored keys:
 * the empty segment is not recognisable (batch roots are not the all-padding
 * root, its fingerprint is not 1), every segment has >= 2 batches with distinct roots, dummies
 * get no receipt and change no total, and a bundle that claims the empty-segment look is refused.
 */
import assert from "node:assert/strict";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { auditBundle } from "../../src/audit/node.js";
import { type Bundle, parseBundle } from "../../src/bundle/bundle.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { batchRoot, initPoseidon, sideCommitment } from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { terminateCurves } from "../../src/util/curve.js";
import { runCli } from "../helpers/cli.js";
import { secretFile, tmpDir } from "../helpers/epoch.js";
import { receiptMaps } from "../helpers/receipts.js";
import { TINY_SNAPSHOT } from "../helpers/tiny.js";

const TEST = getProfile("test");
const anchored = { anchor: { kind: "local" as const }, allowDevKeys: true };
/** The commitment of a batch side holding only padding. */
const zeroRoot = (n: number) => sideCommitment([], n);

/**
 * The tiny snapshot plus segments 2 and 3, which hold nothing; segment 3 prices no asset, so its
 * dummies sit in a padding slot (price 1, cf 0).
 */
const SNAPSHOT = {
  ...TINY_SNAPSHOT,
  segments: [
    ...TINY_SNAPSHOT.segments,
    { id: 2, name: "empty", marginBps: 500, prices: { USDC: "1" }, collateralFactorBps: { USDC: 9000 } },
    { id: 3, name: "unpriced", marginBps: 0, prices: {}, collateralFactorBps: {} },
  ],
};
const EMPTY_IDS = [2, 3];

describe("e2e: dummy entries and --min-batches", () => {
  let s: ProveSummary;
  let bundle: Bundle;
  before(async function () {
    this.timeout(900_000);
    await initPoseidon();
    const dir = tmpDir("dummies");
    const file = path.join(dir, "snapshot.json");
    writeFileSync(file, JSON.stringify(SNAPSHOT));
    s = await proveSnapshot({
      snapshot: file,
      out: path.join(dir, "out"),
      profile: "test",
      secretFile: secretFile(),
      minBatches: 2,
    });
    bundle = parseBundle(JSON.parse(readFileSync(s.bundleFile, "utf8")));
  });
  after(() => terminateCurves());

  it("audits (anchored keys): every proof verifies, fingerprints match, every segment healthy", async function () {
    this.timeout(120_000);
    const report = await auditBundle(s.publicDir, anchored);
    assert.deepEqual(report.errors, []);
    assert.equal(report.ok, true);
    assert.equal(report.proofsVerified, 7);
    assert.deepEqual(
      report.segments.map((x) => x.healthy),
      [true, true, true],
    );
  });

  it("empty segments are not recognisable: no all-padding root, fingerprint not 1", () => {
    const allPadding = String(batchRoot(zeroRoot(TEST.lotsPerBatch), zeroRoot(TEST.liabsPerBatch)));
    for (const id of EMPTY_IDS) {
      const empty = bundle.manifest.segments.find((x) => x.id === id);
      assert.ok(empty);
      for (const r of empty.batchRoots) assert.notEqual(r, allPadding);
      const last = bundle.proofs.segments.find((x) => x.id === id)?.batches.at(-1);
      assert.ok(last);
      assert.notEqual(last.publicSignals[3], "1", `fingerprint of empty segment ${id}`);
      assert.notEqual(last.publicSignals[3], "0");
    }
  });

  it("min-batches 2: every segment has >= 2 batches and no batch root repeats", () => {
    assert.equal(s.minBatches, 2);
    const roots = bundle.manifest.segments.flatMap((x) => x.batchRoots);
    for (const x of bundle.manifest.segments) assert.ok(x.batchRoots.length >= 2);
    assert.equal(new Set(roots).size, roots.length);
  });

  it("dummies are no positions: summary counts, receipts and totals are the real ones", async () => {
    assert.deepEqual(
      s.segments.map((x) => [x.id, x.batches, x.lots, x.liabilities, x.healthy, x.empty]),
      [
        [1, 2, 1, 1, true, false],
        [2, 2, 0, 0, true, true],
        [3, 2, 0, 0, true, true],
      ],
    );
    const receipts = path.join(s.privateDir, "receipts");
    // every receipt in the (sharded) store: the one real lot and the one real account, no dummy
    const maps = await receiptMaps(receipts);
    assert.deepEqual(Object.keys(maps.lots), ["0x01"]);
    assert.equal(Object.keys(maps.accounts).length, 1);
    assert.equal(s.receipts, 2);
    const totals = JSON.parse(readFileSync(path.join(s.privateDir, "totals.json"), "utf8"));
    const [one, two, three] = totals.segments;
    assert.deepEqual(
      [one.lots, one.liabilities, one.assets.ETH.collateral, one.assets.USDC.liabilities],
      [1, 1, "2", "1000"],
    );
    assert.deepEqual([two.lots, two.liabilities, two.collateralValue, two.requiredValue], [0, 0, "0", "0"]);
    assert.equal(two.coverage, null);
    assert.deepEqual([three.lots, three.collateralValue, three.requiredValue], [0, "0", "0"]);
  });

  it("rejects a bundle that shows the empty segment as empty again (fingerprint 1)", async function () {
    this.timeout(120_000);
    const dir = path.join(tmpDir("dummies-forged"), "public");
    cpSync(s.publicDir, dir, { recursive: true });
    const file = path.join(dir, "bundle.json");
    const b = JSON.parse(readFileSync(file, "utf8"));
    const segs = b.proofs.segments as { id: number; batches: { publicSignals: string[] }[] }[];
    const last = segs.find((x) => x.id === 2)?.batches.at(-1);
    assert.ok(last);
    last.publicSignals[3] = "1";
    writeFileSync(file, JSON.stringify(b));
    const report = await auditBundle(dir, anchored);
    assert.equal(report.ok, false);
    assert.ok(report.errors.length > 0);
  });

  it("prove --min-batches: a bad value is refused with the flag named, before anything is written", async function () {
    this.timeout(60_000);
    const out = path.join(tmpDir("dummies-cli"), "out");
    for (const v of ["0", "1.5", "abc", "100000"]) {
      const r = await runCli([
        "prove",
        "-s",
        "examples/snapshot.json",
        "-o",
        out,
        "--min-batches",
        v,
        "--json",
      ]);
      assert.notEqual(r.code, 0);
      assert.match(JSON.parse(r.stdout).error ?? r.stdout, /--min-batches/);
    }
    assert.throws(() => readdirSync(out));
  });
});
