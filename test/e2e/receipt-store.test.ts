/**
 * Receipts of a proved epoch in the sharded layout (bounded memory): every lot and
 * account of the snapshot is reachable by lot id and by account, each file lies in its shard and no
 * directory holds anything but its share, modes are owner-only, and a receipt looked up by lot id
 * (library and `receipt find` / `receipt verify --out --lot`) verifies against anchored keys.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import type { AuditOptions } from "../../src/audit/audit.js";
import { verifyReceipt } from "../../src/audit/node.js";
import type { ProveSummary } from "../../src/pipeline.js";
import type { Receipt } from "../../src/receipts/receipts.js";
import { findReceipt, lotKey, type ReceiptIndex, shardOf } from "../../src/receipts/store.js";
import { runCli } from "../helpers/cli.js";
import { EXAMPLE, provenExample } from "../helpers/epoch.js";

const LOCAL: AuditOptions = { anchor: { kind: "local" }, allowDevKeys: true };
const snap = JSON.parse(readFileSync(EXAMPLE, "utf8")) as {
  collateral: { lotId: string }[];
  liabilities: { account: string }[];
};
const lotIds = snap.collateral.map((l) => l.lotId);
const accounts = [...new Set(snap.liabilities.map((l) => l.account))];
const read = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;
const mode = (f: string) => statSync(f).mode & 0o777;

describe("receipts: sharded layout of a proved epoch", () => {
  let s: ProveSummary;
  let receiptsDir: string;
  before(async function () {
    this.timeout(900_000);
    s = await provenExample();
    receiptsDir = path.join(s.privateDir, "receipts");
  });

  it("every lot and account is found by its id, in its shard, with its own receipt", async () => {
    for (const id of lotIds) {
      const f = await findReceipt(s.out, { lot: id });
      assert.equal(f.relative, `lots/${shardOf(lotKey(BigInt(id)))}/${lotKey(BigInt(id))}.json`);
      const r = read<Receipt>(f.file);
      assert.equal(r.kind === "lot" && r.lotId, id);
      assert.equal(f.manifestHash, s.manifestHash);
    }
    for (const a of accounts) {
      const f = await findReceipt(s.out, { account: a });
      assert.match(f.relative, new RegExp(`^accounts/${shardOf(a)}/`));
      const r = read<Receipt>(f.file);
      assert.equal(r.kind === "account" && r.account, a);
    }
    const idx = read<ReceiptIndex>(path.join(receiptsDir, "index.json"));
    assert.equal(idx.lots, lotIds.length);
    assert.equal(idx.accounts, accounts.length);
    assert.equal(idx.epoch, "7");
  });

  it("no directory holds more than its share: kinds hold shards, shards hold their own ids only", () => {
    assert.deepEqual(readdirSync(receiptsDir).sort(), ["accounts", "index", "index.json", "lots"]);
    let files = 0;
    for (const kind of ["lots", "accounts"]) {
      for (const shard of readdirSync(path.join(receiptsDir, kind))) {
        assert.match(shard, /^[0-9a-f]{2}$/);
        for (const f of readdirSync(path.join(receiptsDir, kind, shard))) {
          const r = read<Receipt>(path.join(receiptsDir, kind, shard, f));
          const key = r.kind === "lot" ? lotKey(BigInt(r.lotIdValue)) : r.account;
          assert.equal(shardOf(key), shard, `${kind}/${shard}/${f}`);
          files++;
        }
      }
    }
    assert.equal(files, lotIds.length + accounts.length);
  });

  it("owner-only: receipts and index files 0600, every directory 0700", () => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) => {
        const p = path.join(d, f);
        return statSync(p).isDirectory() ? [p, ...walk(p)] : [p];
      });
    assert.equal(mode(receiptsDir), 0o700);
    for (const f of walk(receiptsDir)) assert.equal(mode(f), statSync(f).isDirectory() ? 0o700 : 0o600, f);
  });

  it("a receipt looked up by lot id verifies against anchored keys; a forged copy does not", async () => {
    const { file } = await findReceipt(s.out, { lot: "0x9f3c0a11d2e4b7015c3a" });
    const v = await verifyReceipt(file, s.publicDir, LOCAL);
    assert.equal(v.ok, true, v.reasons.join("\n"));
    assert.match(v.verdict, /^VERIFIED: lot 0x9f3c0a11d2e4b7015c3a/);
    const forged = read<Receipt>(file);
    if (forged.kind === "lot") forged.position.amountUnits = "13000000000000000000";
    const bad = await verifyReceipt(forged, s.publicDir, LOCAL);
    assert.equal(bad.included, false);
  });

  it("CLI: receipt find prints the path (--json: with the receipt); unknown ids fail with ENORECEIPT", async function () {
    this.timeout(120_000);
    const acct = accounts[0] as string;
    const txt = await runCli(["receipt", "find", "--out", s.out, "--account", acct]);
    assert.equal(txt.code, 0, txt.stderr);
    assert.equal(txt.stdout.trim(), (await findReceipt(s.out, { account: acct })).file);
    const js = await runCli(["receipt", "path", "--out", s.out, "--lot", lotIds[1] as string, "--json"]);
    assert.equal(js.code, 0, js.stderr);
    const o = JSON.parse(js.stdout) as { ok: boolean; file: string; receipt: Receipt };
    assert.equal(o.ok, true);
    assert.equal(o.receipt.kind === "lot" && o.receipt.lotId, lotIds[1]);
    const none = await runCli(["receipt", "find", "--out", s.out, "--lot", "0x1234", "--json"]);
    assert.equal(none.code, 1);
    const err = JSON.parse(none.stdout) as { ok: boolean; code: string; error: string };
    assert.equal(err.code, "ENORECEIPT");
    assert.match(err.error, /lot 0x1234: no receipt in epoch 7/);
    const both = await runCli(["receipt", "find", "--out", s.out, "--lot", "1", "--account", acct, "--json"]);
    assert.equal(both.code, 1);
    assert.equal((JSON.parse(both.stdout) as { code: string }).code, "USAGE");
  });

  it("CLI: receipt verify --out --lot selects the receipt; a file and --out together are refused", async function () {
    this.timeout(300_000);
    const base = ["receipt", "verify", "--bundle", s.publicDir, "--local-keys", "--allow-dev-keys"];
    const ok = await runCli([...base, "--out", s.out, "--lot", "0x9f3c0a11d2e4b7015c3a"]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^VERIFIED: lot 0x9f3c0a11d2e4b7015c3a/);
    const insolvent = await runCli([
      ...base,
      "--out",
      s.out,
      "--account",
      "0xabc0000000000000000000000000000000000005",
    ]);
    assert.equal(insolvent.code, 2, insolvent.stdout + insolvent.stderr);
    const file = (await findReceipt(s.out, { lot: lotIds[0] as string })).file;
    const both = await runCli([...base, file, "--out", s.out, "--lot", "1", "--json"]);
    assert.equal(both.code, 1);
    assert.equal((JSON.parse(both.stdout) as { code: string }).code, "USAGE");
  });
});
