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
  deriveR,
  manifestHash as hashManifest,
  initPoseidon,
  type LiabilityFields,
  type LotFields,
  type Manifest,
  manifestAssets,
  type SlotParams,
} from "../spec/encoding.js";
import type { CircuitName, Profile } from "../spec/profiles.js";
import {
  buildListBatch,
  buildSegmentBatch,
  type CircuitInput,
  type ListBatchResult,
  type SegmentBatchResult,
} from "./inputs.js";
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

export function batchCount(lots: number, liabilities: number, profile: Profile): number {
  return Math.max(1, Math.ceil(lots / profile.lotsPerBatch), Math.ceil(liabilities / profile.liabsPerBatch));
}

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
  const segments: SegmentPlan[] = snapshot.segments.map((segment) => {
    const lots = lotsOf.get(segment.id) ?? [];
    const liabs = liabsOf.get(segment.id) ?? [];
    const n = batchCount(lots.length, liabs.length, profile);
    const batches = Array.from({ length: n }, (_, b) => ({
      lots: lots.slice(b * profile.lotsPerBatch, (b + 1) * profile.lotsPerBatch),
      liabilities: liabs.slice(b * profile.liabsPerBatch, (b + 1) * profile.liabsPerBatch),
    }));
    return { segment, batches };
  });
  const sorted = [...snapshot.lots].sort((a, b) => (a.lotId < b.lotId ? -1 : a.lotId > b.lotId ? 1 : 0));
  const G = profile.lotsPerGlobalBatch;
  const list: Lot[][] = [];
  for (let i = 0; i < sorted.length; i += G) list.push(sorted.slice(i, i + G));
  if (list.length === 0) list.push([]);
  return { profile, segments, list };
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

  // leaf fields and salts
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
  const lf = (l: Lot) => lotFields.get(l) as LotFields;
  const df = (l: Liability) => liabFields.get(l) as LiabilityFields;

  const buildSegments = (r: bigint): SegmentBatchResult[][] =>
    plan.segments.map(({ segment, batches }) => {
      const out: SegmentBatchResult[] = [];
      batches.forEach((b, i) => {
        const prev = out[i - 1];
        out.push(
          buildSegmentBatch({
            profile,
            epoch,
            segmentId: segment.id,
            marginBps: segment.marginBps,
            slots: slotParams(segment),
            isFirst: i === 0,
            isLast: i === batches.length - 1,
            r,
            prev: prev ? prev.next : null,
            nextSalt: deriveSalt(secret, saltLabel.segmentState(epoch, segment.id, i)),
            lots: b.lots.map(lf),
            liabilities: b.liabilities.map(df),
          }),
        );
      });
      return out;
    });
  const buildList = (r: bigint): ListBatchResult[] => {
    const out: ListBatchResult[] = [];
    plan.list.forEach((lots, i) => {
      const prev = out[i - 1];
      out.push(
        buildListBatch({
          profile,
          epoch,
          isFirst: i === 0,
          isLast: i === plan.list.length - 1,
          r,
          prev: prev ? prev.next : null,
          nextSalt: deriveSalt(secret, saltLabel.listState(epoch, i)),
          lots: lots.map(lf),
        }),
      );
    });
    return out;
  };

  // pass 1: commitments do not depend on r
  const roots = buildSegments(0n);
  const listRoots = buildList(0n);
  const manifest: Manifest = {
    epoch,
    segments: plan.segments.map(({ segment }, s) => {
      const bs = roots[s] as SegmentBatchResult[];
      return {
        id: segment.id,
        marginBps: segment.marginBps,
        params: (bs[0] as SegmentBatchResult).params,
        batchRoots: bs.map((b) => b.batchRoot),
        assets: manifestAssets(segment.slots),
      };
    }),
    globalCommitments: listRoots.map((b) => b.commitment),
  };
  const mHash = hashManifest(manifest);
  const r = deriveR(epoch, mHash);

  // pass 2: real inputs
  const segResults = buildSegments(r);
  const list = buildList(r);
  const segments: SegmentBuild[] = plan.segments.map(({ segment, batches }, s) => {
    const results = segResults[s] as SegmentBatchResult[];
    results.forEach((res, b) => {
      if (res.batchRoot !== manifest.segments[s]?.batchRoots[b])
        throw new Error("epoch: batch root changed with r");
    });
    const lots: LotPlacement[] = [];
    const liabilities: LiabilityPlacement[] = [];
    const lotLeafIndex = (b: number, i: number) =>
      (results[b] as SegmentBatchResult).lotLevels[0]?.[i] as bigint;
    const liabLeafIndex = (b: number, i: number) =>
      (results[b] as SegmentBatchResult).liabLevels[0]?.[i] as bigint;
    batches.forEach((batch, b) => {
      for (const [i, lot] of batch.lots.entries()) {
        lots.push({ lot, fields: lf(lot), leaf: lotLeafIndex(b, i), batch: b, index: i });
      }
      for (const [i, liability] of batch.liabilities.entries()) {
        liabilities.push({ liability, fields: df(liability), leaf: liabLeafIndex(b, i), batch: b, index: i });
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
  });
  list.forEach((res, b) => {
    if (res.commitment !== manifest.globalCommitments[b])
      throw new Error("epoch: list commitment changed with r");
  });

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
  return { snapshot, profile, manifest, manifestHash: mHash, r, segments, list, jobs };
}
