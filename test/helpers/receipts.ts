/**
 * Tests that pick receipts by lot id or account: every receipt of a (tiny) proved epoch, keyed the
 * way the snapshot spells it (lotId text, account), each path found through the library's lookup
 * (`findReceipt`), so a test that uses these maps also exercises the sharded layout's lookup.
 */
import { readFileSync } from "node:fs";
import type { Receipt } from "../../src/receipts/receipts.js";
import { findReceipt, listReceipts } from "../../src/receipts/store.js";

export interface ReceiptMaps {
  /** lotId as the snapshot spells it -> path relative to the receipts directory */
  lots: Record<string, string>;
  /** account -> path relative to the receipts directory */
  accounts: Record<string, string>;
}

export async function receiptMaps(receiptsDir: string): Promise<ReceiptMaps> {
  const maps: ReceiptMaps = { lots: {}, accounts: {} };
  for await (const { file } of listReceipts(receiptsDir)) {
    const r = JSON.parse(readFileSync(file, "utf8")) as Receipt;
    const q = r.kind === "lot" ? { lot: r.lotId } : { account: r.account };
    const found = await findReceipt(receiptsDir, q);
    if (found.file !== file) throw new Error(`lookup of ${file} found ${found.file}`);
    if (r.kind === "lot") maps.lots[r.lotId] = found.relative;
    else maps.accounts[r.account] = found.relative;
  }
  return maps;
}
