/**
 * Sharded receipt storage (src/receipts/store.ts) without proving: shard math, the layout written
 * by writeReceiptStore, lookup by lot id (any spelling) and account (through its index shard), the
 * owner-only modes, index lines flushed in pieces, and lookups that must fail.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { getAddress } from "ethers";
import type { AccountReceipt, LotReceipt, Receipt } from "../../src/receipts/receipts.js";
import {
  accountIndexFile,
  accountReceiptFile,
  findReceipt,
  listReceipts,
  lotKey,
  lotReceiptFile,
  parseLotId,
  RECEIPT_INDEX_FORMAT,
  type ReceiptIndex,
  ReceiptLookupError,
  readReceiptFor,
  SHARD_CHARS,
  shardOf,
  writeReceiptStore,
} from "../../src/receipts/store.js";
import { sha256Hex } from "../../src/util/hash.js";
import { tmpDir } from "../helpers/epoch.js";

const HEAD = { format: "bulkhead-receipt", version: 2, epoch: "9", manifestHash: "0xabc" } as const;

function lot(id: bigint): { file: string; receipt: Receipt } {
  const receipt = {
    ...HEAD,
    kind: "lot",
    lotId: lotKey(id),
    lotIdValue: String(id),
  } as unknown as LotReceipt;
  return { file: lotReceiptFile(id), receipt };
}
function account(name: string): { file: string; receipt: Receipt } {
  const receipt = {
    ...HEAD,
    kind: "account",
    account: name,
    accountId: "1",
    positions: [],
  } as AccountReceipt;
  return { file: accountReceiptFile(name, name), receipt };
}
const mode = (f: string) => statSync(f).mode & 0o777;

describe("receipt store: shard math", () => {
  it("a shard is the first SHARD_CHARS hex characters of sha256 of the key", () => {
    assert.equal(SHARD_CHARS, 2);
    assert.equal(shardOf("0x1"), sha256Hex("0x1").slice(0, 2));
    assert.equal(lotReceiptFile(1n), `lots/${sha256Hex("0x1").slice(0, 2)}/0x1.json`);
    assert.equal(lotReceiptFile(255n, 4), `lots/${sha256Hex("0xff").slice(0, 4)}/0xff.json`);
    assert.equal(accountIndexFile("alice"), `index/accounts/${sha256Hex("alice").slice(0, 2)}.jsonl`);
  });

  it("lot ids in any spelling name the same file; malformed ids are refused", () => {
    assert.equal(parseLotId("0x0A"), 10n);
    assert.equal(parseLotId("10"), 10n);
    assert.equal(lotReceiptFile(parseLotId("0x000a")), lotReceiptFile(10n));
    for (const bad of ["", "abc", "-1", "0", "1.5", "0x"])
      assert.throws(() => parseLotId(bad), ReceiptLookupError, bad);
  });

  it("100,000 ids spread over all 256 shards, none holding more than 1.25x its share", () => {
    const counts = new Map<string, number>();
    for (let i = 1n; i <= 100_000n; i++) {
      const s = shardOf(lotKey(i));
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    assert.equal(counts.size, 256);
    const share = 100_000 / 256;
    assert.ok(Math.max(...counts.values()) < 1.25 * share, String(Math.max(...counts.values())));
  });
});

describe("receipt store: write and look up", () => {
  let dir: string;
  const lots = Array.from({ length: 300 }, (_, i) => BigInt(i + 1) * 7919n);
  // the snapshot stores hex accounts in lower case (normalizeAccount); the last one is an address
  const address = "0x52908400098527886e0f7030069857d2e4169ee7";
  const accounts = [...Array.from({ length: 599 }, (_, i) => `acct-${i}`), address];
  before(async () => {
    dir = path.join(tmpDir("receipt-store"), "receipts");
    await fs.mkdir(dir, { mode: 0o700 });
    function* all() {
      for (const id of lots) yield lot(id);
      for (const a of accounts) yield account(a);
    }
    // a tiny flush threshold: index lines go out in many appends, as they do at 1M accounts
    const n = await writeReceiptStore(dir, all(), { epoch: "9", manifestHash: "0xabc" }, { flushBytes: 100 });
    assert.equal(n, 900);
  });

  it("index.json holds the head and counts, no per-receipt map", () => {
    const idx = JSON.parse(readFileSync(path.join(dir, "index.json"), "utf8")) as ReceiptIndex;
    assert.deepEqual(idx, {
      format: RECEIPT_INDEX_FORMAT,
      version: 2,
      epoch: "9",
      manifestHash: "0xabc",
      shardChars: 2,
      lots: 300,
      accounts: 600,
    });
  });

  it("every receipt is found by lot id (decimal and hex) and by account, and lies in its shard", async () => {
    for (const id of lots) {
      const hex = await findReceipt(dir, { lot: lotKey(id) });
      const dec = await findReceipt(dir, { lot: String(id) });
      assert.equal(hex.file, dec.file);
      assert.equal(path.basename(path.dirname(hex.file)), shardOf(lotKey(id)));
      assert.equal((await readReceiptFor(dir, { lot: id })).receipt.kind, "lot");
    }
    for (const a of accounts) {
      const f = await findReceipt(dir, { account: a });
      assert.equal(f.relative, `accounts/${shardOf(a)}/${a}.json`);
      assert.equal(f.epoch, "9");
    }
    // an address in its checksummed (or upper-case) spelling finds the same receipt
    const stored = await findReceipt(dir, { account: address });
    for (const spelling of [getAddress(address), `0X${address.slice(2).toUpperCase()}`])
      assert.equal((await findReceipt(dir, { account: spelling })).file, stored.file, spelling);
    let listed = 0;
    for await (const _ of listReceipts(dir)) listed++;
    assert.equal(listed, 900);
  });

  it("directories hold shards only; files 0600, directories 0700; each index line once", () => {
    const walk = (d: string): string[] =>
      readdirSync(d).flatMap((f) => {
        const p = path.join(d, f);
        return statSync(p).isDirectory() ? [p, ...walk(p)] : [p];
      });
    for (const f of walk(dir)) assert.equal(mode(f), statSync(f).isDirectory() ? 0o700 : 0o600, f);
    for (const kind of ["lots", "accounts"]) {
      for (const s of readdirSync(path.join(dir, kind))) assert.match(s, /^[0-9a-f]{2}$/);
    }
    const lines = readdirSync(path.join(dir, "index", "accounts")).flatMap((f) =>
      readFileSync(path.join(dir, "index", "accounts", f), "utf8")
        .trim()
        .split("\n"),
    );
    assert.equal(lines.length, 600);
    assert.equal(new Set(lines).size, 600);
  });

  it("unknown lots and accounts, and a missing directory, fail with ENORECEIPT naming them", async () => {
    await assert.rejects(findReceipt(dir, { lot: "0x5" }), (e: ReceiptLookupError) => {
      assert.equal(e.code, "ENORECEIPT");
      assert.match(e.message, /lot 0x5: no receipt in epoch 9/);
      return true;
    });
    await assert.rejects(findReceipt(dir, { account: "nobody" }), /account nobody: no receipt in epoch 9/);
    await assert.rejects(findReceipt(path.join(dir, "nope"), { lot: "1" }), /no receipts in .*nope/);
  });

  it("an index line pointing outside the receipts directory is refused", async () => {
    const a = "acct-1";
    const shard = path.join(dir, accountIndexFile(a));
    const orig = readFileSync(shard, "utf8");
    try {
      writeFileSync(shard, `${JSON.stringify({ account: a, file: "../../secret" })}\n`);
      await assert.rejects(findReceipt(dir, { account: a }), /unexpected receipt path/);
    } finally {
      writeFileSync(shard, orig);
    }
  });

  it("refuses an index of another format (one map of every receipt)", async () => {
    const old = path.join(tmpDir("receipt-store-v1"), "receipts");
    await fs.mkdir(path.join(old, "lots"), { recursive: true });
    writeFileSync(path.join(old, "lots", "0x1f.json"), "{}");
    writeFileSync(
      path.join(old, "index.json"),
      JSON.stringify({ epoch: "3", manifestHash: "0x1", lots: { "31": "lots/0x1f.json" }, accounts: {} }),
    );
    await assert.rejects(findReceipt(old, { lot: "0x1f" }), /unsupported receipt index/);
  });
});
