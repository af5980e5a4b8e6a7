/** `bulkhead status`: the registry's latest finalized epoch, per segment, plus any epoch in progress. */
import type { Contract } from "ethers";
import { COVERAGE_BANDS, stressScenariosInUse, UNBOUNDED_CAP, unpackSegmentSlots } from "../spec/encoding.js";
import { formatTable } from "../util/table.js";
import { type EpochView, readEpoch, readLatestEpoch } from "./registry.js";

export interface SegmentStatus {
  id: number;
  healthy: boolean;
  marginBps: number;
  batches: number;
  /** stress-scenario health bits as recorded (bit k: healthy under scenario k) */
  stressBits: number;
  /** scenarios in use (the committed shocks); the bits after them only repeat the health bit */
  scenarios: number;
  /** coverage band label (COVERAGE_BANDS) */
  coverage: string;
  /** per asset slot: circuit price, collateral factor, global asset index, custody cap in base
   *  units (null: not bounded) and whether the pooled custody account holds it; unused slots:
   *  price 1, cf 0 */
  slots: { price: string; cfBps: number; asset: number; cap: string | null; pooled: boolean }[];
  /** the registry's freshness rule now: block.timestamp <= committedAt + maxAge (isHealthy =
   *  healthy && fresh) */
  fresh: boolean;
  /** the governed maximum age in seconds (null: ungoverned, no bound) */
  maxAgeSeconds: string | null;
}
export interface RegistryStatus {
  registry: string;
  chainId: string;
  assetSlots: number;
  stressScenarios: number;
  latestEpoch: string | null;
  finalizedAt: string | null;
  /** when the latest finalized epoch was committed (its freshness counts from then) */
  committedAt: string | null;
  /** the oldest price round the commit used (null: ungoverned, no oracle) */
  oldestPriceAt: string | null;
  manifestHash: string | null;
  segments: SegmentStatus[];
  healthyCount: number;
  unhealthyCount: number;
  /** the last committed epoch when it is not finalized yet */
  pending: { epoch: string; batchesAccepted: number; batchesTotal: number } | null;
}

export async function readStatus(registry: Contract): Promise<RegistryStatus> {
  const assets = Number(await registry.getFunction("assetSlots").staticCall());
  const stressScenarios = Number(await registry.getFunction("stressScenarios").staticCall());
  const lastCommitted = BigInt(await registry.getFunction("lastCommittedEpoch").staticCall());
  const latest = await readLatestEpoch(registry);
  const network = await registry.runner?.provider?.getNetwork();
  let pending: RegistryStatus["pending"] = null;
  if (lastCommitted > 0n && (!latest || lastCommitted !== latest.epoch)) {
    const v: EpochView | undefined = await readEpoch(registry, lastCommitted);
    if (v && !v.finalized) {
      const total = v.segments.reduce((n, s) => n + s.batchCount, 0) + v.globalCommitments.length;
      const acc = v.segments.reduce((n, s) => n + s.accepted, 0) + v.listAccepted;
      pending = { epoch: String(v.epoch), batchesAccepted: acc, batchesTotal: total };
    }
  }
  const health = new Map<number, { fresh: boolean; maxAge: bigint }>();
  for (const s of latest?.segments ?? []) {
    const h = (await registry.getFunction("segmentHealth").staticCall(s.id)) as {
      fresh: boolean;
      maxAge: bigint;
    };
    health.set(s.id, { fresh: Boolean(h.fresh), maxAge: BigInt(h.maxAge) });
  }
  const oldest = latest
    ? BigInt((await registry.getFunction("segmentHealth").staticCall(0)).oldestPriceAt)
    : 0n;
  const iso = (t: number | bigint) => new Date(Number(t) * 1000).toISOString();
  const segments: SegmentStatus[] = (latest?.segments ?? []).map((s) => ({
    id: s.id,
    healthy: s.healthy,
    marginBps: s.marginBps,
    batches: s.batchCount,
    stressBits: s.stressBits,
    scenarios: stressScenariosInUse(s.stress, stressScenarios, assets),
    coverage: COVERAGE_BANDS[s.band] ?? `band ${s.band}`,
    slots: unpackSegmentSlots(s.slots).map((p) => ({
      price: String(p.price),
      cfBps: Number(p.cfBps),
      asset: Number(p.asset),
      cap: p.cap === UNBOUNDED_CAP ? null : String(p.cap),
      pooled: p.pooled,
    })),
    fresh: health.get(s.id)?.fresh ?? false,
    maxAgeSeconds:
      (health.get(s.id)?.maxAge ?? 0n) === 2n ** 64n - 1n ? null : String(health.get(s.id)?.maxAge),
  }));
  return {
    registry: await registry.getAddress(),
    chainId: network ? String(network.chainId) : "?",
    assetSlots: assets,
    stressScenarios,
    latestEpoch: latest ? String(latest.epoch) : null,
    finalizedAt: latest ? iso(latest.finalizedAt) : null,
    committedAt: latest ? iso(latest.committedAt) : null,
    oldestPriceAt: oldest > 0n ? iso(oldest) : null,
    manifestHash: latest?.manifestHash ?? null,
    segments,
    healthyCount: segments.filter((s) => s.healthy).length,
    unhealthyCount: segments.filter((s) => !s.healthy).length,
    pending,
  };
}

export function formatStatus(s: RegistryStatus): string {
  const lines: string[] = [];
  lines.push(`registry ${s.registry} (chain ${s.chainId}, ${s.assetSlots} asset slots)`);
  if (!s.latestEpoch) lines.push("no finalized epoch yet");
  else {
    lines.push(`latest finalized epoch ${s.latestEpoch} at ${s.finalizedAt}, manifest ${s.manifestHash}`);
    const rows = [["segment", "health", "stress scenarios", "coverage", "margin bps", "batches", "fresh"]];
    for (const seg of s.segments) {
      const passed = Array.from({ length: seg.scenarios }, (_, k) => (seg.stressBits >> k) & 1);
      rows.push([
        String(seg.id),
        seg.healthy ? "healthy" : "UNHEALTHY",
        passed.length === 0 ? "none" : passed.map((b, k) => `#${k + 1} ${b ? "pass" : "FAIL"}`).join(" "),
        seg.coverage,
        String(seg.marginBps),
        String(seg.batches),
        seg.maxAgeSeconds === null
          ? "no bound"
          : seg.fresh
            ? `yes (max age ${seg.maxAgeSeconds} s)`
            : "STALE",
      ]);
    }
    lines.push(...formatTable(rows));
    lines.push(`${s.healthyCount} healthy, ${s.unhealthyCount} unhealthy`);
    lines.push(
      `fresh: now <= committed (${s.committedAt}) + max age; oldest price ${s.oldestPriceAt ?? "none (ungoverned)"}`,
    );
  }
  if (s.pending) {
    lines.push(
      `epoch ${s.pending.epoch} committed, not finalized: ${s.pending.batchesAccepted}/${s.pending.batchesTotal} batches accepted`,
    );
  }
  return lines.join("\n");
}
