/**
 * Receipt storage on disk: sharded directories and a sharded index, so that an epoch of a million
 * positions is neither a million files in one directory nor one index object to parse whole.
 *
 * Layout of DIR/private/receipts/ (index format "bulkhead-receipt-index" version 2):
 *   index.json                       epoch, manifestHash, layout (shardChars), counts; no per-receipt map
 *   lots/<ss>/0x<lotId hex>.json     ss = first `shardChars` hex chars of sha256("0x<lotId hex>")
 *   accounts/<ss>/<name>.json        ss = the same of sha256(account); name = the account when it is
 *                                    a safe, case-insensitively unique file name, else account-<hash>
 *   index/accounts/<ss>.jsonl        one line {"account","file"} per account of shard ss
 *
 * A lot's file follows from its id alone (no index read). An account's file name depends on the
 * other accounts (case collisions), so it is looked up in its shard's index: one file of about
 * 1/256 of the accounts. With 256 shards, 1M lots put ~3,900 files in each lots/ shard.
 *
 * Writing keeps memory bounded by the shards, not the receipts: index lines are buffered per shard
 * and appended when a shard's buffer passes INDEX_FLUSH_BYTES (at most 256 x 64 KiB in memory).
 * Everything is created owner-only (files 0600, directories 0700) inside the caller's temporary
 * directory, which the caller renames into place as a whole.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { normalizeAccount } from "../spec/encoding.js";
import { writeNewFile } from "../util/fsutil.js";
import { accountIndexFile, lotReceiptFile, parseLotId, ReceiptLookupError, SHARD_CHARS } from "./layout.js";
import type { Receipt } from "./receipts.js";

/** the store's layout (file names, shards, lot keys), for callers of the store */
export * from "./layout.js";

export const RECEIPT_INDEX_FORMAT = "bulkhead-receipt-index";
export const RECEIPT_INDEX_VERSION = 2;
const INDEX_FLUSH_BYTES = 64 * 1024;
const OWN_FILE = 0o600;
const OWN_DIR = 0o700;

/** private/receipts/index.json */
export interface ReceiptIndex {
  format: typeof RECEIPT_INDEX_FORMAT;
  version: typeof RECEIPT_INDEX_VERSION;
  epoch: string;
  manifestHash: string;
  shardChars: number;
  lots: number;
  accounts: number;
}

/**
 * Writes receipts into `dir` (a fresh, owner-only temporary directory) in the sharded layout, then
 * index.json. Receipts come from an iterable, so the caller can produce them one at a time.
 * Returns the number of receipts written.
 */
export async function writeReceiptStore(
  dir: string,
  receipts: Iterable<{ file: string; receipt: Receipt }>,
  head: { epoch: string; manifestHash: string },
  opts: { flushBytes?: number } = {},
): Promise<number> {
  const made = new Set<string>();
  const mkdirOwn = async (d: string) => {
    if (made.has(d)) return;
    await fs.mkdir(path.join(dir, d), { recursive: true, mode: OWN_DIR });
    made.add(d);
  };
  const index = new ShardedLines(dir, mkdirOwn, opts.flushBytes ?? INDEX_FLUSH_BYTES);
  const counts = { lots: 0, accounts: 0 };
  for (const { file, receipt } of receipts) {
    await mkdirOwn(path.dirname(file));
    await writeNewFile(path.join(dir, file), `${JSON.stringify(receipt, null, 2)}\n`, { mode: OWN_FILE });
    if (receipt.kind === "lot") counts.lots++;
    else {
      counts.accounts++;
      await index.add(accountIndexFile(receipt.account), JSON.stringify({ account: receipt.account, file }));
    }
  }
  await index.flushAll();
  const idx: ReceiptIndex = {
    format: RECEIPT_INDEX_FORMAT,
    version: RECEIPT_INDEX_VERSION,
    epoch: head.epoch,
    manifestHash: head.manifestHash,
    shardChars: SHARD_CHARS,
    ...counts,
  };
  await writeNewFile(path.join(dir, "index.json"), `${JSON.stringify(idx, null, 2)}\n`, { mode: OWN_FILE });
  return counts.lots + counts.accounts;
}

/** Lines appended to many files, buffered per file up to `flushBytes` (INDEX_FLUSH_BYTES). */
class ShardedLines {
  private readonly buf = new Map<string, string[]>();
  private readonly size = new Map<string, number>();
  constructor(
    private readonly dir: string,
    private readonly mkdirOwn: (d: string) => Promise<void>,
    private readonly flushBytes: number,
  ) {}

  async add(file: string, line: string): Promise<void> {
    const lines = this.buf.get(file) ?? [];
    lines.push(line);
    this.buf.set(file, lines);
    const n = (this.size.get(file) ?? 0) + line.length + 1;
    this.size.set(file, n);
    if (n >= this.flushBytes) await this.flush(file);
  }

  async flushAll(): Promise<void> {
    for (const file of [...this.buf.keys()]) await this.flush(file);
  }

  private async flush(file: string): Promise<void> {
    const lines = this.buf.get(file);
    if (!lines || lines.length === 0) return;
    await this.mkdirOwn(path.dirname(file));
    await fs.appendFile(path.join(this.dir, file), `${lines.join("\n")}\n`, { mode: OWN_FILE });
    this.buf.set(file, []);
    this.size.set(file, 0);
  }
}

// ---------------------------------------------------------------- lookup

/** What to look up: one lot (by id, decimal or 0x-hex) or one account (by name). */
export type ReceiptQuery = { lot: string | bigint } | { account: string };

export interface FoundReceipt {
  /** absolute path of the receipt file */
  file: string;
  /** path relative to the receipts directory */
  relative: string;
  /** the receipts directory (DIR/private/receipts) */
  receiptsDir: string;
  epoch: string;
  manifestHash: string;
}

/** The receipts directory of `out`: DIR (prove's --out), DIR/private, or the receipts directory itself. */
export async function receiptsDirOf(out: string): Promise<string> {
  for (const d of [path.join(out, "private", "receipts"), path.join(out, "receipts"), out]) {
    try {
      await fs.access(path.join(d, "index.json"));
      return d;
    } catch {
      // try the next spelling
    }
  }
  throw new ReceiptLookupError(
    `no receipts in ${out}: expected ${path.join(out, "private", "receipts", "index.json")} (the --out directory of prove)`,
  );
}

/** index.json of a receipts directory. */
export async function readReceiptIndex(receiptsDir: string): Promise<ReceiptIndex> {
  const file = path.join(receiptsDir, "index.json");
  let idx: unknown;
  try {
    idx = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new ReceiptLookupError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const o = (idx ?? {}) as Record<string, unknown>;
  if (typeof o.epoch !== "string" || typeof o.manifestHash !== "string")
    throw new ReceiptLookupError(`${file}: not a receipt index (epoch and manifestHash missing)`);
  if (o.format === RECEIPT_INDEX_FORMAT && o.version === RECEIPT_INDEX_VERSION) {
    if (
      typeof o.shardChars !== "number" ||
      !Number.isInteger(o.shardChars) ||
      o.shardChars < 1 ||
      o.shardChars > 8
    )
      throw new ReceiptLookupError(`${file}: shardChars must be an integer in [1, 8]`);
    return o as unknown as ReceiptIndex;
  }
  throw new ReceiptLookupError(`${file}: unsupported receipt index (format ${String(o.format)})`);
}

/**
 * Where the receipt of one lot or account is, reading index.json and at most one index shard (never
 * every receipt). Throws ReceiptLookupError when the epoch has no such receipt.
 */
export async function findReceipt(out: string, q: ReceiptQuery): Promise<FoundReceipt> {
  const receiptsDir = await receiptsDirOf(out);
  const idx = await readReceiptIndex(receiptsDir);
  const relative = await relativeFileOf(receiptsDir, idx, q);
  if (!/^(lots|accounts)\/([0-9a-f]{1,8}\/)?[A-Za-z0-9_.-]+\.json$/.test(relative) || relative.includes(".."))
    throw new ReceiptLookupError(`${receiptsDir}: the index names an unexpected receipt path ${relative}`);
  const file = path.join(receiptsDir, relative);
  try {
    await fs.access(file);
  } catch {
    throw new ReceiptLookupError(`${whoOf(q)}: no receipt in epoch ${idx.epoch} (${file} does not exist)`);
  }
  return { file, relative, receiptsDir, epoch: idx.epoch, manifestHash: idx.manifestHash };
}

/** `findReceipt`, then the receipt itself, parsed. */
export async function readReceiptFor(
  out: string,
  q: ReceiptQuery,
): Promise<FoundReceipt & { receipt: Receipt }> {
  const found = await findReceipt(out, q);
  return { ...found, receipt: JSON.parse(await fs.readFile(found.file, "utf8")) as Receipt };
}

const whoOf = (q: ReceiptQuery) => ("lot" in q ? `lot ${String(q.lot)}` : `account ${q.account}`);

async function relativeFileOf(receiptsDir: string, idx: ReceiptIndex, q: ReceiptQuery): Promise<string> {
  const lotId = "lot" in q ? (typeof q.lot === "bigint" ? q.lot : parseLotId(q.lot)) : undefined;
  if (lotId !== undefined) return lotReceiptFile(lotId, idx.shardChars);
  // the snapshot stores one spelling per account (a checksummed address finds its receipt)
  const account = normalizeAccount((q as { account: string }).account);
  const shard = path.join(receiptsDir, accountIndexFile(account, idx.shardChars));
  const text = await fs.readFile(shard, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    if (!line) continue;
    const e = JSON.parse(line) as { account: string; file: string };
    if (e.account === account) return e.file;
  }
  throw new ReceiptLookupError(`${whoOf(q)}: no receipt in epoch ${idx.epoch}`);
}

/**
 * Every receipt file of a receipts directory, shard by shard (one directory listing in memory at a
 * time): for tools that go over all receipts, such as handing them out.
 */
export async function* listReceipts(
  receiptsDir: string,
): AsyncGenerator<{ kind: "lot" | "account"; relative: string; file: string }> {
  for (const [kind, sub] of [
    ["lot", "lots"],
    ["account", "accounts"],
  ] as const) {
    const shards = (await fs.readdir(path.join(receiptsDir, sub), { withFileTypes: true }).catch(() => []))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    for (const shard of shards) {
      for (const name of (await fs.readdir(path.join(receiptsDir, sub, shard))).sort()) {
        if (!name.endsWith(".json")) continue;
        const relative = `${sub}/${shard}/${name}`;
        yield { kind, relative, file: path.join(receiptsDir, relative) };
      }
    }
  }
}
