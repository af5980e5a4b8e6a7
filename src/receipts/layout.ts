/**
 * Where receipts lie in the sharded layout (see store.ts): pure path arithmetic, free of Node file
 * APIs, so that receipts.ts (which the browser page bundles) can name files without store.ts.
 */
import { sha256Hex } from "../util/hash.js";

/** hex characters of sha256 naming a shard: 2 = 256 shards per kind */
export const SHARD_CHARS = 2;

/** A receipt lookup that found nothing, or an unreadable receipts directory (code ENORECEIPT). */
export class ReceiptLookupError extends Error {
  readonly code = "ENORECEIPT";
  constructor(message: string) {
    super(message);
    this.name = "ReceiptLookupError";
  }
}

/** The shard of a key: the first `chars` hex characters of its sha256. */
export function shardOf(key: string, chars = SHARD_CHARS): string {
  return sha256Hex(key).slice(0, chars);
}

/** "0x<hex>": the one spelling of a lot id on disk, whatever spelling the snapshot used. */
export function lotKey(lotId: bigint): string {
  return `0x${lotId.toString(16)}`;
}

/** A lot id as given by a user (decimal or 0x-hex); throws naming the value otherwise. */
export function parseLotId(text: string): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(t))
    throw new ReceiptLookupError(`--lot: "${text}" is not a lot id (decimal or 0x-hex integer)`);
  const v = BigInt(t);
  if (v < 1n) throw new ReceiptLookupError(`--lot: lot id must be at least 1, got ${text}`);
  return v;
}

/** lots/<ss>/0x<hex>.json, relative to the receipts directory. */
export function lotReceiptFile(lotId: bigint, chars = SHARD_CHARS): string {
  const key = lotKey(lotId);
  return `lots/${shardOf(key, chars)}/${key}.json`;
}

/** accounts/<ss>/<name>.json, relative to the receipts directory. */
export function accountReceiptFile(account: string, name: string, chars = SHARD_CHARS): string {
  return `accounts/${shardOf(account, chars)}/${name}.json`;
}

/** index/accounts/<ss>.jsonl, relative to the receipts directory. */
export function accountIndexFile(account: string, chars = SHARD_CHARS): string {
  return `index/accounts/${shardOf(account, chars)}.jsonl`;
}
