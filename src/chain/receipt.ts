/**
 * Receipt check against the registry. For privacy the client reads the whole latest finalized
 * epoch in one call (`latestEpochView`: every segment's roots and health) and does the lookup
 * locally; it never asks the node about the user's segment, batch or account. Only when the
 * receipt is for an older epoch is that epoch read, also as a whole.
 *
 * On chain, an epoch is finalized only after every batch proof verified and the fingerprints
 * matched, so inclusion under a finalized epoch's batch root is inclusion in a verified epoch.
 * The manifest commits each segment's asset slots (symbol, decimals, token) and the registry stores
 * them, so each position's slot must be the asset the receipt states, and the stated amount, in that
 * asset's committed decimals, must be the base units in the leaf: a position counted under another
 * asset or another amount is NOT INCLUDED. The verifiers' keys are read from their code: keys made
 * from a known development ptau make the verdict NOT TRUSTWORTHY (unless allowed).
 * With a bundle (`--bundle`), the bundle must be the one on chain (same manifest hash), and the
 * offline check of receipts.ts runs on it too.
 */
import * as fs from "node:fs/promises";
import type { Contract } from "ethers";
import { deployedVerifierCode } from "../audit/anchor.js";
import type { Bundle } from "../bundle/bundle.js";
import {
  checkReceiptInclusion,
  countedAs,
  inclusionReason,
  type LeafOf,
  receiptSubject,
} from "../receipts/receipts.js";
import { initPoseidon } from "../spec/encoding.js";
import { CIRCUITS } from "../spec/profiles.js";
import { formatDecimal, parseDecimal } from "../spec/units.js";
import { developmentVerifierOrigin } from "../toolchain/devkeys.js";
import { type EpochView, readEpoch, readLatestEpoch } from "./registry.js";

export interface ChainPositionCheck {
  segment: number;
  batch: number;
  asset: string;
  amountUnits: string;
  /** the amount as the epoch counts it: the leaf's base units in the slot's committed asset */
  counted?: string;
  included: boolean;
  healthy: boolean | null;
  reason?: string;
}

export interface ChainReceiptVerdict {
  /** included in a finalized epoch on chain (and consistent with the bundle, when given) */
  ok: boolean;
  included: boolean;
  /** every segment the receipt touches is healthy in that epoch */
  healthy: boolean;
  /** the receipt's epoch is the latest finalized epoch */
  latest: boolean;
  epoch: string;
  latestEpoch: string | null;
  registry: string;
  subject: string;
  positions: ChainPositionCheck[];
  reasons: string[];
  verdict: string;
  /** development keys recognised in the registry's verifiers (null: none) */
  devKeys: string | null;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isDec = (v: unknown): v is string => typeof v === "string" && /^(0|[1-9]\d*)$/.test(v);

function checkOnChain(
  view: EpochView,
  pos: Record<string, unknown>,
  leafOf: LeafOf,
  side: "lot" | "liability",
): ChainPositionCheck {
  const seg = isObj(pos.segment) ? pos.segment : {};
  const segId = typeof seg.id === "number" ? seg.id : -1;
  const res: ChainPositionCheck = {
    segment: segId,
    batch: typeof pos.batch === "number" ? pos.batch : -1,
    asset: String(pos.asset),
    amountUnits: String(pos.amountUnits),
    included: false,
    healthy: null,
  };
  const fail = (reason: string): ChainPositionCheck => ({ ...res, reason });
  // local lookup in the whole epoch read from chain
  const s = view.segments.find((x) => x.id === segId);
  if (!s) return fail(`segment ${segId} is not in epoch ${view.epoch} on chain`);
  res.healthy = s.complete && s.healthy;
  const { slot, batch } = pos;
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0) return fail("bad slot");
  const asset = s.assets[slot];
  if (!asset) return fail(`slot ${slot} is not an asset slot of segment ${segId}`);
  const why0 = assetReason(pos, asset, slot, segId);
  if (isDec(pos.amountUnits))
    res.counted = countedAs(BigInt(pos.amountUnits), asset.symbol, asset.decimals, slot);
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
    where: `the on-chain root of segment ${segId} batch ${batch}`,
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

export interface ChainReceiptOptions {
  /** the published bundle, to check asset metadata too (must match the chain's manifest) */
  bundle?: Bundle;
  /** accept verifiers with development keys (demo only); the verdict still says so */
  allowDevKeys?: boolean;
}

/** The development ptau(s) the registry's verifiers' keys come from, or null. */
export async function registryDevKeys(registry: Contract): Promise<string | null> {
  const runner = registry.runner;
  if (!runner) throw new Error("registry: no runner");
  const found = new Set<string>();
  for (const c of CIRCUITS) {
    const { code } = await deployedVerifierCode(runner, await registry.getAddress(), c);
    const origin = developmentVerifierOrigin(code);
    if (origin) found.add(origin);
  }
  return found.size > 0 ? [...found].join(", ") : null;
}

/** Checks a receipt (object or file path) against the registry's finalized epochs. */
export async function verifyReceiptOnChain(
  receiptOrFile: unknown,
  registry: Contract,
  opts: ChainReceiptOptions = {},
): Promise<ChainReceiptVerdict> {
  await initPoseidon();
  const registryAddr = await registry.getAddress();
  const base: ChainReceiptVerdict = {
    ok: false,
    included: false,
    healthy: false,
    latest: false,
    epoch: "?",
    latestEpoch: null,
    registry: registryAddr,
    subject: "?",
    positions: [],
    reasons: [],
    verdict: "",
    devKeys: null,
  };
  const failed = (reason: string): ChainReceiptVerdict => ({
    ...base,
    reasons: [...base.reasons, reason],
    verdict: `NOT VERIFIED: ${reason}`,
  });
  let receipt = receiptOrFile;
  if (typeof receiptOrFile === "string") {
    try {
      receipt = JSON.parse(await fs.readFile(receiptOrFile, "utf8"));
    } catch (err) {
      return failed(`cannot read receipt ${receiptOrFile}: ${(err as Error).message}`);
    }
  }
  if (!isObj(receipt) || receipt.format !== "bulkhead-receipt") return failed("not a bulkhead receipt");
  if (!isDec(receipt.epoch)) return failed("malformed receipt epoch");
  base.epoch = receipt.epoch;

  const latest = await readLatestEpoch(registry);
  base.latestEpoch = latest ? String(latest.epoch) : null;
  if (!latest) return failed("the registry has no finalized epoch");
  const epoch = BigInt(receipt.epoch);
  let view: EpochView | undefined = latest;
  if (epoch !== latest.epoch) {
    view = await readEpoch(registry, epoch);
    if (!view) return failed(`epoch ${epoch} was never committed to this registry`);
  }
  base.latest = view.epoch === latest.epoch;
  const reasons: string[] = [];
  if (!view.finalized) reasons.push(`epoch ${epoch} is committed but not finalized on chain`);
  if (receipt.manifestHash !== view.manifestHash) {
    reasons.push(`the receipt's manifest hash differs from epoch ${epoch}'s on chain`);
  }
  base.devKeys = await registryDevKeys(registry);

  const who = receiptSubject(receipt);
  const { subject } = who;
  reasons.push(...who.reasons);
  const positions: ChainPositionCheck[] = who.items.map((it) =>
    checkOnChain(view, it.pos, it.leafOf, it.label),
  );
  for (const p of positions) if (p.reason) reasons.push(`segment ${p.segment} batch ${p.batch}: ${p.reason}`);

  if (opts.bundle) {
    if (opts.bundle.manifestHash !== view.manifestHash || opts.bundle.epoch !== String(view.epoch)) {
      reasons.push("the bundle is not the epoch recorded on chain (epoch or manifest hash differ)");
    } else {
      const inc = await checkReceiptInclusion(receipt, opts.bundle);
      for (const r of inc.reasons) reasons.push(`bundle: ${r}`);
    }
  }

  const included = reasons.length === 0 && positions.length > 0 && positions.every((p) => p.included);
  const healthy = positions.length > 0 && positions.every((p) => p.healthy === true);
  const blockedByDev = included && base.devKeys !== null && !opts.allowDevKeys;
  let verdict = chainVerdictLine(subject, epoch, included, positions, blockedByDev ? base.devKeys : null);
  if (included && !base.latest) verdict += ` (superseded: the latest finalized epoch is ${latest.epoch})`;
  return { ...base, ok: included && !blockedByDev, included, healthy, subject, positions, reasons, verdict };
}

function chainVerdictLine(
  subject: string,
  epoch: bigint,
  included: boolean,
  positions: ChainPositionCheck[],
  devKeys: string | null,
): string {
  if (!included) return `NOT INCLUDED: ${subject} is not in epoch ${epoch} on chain as stated`;
  if (devKeys) {
    return `NOT TRUSTWORTHY: development keys (from the ${devKeys}) in the registry's verifiers: ${subject} is included, but anyone can forge the epoch's proofs`;
  }
  const healthy = positions.every((p) => p.healthy === true);
  if (!healthy) {
    const bad = [...new Set(positions.filter((p) => p.healthy !== true).map((p) => p.segment))];
    return `INCLUDED on chain, but segment${bad.length > 1 ? "s" : ""} ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} UNHEALTHY (insolvent) in epoch ${epoch}`;
  }
  const segs = [...new Set(positions.map((p) => p.segment))];
  return `VERIFIED ON CHAIN: ${subject} is included in finalized epoch ${epoch}, segment${segs.length > 1 ? "s" : ""} ${segs.join(", ")} healthy`;
}

/** The verdict for people: verdict line, one line per position (amount as counted), reasons. */
export function formatChainReceiptVerdict(v: ChainReceiptVerdict): string {
  const lines = [v.verdict];
  for (const p of v.positions) {
    const health = p.healthy === null ? "" : p.healthy ? ", segment healthy" : ", segment UNHEALTHY";
    lines.push(
      `  segment ${p.segment} batch ${p.batch}: ${p.asset}: ${p.included ? "included" : "NOT included"}${health}${p.counted ? `; counted as ${p.counted}` : ""}${p.reason ? ` (${p.reason})` : ""}`,
    );
  }
  for (const r of v.reasons.filter((r) => !v.positions.some((p) => p.reason && r.endsWith(p.reason))))
    lines.push(`  - ${r}`);
  if (v.devKeys && !v.verdict.startsWith("NOT TRUSTWORTHY"))
    lines.push(`NOT TRUSTWORTHY: development keys (from the ${v.devKeys}); allowed by --allow-dev-keys`);
  return lines.join("\n");
}
