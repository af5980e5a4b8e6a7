/**
 * Building receipts (the prover's side): one per lot and one per account, from the built epoch, in
 * the sharded layout of store.ts. What a receipt holds and how a user checks it: receipts.ts.
 */
import type { EpochBuild } from "../epoch/plan.js";
import { formatDecimal } from "../spec/units.js";
import { sha256Hex } from "../util/hash.js";
import { accountReceiptFile, lotReceiptFile } from "./layout.js";
import {
  type AccountReceipt,
  RECEIPT_FORMAT,
  RECEIPT_VERSION,
  type Receipt,
  type ReceiptHead,
} from "./receipts.js";

const safeName = (s: string) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/.test(s);

/** Every receipt of an epoch, with a relative file name under DIR/private/receipts/ (store.ts). */
export function buildReceipts(build: EpochBuild): { file: string; receipt: Receipt }[] {
  return [...receiptsOf(build)];
}

/**
 * The receipts of an epoch one at a time (lots, then accounts), in the sharded layout of store.ts.
 * Beyond the epoch itself, holds one reference per liability (to group them by account) and one
 * entry per account: a lot receipt is built, yielded and dropped before the next.
 */
export function* receiptsOf(build: EpochBuild): Generator<{ file: string; receipt: Receipt }> {
  const head: ReceiptHead = {
    format: RECEIPT_FORMAT,
    version: RECEIPT_VERSION,
    epoch: String(build.snapshot.epoch),
    manifestHash: build.manifestHash,
  };
  const decimalsOf = new Map(build.snapshot.assets.map((a) => [a.symbol, a.decimals]));
  const units = (amount: bigint, asset: string) => formatDecimal(amount, decimalsOf.get(asset) ?? 0);
  // liabilities of each account, as (segment, placement) indices
  const byAccount = new Map<string, number[]>();
  for (const [s, sb] of build.segments.entries()) {
    const seg = { id: Number(sb.segment.id), name: sb.segment.name };
    for (const p of sb.lots) {
      const res = sb.batches[p.batch];
      if (!res) throw new Error("receipts: batch missing");
      yield {
        file: lotReceiptFile(p.lot.lotId),
        receipt: {
          ...head,
          kind: "lot",
          lotId: p.lot.lotIdText,
          lotIdValue: String(p.lot.lotId),
          position: {
            segment: seg,
            asset: p.lot.asset,
            slot: p.lot.slot,
            amount: units(p.lot.amount, p.lot.asset),
            amountUnits: String(p.lot.amount),
            salt: String(p.fields.salt),
            leaf: String(p.leaf),
            batch: p.batch,
            index: p.index,
            leaves: res.lotLeaves.map(String),
            size: build.profile.lotsPerBatch,
            liabCommit: String(res.liabCommit),
          },
        },
      };
    }
    for (const [i, p] of sb.liabilities.entries()) {
      const refs = byAccount.get(p.liability.account) ?? [];
      if (refs.length === 0) byAccount.set(p.liability.account, refs);
      refs.push(s, i);
    }
  }
  // file names: the account itself when it is a safe, case-insensitively unique name
  const lower = new Map<string, number>();
  for (const a of byAccount.keys()) lower.set(a.toLowerCase(), (lower.get(a.toLowerCase()) ?? 0) + 1);
  for (const [account, refs] of byAccount) {
    const name =
      safeName(account) && lower.get(account.toLowerCase()) === 1
        ? account
        : `account-${sha256Hex(account).slice(0, 16)}`;
    yield {
      file: accountReceiptFile(account, name),
      receipt: accountReceipt(build, head, account, refs, units),
    };
  }
}

function accountReceipt(
  build: EpochBuild,
  head: ReceiptHead,
  account: string,
  refs: readonly number[],
  units: (amount: bigint, asset: string) => string,
): AccountReceipt {
  const r: AccountReceipt = { ...head, kind: "account", account, accountId: "", positions: [] };
  for (let k = 0; k < refs.length; k += 2) {
    const sb = build.segments[refs[k] as number];
    const p = sb?.liabilities[refs[k + 1] as number];
    const res = p && sb.batches[p.batch];
    if (!sb || !p || !res) throw new Error("receipts: batch missing");
    r.accountId = String(p.liability.accountId);
    r.positions.push({
      segment: { id: Number(sb.segment.id), name: sb.segment.name },
      asset: p.liability.asset,
      slot: p.liability.slot,
      amount: units(p.liability.amount, p.liability.asset),
      amountUnits: String(p.liability.amount),
      salt: String(p.fields.salt),
      leaf: String(p.leaf),
      batch: p.batch,
      index: p.index,
      leaves: res.liabLeaves.map(String),
      size: build.profile.liabsPerBatch,
      lotCommit: String(res.lotCommit),
    });
  }
  return r;
}
