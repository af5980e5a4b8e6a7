/** User receipts: inclusion + epoch verification, included and not-included cases, CLI verdicts. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { AuditOptions } from "../../src/audit/audit.js";
import { verifyReceipt } from "../../src/audit/node.js";
import { formatReceiptVerdict } from "../../src/audit/receipt.js";
import type { Bundle } from "../../src/bundle/bundle.js";
import { buildEpoch } from "../../src/epoch/plan.js";
import { parseSecret } from "../../src/epoch/salts.js";
import { buildReceipts } from "../../src/receipts/build.js";
import { type AccountReceipt, checkReceiptInclusion, type LotReceipt } from "../../src/receipts/receipts.js";
import { loadSnapshot } from "../../src/snapshot/snapshot.js";
import { initPoseidon, lotLeaf } from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { copyPublic, EXAMPLE, provenExample, REPO, tmpDir } from "../helpers/epoch.js";
import { type ReceiptMaps, receiptMaps } from "../helpers/receipts.js";

const read = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;
/** The example's keys are development keys built by this checkout: anchor to them, allow them. */
const LOCAL: AuditOptions = { anchor: { kind: "local" }, allowDevKeys: true };

describe("receipts", () => {
  let publicDir: string;
  let receiptsDir: string;
  let index: ReceiptMaps;
  before(async function () {
    this.timeout(900_000);
    const s = await provenExample();
    publicDir = s.publicDir;
    receiptsDir = path.join(s.privateDir, "receipts");
    index = await receiptMaps(receiptsDir);
    await initPoseidon();
  });
  const lotFile = (id: string) => path.join(receiptsDir, index.lots[id] as string);
  const accountFile = (a: string) => path.join(receiptsDir, index.accounts[a] as string);

  it("a lot in a healthy segment: included, verified, healthy", async () => {
    const v = await verifyReceipt(lotFile("0x9f3c0a11d2e4b7015c3a"), publicDir, LOCAL);
    assert.equal(v.ok, true, v.reasons.join("\n"));
    assert.equal(v.included, true);
    assert.equal(v.verified, true);
    assert.equal(v.healthy, true);
    assert.match(
      v.verdict,
      /^VERIFIED: lot 0x9f3c0a11d2e4b7015c3a is included in epoch 7, segment 1 healthy/,
    );
    const r = read<LotReceipt>(lotFile("0x9f3c0a11d2e4b7015c3a"));
    assert.equal(r.position.amount, "12.5");
    assert.equal(r.position.amountUnits, "12500000000000000000");
    // the whole lot side of its batch (4 lots: the test profile's N) and the liability commitment
    assert.equal(r.position.size, 4);
    assert.equal(r.position.leaves.length, 4);
    assert.equal(r.position.leaves[r.position.index], r.position.leaf);
    assert.match(r.position.liabCommit, /^\d+$/);
  });

  it("reports the segment's stress scenarios and coverage band; healthy now but failing a scenario", async () => {
    const v = await verifyReceipt(
      accountFile("0xabc0000000000000000000000000000000000004"),
      publicDir,
      LOCAL,
    );
    assert.equal(v.ok, true, v.reasons.join("\n"));
    assert.equal(v.healthy, true);
    const p = v.positions[0];
    assert.deepEqual(
      [p?.segment, p?.band, p?.stress],
      [
        2,
        "110-150%",
        [
          { name: "crypto -30%", healthy: false },
          { name: "stablecoins -5%", healthy: true },
        ],
      ],
    );
    assert.match(v.verdict, /segment 2 healthy now but FAILS a stress scenario/);
    assert.match(
      formatReceiptVerdict(v),
      /stress: crypto -30% FAIL, stablecoins -5% pass, coverage 110-150%/,
    );
  });

  it("an account with positions in two segments (second batch of segment 1 too)", async () => {
    const v = await verifyReceipt(
      accountFile("0xabc0000000000000000000000000000000000001"),
      publicDir,
      LOCAL,
    );
    assert.equal(v.ok, true, v.reasons.join("\n"));
    assert.deepEqual(
      v.positions.map((p) => [p.segment, p.included, p.healthy]),
      [
        [1, true, true],
        [2, true, true],
      ],
    );
    const lot = await verifyReceipt(lotFile("0x7e2a91c03bd45f6e1f20"), publicDir, LOCAL);
    assert.equal(lot.ok, true);
    assert.equal(lot.positions[0]?.batch, 1);
  });

  it("a receipt listing the same position twice is not included: a position is counted once", async () => {
    const orig = read<AccountReceipt>(accountFile("0xabc0000000000000000000000000000000000001"));
    const { bundle } = await import("../../src/bundle/disk.js").then((m) => m.readBundle(publicDir));
    assert.equal((await checkReceiptInclusion(orig, bundle)).included, true);
    const twice = structuredClone(orig);
    twice.positions = [orig.positions[0] as AccountReceipt["positions"][number], ...orig.positions];
    const inc = await checkReceiptInclusion(twice, bundle);
    assert.equal(inc.included, false);
    assert.ok(
      inc.reasons.some((x) =>
        /position 2 repeats position 1 \(segment 1, batch \d+\): a position is counted once/.test(x),
      ),
      inc.reasons.join("; "),
    );
    const file = path.join(tmpDir("receipt-twice"), "receipt.json");
    writeFileSync(file, JSON.stringify(twice));
    const v = await verifyReceipt(file, publicDir, LOCAL);
    assert.equal(v.ok, false);
    assert.doesNotMatch(v.verdict, /^VERIFIED/);
  });

  it("a bundle without scenario names: the committed scenarios are still reported, unnamed", async () => {
    const { bundle } = await import("../../src/bundle/disk.js").then((m) => m.readBundle(publicDir));
    const nameless: Bundle = structuredClone(bundle);
    for (const seg of nameless.manifest.segments) seg.scenarios = [];
    const r = read<AccountReceipt>(accountFile("0xabc0000000000000000000000000000000000004"));
    const inc = await checkReceiptInclusion(r, nameless);
    assert.equal(inc.included, true, inc.reasons.join("; "));
    assert.deepEqual(inc.positions[0]?.stress, [
      { name: "unnamed", healthy: false },
      { name: "unnamed", healthy: true },
    ]);
  });

  it("a position in the insolvent segment: included and verified, but flagged unhealthy", async () => {
    const v = await verifyReceipt(
      accountFile("0xabc0000000000000000000000000000000000005"),
      publicDir,
      LOCAL,
    );
    assert.equal(v.ok, true);
    assert.equal(v.healthy, false);
    assert.match(v.verdict, /^INCLUDED, but segment 3 is UNHEALTHY/);
  });

  it("not included: edited amount, edited amount with a matching leaf, wrong asset, wrong batch", async () => {
    const orig = read<LotReceipt>(lotFile("0x2c9d48b1e07a36f5d4a9"));
    const variants: [string, (r: LotReceipt) => void, RegExp][] = [
      [
        "amount",
        (r) => {
          r.position.amount = "12.5";
          r.position.amountUnits = "1250000000";
        },
        /leaf does not match/,
      ],
      [
        "amount+leaf",
        (r) => {
          r.position.amount = "12.5";
          r.position.amountUnits = "1250000000";
          r.position.leaf = forgedLeaf(r);
        },
        /the leaf is not in the batch's lot list at index 0/,
      ],
      [
        "amount+leaf+list",
        (r) => {
          r.position.amount = "12.5";
          r.position.amountUnits = "1250000000";
          r.position.leaf = forgedLeaf(r);
          r.position.leaves[r.position.index] = r.position.leaf;
        },
        /not included: the leaves do not lead to batch 0's root of segment 2/,
      ],
      [
        "leaf missing from the batch",
        (r) => {
          r.position.leaves.splice(r.position.index, 1, "12345");
        },
        /the leaf is not in the batch's lot list at index 0/,
      ],
      [
        "leaf dropped from the list",
        (r) => {
          r.position.leaves.splice(r.position.index, 1);
        },
        /bad leaf index|not in the batch's lot list|do not lead to/,
      ],
      [
        "other side's commitment",
        (r) => {
          r.position.liabCommit = "1";
        },
        /not included: the leaves do not lead to batch 0's root of segment 2/,
      ],
      [
        "batch size",
        (r) => {
          r.position.size = 8;
        },
        /batch size 8 is not the profile's 4/,
      ],
      [
        "asset",
        (r) => {
          r.position.asset = "USDC";
        },
        /slot 1 of segment 2 is WBTC, not USDC/,
      ],
      [
        "batch",
        (r) => {
          r.position.batch = 1;
        },
        /batch 1 is not a batch of segment 2/,
      ],
    ];
    const forgedLeaf = (r: LotReceipt): string =>
      String(
        lotLeaf({
          lotId: BigInt(r.lotIdValue),
          segmentId: 2n,
          slot: BigInt(r.position.slot),
          amount: BigInt(r.position.amountUnits),
          salt: BigInt(r.position.salt),
        }),
      );
    const { bundle } = await import("../../src/bundle/disk.js").then((m) => m.readBundle(publicDir));
    assert.equal((await checkReceiptInclusion(orig, bundle)).included, true);
    for (const [name, edit, why] of variants) {
      const r = structuredClone(orig);
      edit(r);
      const inc = await checkReceiptInclusion(r, bundle);
      assert.equal(inc.included, false, name);
      assert.ok(
        inc.reasons.some((x) => why.test(x)),
        `${name}: ${inc.reasons.join("; ")}`,
      );
    }
  });

  it("not included: a receipt whose shown identity is not the one its leaf binds", async () => {
    const { bundle } = await import("../../src/bundle/disk.js").then((m) => m.readBundle(publicDir));
    const lot = read<LotReceipt>(lotFile("0x9f3c0a11d2e4b7015c3a"));
    lot.lotId = "0x9f3c0a11d2e4b7015c3b"; // displayed id of someone else's lot
    const a = await checkReceiptInclusion(lot, bundle);
    assert.equal(a.included, false);
    assert.ok(a.reasons.includes("lotId and lotIdValue disagree"), a.reasons.join("; "));
    const acct = read<AccountReceipt>(accountFile("0xabc0000000000000000000000000000000000001"));
    acct.account = "0xabc0000000000000000000000000000000000002";
    const b = await checkReceiptInclusion(acct, bundle);
    assert.equal(b.included, false);
    assert.ok(b.reasons.includes("accountId does not match the account"), b.reasons.join("; "));
  });

  it("not included: a receipt of another run (other secret) of the same snapshot", async () => {
    const profile = getProfile("test");
    const snap = await loadSnapshot(EXAMPLE, { profile });
    const other = await buildEpoch(snap, profile, parseSecret(Buffer.from("77".repeat(32))));
    const r = buildReceipts(other).find((x) => x.receipt.kind === "lot")?.receipt;
    const { bundle } = await import("../../src/bundle/disk.js").then((m) => m.readBundle(publicDir));
    const inc = await checkReceiptInclusion(r, bundle);
    assert.equal(inc.included, false);
    assert.ok(inc.reasons.some((x) => /manifest hash differs/.test(x)));
  });

  it("included but not verified when the bundle's proofs are broken", async () => {
    const dir = await copyPublic("receipt-broken");
    const file = path.join(dir, "bundle.json");
    const b = read<Bundle>(file);
    const p = b.proofs.lotList[0]?.proof;
    if (p)
      p.pi_c[1] = `${(p.pi_c[1] as string).slice(0, -1)}${(Number((p.pi_c[1] as string).at(-1)) + 1) % 10}`;
    writeFileSync(file, JSON.stringify(b));
    const v = await verifyReceipt(lotFile("0x9f3c0a11d2e4b7015c3a"), dir, LOCAL);
    assert.equal(v.included, true);
    assert.equal(v.verified, false);
    assert.equal(v.ok, false);
    assert.match(v.verdict, /^NOT VERIFIED/);
  });

  it("CLI: exit 0 verified, 2 unhealthy segment, 1 not included", async function () {
    this.timeout(120_000);
    const cli = (file: string) =>
      spawnSync(
        process.execPath,
        [
          path.join(REPO, "bin", "bulkhead.mjs"),
          "receipt",
          "verify",
          file,
          "--bundle",
          publicDir,
          "--local-keys",
          "--allow-dev-keys",
        ],
        { encoding: "utf8", cwd: REPO },
      );
    const ok = cli(lotFile("0x9f3c0a11d2e4b7015c3a"));
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^VERIFIED/);
    const unhealthy = cli(accountFile("0xabc0000000000000000000000000000000000006"));
    assert.equal(unhealthy.status, 2, unhealthy.stderr);
    assert.match(unhealthy.stdout, /UNHEALTHY/);
    const forged = read<AccountReceipt>(accountFile("0xabc0000000000000000000000000000000000002"));
    const pos = forged.positions[0];
    if (pos) {
      pos.amount = "1";
      pos.amountUnits = "1000000";
    }
    const f = path.join(tmpDir("forged"), "forged.json");
    writeFileSync(f, JSON.stringify(forged));
    const bad = cli(f);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /^NOT INCLUDED/);
  });
});
