/**
 * The library API as a user's project sees it: everything is imported by the package name
 * ("bulkhead", resolved through package.json `exports`; in-repo through the `source` condition),
 * never by a path into src/. Proves a tiny epoch, audits it, checks a receipt, and shows that a
 * lying bundle and a receipt for a position that is not in the epoch are rejected.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import {
  auditBundle,
  findReceipt,
  getProfile,
  type LotReceipt,
  type ProveSummary,
  parseSnapshot,
  proveSnapshot,
  readBundle,
  terminateCurves,
  verifyReceipt,
} from "bulkhead";
import { circuitSpec, ensureCircuit } from "bulkhead/build";
import { REPO, secretFile, tmpDir } from "../helpers/epoch.js";

/** One segment, two lots, one liability: one segment batch and one lot-list batch. */
const TINY = {
  epoch: 3,
  assets: [
    { symbol: "ETH", decimals: 18 },
    { symbol: "USDC", decimals: 6 },
  ],
  segments: [
    {
      id: 1,
      name: "tiny",
      marginBps: 1000,
      prices: { ETH: "3000", USDC: "1" },
      collateralFactorBps: { ETH: 8000, USDC: 10000 },
    },
  ],
  collateral: [
    { lotId: "0xa1", segment: 1, asset: "ETH", amount: "2" },
    { lotId: "0xa2", segment: 1, asset: "USDC", amount: "500" },
  ],
  liabilities: [{ account: "alice", segment: 1, asset: "USDC", amount: "4000" }],
};

/** Every path under `dir` with its size and mtime: any write shows. */
function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => {
      const st = statSync(path.join(dir, f));
      return `${f} ${st.size} ${st.mtimeMs}`;
    })
    .sort();
}

describe('library: import from "bulkhead"', () => {
  let summary: ProveSummary;
  // a build directory of prebuilt artifacts (as a container or CI mounts it, read-only)
  const prebuilt = tmpDir("library-prebuilt");
  let before_: string[];

  before(async () => {
    for (const id of ["segment-test", "lotlist-test"])
      cpSync(path.join(REPO, "build", id), path.join(prebuilt, id), { recursive: true });
    // the native prover and witness generators, where this machine built them (test/helpers/global-setup.ts)
    for (const dir of ["native", "witness"])
      if (existsSync(path.join(REPO, "build", dir)))
        cpSync(path.join(REPO, "build", dir), path.join(prebuilt, dir), { recursive: true });
    before_ = listing(prebuilt);
    const snapshot = parseSnapshot(TINY, { profile: getProfile("test") }, "tiny epoch");
    summary = await proveSnapshot({
      buildDir: prebuilt,
      snapshot,
      out: path.join(tmpDir("library"), "epoch"),
      // no profile: the library's default is the CLI's (DEFAULT_PROFILE, "test")
      secretFile: secretFile(),
      selfAudit: false,
    });
  });
  after(() => terminateCurves());

  it("proves a tiny epoch: one healthy segment, one segment batch, one list batch", () => {
    assert.equal(summary.epoch, "3");
    assert.equal(summary.profile, "test");
    assert.deepEqual(
      summary.segments.map((s) => [s.id, s.batches, s.lots, s.liabilities, s.healthy]),
      [[1, 1, 2, 1, true]],
    );
    assert.equal(summary.lotListBatches, 1);
    assert.deepEqual(summary.proofs, { total: 2, reused: 0, proven: 2 });
    assert.equal(summary.receipts, 3);
  });

  it("proves from a prebuilt build directory without writing to it (no lock files)", () => {
    assert.deepEqual(listing(prebuilt), before_);
  });

  // the keys this checkout builds from the circuits anchor every check; they are development keys
  const anchored = { anchor: { kind: "local" as const }, allowDevKeys: true };

  it("refuses to audit without a key anchor, and flags the development keys", async () => {
    const refused = await auditBundle(summary.publicDir);
    assert.equal(refused.ok, false);
    assert.match(refused.errors.join("\n"), /no trusted verification keys/);
    const dev = await auditBundle(summary.publicDir, { anchor: { kind: "local" } });
    assert.equal(dev.ok, false);
    assert.ok(dev.devKeys, "development keys recognised from the key");
  });

  it("reads and audits the bundle", async () => {
    const { bundle } = await readBundle(summary.publicDir);
    assert.equal(bundle.manifestHash, summary.manifestHash);
    const report = await auditBundle(summary.publicDir, anchored);
    assert.deepEqual(report.errors, []);
    assert.equal(report.ok, true);
    assert.equal(report.proofsVerified, 2);
    assert.equal(report.segments[0]?.healthy, true);
  });

  it("verifies a lot receipt; rejects the same receipt with another amount", async () => {
    const { file } = await findReceipt(summary.out, { lot: "0xa1" });
    const ok = await verifyReceipt(file, summary.publicDir, anchored);
    assert.equal(ok.ok, true, ok.verdict);
    const forged = JSON.parse(readFileSync(file, "utf8")) as LotReceipt;
    assert.equal(forged.kind, "lot");
    forged.position.amountUnits = String(BigInt(forged.position.amountUnits) + 1n);
    const bad = await verifyReceipt(forged, summary.publicDir, anchored);
    assert.equal(bad.included, false);
    assert.equal(bad.ok, false);
  });

  it("rejects a lying bundle (a public signal of a proof changed)", async () => {
    const dir = path.join(tmpDir("library-forged"), "public");
    cpSync(summary.publicDir, dir, { recursive: true });
    const file = path.join(dir, "bundle.json");
    const b = JSON.parse(readFileSync(file, "utf8"));
    const sig = b.proofs.segments[0].batches[0].publicSignals as string[];
    sig[1] = String(BigInt(sig[1] as string) + 1n); // the batch root the proof exposes
    writeFileSync(file, JSON.stringify(b));
    const report = await auditBundle(dir, anchored);
    assert.equal(report.ok, false);
    assert.ok(report.errors.length > 0);
  });

  it("exposes the build helpers under bulkhead/build", async () => {
    assert.equal(circuitSpec("segment", "test").id, "segment-test");
    const a = await ensureCircuit("segment", "test");
    assert.equal(a.work, "hit");
  });
});
