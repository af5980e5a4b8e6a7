/**
 * `bulkhead audit DIR --html FILE` opened in Chromium from disk: one self-contained file (no request
 * but the file itself) that shows the key anchor, the development-key finding, every segment, and
 * the failure reasons for a tampered bundle, for development keys not allowed, and for no anchor.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { copyPublic, provenExample, REPO, tmpDir } from "../helpers/epoch.js";
import { launchChromium, requireChromium, SCREENSHOTS } from "./chromium.js";

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(REPO, "bin", "bulkhead.mjs"), ...args], { encoding: "utf8" });

describe("browser: HTML audit report", function () {
  this.timeout(600_000);
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let segments: { id: number; name: string }[];
  before(async function () {
    requireChromium(this);
    const s = await provenExample();
    segments = JSON.parse(readFileSync(s.bundleFile, "utf8")).manifest.segments;
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  async function open(file: string, shot: string) {
    const page = await browser.context.newPage();
    const from = browser.requests.length;
    await page.goto(pathToFileURL(file).href);
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the user reads
    const text = await page.locator("body").innerText();
    const rows = await page
      .locator("table.segments tbody tr")
      .evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.segment));
    const bars = await page.locator("svg rect").count();
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    await page.close();
    const requests = browser.requests.slice(from).map((r) => r.url);
    assert.deepEqual(requests, [pathToFileURL(file).href], "the report loads nothing but itself");
    return { text, rows, bars };
  }

  it("a valid epoch: metadata, anchor, dev keys, key hashes, every segment in the table and the chart", async () => {
    const s = await provenExample();
    const file = path.join(tmpDir("report"), "report.html");
    const r = cli("audit", s.publicDir, "--html", file, "--quiet", "--local-keys", "--allow-dev-keys");
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const html = readFileSync(file, "utf8");
    assert.doesNotMatch(html, /<script|<link|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "self-contained");
    const bundle = JSON.parse(readFileSync(s.bundleFile, "utf8"));
    const o = await open(file, "audit-1-passed");
    assert.match(o.text, /AUDIT PASSED/);
    assert.match(o.text, /insolvent segment: 3/);
    assert.match(o.text, /^NOT TRUSTWORTHY: development keys \(from the [^)]*development ptau/m);
    assert.match(o.text, /passed only because development keys were explicitly allowed/);
    assert.match(o.text, /keys anchored to\s+keys built by this checkout from the circuits/);
    assert.match(o.text, /development keys\s+YES: from the/);
    assert.ok(o.text.includes(bundle.vkeys.segment.sha256) && o.text.includes(bundle.vkeys.lotlist.sha256));
    assert.deepEqual(o.rows, [...segments.map((x) => String(x.id)), "lotlist"]);
    for (const seg of segments) assert.ok(o.text.includes(seg.name), seg.name);
    assert.equal(o.bars, segments.length + 1);
    // stress scenarios, coverage bands and custody per segment; healthy now but failing a scenario
    assert.match(
      o.text,
      /crypto -30% \(WBTC -30%\): FAIL\s+stablecoins -5% \(USDC -5%\): pass\s+healthy now, fails under stress/,
    );
    assert.match(o.text, /150-200%/);
    assert.match(o.text, /110-150%/);
    assert.match(o.text, /ETH ≤ 20\s+USDC ≤ 50000/);
    assert.match(o.text, /healthy now but failing a stress scenario: segment 2/);
  });

  it("a tampered bundle: the report says FAILED and why, and the CLI exits 1", async () => {
    const dir = await copyPublic("report-bad");
    const bundle = JSON.parse(readFileSync(path.join(dir, "bundle.json"), "utf8"));
    bundle.manifest.segments[1].batchRoots[0] = "12345";
    writeFileSync(path.join(dir, "bundle.json"), JSON.stringify(bundle));
    const file = path.join(tmpDir("report-bad"), "report.html");
    const r = cli("audit", dir, "--html", file, "--quiet", "--local-keys", "--allow-dev-keys");
    assert.equal(r.status, 1, r.stderr + r.stdout);
    assert.ok(existsSync(file));
    const o = await open(file, "audit-2-failed");
    assert.match(o.text, /AUDIT FAILED/);
    assert.match(o.text, /Why the audit failed/);
    assert.match(o.text, /manifestHash: recomputed/);
    assert.deepEqual(o.rows, [...segments.map((x) => String(x.id)), "lotlist"]);
  });

  it("development keys not allowed: FAILED, NOT TRUSTWORTHY first; no anchor: refused, and says how", async () => {
    const s = await provenExample();
    const file = path.join(tmpDir("report-dev"), "report.html");
    const r = cli("audit", s.publicDir, "--html", file, "--quiet", "--local-keys");
    assert.equal(r.status, 1, r.stderr + r.stdout);
    const o = await open(file, "audit-3-dev-keys");
    assert.match(o.text, /^NOT TRUSTWORTHY: development keys/m);
    assert.doesNotMatch(o.text, /AUDIT PASSED/);
    assert.match(o.text, /AUDIT FAILED \(1 problem\)/);
    assert.match(o.text, /vkeys: NOT TRUSTWORTHY: development keys/);
    assert.deepEqual(o.rows, [...segments.map((x) => String(x.id)), "lotlist"]);
    const none = path.join(tmpDir("report-none"), "report.html");
    const n = cli("audit", s.publicDir, "--html", none, "--quiet");
    assert.equal(n.status, 1, n.stderr + n.stdout);
    const p = await open(none, "audit-4-no-anchor");
    // nothing was checked: the refusal alone, no table of results
    assert.match(p.text, /NOT AUDITED: no trusted verification keys/);
    assert.match(p.text, /refusing to verify: no trusted verification keys/);
    assert.doesNotMatch(p.text, /AUDIT PASSED|AUDIT FAILED|fingerprints|proofs verified/);
  });
});
