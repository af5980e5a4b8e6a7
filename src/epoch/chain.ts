/**
 * Batch chaining, the one routine for it: split a segment's entries (or the sorted lot list)
 * into batches, build every batch's circuit input with the previous batch's state carried into
 * the next, and do it twice for a whole epoch — first with r = 0 for the commitments (they do
 * not depend on r), then, after the manifest fixes r = H(epoch, manifestHash), for real.
 * Used by the pipeline (src/epoch/plan.ts) and by the circuit and chain test fixtures.
 *
 * Bounded memory (`chainEpochLazy`, the pipeline's form): both passes stream, one batch at a
 * time. The first keeps only each batch's commitment; the second keeps everything about a batch
 * but its circuit input (leaves, commitments, chained state, public signals), and hands each input to an
 * optional callback before dropping it. An input is rebuilt on demand, one batch at a time, from
 * the batch's entries and its predecessor's state, so no caller ever holds the inputs of a whole
 * epoch (`chainEpoch` still returns them all, for the small test fixtures).
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
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import {
  buildListBatch,
  buildSegmentBatch,
  type ListBatchResult,
  type SegmentBatchRequest,
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

/** A segment's batch requests, less what chaining derives per batch (first/last, prev, salt). */
export interface SegmentChainRequest
  extends Omit<SegmentBatchRequest, "isFirst" | "isLast" | "prev" | "nextSalt" | "lots" | "liabilities"> {
  batches: readonly Batch<LotFields, LiabilityFields>[];
  /** salt of the state batch `b` produces (deterministic: called again when a batch is rebuilt) */
  nextSalt: (batch: number) => bigint;
}

/**
 * The chaining itself: batch i is built from batch i-1's resulting state (none for the first),
 * one batch at a time; only the last state is carried.
 */
function* chainStream<B, S, R extends { next: S }>(
  batches: readonly B[],
  build: (batch: B, i: number, prev: S | null) => R,
): Generator<R> {
  let prev: S | null = null;
  for (const [i, b] of batches.entries()) {
    const res = build(b, i, prev);
    prev = res.next;
    yield res;
  }
}

/** Batch `i` of a segment, from the previous batch's state (null for the first). */
function segmentBatchOf(
  q: SegmentChainRequest,
  b: Batch<LotFields, LiabilityFields>,
  i: number,
  prev: SegmentState | null,
): SegmentBatchResult {
  const { profile, epoch, segmentId, marginBps, slots, stress, r } = q;
  return buildSegmentBatch({
    profile,
    epoch,
    segmentId,
    marginBps,
    slots,
    stress,
    r,
    isFirst: i === 0,
    isLast: i === q.batches.length - 1,
    prev,
    nextSalt: q.nextSalt(i),
    ...b,
  });
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

/** Batch `i` of the global lot list, from the previous batch's state (null for the first). */
function listBatchOf(
  q: ListChainRequest,
  lots: readonly ListLot[],
  i: number,
  prev: ListState | null,
): ListBatchResult {
  const { profile, epoch, r, poolCaps } = q;
  const isFirst = i === 0;
  const isLast = i === q.batches.length - 1;
  return buildListBatch({
    profile,
    epoch,
    r,
    isFirst,
    isLast,
    prev,
    nextSalt: q.nextSalt(i),
    poolCaps,
    lots,
  });
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

/** What an epoch keeps of a batch: everything but its circuit input (rebuilt on demand). */
export type SegmentBatchInfo = Omit<SegmentBatchResult, "input">;
export type ListBatchInfo = Omit<ListBatchResult, "input">;

/** Which batch: a segment's (its index in the given order) or the lot list's (segment null). */
export interface BatchRef {
  segment: number | null;
  batch: number;
}

export interface LazyChainedEpoch {
  manifest: Manifest;
  manifestHash: string;
  r: bigint;
  /** per segment (in the given order), its batches without their inputs */
  segments: SegmentBatchInfo[][];
  list: ListBatchInfo[];
  /**
   * One batch built again, input included, from its entries and its predecessor's state (the
   * same result as the chained pass). Costs one batch's leaves, commitments and hashes.
   */
  rebuild(ref: BatchRef): SegmentBatchResult | ListBatchResult;
}

export interface LazyChainOptions {
  /**
   * Called once per batch of the real pass (segments in order, each batch in order, then the lot
   * list), with the full result while it exists; the epoch keeps it without its input.
   */
  onBatch?: (ref: BatchRef, res: SegmentBatchResult | ListBatchResult) => void;
}

const withoutInput = <T extends { input: unknown }>(res: T): Omit<T, "input"> => {
  const { input: _input, ...rest } = res;
  return rest;
};

/** The segment chain of one segment with the given r. */
const segmentStream = (q: SegmentChainRequest) =>
  chainStream(q.batches, (b, i, prev: SegmentState | null) => segmentBatchOf(q, b, i, prev));
/** The lot-list chain with the given r. */
const listStream = (q: ListChainRequest) =>
  chainStream(q.batches, (lots, i, prev: ListState | null) => listBatchOf(q, lots, i, prev));

/** The manifest from the first pass (r = 0), keeping one commitment per batch at a time. */
function draftManifest(
  profile: Profile,
  epoch: bigint,
  segments: readonly EpochSegmentChain[],
  list: EpochListChain,
): Manifest {
  const globalCommitments: bigint[] = [];
  for (const res of listStream({ ...list, profile, epoch, r: 0n })) globalCommitments.push(res.commitment);
  return {
    epoch,
    globalAssets: list.globalAssets,
    poolCaps: packListCaps(list.poolCaps, profile.globalAssets),
    segments: segments.map((s) => {
      const batchRoots: bigint[] = [];
      // the slot and stress words are the segment's, the same in every batch: the first's
      let slots: bigint[] = [];
      let stress: bigint[] = [];
      for (const res of segmentStream({ ...s, profile, epoch, r: 0n })) {
        if (batchRoots.length === 0) ({ slots, stress } = res);
        batchRoots.push(res.batchRoot);
      }
      return { id: s.segmentId, marginBps: s.marginBps, slots, stress, batchRoots, assets: s.assets };
    }),
    globalCommitments,
  };
}

/**
 * A whole epoch in two streaming passes (see the header): commitments with r = 0, the manifest
 * and r from them, then every batch with the real r, kept without its input. Segments must be
 * given in strictly increasing id order (the manifest requires it). Refuses an epoch beyond the
 * verifier bound (`checkBatchBounds`). Throws if a commitment changed with r (it must not: r only
 * enters fingerprints).
 */
export function chainEpochLazy(
  profile: Profile,
  epoch: bigint,
  segments: readonly EpochSegmentChain[],
  list: EpochListChain,
  opts: LazyChainOptions = {},
): LazyChainedEpoch {
  // the verifier bound, before anything is built
  checkBatchBounds(
    profile,
    segments.map((s) => ({ segmentId: s.segmentId, batches: s.batches.length })),
    list.batches.length,
  );
  const manifest = draftManifest(profile, epoch, segments, list);
  const mHash = hashManifest(manifest);
  const r = deriveR(epoch, mHash);
  const segQ = segments.map((s) => ({ ...s, profile, epoch, r }));
  const listQ: ListChainRequest = { ...list, profile, epoch, r };
  const segInfos = segQ.map((q, s) => {
    const infos: SegmentBatchInfo[] = [];
    for (const res of segmentStream(q)) {
      const b = infos.length;
      if (res.batchRoot !== manifest.segments[s]?.batchRoots[b])
        throw new Error("epoch: batch root changed with r");
      opts.onBatch?.({ segment: s, batch: b }, res);
      infos.push(withoutInput(res));
    }
    return infos;
  });
  const listInfos: ListBatchInfo[] = [];
  for (const res of listStream(listQ)) {
    const b = listInfos.length;
    if (res.commitment !== manifest.globalCommitments[b])
      throw new Error("epoch: list commitment changed with r");
    opts.onBatch?.({ segment: null, batch: b }, res);
    listInfos.push(withoutInput(res));
  }
  const rebuild = ({ segment, batch }: BatchRef): SegmentBatchResult | ListBatchResult => {
    if (segment === null) {
      const lots = listQ.batches[batch];
      if (!lots) throw new Error(`epoch: no lot-list batch ${batch}`);
      return listBatchOf(listQ, lots, batch, batch === 0 ? null : (listInfos[batch - 1]?.next ?? null));
    }
    const q = segQ[segment];
    const b = q?.batches[batch];
    if (!q || !b) throw new Error(`epoch: no batch ${batch} in segment #${segment}`);
    const prev = batch === 0 ? null : (segInfos[segment]?.[batch - 1]?.next ?? null);
    return segmentBatchOf(q, b, batch, prev);
  };
  return { manifest, manifestHash: mHash, r, segments: segInfos, list: listInfos, rebuild };
}

/**
 * A whole epoch with every batch's input (test fixtures; the pipeline uses `chainEpochLazy`).
 * Segments must be given in strictly increasing id order; the same bound and checks as
 * `chainEpochLazy`.
 */
export function chainEpoch(
  profile: Profile,
  epoch: bigint,
  segments: readonly EpochSegmentChain[],
  list: EpochListChain,
): ChainedEpoch {
  const e = chainEpochLazy(profile, epoch, segments, list);
  return {
    manifest: e.manifest,
    manifestHash: e.manifestHash,
    r: e.r,
    segments: e.segments.map((bs, s) =>
      bs.map((_, batch) => e.rebuild({ segment: s, batch }) as SegmentBatchResult),
    ),
    list: e.list.map((_, batch) => e.rebuild({ segment: null, batch }) as ListBatchResult),
  };
}
