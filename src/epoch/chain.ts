/**
 * Batch chaining, the one routine for it: split a segment's entries (or the sorted lot list)
 * into batches, build every batch's circuit input with the previous batch's state carried into
 * the next, and do it twice for a whole epoch — first with r = 0 for the commitments (they do
 * not depend on r), then, after the manifest fixes r = H(epoch, manifestHash), for real.
 * Used by the pipeline (src/epoch/plan.ts) and by the circuit and chain test fixtures.
 */
import {
  deriveR,
  manifestHash as hashManifest,
  type LiabilityFields,
  type ListLot,
  type ListState,
  type LotFields,
  type Manifest,
  type ManifestAsset,
  maxListBatches,
  maxSegmentBatches,
  packListCaps,
  type SegmentState,
  type SlotParams,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import {
  buildListBatch,
  buildSegmentBatch,
  type ListBatchResult,
  type SegmentBatchResult,
} from "./inputs.js";

export interface Batch<L, D> {
  lots: L[];
  liabilities: D[];
}

/**
 * Number of batches of a segment: max(minBatches, ceil(lots / N), ceil(liabilities / M)), with
 * minBatches >= 1 (the publisher's padding policy; 1 by default).
 */
export function batchCount(lots: number, liabilities: number, profile: Profile, minBatches = 1): number {
  return Math.max(
    1,
    minBatches,
    Math.ceil(lots / profile.lotsPerBatch),
    Math.ceil(liabilities / profile.liabsPerBatch),
  );
}

/**
 * The verifier bound (SPEC "Bounds"): a segment may have at most 2^24 / max(N, M) batches and the
 * lot list at most 2^24 / G, so no per-slot or per-asset total can reach 2^120. The planner
 * refuses an epoch the verifiers would reject.
 */
export function checkBatchBounds(
  profile: Profile,
  segments: readonly { segmentId: bigint; batches: number }[],
  listBatches: number,
): void {
  const maxSeg = maxSegmentBatches(profile);
  for (const s of segments) {
    if (s.batches > maxSeg) {
      throw new Error(
        `segment ${s.segmentId}: ${s.batches} batches exceed the verifier bound of ${maxSeg} (2^24 / max(N, M) with profile "${profile.name}"; every total must stay below 2^120)`,
      );
    }
  }
  const maxList = maxListBatches(profile);
  if (listBatches > maxList) {
    throw new Error(
      `lot list: ${listBatches} batches exceed the verifier bound of ${maxList} (2^24 / G with profile "${profile.name}")`,
    );
  }
}

/** Batches of a segment (`batchCount` of them), entries in order, filled from the first. */
export function splitSegmentBatches<L, D>(
  lots: readonly L[],
  liabilities: readonly D[],
  profile: Profile,
  minBatches = 1,
): Batch<L, D>[] {
  const { lotsPerBatch: N, liabsPerBatch: M } = profile;
  const n = batchCount(lots.length, liabilities.length, profile, minBatches);
  return Array.from({ length: n }, (_, b) => ({
    lots: lots.slice(b * N, (b + 1) * N),
    liabilities: liabilities.slice(b * M, (b + 1) * M),
  }));
}

/** Batches of G lots of the global list (at least one, maybe empty). */
export function splitListBatches<L>(lots: readonly L[], profile: Profile): L[][] {
  const G = profile.lotsPerGlobalBatch;
  const out: L[][] = [];
  for (let i = 0; i < lots.length; i += G) out.push(lots.slice(i, i + G));
  if (out.length === 0) out.push([]);
  return out;
}

export interface SegmentChainRequest {
  profile: Profile;
  epoch: bigint;
  segmentId: bigint;
  marginBps: bigint;
  slots: readonly SlotParams[];
  /** stress factors: scenario x used slot (missing: 10000) */
  stress: readonly (readonly bigint[])[];
  r: bigint;
  batches: readonly Batch<LotFields, LiabilityFields>[];
  /** salt of the state batch `b` produces (called once per batch, in order) */
  nextSalt: (batch: number) => bigint;
}

/**
 * The chaining itself: batch i is built from batch i-1's resulting state (none for the first),
 * knowing whether it is the first and the last.
 */
function chainBatches<B, S, R extends { next: S }>(
  batches: readonly B[],
  build: (batch: B, i: number, prev: S | null, isFirst: boolean, isLast: boolean) => R,
): R[] {
  const out: R[] = [];
  batches.forEach((b, i) => {
    out.push(build(b, i, out[i - 1]?.next ?? null, i === 0, i === batches.length - 1));
  });
  return out;
}

/** Every batch input of one segment, each batch starting from the previous batch's state. */
export function chainSegmentBatches(q: SegmentChainRequest): SegmentBatchResult[] {
  const { profile, epoch, segmentId, marginBps, slots, stress, r } = q;
  return chainBatches(q.batches, (b, i, prev: SegmentState | null, isFirst, isLast) =>
    buildSegmentBatch({
      profile,
      epoch,
      segmentId,
      marginBps,
      slots,
      stress,
      r,
      isFirst,
      isLast,
      prev,
      nextSalt: q.nextSalt(i),
      ...b,
    }),
  );
}

export interface ListChainRequest {
  profile: Profile;
  epoch: bigint;
  r: bigint;
  /** pooled custody caps per global asset (missing: UNBOUNDED_CAP) */
  poolCaps: readonly bigint[];
  /** lots (lotId, global asset, amount) in strictly increasing lotId order, split into batches */
  batches: readonly (readonly ListLot[])[];
  nextSalt: (batch: number) => bigint;
}

/** Every batch input of the global lot list, chained. */
export function chainListBatches(q: ListChainRequest): ListBatchResult[] {
  const { profile, epoch, r, poolCaps } = q;
  return chainBatches(q.batches, (lots, i, prev: ListState | null, isFirst, isLast) =>
    buildListBatch({ profile, epoch, r, isFirst, isLast, prev, nextSalt: q.nextSalt(i), poolCaps, lots }),
  );
}

/** A segment of an epoch: its batch chain plus the asset slots the manifest commits to. */
export type EpochSegmentChain = Omit<SegmentChainRequest, "profile" | "epoch" | "r"> & {
  assets: ManifestAsset[];
};
export type EpochListChain = Omit<ListChainRequest, "profile" | "epoch" | "r"> & {
  /** the epoch's asset table (global asset index g = position) */
  globalAssets: ManifestAsset[];
};

export interface ChainedEpoch {
  manifest: Manifest;
  manifestHash: string;
  r: bigint;
  /** per segment (in the given order), its batches */
  segments: SegmentBatchResult[][];
  list: ListBatchResult[];
}

/**
 * A whole epoch in two passes: commitments with r = 0, the manifest and r from them, then every
 * input with the real r. Segments must be given in strictly increasing id order (the manifest
 * requires it). Throws if a commitment changed with r (it must not: r only enters fingerprints).
 */
export function chainEpoch(
  profile: Profile,
  epoch: bigint,
  segments: readonly EpochSegmentChain[],
  list: EpochListChain,
): ChainedEpoch {
  checkBatchBounds(
    profile,
    segments.map((s) => ({ segmentId: s.segmentId, batches: s.batches.length })),
    list.batches.length,
  );
  const pass = (r: bigint) => ({
    segments: segments.map((s) => chainSegmentBatches({ ...s, profile, epoch, r })),
    list: chainListBatches({ ...list, profile, epoch, r }),
  });
  const draft = pass(0n);
  const manifest: Manifest = {
    epoch,
    globalAssets: list.globalAssets,
    poolCaps: packListCaps(list.poolCaps, profile.globalAssets),
    segments: segments.map((s, i) => {
      const bs = draft.segments[i] as SegmentBatchResult[];
      const first = bs[0] as SegmentBatchResult;
      return {
        id: s.segmentId,
        marginBps: s.marginBps,
        slots: first.slots,
        stress: first.stress,
        batchRoots: bs.map((b) => b.batchRoot),
        assets: s.assets,
      };
    }),
    globalCommitments: draft.list.map((b) => b.commitment),
  };
  const mHash = hashManifest(manifest);
  const r = deriveR(epoch, mHash);
  const real = pass(r);
  real.segments.forEach((bs, s) => {
    bs.forEach((res, b) => {
      if (res.batchRoot !== manifest.segments[s]?.batchRoots[b])
        throw new Error("epoch: batch root changed with r");
    });
  });
  real.list.forEach((res, b) => {
    if (res.commitment !== manifest.globalCommitments[b])
      throw new Error("epoch: list commitment changed with r");
  });
  return { manifest, manifestHash: mHash, r, ...real };
}
