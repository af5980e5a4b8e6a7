/**
 * User receipts: what a user needs to check, offline and without revealing anything to anyone,
 * that their position was counted in the right segment of a published epoch.
 *
 *  - lot receipt (one per collateral lot): lot fields, salt, leaf, segment, batch, index, every
 *    lot leaf of its batch (`leaves`, unpadded; `size` = N) and the batch's liability commitment,
 *    so that H2(sponge(leaves padded with 0 to size), liabCommit) must equal the manifest's
 *    batchRoot;
 *  - account receipt (one per account): every liability of the account, each with the same data
 *    (every liability leaf of its batch, size = M, and lotCommit as the other half of the root).
 *
 * `verifyReceipt` recomputes the leaf from the fields, finds it at its index in the list,
 * recomputes the sponge and the batch root, compares it with the bundle's manifest, checks that
 * the leaf's slot is the asset the segment publishes (symbol, and the stated amount in that
 * asset's committed decimals equals the leaf's base units), and then runs the full offline audit
 * of the epoch (every proof, chaining, fingerprints) against anchored keys (audit/anchor.ts),
 * reporting the segment's health, its stress scenarios and its coverage band. Other users' leaves
 * in the list are salted hashes: they reveal nothing about those positions.
 */
import * as fs from "node:fs/promises";
import { NO_ANCHOR_MESSAGE, UNANCHORED_WARNING } from "../audit/anchor.js";
import { type AuditOptions, type AuditReport, anchorOf, auditBundle } from "../audit/audit.js";
import { type Bundle, type BundleSegment, readBundle } from "../bundle/bundle.js";
import type { EpochBuild } from "../epoch/plan.js";
import {
  accountIdOf,
  batchRoot,
  COVERAGE_BANDS,
  decodeResult,
  FIELD_P,
  initPoseidon,
  liabilityLeaf,
  lotLeaf,
  segmentSignal,
  sideCommitment,
} from "../spec/encoding.js";
import { formatDecimal, parseDecimal } from "../spec/units.js";
import { sha256Hex } from "../util/hash.js";
import { accountReceiptFile, lotReceiptFile } from "./layout.js";

export const RECEIPT_FORMAT = "bulkhead-receipt";
/** 2: circuits v2 (H3 leaves; the batch side's leaves and the other side's commitment, no Merkle path). */
export const RECEIPT_VERSION = 2;
/** Largest batch side a receipt may state (the circuits allow at most 1024 entries per side). */
export const MAX_SIDE = 1024;

interface ReceiptHead {
  format: typeof RECEIPT_FORMAT;
  version: typeof RECEIPT_VERSION;
  epoch: string;
  manifestHash: string;
}
export interface ReceiptPosition {
  segment: { id: number; name: string };
  asset: string;
  slot: number;
  /** whole tokens (decimal string) */
  amount: string;
  /** smallest unit (integer string): the value in the leaf */
  amountUnits: string;
  salt: string;
  leaf: string;
  batch: number;
  /** the leaf's index in its batch side */
  index: number;
  /** every leaf of the position's batch side, in order, without the padding zeros */
  leaves: string[];
  /** the side's size (N lots or M liabilities): leaves are padded with 0 to it */
  size: number;
}
export interface LotReceipt extends ReceiptHead {
  kind: "lot";
  lotId: string;
  /** lotId as a decimal integer (the value in the leaf) */
  lotIdValue: string;
  /** liabCommit: the batch's liability-side commitment */
  position: ReceiptPosition & { liabCommit: string };
}
export interface AccountReceipt extends ReceiptHead {
  kind: "account";
  account: string;
  accountId: string;
  /** lotCommit: the batch's lot-side commitment */
  positions: (ReceiptPosition & { lotCommit: string })[];
}
export type Receipt = LotReceipt | AccountReceipt;

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

// ---------------------------------------------------------------- verification

export interface PositionCheck {
  segment: number;
  asset: string;
  amount: string;
  /** the amount as the epoch counts it: the leaf's base units in the slot's committed asset */
  counted?: string;
  batch: number;
  included: boolean;
  /** segment health from the bundle (null when the segment is unknown) */
  healthy: boolean | null;
  /** the segment's named stress scenarios with their proven bits (null when unknown) */
  stress: { name: string; healthy: boolean }[] | null;
  /** the segment's proven coverage band label (null when unknown) */
  band: string | null;
  reason?: string;
}
export interface ReceiptVerdict {
  /** included, and the epoch audit passed */
  ok: boolean;
  included: boolean;
  /** the full epoch audit passed */
  verified: boolean;
  /** every segment the receipt touches is healthy */
  healthy: boolean;
  kind: Receipt["kind"] | "unknown";
  subject: string;
  epoch: string;
  positions: PositionCheck[];
  reasons: string[];
  verdict: string;
  /** development keys recognised from the epoch's keys (null: none) */
  devKeys: string | null;
  /** the bundle's keys were trusted on the publisher's word (--trust-bundle-keys) */
  unanchored: boolean;
  audit?: AuditReport;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isDec = (v: unknown): v is string => typeof v === "string" && /^(0|[1-9]\d*)$/.test(v);

/** Recomputes a position's leaf from its fields (the receipt's identity is bound in). */
export type LeafOf = (segmentId: bigint, slot: bigint, amount: bigint, salt: bigint) => bigint;

/** Who a receipt is about, its positions, and how to recompute their leaves. */
export interface ReceiptSubject {
  kind: Receipt["kind"] | "unknown";
  subject: string;
  /** identity problems (malformed or inconsistent ids) */
  reasons: string[];
  items: { pos: Record<string, unknown>; leafOf: LeafOf; label: "lot" | "liability" }[];
}

/**
 * The one reading of a receipt's identity, shared by the offline (`checkReceiptInclusion`) and
 * on-chain (`verifyReceiptOnChain`) checks: lotId text and value agree and are in range, the
 * accountId is the one derived from the account.
 */
export function receiptSubject(receipt: Record<string, unknown>): ReceiptSubject {
  const reasons: string[] = [];
  const items: ReceiptSubject["items"] = [];
  if (receipt.kind === "lot") {
    const subject = `lot ${String(receipt.lotId)}`;
    if (!isDec(receipt.lotIdValue)) reasons.push("malformed lotIdValue");
    else {
      const lotId = BigInt(receipt.lotIdValue);
      let textOk = false;
      try {
        textOk = BigInt(String(receipt.lotId)) === lotId;
      } catch {
        textOk = false;
      }
      if (!textOk) reasons.push("lotId and lotIdValue disagree");
      else if (lotId < 1n || lotId >= 1n << 128n) reasons.push("lotId out of range");
      else {
        items.push({
          pos: isObj(receipt.position) ? receipt.position : {},
          leafOf: (segmentId, slot, amount, salt) => lotLeaf({ lotId, segmentId, slot, amount, salt }),
          label: "lot",
        });
      }
    }
    return { kind: "lot", subject, reasons, items };
  }
  if (receipt.kind === "account") {
    const subject = `account ${String(receipt.account)}`;
    if (typeof receipt.account !== "string") reasons.push("malformed account");
    else {
      const accountId = accountIdOf(receipt.account);
      if (receipt.accountId !== String(accountId)) reasons.push("accountId does not match the account");
      const list = Array.isArray(receipt.positions) ? receipt.positions : [];
      if (list.length === 0) reasons.push("the receipt lists no position");
      for (const pos of list) {
        items.push({
          pos: isObj(pos) ? pos : {},
          leafOf: (segmentId, slot, amount, salt) =>
            liabilityLeaf({ accountId, segmentId, slot, amount, salt }),
          label: "liability",
        });
      }
    }
    return { kind: "account", subject, reasons, items };
  }
  return {
    kind: "unknown",
    subject: "?",
    reasons: [`unknown receipt kind ${String(receipt.kind)}`],
    items: [],
  };
}

/** What the segment's last batch publishes: health, named stress scenarios, band (null: unknown). */
export function segmentOutcomeOf(
  bundle: Bundle,
  segId: number,
): { healthy: boolean; stress: { name: string; healthy: boolean }[]; band: string } | null {
  const i = bundle.manifest.segments.findIndex((s) => s.id === segId);
  const seg = bundle.manifest.segments[i];
  const proofs = bundle.proofs.segments[i];
  const last = proofs?.batches[proofs.batches.length - 1];
  if (!seg || !last) return null;
  const word = segmentSignal(last.publicSignals, "result", bundle.profile);
  if (word === undefined || !isDec(word)) return null;
  try {
    const r = decodeResult(BigInt(word), bundle.profile.stressScenarios);
    return {
      healthy: r.healthy,
      stress: seg.scenarios.map((name, k) => ({ name, healthy: r.stress[k] === true })),
      band: COVERAGE_BANDS[r.band] as string,
    };
  } catch {
    return null;
  }
}

/**
 * The inclusion core shared by the offline and the on-chain receipt checks (SPEC "Receipts"):
 * recompute the leaf from the position's fields (the identity is bound in by `leafOf`), find it at
 * its index in the batch side's `leaves`, recompute that side's commitment (sponge over the leaves
 * padded with 0 to `size`), join the other side's commitment into the batch root and compare with
 * `root`. Returns why the position is not included, or null when it is. `size` pins the side's
 * size when the profile is known (offline: N or M); otherwise the receipt's own `size` is used
 * (it is bound by the root: another size gives another commitment).
 */
export function inclusionReason(
  pos: Record<string, unknown>,
  q: {
    segId: number;
    slot: number;
    leafOf: LeafOf;
    side: "lot" | "liability";
    root: bigint;
    size?: number;
    where: string;
  },
): string | null {
  if (!isDec(pos.amountUnits) || !isDec(pos.salt) || !isDec(pos.leaf))
    return "malformed amountUnits/salt/leaf";
  const amount = BigInt(pos.amountUnits);
  const salt = BigInt(pos.salt);
  if (salt >= FIELD_P || amount >= 1n << 96n) return "salt or amount out of range";
  if (!Number.isInteger(q.slot) || q.slot < 0 || q.slot > 15) return "bad slot";
  if (q.segId < 0 || q.segId >= 2 ** 32) return "bad segment id";
  const leaf = q.leafOf(BigInt(q.segId), BigInt(q.slot), amount, salt);
  if (leaf !== BigInt(pos.leaf)) return "the leaf does not match the receipt's fields";
  const size = q.size ?? pos.size;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > MAX_SIDE)
    return "bad batch size";
  if (pos.size !== size) return `the receipt's batch size ${String(pos.size)} is not the profile's ${size}`;
  const leaves = pos.leaves;
  if (!Array.isArray(leaves) || leaves.length < 1 || leaves.length > size || !leaves.every(isDec))
    return `malformed leaf list (1..${size} decimal leaves)`;
  const values = leaves.map((x) => BigInt(x));
  if (values.some((v) => v >= FIELD_P)) return "a listed leaf is not below the field modulus";
  const index = pos.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= values.length)
    return "bad leaf index";
  if (values[index] !== leaf) return `the leaf is not in the batch's ${q.side} list at index ${index}`;
  const other = q.side === "lot" ? pos.liabCommit : pos.lotCommit;
  if (!isDec(other) || BigInt(other) >= FIELD_P)
    return `missing ${q.side === "lot" ? "liabCommit" : "lotCommit"}`;
  const commit = sideCommitment(values, size);
  const root = q.side === "lot" ? batchRoot(commit, BigInt(other)) : batchRoot(BigInt(other), commit);
  return root === q.root ? null : `not included: the leaves do not lead to ${q.where}`;
}

/** "12.5 ETH (slot 0: 12500000000000000000 base units)": what the leaf counts, in the committed asset. */
export function countedAs(units: bigint, symbol: string, decimals: number, slot: number): string {
  return `${formatDecimal(units, decimals)} ${symbol} (slot ${slot}: ${units} base units)`;
}

function checkPosition(
  bundle: Bundle,
  pos: Record<string, unknown>,
  leafOf: LeafOf,
  side: "lot" | "liability",
): PositionCheck {
  const seg = isObj(pos.segment) ? pos.segment : {};
  const segId = typeof seg.id === "number" ? seg.id : -1;
  const res: PositionCheck = {
    segment: segId,
    asset: String(pos.asset),
    amount: String(pos.amount),
    batch: typeof pos.batch === "number" ? pos.batch : -1,
    included: false,
    healthy: null,
    stress: null,
    band: null,
  };
  const fail = (reason: string): PositionCheck => ({ ...res, reason });
  const bseg: BundleSegment | undefined = bundle.manifest.segments.find((s) => s.id === segId);
  if (!bseg) return fail(`segment ${segId} is not in the bundle`);
  const outcome = segmentOutcomeOf(bundle, segId);
  res.healthy = outcome?.healthy ?? null;
  res.stress = outcome?.stress ?? null;
  res.band = outcome?.band ?? null;
  const { slot, batch } = pos;
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0) return fail("bad slot");
  if (typeof batch !== "number" || !Number.isInteger(batch) || batch < 0 || batch >= bseg.batchRoots.length) {
    return fail(`batch ${String(batch)} is not a batch of segment ${segId}`);
  }
  const published = bseg.assets[slot];
  if (!published) return fail(`slot ${slot} is not a published asset slot of segment ${segId}`);
  if (published.symbol !== pos.asset) {
    return fail(`slot ${slot} of segment ${segId} is ${published.symbol}, not ${String(pos.asset)}`);
  }
  if (isDec(pos.amountUnits)) {
    res.counted = countedAs(BigInt(pos.amountUnits), published.symbol, published.decimals, slot);
    const dec = parseDecimal(pos.amount, published.decimals, "exact");
    if (!dec.ok || dec.value !== BigInt(pos.amountUnits)) {
      return fail(
        `amount ${String(pos.amount)} ${published.symbol} does not match amountUnits ${pos.amountUnits}`,
      );
    }
  }
  const n = side === "lot" ? bundle.profile.lotsPerBatch : bundle.profile.liabsPerBatch;
  const why = inclusionReason(pos, {
    segId,
    slot,
    leafOf,
    side,
    root: BigInt(bseg.batchRoots[batch] as string),
    size: n,
    where: `batch ${batch}'s root of segment ${segId}`,
  });
  if (why) return fail(why);
  return { ...res, included: true };
}

/**
 * Checks a receipt against a bundle: inclusion (leaf, path, batch root, slot asset) without any
 * proof verification. Pure and fast; `verifyReceipt` adds the audit.
 */
export async function checkReceiptInclusion(
  receipt: unknown,
  bundle: Bundle,
): Promise<Omit<ReceiptVerdict, "verified" | "ok" | "verdict" | "audit" | "devKeys" | "unanchored">> {
  await initPoseidon();
  const reasons: string[] = [];
  const base = {
    kind: "unknown" as ReceiptVerdict["kind"],
    subject: "?",
    epoch: bundle.epoch,
    positions: [] as PositionCheck[],
  };
  if (!isObj(receipt) || receipt.format !== RECEIPT_FORMAT) {
    return { ...base, included: false, healthy: false, reasons: ["not a bulkhead receipt"] };
  }
  if (receipt.version !== RECEIPT_VERSION) {
    return {
      ...base,
      included: false,
      healthy: false,
      reasons: [`unsupported receipt version ${String(receipt.version)}`],
    };
  }
  if (receipt.epoch !== bundle.epoch)
    reasons.push(`the receipt is for epoch ${String(receipt.epoch)}, the bundle for epoch ${bundle.epoch}`);
  if (receipt.manifestHash !== bundle.manifestHash) {
    reasons.push("the receipt's manifest hash differs from the bundle's (another epoch or another bundle)");
  }
  const who = receiptSubject(receipt);
  const { kind, subject } = who;
  reasons.push(...who.reasons);
  const positions = who.items.map((it) => checkPosition(bundle, it.pos, it.leafOf, it.label));
  for (const p of positions) if (p.reason) reasons.push(`segment ${p.segment} batch ${p.batch}: ${p.reason}`);
  const included = reasons.length === 0 && positions.length > 0 && positions.every((p) => p.included);
  const healthy = positions.length > 0 && positions.every((p) => p.healthy === true);
  return { kind, subject, epoch: bundle.epoch, positions, included, healthy, reasons };
}

/**
 * Full receipt verification: inclusion, then the full audit of the epoch (every proof, chaining,
 * fingerprints, public-input derivation). `ok` = included and verified; `healthy` tells whether
 * the segment(s) of the position are healthy.
 */
export async function verifyReceipt(
  receiptOrFile: unknown,
  bundleDir: string,
  opts: AuditOptions = {},
): Promise<ReceiptVerdict> {
  if (!anchorOf(opts)) return failVerdict(NO_ANCHOR_MESSAGE);
  let receipt = receiptOrFile;
  if (typeof receiptOrFile === "string") {
    try {
      receipt = JSON.parse(await fs.readFile(receiptOrFile, "utf8"));
    } catch (err) {
      return failVerdict(`cannot read receipt ${receiptOrFile}: ${(err as Error).message}`);
    }
  }
  let bundle: Bundle;
  try {
    bundle = (await readBundle(bundleDir)).bundle;
  } catch (err) {
    return failVerdict((err as Error).message);
  }
  const inc = await checkReceiptInclusion(receipt, bundle);
  const audit = await auditBundle(bundleDir, opts);
  const verified = audit.ok;
  const reasons = [...inc.reasons];
  if (!verified) reasons.push(...audit.errors.map((e) => `audit: ${e}`));
  const ok = inc.included && verified;
  const verdict = receiptVerdictLine(inc, audit, bundle.epoch, !!opts.allowDevKeys);
  return {
    ...inc,
    ok,
    verified,
    reasons,
    verdict,
    devKeys: audit.devKeys,
    unanchored: audit.unanchored,
    audit,
  };
}

function receiptVerdictLine(
  inc: Awaited<ReturnType<typeof checkReceiptInclusion>>,
  audit: AuditReport,
  epoch: string,
  allowDevKeys: boolean,
): string {
  // another epoch or bundle is the reason itself: headline it, not "not included"
  const otherEpoch = inc.reasons.find((r) =>
    /^the receipt is for epoch|^the receipt's manifest hash/.test(r),
  );
  if (otherEpoch) return `NOT INCLUDED: ${otherEpoch}`;
  if (!inc.included) return `NOT INCLUDED: ${inc.subject} is not in epoch ${epoch} as stated`;
  if (audit.devKeys && !allowDevKeys) {
    return `NOT TRUSTWORTHY: development keys (from the ${audit.devKeys}): ${inc.subject} is included, but anyone can forge the epoch's proofs`;
  }
  if (!audit.ok) return `NOT VERIFIED: ${inc.subject} is included, but the epoch's proofs do not verify`;
  if (!inc.healthy) {
    const bad = [...new Set(inc.positions.filter((p) => p.healthy !== true).map((p) => p.segment))];
    return `INCLUDED, but segment${bad.length > 1 ? "s" : ""} ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} UNHEALTHY (insolvent) in epoch ${epoch}`;
  }
  const segs = [...new Set(inc.positions.map((p) => p.segment))];
  const stressed = [
    ...new Set(inc.positions.filter((p) => (p.stress ?? []).some((x) => !x.healthy)).map((p) => p.segment)),
  ];
  return `VERIFIED: ${inc.subject} is included in epoch ${epoch}, segment${segs.length > 1 ? "s" : ""} ${segs.join(", ")} healthy, all proofs valid${stressed.length ? `; segment${stressed.length > 1 ? "s" : ""} ${stressed.join(", ")} healthy now but FAIL${stressed.length > 1 ? "" : "S"} a stress scenario` : ""}`;
}

/** ", stress: crash pass, eth-50 FAIL, coverage 110-150%" for a position line. */
export function outcomeText(p: Pick<PositionCheck, "stress" | "band">): string {
  const parts: string[] = [];
  if (p.stress && p.stress.length > 0)
    parts.push(`stress: ${p.stress.map((x) => `${x.name} ${x.healthy ? "pass" : "FAIL"}`).join(", ")}`);
  if (p.band) parts.push(`coverage ${p.band}`);
  return parts.length ? `, ${parts.join(", ")}` : "";
}

/**
 * The verdict for people: the verdict line, then one line per position with the amount as
 * counted, the reasons, and a NOT TRUSTWORTHY line for development keys (allowed or not). When the
 * bundle's keys were trusted unanchored, every line carries UNANCHORED_WARNING.
 */
export function formatReceiptVerdict(v: ReceiptVerdict): string {
  const lines = [v.verdict];
  for (const p of v.positions) {
    const health = p.healthy === null ? "" : p.healthy ? ", segment healthy" : ", segment UNHEALTHY";
    lines.push(
      `  segment ${p.segment} batch ${p.batch}: ${p.amount} ${p.asset}: ${p.included ? "included" : "NOT included"}${health}${outcomeText(p)}${p.counted ? `; counted as ${p.counted}` : ""}${p.reason ? ` (${p.reason})` : ""}`,
    );
  }
  for (const r of v.reasons.filter((r) => !v.positions.some((p) => p.reason && r.endsWith(p.reason))))
    lines.push(`  - ${r}`);
  if (v.devKeys && !v.verdict.startsWith("NOT TRUSTWORTHY"))
    lines.push(`NOT TRUSTWORTHY: development keys (from the ${v.devKeys}); allowed by --allow-dev-keys`);
  return (v.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}

function failVerdict(reason: string): ReceiptVerdict {
  return {
    ok: false,
    included: false,
    verified: false,
    healthy: false,
    kind: "unknown",
    subject: "?",
    epoch: "?",
    positions: [],
    reasons: [reason],
    verdict: `NOT VERIFIED: ${reason}`,
    devKeys: null,
    unanchored: false,
  };
}
