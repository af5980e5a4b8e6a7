/**
 * The receipt page in a real Chromium, against the example epoch (test profile, development keys)
 * proven once: verified (page built with --allow-dev-keys: VERIFIED under the dev-key banner), edited
 * (not included), insolvent segment, tampered bundle, swapped key; a page built without
 * --allow-dev-keys (NOT TRUSTWORTHY) and one built without any key anchor (refuses; UNANCHORED only
 * when the user ticks the bundle's keys); and a record of every request the page makes (none may
 * carry anything from the receipt).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Page } from "playwright-core";
import { type Server, startServer } from "../../src/cli/serve.js";
import type { LotReceipt } from "../../src/receipts/receipts.js";
import { buildWeb } from "../../web/build.js";
import { copyPublic, provenExample, tmpDir } from "../helpers/epoch.js";
import { type ReceiptMaps, receiptMaps } from "../helpers/receipts.js";
import { launchChromium, type Recorded, requireChromium, SCREENSHOTS, secretsOf } from "./chromium.js";

const read = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;

describe("browser: receipt page", function () {
  this.timeout(900_000);
  let webDir: string;
  let strictWebDir: string;
  let bareWebDir: string;
  let receipts: string;
  let index: ReceiptMaps;
  let good: Server;
  let tampered: Server;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const timings: number[] = [];

  before(async function () {
    requireChromium(this);
    const s = await provenExample();
    receipts = path.join(s.privateDir, "receipts");
    index = await receiptMaps(receipts);
    // the demo's page: local keys, development keys allowed (and shown)
    webDir = (await buildWeb({ outDir: path.join(tmpDir("web"), "web"), allowDevKeys: true })).outDir;
    // the same keys, development keys refused (build:web without --allow-dev-keys)
    strictWebDir = (await buildWeb({ outDir: path.join(tmpDir("web-strict"), "web") })).outDir;
    // no key anchor at all: a build directory without keys, nothing pinned
    bareWebDir = (
      await buildWeb({
        outDir: path.join(tmpDir("web-bare"), "web"),
        buildDir: tmpDir("no-keys"),
        allowDevKeys: true,
      })
    ).outDir;
    good = await startServer({ webDir, bundleDir: s.publicDir });
    const bad = await copyPublic("tampered");
    const bundle = read<{ proofs: { segments: { batches: { proof: { pi_a: string[] } }[] }[] } }>(
      path.join(bad, "bundle.json"),
    );
    const proof = bundle.proofs.segments[0]?.batches[0]?.proof as { pi_a: string[] };
    proof.pi_a = [...(proof as unknown as { pi_c: string[] }).pi_c]; // a valid point, the wrong one
    writeFileSync(path.join(bad, "bundle.json"), JSON.stringify(bundle));
    tampered = await startServer({ webDir, bundleDir: bad });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await good?.close();
    await tampered?.close();
    if (timings.length)
      console.log(
        `    receipt check in Chromium: ${timings.map((t) => `${(t / 1000).toFixed(1)} s`).join(", ")}`,
      );
  });

  /** Opens the page on `server`, gives it `receiptFile`, runs the check; returns state and text. */
  async function check(
    server: Server,
    receiptFile: string,
    shot: string,
    bundleFiles?: string[],
    trustBundleKeys = false,
  ) {
    const page: Page = await browser.context.newPage();
    const from = browser.requests.length;
    page.on("pageerror", (e) => console.log(`    page error: ${e.message}`));
    await page.goto(bundleFiles ? server.url : server.pageUrl);
    await page.setInputFiles("#receipt-file", receiptFile);
    if (bundleFiles) await page.setInputFiles("#bundle-files", bundleFiles);
    if (trustBundleKeys) await page.check("#trust-bundle-keys");
    await page.waitForSelector("#receipt-status code");
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      const el = document.getElementById("progress-text") as HTMLElement;
      new MutationObserver(() => seen.push(el.textContent ?? "")).observe(el, { childList: true });
    });
    await page.click("#check");
    const result = page.locator("#result");
    await page.waitForFunction(
      () => {
        const s = document.getElementById("result")?.dataset.state;
        return s !== undefined && s !== "running";
      },
      undefined,
      { timeout: 600_000 },
    );
    const state = (await result.getAttribute("data-state")) as string;
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the user reads
    const text = await result.innerText();
    // a refusal verifies nothing: its time is not a verification time
    const ms =
      state === "refused"
        ? null
        : await page
            .locator("#check-time")
            .getAttribute("data-ms")
            .catch(() => null);
    if (ms) timings.push(Number(ms));
    const progress = await page.evaluate(
      () => (window as unknown as { progressSeen: string[] }).progressSeen,
    );
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    await page.close();
    return { state, text, progress, requests: browser.requests.slice(from) };
  }

  /** Only the page itself and the bundle's three files; nothing carries the receipt. */
  function assertPrivate(requests: Recorded[], server: Server, receiptFile: string, bundleFetched = true) {
    const secrets = secretsOf(read(receiptFile));
    assert.ok(secrets.length > 3, "the receipt has identifying values to look for");
    const allowed = new Set([
      "/",
      "/app.js",
      "/bundle/bundle.json",
      "/bundle/vkeys/segment.json",
      "/bundle/vkeys/lotlist.json",
    ]);
    const fetched = new Set<string>();
    for (const r of requests) {
      if (r.url.startsWith("blob:") || r.url.startsWith("data:")) continue; // snarkjs's in-page workers
      const u = new URL(r.url);
      assert.equal(u.origin, new URL(server.url).origin, `request to another origin: ${r.url}`);
      assert.ok(allowed.has(u.pathname), `unexpected request ${r.method} ${r.url}`);
      assert.equal(r.method, "GET", r.url);
      assert.equal(r.postData, null, r.url);
      const all = `${r.url}\n${JSON.stringify(r.headers)}`;
      for (const s of secrets) assert.ok(!all.includes(s), `request ${r.url} carries receipt data ${s}`);
      fetched.add(u.pathname);
    }
    for (const p of ["/bundle/bundle.json", "/bundle/vkeys/segment.json", "/bundle/vkeys/lotlist.json"])
      assert.equal(fetched.has(p), bundleFetched, `the page fetched ${p}: ${!bundleFetched}`);
  }

  it("a valid receipt shows VERIFIED, and no request carries receipt data", async () => {
    const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const r = await check(good, file, "1-verified");
    assert.equal(r.state, "verified", r.text);
    assert.match(r.text, /^VERIFIED/);
    assert.match(r.text, /Segment 1 \(ETH\/USDC isolated\) health\s+healthy/);
    assert.match(r.text, /Segment 1 proofs\s+all \d+ valid/);
    assert.match(
      r.text,
      /Segment 1 stress scenarios\s+crypto -30% \(ETH -30%\): pass, stablecoins -5% \(USDC -5%\): pass/,
    );
    assert.match(r.text, /Segment 1 coverage band\s+150-200%/);
    assert.match(r.text, /Segment 1 custody\s+ETH ≤ 20, USDC ≤ 50000/);
    assert.match(r.text, /Lot list proofs\s+all \d+ valid/);
    // VERIFIED only because the page accepts development keys, and it says so loudly
    assert.match(
      r.text,
      /NOT TRUSTWORTHY: development keys\. The epoch's verification keys were made from the [^.]*development ptau/,
    );
    assert.match(r.text, /This page accepts development keys/);
    assert.match(r.text, /Development keys\s+YES: made from the/);
    assert.match(r.text, /counted as \d[\d.]* \w+ \(slot \d+: \d+ base units\)/);
    assert.match(r.text, /segment: your build's key \(segment-test\)/);
    // progress while the proofs verify (batch verification settles a circuit's proofs at once):
    // counts that rise, ending at the total
    const counts = r.progress
      .filter((t) => /^verifying zero-knowledge proofs: \d+ of 7$/.test(t))
      .map((t) => Number(/(\d+) of/.exec(t)?.[1]));
    assert.ok(counts.length > 0 && counts.at(-1) === 7, r.progress.join(" | "));
    assert.ok(
      counts.every((c, i) => i === 0 || c > (counts[i - 1] as number)),
      r.progress.join(" | "),
    );
    assertPrivate(r.requests, good, file);
  });

  it("an edited receipt shows NOT INCLUDED with the reason", async () => {
    const orig = read<LotReceipt>(path.join(receipts, index.lots["0x2c9d48b1e07a36f5d4a9"] as string));
    orig.position.amount = "12.5";
    orig.position.amountUnits = "1250000000";
    const file = path.join(tmpDir("edited"), "edited-receipt.json");
    writeFileSync(file, JSON.stringify(orig));
    const r = await check(good, file, "2-not-included");
    assert.equal(r.state, "not-included", r.text);
    assert.match(r.text, /^NOT INCLUDED/);
    assert.match(r.text, /the leaf does not match the receipt's fields/);
    assertPrivate(r.requests, good, file);
  });

  it("a segment healthy now but failing a stress scenario says so", async () => {
    const file = path.join(receipts, index.accounts["0xabc0000000000000000000000000000000000004"] as string);
    const r = await check(good, file, "2b-stress-fail");
    assert.equal(r.state, "verified", r.text);
    assert.match(
      r.text,
      /Segment 2 stress scenarios\s+crypto -30% \(WBTC -30%\): FAIL, stablecoins -5% \(USDC -5%\): pass/,
    );
    assert.match(r.text, /healthy now, but NOT under every stress scenario/);
    assert.match(r.text, /Segment 2 coverage band\s+110-150%/);
    assert.match(r.text, /Segment 2 custody\s+USDC: not bounded, WBTC ≤ 2/);
    assertPrivate(r.requests, good, file);
  });

  it("a receipt in the insolvent segment shows the warning", async () => {
    const file = path.join(receipts, index.accounts["0xabc0000000000000000000000000000000000005"] as string);
    const r = await check(good, file, "3-insolvent");
    assert.equal(r.state, "unhealthy", r.text);
    assert.match(r.text, /INCLUDED, BUT YOUR SEGMENT IS INSOLVENT/);
    assert.match(r.text, /Segment 3 \(DAI leveraged vault\) health\s+INSOLVENT/);
    assertPrivate(r.requests, good, file);
  });

  it("a tampered bundle shows the failure", async () => {
    const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const r = await check(tampered, file, "4-tampered-bundle");
    assert.equal(r.state, "failed", r.text);
    assert.match(r.text, /NOT VERIFIED: the epoch's proofs fail/);
    assert.match(r.text, /segment 1 batch 0: proof does not verify/);
    assertPrivate(r.requests, tampered, file);
  });

  it("the bundle given as files: VERIFIED, and the page requests nothing but itself", async () => {
    const s = await provenExample();
    const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const files = ["bundle.json", "vkeys/segment.json", "vkeys/lotlist.json"].map((f) =>
      path.join(s.publicDir, f),
    );
    const r = await check(good, file, "5-bundle-files", files);
    assert.equal(r.state, "verified", r.text);
    assert.match(r.text, /Bundle from\s+files you picked/);
    assertPrivate(r.requests, good, file, false);
  });

  it("bundle.json without its vkeys files: says which files to add, and no verdict", async () => {
    const s = await provenExample();
    const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const r = await check(good, file, "5b-missing-vkeys", [path.join(s.publicDir, "bundle.json")]);
    assert.equal(r.state, "missing-files", r.text);
    assert.match(r.text, /^FILES MISSING: NOTHING WAS CHECKED/);
    assert.match(
      r.text,
      /add these files of the bundle's folder, next to bundle\.json: vkeys\/\w+\.json, vkeys\/\w+\.json/,
    );
    assert.doesNotMatch(r.text, /VERIFIED|INCLUDED|Development keys|collateral|fingerprints|proofs/i);
  });

  it("a receipt of another epoch says WRONG EPOCH, a bundle file given as a receipt NOT A RECEIPT; nothing else", async () => {
    const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const receipt = read<{ epoch: string }>(file);
    const later = path.join(tmpDir("receipt-later"), "receipt.json");
    writeFileSync(later, JSON.stringify({ ...receipt, epoch: String(Number(receipt.epoch) + 1) }));
    const w = await check(good, later, "5c-wrong-epoch");
    assert.equal(w.state, "wrong-epoch", w.text);
    assert.match(w.text, /^WRONG EPOCH/);
    assert.match(w.text, /the receipt is for epoch 8, the bundle is epoch 7/);
    assert.doesNotMatch(w.text, /healthy|INSOLVENT|NOT INCLUDED|Development keys/i);
    const s = await provenExample();
    const n = await check(good, path.join(s.publicDir, "bundle.json"), "5d-not-a-receipt");
    assert.equal(n.state, "not-a-receipt", n.text);
    assert.match(n.text, /^NOT A RECEIPT/);
    assert.doesNotMatch(n.text, /is not in epoch|healthy/i);
  });

  it("a self-consistent bundle with a swapped verification key is rejected by the page's key anchor", async () => {
    const dir = await copyPublic("swapped-key");
    const vkFile = path.join(dir, "vkeys", "segment.json");
    const vk = read<{ IC: string[][] }>(vkFile);
    vk.IC.reverse(); // another key, same shape
    const text = JSON.stringify(vk);
    writeFileSync(vkFile, text);
    const bundle = read<{ vkeys: { segment: { sha256: string } } }>(path.join(dir, "bundle.json"));
    bundle.vkeys.segment.sha256 = createHash("sha256").update(text).digest("hex");
    writeFileSync(path.join(dir, "bundle.json"), JSON.stringify(bundle));
    const server = await startServer({ webDir, bundleDir: dir });
    try {
      const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
      const r = await check(server, file, "6-swapped-key");
      assert.equal(r.state, "failed", r.text);
      assert.match(r.text, /vkeys\.segment: sha256 [0-9a-f]{64} is not the trusted key [0-9a-f]{64}/);
      assert.doesNotMatch(r.text, /^VERIFIED/);
      assertPrivate(r.requests, server, file);
    } finally {
      await server.close();
    }
  });

  it("a page built without --allow-dev-keys shows NOT TRUSTWORTHY for the development-key bundle", async () => {
    const s = await provenExample();
    const server = await startServer({ webDir: strictWebDir, bundleDir: s.publicDir });
    try {
      const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
      const r = await check(server, file, "7-dev-keys-refused");
      assert.equal(r.state, "untrusted", r.text);
      assert.match(r.text, /^NOT TRUSTWORTHY: development keys/);
      assert.doesNotMatch(r.text, /^VERIFIED/m);
      assert.match(r.text, /This page does not accept development keys/);
      assert.match(r.text, /audit: vkeys: NOT TRUSTWORTHY: development keys/);
      assertPrivate(r.requests, server, file);
    } finally {
      await server.close();
    }
  });

  it("a page built without a key anchor refuses; ticking the bundle's keys gives UNANCHORED, never VERIFIED", async () => {
    const s = await provenExample();
    const server = await startServer({ webDir: bareWebDir, bundleDir: s.publicDir });
    try {
      const file = path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
      const r = await check(server, file, "8-no-anchor-refused");
      assert.equal(r.state, "refused", r.text);
      assert.match(r.text, /^NOT VERIFIED: NO TRUSTED KEYS IN THIS PAGE/);
      assert.doesNotMatch(r.text, /^VERIFIED/m);
      assert.match(r.text, /refusing to verify: no trusted verification keys/); // the library's refusal
      // the page talks to its user, who runs no CLI: no commands, no flags
      assert.match(r.text, /hosted by someone you trust/);
      assert.doesNotMatch(r.text, /npm run|npx |--vkey-hash|--allow-dev-keys|--local-keys|--build-dir/);
      assert.match(r.text, /segment: NO TRUSTED KEY in this page/);
      assert.match(r.text, /Development keys\s+not checked/);
      assertPrivate(r.requests, server, file);
      const u = await check(server, file, "9-unanchored", undefined, true);
      assert.equal(u.state, "unanchored", u.text);
      assert.match(u.text, /^UNANCHORED: consistent with the bundle's own keys only/);
      assert.match(u.text, /\[UNANCHORED: bundle keys trusted on the publisher's word\]/);
      assert.match(u.text, /NOT TRUSTWORTHY: development keys/);
      assert.doesNotMatch(u.text, /^VERIFIED/m);
      assertPrivate(u.requests, server, file);
    } finally {
      await server.close();
    }
  });
});
