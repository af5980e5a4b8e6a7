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
import type { Contract } from "ethers";
import { verdictLines } from "../audit/receipt.js";
import type { Bundle } from "../bundle/bundle.js";
import {
  checkPosition,
  checkReceiptInclusion,
  type PositionCheck,
  type RootSource,
  receiptSubject,
} from "../receipts/receipts.js";
import { COVERAGE_BANDS, initPoseidon, stressScenariosInUse } from "../spec/encoding.js";
import { CIRCUITS } from "../spec/profiles.js";
import { developmentVerifierOrigin } from "../toolchain/devkeys.js";
import { deployedVerifierCode, type EpochView, readEpoch, readLatestEpoch } from "./registry.js";

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
  positions: PositionCheck[];
  reasons: string[];
  verdict: string;
  /** development keys recognised in the registry's verifiers (null: none) */
  devKeys: string | null;
  /** development keys were accepted (allowDevKeys, the CLI's --allow-dev-keys) */
  allowDevKeys: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isDec = (v: unknown): v is string => typeof v === "string" && /^(0|[1-9]\d*)$/.test(v);

/** What the registry's configuration says of stress words: scenarios (K) and asset slots (A). */
interface StressShape {
  scenarios: number;
  slots: number;
}

/**
 * A complete segment's proven outcome on chain: health, the stress scenarios its committed shocks
 * use (named as in the bundle when one is given, else "scenario k") with their proven bits, and
 * the coverage band. Unknown (null) until the segment is complete.
 */
function chainOutcome(s: EpochView["segments"][number], shape: StressShape, names?: readonly string[]) {
  if (!s.complete) return { healthy: false, stress: null, band: null };
  const used = stressScenariosInUse(s.stress, shape.scenarios, shape.slots);
  const stress = Array.from({ length: used }, (_, k) => ({
    name: names?.[k] ?? `scenario ${k + 1}`,
    healthy: ((s.stressBits >> k) & 1) === 1,
  }));
  return { healthy: s.healthy, stress, band: COVERAGE_BANDS[s.band] ?? null };
}

/** The registry's epoch, read as a whole, as the root source of a receipt's positions. */
function epochRoots(view: EpochView, shape: StressShape, bundle?: Bundle): RootSource {
  const sameEpoch = bundle?.manifestHash === view.manifestHash;
  return {
    segment: (id) => {
      const s = view.segments.find((x) => x.id === id);
      if (!s) return undefined;
      const names = sameEpoch ? bundle?.manifest.segments.find((x) => x.id === id)?.scenarios : undefined;
      return { assets: s.assets, batchRoots: s.batchRoots, outcome: chainOutcome(s, shape, names) };
    },
    place: `in epoch ${view.epoch} on chain`,
    rootName: (segId, batch) => `the on-chain root of segment ${segId} batch ${batch}`,
  };
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

/** Checks a receipt (parsed JSON) against the registry's finalized epochs. */
export async function verifyReceiptOnChain(
  receipt: unknown,
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
    allowDevKeys: opts.allowDevKeys === true,
  };
  const failed = (reason: string): ChainReceiptVerdict => ({
    ...base,
    reasons: [...base.reasons, reason],
    verdict: `NOT VERIFIED: ${reason}`,
  });
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
  const shape = {
    scenarios: Number(await registry.getFunction("stressScenarios")()),
    slots: Number(await registry.getFunction("assetSlots")()),
  };
  const src = epochRoots(view, shape, opts.bundle);
  const positions = who.items.map((it) => checkPosition(src, it.pos, it.leafOf, it.label));
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
  if (included && !blockedByDev && !base.latest)
    verdict = `SUPERSEDED: ${verdict} (an old epoch: the latest finalized epoch is ${latest.epoch}; this says nothing about now)`;
  return { ...base, ok: included && !blockedByDev, included, healthy, subject, positions, reasons, verdict };
}

function chainVerdictLine(
  subject: string,
  epoch: bigint,
  included: boolean,
  positions: PositionCheck[],
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

/**
 * The verdict for people: verdict line, one line per position (amount, health, stress scenarios
 * and coverage band as proven on chain, amount as counted), reasons.
 */
export function formatChainReceiptVerdict(v: ChainReceiptVerdict): string {
  return verdictLines(v).join("\n");
}
