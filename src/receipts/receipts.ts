/**
 * User receipts, the user's side: what a user needs to check, offline and without revealing anything to anyone,
 * that their position was counted in the right segment of a published epoch.
 *
 *  - lot receipt (one per collateral lot): lot fields, salt, leaf, segment, batch, index, every
 *    lot leaf of its batch (`leaves`, unpadded; `size` = N) and the batch's liability commitment,
 *    so that H2(sponge(leaves padded with 0 to size), liabCommit) must equal the manifest's
 *    batchRoot;
 *  - account receipt (one per account): every liability of the account, each with the same data
 *    (every liability leaf of its batch, size = M, and lotCommit as the other half of the root).
 *
 * `checkPosition` recomputes the leaf from the fields, finds it at its index in the list,
 * recomputes the sponge and the batch root, compares it with the root source (the bundle's
 * manifest, or the registry's epoch: chain/receipt.ts), and checks that the leaf's slot is the
 * asset the segment publishes (symbol, and the stated amount in that asset's committed decimals
 * equals the leaf's base units). audit/receipt.ts adds the full offline audit of the epoch. Other
 * users' leaves in the list are salted hashes: they reveal nothing about those positions. Building
 * receipts (the prover's side) is build.ts.
 */
import type { Bundle } from "../bundle/bundle.js";
import {
  accountIdOf,
  batchRoot,
  COVERAGE_BANDS,
  decodeResult,
  FIELD_P,
  initPoseidon,
  liabilityLeaf,
  lotLeaf,
  scenarioLabels,
  segmentSignal,
  sideCommitment,
} from "../spec/encoding.js";
import { formatDecimal, parseDecimal } from "../spec/units.js";

export const RECEIPT_FORMAT = "bulkhead-receipt";
/** 2: circuits v2 (H3 leaves; the batch side's leaves and the other side's commitment, no Merkle path). */
export const RECEIPT_VERSION = 2;
/** Largest batch side a receipt may state (the circuits allow at most 1024 entries per side). */
export const MAX_SIDE = 1024;

export interface ReceiptHead {
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

// ---------------------------------------------------------------- verification

export interface PositionCheck {
  segment: number;
  asset: string;
  amount: string;
  amountUnits: string;
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
 * A position (segment, batch, leaf) is counted once per receipt: one listed twice (same leaf, or
 * same index in the same batch) would show the user a total the epoch does not count.
 */
export function repeatedPositions(list: readonly unknown[]): string[] {
  const out: string[] = [];
  const seen = new Map<string, number>();
  list.forEach((pos, k) => {
    if (!isObj(pos)) return;
    const seg = isObj(pos.segment) ? String(pos.segment.id) : "?";
    const keys = [`leaf ${String(pos.leaf)}`, `index ${String(pos.index)}`].map(
      (x) => `segment ${seg} batch ${String(pos.batch)} ${x}`,
    );
    const first = keys.map((x) => seen.get(x)).find((j) => j !== undefined);
    if (first !== undefined)
      out.push(
        `position ${k + 1} repeats position ${first + 1} (segment ${seg}, batch ${String(pos.batch)}): a position is counted once`,
      );
    for (const x of keys) if (!seen.has(x)) seen.set(x, k);
  });
  return out;
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
      reasons.push(...repeatedPositions(list));
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

/** A segment's proven outcome: health, named stress scenarios, coverage band label. */
export interface SegmentOutcome {
  healthy: boolean;
  stress: { name: string; healthy: boolean }[] | null;
  band: string | null;
}

/** A segment as the root source holds it: committed asset slots, batch roots, proven outcome. */
export interface SourceSegment {
  assets: readonly { symbol: string; decimals: number }[];
  batchRoots: readonly bigint[];
  outcome: SegmentOutcome | null;
}

/**
 * Where a position's batch root and slot asset come from: the bundle's manifest (`bundleRoots`)
 * or the registry's epoch (chain/receipt.ts).
 */
export interface RootSource {
  segment(id: number): SourceSegment | undefined;
  /** "in the bundle", "in epoch 7 on chain" */
  place: string;
  /** the batch sides' sizes when the profile is known (offline); else the receipt's own size */
  sizes?: { lot: number; liability: number };
  /** names a batch root in messages */
  rootName(segId: number, batch: number): string;
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
      stress: scenarioLabels(
        seg.scenarios,
        seg.stress.map((w) => BigInt(w)),
        bundle.profile.stressScenarios,
        bundle.profile.assetsPerSegment,
      ).map((name, k) => ({ name, healthy: r.stress[k] === true })),
      band: COVERAGE_BANDS[r.band] as string,
    };
  } catch {
    return null;
  }
}

/** The bundle's manifest as the root source of its receipts' positions. */
export function bundleRoots(bundle: Bundle): RootSource {
  return {
    segment: (id) => {
      const s = bundle.manifest.segments.find((x) => x.id === id);
      if (!s) return undefined;
      return {
        assets: s.assets,
        batchRoots: s.batchRoots.map((r) => BigInt(r)),
        outcome: segmentOutcomeOf(bundle, id),
      };
    },
    place: "in the bundle",
    sizes: { lot: bundle.profile.lotsPerBatch, liability: bundle.profile.liabsPerBatch },
    rootName: (segId, batch) => `batch ${batch}'s root of segment ${segId}`,
  };
}

/**
 * The one check of a receipt's position, offline and on chain: the segment is in the source, the
 * slot is the asset the receipt states, the stated amount in that asset's committed decimals is
 * the leaf's base units (amountUnits), the batch exists, and the leaf leads to its batch root
 * (inclusionReason).
 */
export function checkPosition(
  src: RootSource,
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
    amountUnits: String(pos.amountUnits),
    batch: typeof pos.batch === "number" ? pos.batch : -1,
    included: false,
    healthy: null,
    stress: null,
    band: null,
  };
  const fail = (reason: string): PositionCheck => ({ ...res, reason });
  const s = src.segment(segId);
  if (!s) return fail(`segment ${segId} is not ${src.place}`);
  res.healthy = s.outcome?.healthy ?? null;
  res.stress = s.outcome?.stress ?? null;
  res.band = s.outcome?.band ?? null;
  const { slot, batch } = pos;
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0) return fail("bad slot");
  const asset = s.assets[slot];
  if (!asset) return fail(`slot ${slot} is not an asset slot of segment ${segId}`);
  if (isDec(pos.amountUnits))
    res.counted = countedAs(BigInt(pos.amountUnits), asset.symbol, asset.decimals, slot);
  const why0 = assetReason(pos, asset, slot, segId);
  if (why0) return fail(why0);
  if (typeof batch !== "number" || !Number.isInteger(batch) || batch < 0 || batch >= s.batchRoots.length) {
    return fail(`batch ${String(batch)} is not a batch of segment ${segId}`);
  }
  const why = inclusionReason(pos, {
    segId,
    slot,
    leafOf,
    side,
    root: s.batchRoots[batch] as bigint,
    size: src.sizes?.[side],
    where: src.rootName(segId, batch),
  });
  if (why) return fail(why);
  return { ...res, included: true };
}

/**
 * The slot's committed asset must be the one the receipt states, and the stated amount in its
 * committed decimals must be the leaf's base units (amountUnits, bound into the leaf).
 */
function assetReason(
  pos: Record<string, unknown>,
  asset: { symbol: string; decimals: number },
  slot: number,
  segId: number,
): string | null {
  if (asset.symbol !== pos.asset)
    return `slot ${slot} of segment ${segId} is ${asset.symbol}, not ${String(pos.asset)}`;
  if (!isDec(pos.amountUnits)) return "malformed amountUnits";
  const dec = parseDecimal(String(pos.amount), asset.decimals, "exact");
  if (!dec.ok || dec.value !== BigInt(pos.amountUnits)) {
    const counted = formatDecimal(BigInt(pos.amountUnits), asset.decimals);
    return `amount ${String(pos.amount)} ${asset.symbol} is not what the leaf counts (${counted} ${asset.symbol})`;
  }
  return null;
}

/** What a receipt's inclusion check finds (the audit's verdict adds whether the epoch verifies). */
export interface ReceiptInclusion {
  /** every position included, under the receipt's epoch and manifest */
  included: boolean;
  /** every segment the receipt touches is healthy */
  healthy: boolean;
  kind: Receipt["kind"] | "unknown";
  subject: string;
  epoch: string;
  positions: PositionCheck[];
  reasons: string[];
}

/**
 * Checks a receipt against a bundle: inclusion (leaf, path, batch root, slot asset) without any
 * proof verification. Pure and fast; `verifyReceipt` adds the audit.
 */
export async function checkReceiptInclusion(receipt: unknown, bundle: Bundle): Promise<ReceiptInclusion> {
  await initPoseidon();
  const reasons: string[] = [];
  const base = {
    kind: "unknown" as ReceiptInclusion["kind"],
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
  const src = bundleRoots(bundle);
  const positions = who.items.map((it) => checkPosition(src, it.pos, it.leafOf, it.label));
  for (const p of positions) if (p.reason) reasons.push(`segment ${p.segment} batch ${p.batch}: ${p.reason}`);
  const included = reasons.length === 0 && positions.length > 0 && positions.every((p) => p.included);
  const healthy = positions.length > 0 && positions.every((p) => p.healthy === true);
  return { kind, subject, epoch: bundle.epoch, positions, included, healthy, reasons };
}
