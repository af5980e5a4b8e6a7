/**
 * Epoch planning and witness building (docs/SPEC.md): splits a validated snapshot into segment
 * batches and global lot-list batches, computes every leaf and commitment, the manifest,
 * `manifestHash` and `r`, and then every circuit input with its expected public signals,
 * chaining each batch's state into the next. Pure computation: nothing is proven or written.
 *
 * Batch plan (profile N lots, M liabilities per segment batch, G lots per list batch):
 *  - segment s gets max(1, ceil(lots_s / N), ceil(liabs_s / M)) batches; lots and liabilities are
 *    taken in snapshot order and fill batches from the first one;
 *  - the global list holds every lot sorted by lotId in batches of G (at least one batch).
 */

import type { Liability, Lot, Segment, Snapshot } from "../snapshot/snapshot.js";
import {
  initPoseidon,
  type LiabilityFields,
  type LotFields,
  type Manifest,
  manifestAssets,
  type SlotParams,
} from "../spec/encoding.js";
import type { CircuitName, Profile } from "../spec/profiles.js";
import { chainEpoch, splitListBatches, splitSegmentBatches } from "./chain.js";
import type { CircuitInput, ListBatchResult, SegmentBatchResult } from "./inputs.js";
import { deriveSalt, saltLabel } from "./salts.js";

export interface SegmentPlan {
  segment: Segment;
  batches: { lots: Lot[]; liabilities: Liability[] }[];
}
export interface EpochPlan {
  profile: Profile;
  segments: SegmentPlan[];
  /** global lot list: lots sorted by lotId, split in batches of G (at least one, maybe empty) */
  list: Lot[][];
}

export { batchCount } from "./chain.js";

function groupBySegment<T extends { segmentId: bigint }>(xs: readonly T[]): Map<bigint, T[]> {
  const m = new Map<bigint, T[]>();
  for (const x of xs) {
    const list = m.get(x.segmentId);
    if (list) list.push(x);
    else m.set(x.segmentId, [x]);
  }
  return m;
}

export function planEpoch(snapshot: Snapshot, profile: Profile): EpochPlan {
  const lotsOf = groupBySegment(snapshot.lots);
  const liabsOf = groupBySegment(snapshot.liabilities);
  const segments: SegmentPlan[] = snapshot.segments.map((segment) => ({
    segment,
    batches: splitSegmentBatches(lotsOf.get(segment.id) ?? [], liabsOf.get(segment.id) ?? [], profile),
  }));
  const sorted = [...snapshot.lots].sort((a, b) => (a.lotId < b.lotId ? -1 : a.lotId > b.lotId ? 1 : 0));
  return { profile, segments, list: splitListBatches(sorted, profile) };
}

export interface LotPlacement {
  lot: Lot;
  fields: LotFields;
  leaf: bigint;
  /** segment batch and slot index inside it */
  batch: number;
  index: number;
}
export interface LiabilityPlacement {
  liability: Liability;
  fields: LiabilityFields;
  leaf: bigint;
  batch: number;
  index: number;
}
export interface SegmentBuild {
  segment: Segment;
  batches: SegmentBatchResult[];
  lots: LotPlacement[];
  liabilities: LiabilityPlacement[];
  healthy: boolean;
  /** Σ amount·price·cf (circuit units, see SPEC) */
  collateralValue: bigint;
  /** Σ amount·price·(10000 + margin) */
  requiredValue: bigint;
}
export interface ProofJob {
  /** `segment-<id>-<batch>` or `lotlist-<batch>` */
  id: string;
  circuit: CircuitName;
  /** segment id, or null for the lot list */
  segmentId: bigint | null;
  batch: number;
  input: CircuitInput;
  /** what the proof must expose, in circuit order */
  publicSignals: string[];
}
export interface EpochBuild {
  snapshot: Snapshot;
  profile: Profile;
  manifest: Manifest;
  manifestHash: string;
  r: bigint;
  segments: SegmentBuild[];
  list: ListBatchResult[];
  /** segment jobs (segments in id order, batches in order), then the lot-list jobs */
  jobs: ProofJob[];
}

export function slotParams(segment: Segment): SlotParams[] {
  return segment.slots.map((s) => ({ price: s.circuitPrice, cfBps: s.cfBps }));
}

export const segmentJobId = (segmentId: bigint, batch: number): string => `segment-${segmentId}-${batch}`;
export const listJobId = (batch: number): string => `lotlist-${batch}`;

/**
 * Builds the whole epoch: leaves, trees, manifest, r, then all circuit inputs. Deterministic in
 * (snapshot, profile, secret).
 */
export async function buildEpoch(
  snapshot: Snapshot,
  profile: Profile,
  secret: Uint8Array,
): Promise<EpochBuild> {
  await initPoseidon();
  const plan = planEpoch(snapshot, profile);
  const epoch = snapshot.epoch;

  const { lotFields, liabFields } = leafFields(snapshot, secret);
  const lf = (l: Lot) => lotFields.get(l) as LotFields;
  const df = (l: Liability) => liabFields.get(l) as LiabilityFields;

  const chained = chainEpoch(
    profile,
    epoch,
    plan.segments.map(({ segment, batches }) => ({
      segmentId: segment.id,
      marginBps: segment.marginBps,
      slots: slotParams(segment),
      assets: manifestAssets(segment.slots),
      batches: batches.map((b) => ({ lots: b.lots.map(lf), liabilities: b.liabilities.map(df) })),
      nextSalt: (i: number) => deriveSalt(secret, saltLabel.segmentState(epoch, segment.id, i)),
    })),
    {
      batches: plan.list.map((lots) => lots.map(lf)),
      nextSalt: (i: number) => deriveSalt(secret, saltLabel.listState(epoch, i)),
    },
  );
  const { manifest, r, list } = chained;
  const segments: SegmentBuild[] = plan.segments.map(({ segment, batches }, s) =>
    segmentBuildOf(segment, batches, chained.segments[s] as SegmentBatchResult[], lf, df),
  );

  const jobs: ProofJob[] = [];
  for (const sb of segments) {
    for (const [b, res] of sb.batches.entries()) {
      jobs.push({
        id: segmentJobId(sb.segment.id, b),
        circuit: "segment",
        segmentId: sb.segment.id,
        batch: b,
        input: res.input,
        publicSignals: res.publicSignals,
      });
    }
  }
  for (const [b, res] of list.entries()) {
    jobs.push({
      id: listJobId(b),
      circuit: "lotlist",
      segmentId: null,
      batch: b,
      input: res.input,
      publicSignals: res.publicSignals,
    });
  }
  return { snapshot, profile, manifest, manifestHash: chained.manifestHash, r, segments, list, jobs };
}

/** Where each lot and liability of a segment sits (batch, leaf index, leaf) and its totals. */
function segmentBuildOf(
  segment: Segment,
  batches: readonly { lots: Lot[]; liabilities: Liability[] }[],
  results: SegmentBatchResult[],
  lf: (l: Lot) => LotFields,
  df: (l: Liability) => LiabilityFields,
): SegmentBuild {
  const lots: LotPlacement[] = [];
  const liabilities: LiabilityPlacement[] = [];
  const lotLeaf = (b: number, i: number) => (results[b] as SegmentBatchResult).lotLevels[0]?.[i] as bigint;
  const liabLeaf = (b: number, i: number) => (results[b] as SegmentBatchResult).liabLevels[0]?.[i] as bigint;
  batches.forEach((batch, b) => {
    for (const [i, lot] of batch.lots.entries()) {
      lots.push({ lot, fields: lf(lot), leaf: lotLeaf(b, i), batch: b, index: i });
    }
    for (const [i, liability] of batch.liabilities.entries()) {
      liabilities.push({ liability, fields: df(liability), leaf: liabLeaf(b, i), batch: b, index: i });
    }
  });
  const last = results[results.length - 1] as SegmentBatchResult;
  return {
    segment,
    batches: results,
    lots,
    liabilities,
    healthy: last.healthy,
    collateralValue: last.next.collSum,
    requiredValue: last.next.liabSum,
  };
}

/**
 * Leaf fields of every lot and liability, with their salts: HMAC(secret, label); a liability's
 * label counts earlier liabilities of the same account in the segment, so repeats differ.
 */
function leafFields(snapshot: Snapshot, secret: Uint8Array) {
  const epoch = snapshot.epoch;
  const lotFields = new Map<Lot, LotFields>();
  for (const l of snapshot.lots) {
    lotFields.set(l, {
      lotId: l.lotId,
      segmentId: l.segmentId,
      slot: BigInt(l.slot),
      amount: l.amount,
      salt: deriveSalt(secret, saltLabel.lot(epoch, l.segmentId, l.lotId)),
    });
  }
  const liabFields = new Map<Liability, LiabilityFields>();
  const occurrences = new Map<string, number>();
  for (const l of snapshot.liabilities) {
    const key = `${l.segmentId}:${l.accountId}`;
    const k = occurrences.get(key) ?? 0;
    occurrences.set(key, k + 1);
    liabFields.set(l, {
      accountId: l.accountId,
      segmentId: l.segmentId,
      slot: BigInt(l.slot),
      amount: l.amount,
      salt: deriveSalt(secret, saltLabel.liability(epoch, l.segmentId, l.accountId, k)),
    });
  }
  return { lotFields, liabFields };
}
