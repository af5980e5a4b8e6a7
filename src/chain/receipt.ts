/**
 * Receipt check against the registry. For privacy the client reads the whole latest finalized
 * epoch in one call (`latestEpochView`: every segment's roots and health) and does the lookup
 * locally; it never asks the node about the user's segment, batch or account. Only when the
 * receipt is for an older epoch is that epoch read, also as a whole.
 *
 * On chain, an epoch is finalized only after every batch proof verified and the fingerprints
 * matched, so inclusion under a finalized epoch's batch root is inclusion in a verified epoch.
 * With a bundle (`--bundle`), the bundle must be the one on chain (same manifest hash), and the
 * bundle's asset metadata is checked too (slot symbol, decimal amount) via receipts.ts.
 */
import * as fs from "node:fs/promises";
import type { Contract } from "ethers";
import type { Bundle } from "../bundle/bundle.js";
import { checkReceiptInclusion, inclusionReason, type LeafOf, receiptSubject } from "../receipts/receipts.js";
import { initPoseidon, unpackSegmentParams } from "../spec/encoding.js";
import { type EpochView, readEpoch, readLatestEpoch } from "./registry.js";

export interface ChainPositionCheck {
  segment: number;
  batch: number;
  asset: string;
  amountUnits: string;
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
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isDec = (v: unknown): v is string => typeof v === "string" && /^(0|[1-9]\d*)$/.test(v);

function checkOnChain(
  view: EpochView,
  assets: number,
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
  if (typeof slot !== "number" || !Number.isInteger(slot) || slot < 0 || slot >= assets)
    return fail("bad slot");
  const p = unpackSegmentParams(s.params, assets)[slot];
  if (!p || (p.price === 1n && p.cfBps === 0n))
    return fail(`slot ${slot} is not an asset slot of segment ${segId}`);
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

export interface ChainReceiptOptions {
  /** the published bundle, to check asset metadata too (must match the chain's manifest) */
  bundle?: Bundle;
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
  const assets = Number(await registry.getFunction("assetSlots").staticCall());

  const who = receiptSubject(receipt);
  const { subject } = who;
  reasons.push(...who.reasons);
  const positions: ChainPositionCheck[] = who.items.map((it) =>
    checkOnChain(view, assets, it.pos, it.leafOf, it.label),
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
  let verdict: string;
  if (!included) verdict = `NOT INCLUDED: ${subject} is not in epoch ${epoch} on chain as stated`;
  else if (!healthy) {
    const bad = [...new Set(positions.filter((p) => p.healthy !== true).map((p) => p.segment))];
    verdict = `INCLUDED on chain, but segment${bad.length > 1 ? "s" : ""} ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} UNHEALTHY (insolvent) in epoch ${epoch}`;
  } else {
    const segs = [...new Set(positions.map((p) => p.segment))];
    verdict = `VERIFIED ON CHAIN: ${subject} is included in finalized epoch ${epoch}, segment${segs.length > 1 ? "s" : ""} ${segs.join(", ")} healthy`;
  }
  if (included && !base.latest) verdict += ` (superseded: the latest finalized epoch is ${latest.epoch})`;
  return { ...base, ok: included, included, healthy, subject, positions, reasons, verdict };
}
