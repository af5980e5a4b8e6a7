/**
 * Epoch planning and witness building (docs/SPEC.md): splits a validated snapshot into segment
 * batches and global lot-list batches, computes every leaf and commitment, the manifest,
 * `manifestHash` and `r`, and then every batch's expected public signals, chaining each batch's
 * state into the next. Pure computation: nothing is proven or written.
 *
 * Bounded memory: the build keeps no circuit input (witness). Each input exists once while the
 * epoch is chained (`BuildOptions.onInput` sees it, e.g. to hash it) and is built again, one
 * batch at a time, by `EpochBuild.inputOf(job)` when a prover needs it (src/epoch/chain.ts).
 *
 * Batch plan (profile N lots, M liabilities per segment batch, G lots per list batch):
 *  - segment s gets max(minBatches, ceil(lots_s / N), ceil(liabs_s / M)) batches (minBatches is
 *    the padding policy, 1 by default); lots and liabilities are taken in snapshot order and fill
 *    batches from the first one;
 *  - salted dummy entries (src/epoch/dummies.ts) follow the real ones: one dummy lot in the first
 *    batch of a segment with no lot, one dummy liability in every batch with no liability, so no
 *    batch is all padding and no segment's fingerprint is 1;
 *  - the global list holds every lot, dummies included, sorted by lotId in batches of G (at
 *    least one batch), each with the global asset index of its slot (a dummy lot: slot 0's);
 *  - the verifier bound: at most 2^24 / max(N, M) batches per segment and 2^24 / G list batches
 *    (SPEC "Bounds"); a larger epoch is refused here, before anything is built.
 */

import type { Liability, Lot, Segment, Snapshot } from "../snapshot/snapshot.js";
import {
  initPoseidon,
  type LiabilityFields,
  type ListLot,
  type LotFields,
  type Manifest,
  manifestAssets,
  type SegmentResult,
  type SlotParams,
  segmentOutcome,
  unpackSegmentSlots,
  unpackStress,
} from "../spec/encoding.js";
import type { CircuitName, Profile } from "../spec/profiles.js";
import {
  type Batch,
  type BatchRef,
  chainEpochLazy,
  checkBatchBounds,
  type ListBatchInfo,
  type SegmentBatchInfo,
  splitListBatches,
  splitSegmentBatches,
} from "./chain.js";
import { dummyLiability, dummyLot } from "./dummies.js";
import { type CircuitInput, listLotOf } from "./inputs.js";

export type { ListBatchInfo, SegmentBatchInfo } from "./chain.js";

import { deriveSalt, saltLabel } from "./salts.js";

/** One segment batch: its real entries, then its dummy entries (slot 0, amount 0). */
export interface PlannedBatch {
  lots: Lot[];
  liabilities: Liability[];
  dummyLots: LotFields[];
  dummyLiabilities: LiabilityFields[];
}
export interface SegmentPlan {
  segment: Segment;
  batches: PlannedBatch[];
}
/** A lot of the global list: a real lot, or a segment's dummy lot. */
export type ListEntry = { lot: Lot } | { dummy: LotFields };
export interface EpochPlan {
  profile: Profile;
  minBatches: number;
  segments: SegmentPlan[];
  /** global lot list: lots (dummies included) sorted by lotId, in batches of G (at least one) */
  list: ListEntry[][];
}
export interface PlanOptions {
  /** pad every segment to at least this many batches (default 1; at most MAX_MIN_BATCHES) */
  minBatches?: number;
}

/** Upper bound of the padding policy: every batch is a proof (and a registry transaction). */
export const MAX_MIN_BATCHES = 1024;

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

/** minBatches must be an integer in [1, MAX_MIN_BATCHES]. */
export function checkMinBatches(n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_MIN_BATCHES)
    throw new Error(`minBatches: ${n} is not an integer in [1, ${MAX_MIN_BATCHES}]`);
  return n;
}

const listId = (e: ListEntry): bigint => ("lot" in e ? e.lot.lotId : e.dummy.lotId);

/**
 * The batch plan of an epoch, dummies included. Deterministic in (snapshot, profile, secret,
 * minBatches); needs no Poseidon (dummies are HMACs of the secret).
 */
export function planEpoch(
  snapshot: Snapshot,
  profile: Profile,
  secret: Uint8Array,
  opts: PlanOptions = {},
): EpochPlan {
  const minBatches = checkMinBatches(opts.minBatches ?? 1);
  const lotsOf = groupBySegment(snapshot.lots);
  const liabsOf = groupBySegment(snapshot.liabilities);
  const takenIds = new Set(snapshot.lots.map((l) => l.lotId));
  const segments: SegmentPlan[] = snapshot.segments.map((segment) => {
    const lots = lotsOf.get(segment.id) ?? [];
    const liabs = liabsOf.get(segment.id) ?? [];
    const split = splitSegmentBatches(lots, liabs, profile, minBatches);
    return { segment, batches: withDummies(snapshot.epoch, segment.id, split, secret, takenIds) };
  });
  const entries: ListEntry[] = [
    ...snapshot.lots.map((lot) => ({ lot })),
    ...segments.flatMap((s) => s.batches.flatMap((b) => b.dummyLots.map((dummy) => ({ dummy })))),
  ];
  entries.sort((a, b) => (listId(a) < listId(b) ? -1 : listId(a) > listId(b) ? 1 : 0));
  const list = splitListBatches(entries, profile);
  checkBatchBounds(
    profile,
    segments.map((s) => ({ segmentId: s.segment.id, batches: s.batches.length })),
    list.length,
  );
  return { profile, minBatches, segments, list };
}

/** A segment's batches with their dummies (see the header); `takenIds` gets the dummy lot ids. */
function withDummies(
  epoch: bigint,
  segmentId: bigint,
  batches: readonly Batch<Lot, Liability>[],
  secret: Uint8Array,
  takenIds: Set<bigint>,
): PlannedBatch[] {
  const accounts = new Set(batches.flatMap((b) => b.liabilities.map((l) => l.accountId)));
  const noLot = batches.every((b) => b.lots.length === 0);
  return batches.map((b, i) => ({
    ...b,
    dummyLots: noLot && i === 0 ? [dummyLot(secret, epoch, segmentId, takenIds)] : [],
    dummyLiabilities:
      b.liabilities.length === 0 ? [dummyLiability(secret, epoch, segmentId, i, accounts)] : [],
  }));
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
  /** every batch's roots, trees, chained state and public signals; no circuit input */
  batches: SegmentBatchInfo[];
  lots: LotPlacement[];
  liabilities: LiabilityPlacement[];
  /** what the last batch proves: health, a bit per stress scenario (K of them), coverage band */
  outcome: SegmentResult;
  healthy: boolean;
  /** the segment's named scenarios with their proven health (the first `stress.length` bits) */
  stress: { name: string; healthy: boolean }[];
  /** coverage band 0..4 (COVERAGE_BANDS) */
  band: number;
  /** per-slot amount totals (base units) of collateral and of liabilities */
  collateralTotals: bigint[];
  liabilityTotals: bigint[];
  /** Σ amount·price·cf (circuit units, see SPEC) */
  collateralValue: bigint;
  /** Σ amount·price·(10000 + margin) */
  requiredValue: bigint;
  /** dummy entries in the segment's batches (not positions: no receipt, no value) */
  dummies: { lots: number; liabilities: number };
}
export interface ProofJob {
  /** `segment-<id>-<batch>` or `lotlist-<batch>` */
  id: string;
  circuit: CircuitName;
  /** segment id, or null for the lot list */
  segmentId: bigint | null;
  batch: number;
  /** what the proof must expose, in circuit order */
  publicSignals: string[];
}
export interface EpochBuild {
  snapshot: Snapshot;
  profile: Profile;
  /** the padding policy the plan applied */
  minBatches: number;
  manifest: Manifest;
  manifestHash: string;
  r: bigint;
  segments: SegmentBuild[];
  list: ListBatchInfo[];
  /** segment jobs (segments in id order, batches in order), then the lot-list jobs */
  jobs: ProofJob[];
  /**
   * The circuit input of one job of this build, built now from the batch's entries and its
   * predecessor's state (equal to the one `onInput` saw). Nothing keeps it: a caller holds the
   * inputs it is proving, not the epoch's.
   */
  inputOf(job: ProofJob): CircuitInput;
}
export interface BuildOptions extends PlanOptions {
  /**
   * Called once per job, in job order, with its circuit input while the epoch is chained (e.g. to
   * hash it); the build does not keep the input.
   */
  onInput?: (job: ProofJob, input: CircuitInput) => void;
}

export function slotParams(segment: Segment): SlotParams[] {
  return segment.slots.map((s) => ({
    price: s.circuitPrice,
    cfBps: s.cfBps,
    asset: BigInt(s.asset),
    cap: s.cap,
    pooled: s.pooled,
  }));
}
/** The segment's stress factors: scenario x slot, bps of the price. */
export function stressFactors(segment: Segment): bigint[][] {
  return segment.stress.map((sc) => sc.factors);
}

export const segmentJobId = (segmentId: bigint, batch: number): string => `segment-${segmentId}-${batch}`;
export const listJobId = (batch: number): string => `lotlist-${batch}`;

/**
 * Builds the whole epoch: leaves, trees, manifest, r, then every batch's chained state and public
 * signals; circuit inputs are seen by `onInput` and rebuilt by `inputOf` (see the header).
 * Deterministic in (snapshot, profile, secret, minBatches).
 */
export async function buildEpoch(
  snapshot: Snapshot,
  profile: Profile,
  secret: Uint8Array,
  opts: BuildOptions = {},
): Promise<EpochBuild> {
  await initPoseidon();
  const plan = planEpoch(snapshot, profile, secret, opts);
  const epoch = snapshot.epoch;

  const { lotFields, liabFields } = leafFields(snapshot, secret);
  const lf = (l: Lot) => lotFields.get(l) as LotFields;
  const df = (l: Liability) => liabFields.get(l) as LiabilityFields;
  const slotsOf = new Map(snapshot.segments.map((sg) => [sg.id, slotParams(sg)]));
  const listLot = (f: LotFields): ListLot => listLotOf(slotsOf.get(f.segmentId) ?? [], f);

  const jobOf = (ref: BatchRef, publicSignals: string[]): ProofJob => {
    if (ref.segment === null) {
      const id = listJobId(ref.batch);
      return { id, circuit: "lotlist", segmentId: null, batch: ref.batch, publicSignals };
    }
    const segmentId = (plan.segments[ref.segment] as SegmentPlan).segment.id;
    const id = segmentJobId(segmentId, ref.batch);
    return { id, circuit: "segment", segmentId, batch: ref.batch, publicSignals };
  };
  const jobs: ProofJob[] = [];
  const refs = new Map<string, BatchRef>();
  const chained = chainEpochLazy(
    profile,
    epoch,
    plan.segments.map(({ segment, batches }) => ({
      segmentId: segment.id,
      marginBps: segment.marginBps,
      slots: slotParams(segment),
      stress: stressFactors(segment),
      assets: manifestAssets(segment.slots),
      // real entries first (placements index them), then the dummies
      batches: batches.map((b) => ({
        lots: [...b.lots.map(lf), ...b.dummyLots],
        liabilities: [...b.liabilities.map(df), ...b.dummyLiabilities],
      })),
      nextSalt: (i: number) => deriveSalt(secret, saltLabel.segmentState(epoch, segment.id, i)),
    })),
    {
      globalAssets: manifestAssets(snapshot.assets),
      poolCaps: snapshot.poolCaps,
      batches: plan.list.map((entries) => entries.map((e) => listLot("lot" in e ? lf(e.lot) : e.dummy))),
      nextSalt: (i: number) => deriveSalt(secret, saltLabel.listState(epoch, i)),
    },
    {
      // segment jobs (segments in order, batches in order), then the lot-list jobs
      onBatch: (ref, res) => {
        const job = jobOf(ref, res.publicSignals);
        jobs.push(job);
        refs.set(job.id, ref);
        opts.onInput?.(job, res.input);
      },
    },
  );
  const { manifest, r, list } = chained;
  const segments: SegmentBuild[] = plan.segments.map(({ segment, batches }, s) =>
    segmentBuildOf(segment, batches, chained.segments[s] as SegmentBatchInfo[], lf, df),
  );
  const inputOf = (job: ProofJob): CircuitInput => {
    const ref = refs.get(job.id);
    if (!ref) throw new Error(`epoch: no job ${job.id} in this build`);
    return chained.rebuild(ref).input;
  };
  const { minBatches } = plan;
  return {
    snapshot,
    profile,
    minBatches,
    manifest,
    manifestHash: chained.manifestHash,
    r,
    segments,
    list,
    jobs,
    inputOf,
  };
}

/**
 * Where each real lot and liability of a segment sits (batch, leaf index, leaf) and its totals;
 * dummies get no placement (hence no receipt) and add nothing to the totals (amount 0).
 */
function segmentBuildOf(
  segment: Segment,
  batches: readonly PlannedBatch[],
  results: SegmentBatchInfo[],
  lf: (l: Lot) => LotFields,
  df: (l: Liability) => LiabilityFields,
): SegmentBuild {
  const lots: LotPlacement[] = [];
  const liabilities: LiabilityPlacement[] = [];
  const lotLeaf = (b: number, i: number) => (results[b] as SegmentBatchInfo).lotLeaves[i] as bigint;
  const liabLeaf = (b: number, i: number) => (results[b] as SegmentBatchInfo).liabLeaves[i] as bigint;
  batches.forEach((batch, b) => {
    for (const [i, lot] of batch.lots.entries()) {
      lots.push({ lot, fields: lf(lot), leaf: lotLeaf(b, i), batch: b, index: i });
    }
    for (const [i, liability] of batch.liabilities.entries()) {
      liabilities.push({ liability, fields: df(liability), leaf: liabLeaf(b, i), batch: b, index: i });
    }
  });
  const last = results[results.length - 1] as SegmentBatchInfo;
  const outcome = last.outcome as SegmentResult;
  const K = outcome.stress.length;
  const A = last.slots.length;
  const values = segmentOutcome(
    last.next.coll,
    last.next.liab,
    unpackSegmentSlots(last.slots),
    segment.marginBps,
    unpackStress(last.stress, K, A),
  );
  return {
    segment,
    batches: results,
    lots,
    liabilities,
    outcome,
    healthy: outcome.healthy,
    stress: segment.stress.map((sc, k) => ({ name: sc.name, healthy: outcome.stress[k] as boolean })),
    band: outcome.band,
    collateralTotals: last.next.coll.slice(0, segment.slots.length),
    liabilityTotals: last.next.liab.slice(0, segment.slots.length),
    collateralValue: values.collValue,
    requiredValue: values.reqValue,
    dummies: {
      lots: batches.reduce((n, b) => n + b.dummyLots.length, 0),
      liabilities: batches.reduce((n, b) => n + b.dummyLiabilities.length, 0),
    },
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
