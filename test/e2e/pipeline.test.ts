/** The prove pipeline end to end (test profile): bundle, private/public separation, reuse, resume. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle, parseBundle } from "../../src/bundle/bundle.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import type { AccountReceipt, LotReceipt, Receipt } from "../../src/receipts/receipts.js";
import { EXAMPLE, provenExample, REPO, SECRET_HEX, secretFile, tmpDir } from "../helpers/epoch.js";

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

function receiptsOf(privateDir: string): Receipt[] {
  return walk(path.join(privateDir, "receipts"))
    .filter((f) => f.endsWith(".json") && !f.endsWith("index.json"))
    .map((f) => JSON.parse(readFileSync(f, "utf8")) as Receipt);
}

describe("pipeline: prove the example epoch", () => {
  let s: ProveSummary;
  let bundle: Bundle;
  before(async function () {
    this.timeout(900_000);
    s = await provenExample();
    bundle = parseBundle(JSON.parse(readFileSync(s.bundleFile, "utf8")));
  });

  it("writes a versioned bundle with manifest, proofs, vkeys and the dev-setup flag", () => {
    assert.equal(bundle.format, BUNDLE_FORMAT);
    assert.equal(bundle.version, BUNDLE_VERSION);
    assert.equal(bundle.epoch, "7");
    assert.equal(bundle.profile.name, "test");
    assert.equal(bundle.manifestHash, s.manifestHash);
    assert.equal(typeof bundle.devSetup, "boolean");
    if (bundle.devSetup) assert.match(bundle.warning ?? "", /INSECURE/);
    assert.deepEqual(
      bundle.manifest.segments.map((x) => [x.id, x.batchRoots.length, x.assets.map((a) => a.symbol)]),
      [
        [1, 2, ["ETH", "USDC"]],
        [2, 1, ["USDC", "WBTC"]],
        [3, 1, ["ETH", "DAI"]],
        [4, 1, ["ETH"]],
      ],
    );
    assert.equal(bundle.proofs.lotList.length, 2);
    for (const c of ["segment", "lotlist"] as const) {
      assert.ok(existsSync(path.join(s.publicDir, bundle.vkeys[c].file)));
    }
  });

  it("summarises: batches, health (one insolvent segment), the empty segment (dummy entries only)", () => {
    assert.deepEqual(
      s.segments.map((x) => [x.id, x.batches, x.healthy, x.empty]),
      [
        [1, 2, true, false],
        [2, 1, true, false],
        [3, 1, false, false],
        [4, 1, true, true],
      ],
    );
    assert.equal(s.proofs.total, 7);
    assert.ok(s.notes.some((n) => /segment 4 .* is empty/.test(n)));
  });

  it("summarises stress scenarios, coverage bands and custody caps: segment 2 is healthy now but fails a scenario", () => {
    assert.deepEqual(
      s.segments.map((x) => [
        x.id,
        x.bandLabel,
        x.stress.map((k) => `${k.name}:${k.healthy ? "pass" : "FAIL"}`),
      ]),
      [
        [1, "150-200%", ["crypto -30%:pass", "stablecoins -5%:pass"]],
        [2, "110-150%", ["crypto -30%:FAIL", "stablecoins -5%:pass"]],
        [3, "<100%", ["ETH -50%:FAIL"]],
        [4, ">=200%", ["crypto -30%:pass", "stablecoins -5%:pass"]],
      ],
    );
    assert.deepEqual(s.segments[0]?.custody, [
      { asset: "ETH", cap: "20" },
      { asset: "USDC", cap: "50000" },
    ]);
    assert.deepEqual(s.segments[2]?.custody, [
      { asset: "ETH", cap: null },
      { asset: "DAI", cap: null },
    ]);
    // the bundle carries names and labels for display; the factors are in the committed stress words
    assert.deepEqual(bundle.bandLabels, ["<100%", "100-110%", "110-150%", "150-200%", ">=200%"]);
    assert.deepEqual(
      bundle.manifest.segments.map((x) => x.scenarios),
      [
        ["crypto -30%", "stablecoins -5%"],
        ["crypto -30%", "stablecoins -5%"],
        ["ETH -50%"],
        ["crypto -30%", "stablecoins -5%"],
      ],
    );
    assert.deepEqual(
      bundle.manifest.globalAssets.map((a) => [a.symbol, a.token]),
      [
        ["ETH", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"],
        ["USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"],
        ["WBTC", "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"],
        ["DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F"],
      ],
    );
  });

  it("writes one receipt per lot and per account, and per-segment totals", () => {
    const receipts = receiptsOf(s.privateDir);
    assert.equal(receipts.filter((r) => r.kind === "lot").length, 9);
    const accounts = receipts.filter((r): r is AccountReceipt => r.kind === "account");
    assert.equal(accounts.length, 6);
    const multi = accounts.find((a) => a.account === "0xabc0000000000000000000000000000000000001");
    assert.deepEqual(
      multi?.positions.map((p) => p.segment.id),
      [1, 2],
    );
    const totals = JSON.parse(readFileSync(path.join(s.privateDir, "totals.json"), "utf8"));
    assert.deepEqual(
      totals.segments.map((x: { healthy: boolean }) => x.healthy),
      [true, true, false, true],
    );
    assert.equal(totals.segments[0].assets.ETH.collateral, "16.391592653589793238");
  });

  it("puts nothing private under public/ (salts, leaves, amounts, lot ids, accounts, totals, secret)", () => {
    const receipts = receiptsOf(s.privateDir);
    const secrets = new Set<string>([SECRET_HEX]);
    const tokens = new Set<string>();
    for (const r of receipts) {
      if (r.kind === "lot") {
        const l = r as LotReceipt;
        for (const v of [l.lotId, l.lotIdValue, `0x${BigInt(l.lotIdValue).toString(16)}`])
          tokens.add(v.toLowerCase());
        for (const v of [l.position.salt, l.position.leaf, l.position.liabCommit, ...l.position.leaves])
          secrets.add(v);
        tokens.add(l.position.amountUnits);
        tokens.add(l.position.amount);
      } else {
        secrets.add(r.account.toLowerCase());
        secrets.add(r.accountId);
        for (const p of r.positions) {
          for (const v of [p.salt, p.leaf, p.lotCommit, ...p.leaves]) secrets.add(v);
          tokens.add(p.amountUnits);
          tokens.add(p.amount);
        }
      }
    }
    const totals = JSON.parse(readFileSync(path.join(s.privateDir, "totals.json"), "utf8"));
    for (const seg of totals.segments) {
      for (const k of ["collateralValue", "requiredValue", "liabilityValue", "coverage"]) {
        if (seg[k] && seg[k] !== "0") tokens.add(String(seg[k]));
      }
      for (const a of Object.values(seg.assets) as { collateral: string; liabilities: string }[]) {
        for (const v of [a.collateral, a.liabilities]) if (v !== "0") tokens.add(v);
      }
    }
    const files = walk(s.publicDir);
    assert.ok(files.length >= 3);
    for (const f of files) {
      const text = readFileSync(f, "utf8").toLowerCase();
      // long values: no substring anywhere
      for (const v of secrets) {
        if (v.length >= 12)
          assert.ok(!text.includes(v), `${path.relative(s.out, f)} contains private value ${v}`);
      }
      // short values: not as a JSON token
      const found = new Set(text.match(/"[^"]*"|-?\d+(\.\d+)?/g)?.map((t) => t.replace(/^"|"$/g, "")) ?? []);
      for (const v of tokens)
        assert.ok(!found.has(v.toLowerCase()), `${path.relative(s.out, f)} contains private value ${v}`);
    }
    // and the public dir holds only the bundle and the vkeys
    assert.deepEqual(files.map((f) => path.relative(s.publicDir, f)).sort(), [
      "bundle.json",
      "vkeys/lotlist.json",
      "vkeys/segment.json",
    ]);
  });

  it("a re-run reuses every finished proof and reproduces identical files", async function () {
    this.timeout(300_000);
    const before = readFileSync(s.bundleFile, "utf8");
    const receiptsBefore = JSON.stringify(receiptsOf(s.privateDir));
    const again = await proveSnapshot({
      snapshot: EXAMPLE,
      out: s.out,
      profile: "test",
      secretFile: secretFile(),
    });
    assert.deepEqual(again.proofs, { total: 7, reused: 7, proven: 0 });
    assert.equal(readFileSync(s.bundleFile, "utf8"), before);
    assert.equal(JSON.stringify(receiptsOf(s.privateDir)), receiptsBefore);
  });

  it("a re-run proves again a job whose work file holds a proof that does not verify", async function () {
    this.timeout(300_000);
    const out = path.join(tmpDir("forged-work"), "out"); // a copy: the example's output stays as it is
    cpSync(s.out, out, { recursive: true });
    const work = path.join(out, "private", "work");
    const files = readdirSync(work).filter((f) => /^[0-9a-f]{64}\.json$/.test(f));
    assert.equal(files.length, 7);
    const forged = path.join(work, files[3] as string);
    const wf = JSON.parse(readFileSync(forged, "utf8"));
    // on the curve (the generator) but not this job's A: only the pairing check catches it
    wf.proof.pi_a = ["1", "2", "1"];
    writeFileSync(forged, JSON.stringify(wf));
    const again = await proveSnapshot({ snapshot: EXAMPLE, out, profile: "test", secretFile: secretFile() });
    assert.deepEqual(again.proofs, { total: 7, reused: 6, proven: 1 });
    const redone = JSON.parse(readFileSync(forged, "utf8"));
    assert.equal(redone.job, wf.job);
    assert.notDeepEqual(redone.proof.pi_a, ["1", "2", "1"]);
  });
});

describe("pipeline: resume after a killed run", () => {
  it("keeps every finished proof of a killed run and proves only the rest", async function () {
    this.timeout(900_000);
    await provenExample(); // artifacts are built
    const dir = tmpDir("resume");
    const snap = path.join(dir, "small.json");
    const raw = JSON.parse(readFileSync(EXAMPLE, "utf8"));
    raw.segments = raw.segments.slice(0, 1);
    raw.collateral = raw.collateral.filter((c: { segment: number }) => c.segment === 1);
    raw.liabilities = raw.liabilities.filter((c: { segment: number }) => c.segment === 1);
    writeFileSync(snap, JSON.stringify(raw));
    const out = path.join(dir, "out");
    const work = path.join(out, "private", "work");
    const args = [
      "prove",
      "--snapshot",
      snap,
      "--out",
      out,
      "--profile",
      "test",
      "--secret",
      secretFile(),
      "-w",
      "1",
    ];
    const child = spawn(process.execPath, [path.join(REPO, "bin", "bulkhead.mjs"), ...args], {
      cwd: REPO,
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let killed = false;
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const n = existsSync(work) ? readdirSync(work).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length : 0;
      if (n >= 1) {
        child.kill("SIGKILL");
        killed = true;
        break;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await exited;
    assert.ok(killed, "the child run finished or failed before it could be killed");
    assert.equal(existsSync(path.join(out, "public", "bundle.json")), false, "no bundle from a killed run");
    const kept = readdirSync(work).filter((f) => /^[0-9a-f]{64}\.json$/.test(f)).length;
    const s = await proveSnapshot({ snapshot: snap, out, profile: "test", secretFile: secretFile() });
    assert.equal(s.proofs.total, 3);
    assert.equal(s.proofs.reused, kept);
    assert.equal(s.proofs.proven, 3 - kept);
    assert.ok(kept >= 1 && kept < 3);
    assert.ok(existsSync(path.join(out, "public", "bundle.json")));
    // no temporary leftovers in the final directories
    assert.deepEqual(
      walk(path.join(out, "public")).filter((f) => path.basename(f).startsWith(".bulkhead-tmp")),
      [],
    );
  });
});

describe("pipeline: pooled custody (examples/snapshot-pooled.json)", () => {
  it("proves with the pooled caps in every lot-list batch; the audit reports them", async function () {
    this.timeout(900_000);
    await provenExample(); // artifacts are built
    const s = await proveSnapshot({
      snapshot: path.join(REPO, "examples", "snapshot-pooled.json"),
      out: path.join(tmpDir("pooled"), "out"),
      profile: "test",
      secretFile: secretFile(),
    }); // self-audited (anchored to this run's keys)
    const b = parseBundle(JSON.parse(readFileSync(s.bundleFile, "utf8")));
    assert.deepEqual(
      b.manifest.globalAssets.map((a) => [a.symbol, a.poolCap]),
      [
        ["ETH", String(25n * 10n ** 18n)],
        ["USDC", String(100000n * 10n ** 6n)],
        ["WBTC", String(2n * 10n ** 8n)],
        ["DAI", String(50000n * 10n ** 18n)],
      ],
    );
    // every lot-list proof exposes the packed caps as its last public inputs
    for (const p of b.proofs.lotList) assert.deepEqual(p.publicSignals.slice(-2), b.manifest.poolCaps);
    const { auditBundle } = await import("../../src/audit/node.js");
    const rep = await auditBundle(s.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
    assert.equal(rep.ok, true, rep.errors.join("\n"));
    assert.deepEqual(
      rep.pooledCustody.map((c) => `${c.asset} <= ${c.cap}`),
      ["ETH <= 25", "USDC <= 100000", "WBTC <= 2", "DAI <= 50000"],
    );
    assert.ok(rep.segments.every((x) => x.custody.every((c) => c.cap === null)));
  });
});
