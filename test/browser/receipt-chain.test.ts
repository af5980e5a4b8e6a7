/**
 * The receipt page's chain mode in Chromium: the example epoch published to a local anvil; the page
 * reads the registry through ethers (JSON-RPC from the browser) and runs the library's on-chain
 * receipt check: inclusion, the slot's committed asset and amount, and development verifiers
 * (recognised from their code; accepted only by a page built with --allow-dev-keys, and shown).
 * Every request is recorded: only JSON-RPC reads that carry nothing from the receipt.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Page } from "playwright-core";
import { deployRegistry } from "../../src/chain/deploy.js";
import { publishEpoch } from "../../src/chain/publish.js";
import { chainEpochFromBundle, registryAt } from "../../src/chain/registry.js";
import { type Server, startServer } from "../../src/cli/serve.js";
import type { LotReceipt } from "../../src/receipts/receipts.js";
import { getProfile } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { compileRegistryWith } from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { buildWeb } from "../../web/build.js";
import { type AnvilNode, type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { provenExample, tmpDir } from "../helpers/epoch.js";
import { type ReceiptMaps, receiptMaps } from "../helpers/receipts.js";
import { launchChromium, requireChromium, SCREENSHOTS, secretsOf } from "./chromium.js";

const read = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;

describe("browser: receipt page against the chain", function () {
  this.timeout(900_000);
  let chain: LocalChain | undefined;
  let node: AnvilNode | undefined;
  let server: Server;
  let strict: Server;
  let registry: string;
  let receipts: string;
  let index: ReceiptMaps;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  before(async function () {
    requireChromium(this);
    const s = await provenExample();
    receipts = path.join(s.privateDir, "receipts");
    index = await receiptMaps(receipts);
    chain = await startLocalChain();
    node = chain.node;
    const admin = chain.admin;
    const seg = await ensureCircuit("segment", "test");
    const list = await ensureCircuit("lotlist", "test");
    const compiled = await compileRegistryWith({ segment: seg.zkey, lotlist: list.zkey });
    const pick = (n: string) => compiled[n] ?? assert.fail(`${n} not compiled`);
    const d = await deployRegistry(
      admin,
      {
        segmentVerifier: pick("SegmentVerifier"),
        listVerifier: pick("LotListVerifier"),
        registry: pick("SolvencyRegistry"),
        profile: "test",
      },
      { profile: getProfile("test") },
    );
    registry = d.registry;
    await publishEpoch(registryAt(registry, admin), chainEpochFromBundle(read(s.bundleFile)));
    await terminateCurves();
    const webDir = (await buildWeb({ outDir: path.join(tmpDir("web-chain"), "web"), allowDevKeys: true }))
      .outDir;
    server = await startServer({ webDir });
    const strictDir = (await buildWeb({ outDir: path.join(tmpDir("web-chain-strict"), "web") })).outDir;
    strict = await startServer({ webDir: strictDir });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await strict?.close();
    await chain?.stop();
  });

  async function check(receiptFile: string, shot: string, on: Server = server) {
    const page: Page = await browser.context.newPage();
    const from = browser.requests.length;
    await page.goto(on.url);
    await page.setInputFiles("#receipt-file", receiptFile);
    await page.fill("#rpc-url", node?.url ?? "");
    await page.fill("#registry", registry);
    await page.click("#check");
    await page.waitForFunction(() => {
      const s = document.getElementById("result")?.dataset.state;
      return s !== undefined && s !== "running";
    });
    const state = (await page.locator("#result").getAttribute("data-state")) as string;
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the user reads
    const text = await page.locator("#result").innerText();
    await page.screenshot({ path: path.join(SCREENSHOTS, `${shot}.png`), fullPage: true });
    await page.close();
    const requests = browser.requests.slice(from);
    const secrets = secretsOf(read(receiptFile));
    const rpc = new URL(node?.url ?? "");
    let reads = 0;
    for (const r of requests) {
      const u = new URL(r.url);
      if (u.origin === new URL(on.url).origin) {
        assert.ok(["/", "/app.js"].includes(u.pathname), `unexpected page request ${r.url}`);
        continue;
      }
      assert.equal(u.host, rpc.host, `request to another host: ${r.url}`);
      if (r.method === "OPTIONS") continue; // CORS preflight, no body
      assert.equal(r.method, "POST", r.url);
      const body = JSON.parse(r.postData ?? "null") as { method: string; params: unknown[] };
      // eth_getCode: the registry's verifiers' code, to recognise development keys; eth_getLogs: the
      // commit's logs (batch roots, asset table), by epoch only, never by segment
      assert.ok(
        ["eth_chainId", "eth_call", "eth_getCode", "eth_getLogs"].includes(body.method),
        `JSON-RPC ${body.method}`,
      );
      if (body.method === "eth_getLogs") {
        const f = body.params[0] as { address: string; topics: unknown[] };
        assert.equal(f.address.toLowerCase(), registry.toLowerCase());
        assert.ok(f.topics.length <= 2, `a log query names more than the event and the epoch: ${r.postData}`);
      }
      const all = `${r.postData}\n${JSON.stringify(r.headers)}`;
      for (const sec of secrets)
        assert.ok(!all.includes(sec), `JSON-RPC request carries receipt data ${sec}`);
      reads++;
    }
    assert.ok(reads > 0, "the page read the chain");
    return { state, text };
  }

  it("a valid receipt shows VERIFIED ON CHAIN; the node is asked nothing about the receipt", async () => {
    const r = await check(
      path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string),
      "chain-1-verified",
    );
    assert.equal(r.state, "verified", r.text);
    assert.match(r.text, /^VERIFIED ON CHAIN/);
    assert.match(r.text, /Segment 1 health\s+healthy/);
    assert.match(r.text, /the latest finalized epoch/);
    assert.match(r.text, /counted as \d[\d.]* \w+ \(slot \d+: \d+ base units\)/);
    // development verifiers: accepted by this page's build, and said loudly
    assert.match(r.text, /NOT TRUSTWORTHY: development keys\. The registry's verifiers were made from the/);
    assert.match(r.text, /Development keys\s+YES: the registry's verifiers hold keys made from the/);
  });

  it("a page built without --allow-dev-keys shows NOT TRUSTWORTHY for development verifiers", async () => {
    const r = await check(
      path.join(receipts, index.lots["0x9f3c0a11d2e4b7015c3a"] as string),
      "chain-4-dev-keys-refused",
      strict,
    );
    assert.equal(r.state, "untrusted", r.text);
    assert.match(r.text, /^NOT TRUSTWORTHY: development keys/);
    assert.doesNotMatch(r.text, /^VERIFIED/m);
    assert.match(r.text, /This page does not accept development keys/);
  });

  it("an insolvent segment shows the warning; an edited receipt is NOT INCLUDED", async () => {
    const insolvent = path.join(
      receipts,
      index.accounts["0xabc0000000000000000000000000000000000005"] as string,
    );
    const r = await check(insolvent, "chain-2-insolvent");
    assert.equal(r.state, "unhealthy", r.text);
    assert.match(r.text, /Segment 3 health\s+INSOLVENT/);
    const lot = path.join(receipts, index.lots["0x2c9d48b1e07a36f5d4a9"] as string);
    const edited = read<LotReceipt>(lot);
    edited.position.amount = "12.5"; // a consistent edit: the leaf no longer matches
    edited.position.amountUnits = "1250000000";
    const file = path.join(tmpDir("chain-edited"), "edited.json");
    writeFileSync(file, JSON.stringify(edited));
    const e = await check(file, "chain-3-not-included");
    assert.equal(e.state, "not-included", e.text);
    assert.match(e.text, /the leaf does not match the receipt's fields/);
    // the stated amount alone changed: not what the leaf counts in the slot's committed asset
    const misstated = read<LotReceipt>(lot);
    misstated.position.amount = "999";
    const file2 = path.join(tmpDir("chain-misstated"), "misstated.json");
    writeFileSync(file2, JSON.stringify(misstated));
    const m = await check(file2, "chain-5-misstated-amount");
    assert.equal(m.state, "not-included", m.text);
    assert.match(m.text, /amount 999 \w+ is not what the leaf counts \(\d[\d.]* \w+\)/);
    assert.match(m.text, /counted as /);
  });
});
