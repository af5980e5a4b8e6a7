/**
 * The one builder of circuit inputs (witness JSON) for both circuits, shared by the prover,
 * the CLI, the benchmarks and the circuit tests. It also computes, off-circuit, every public
 * value the proof will expose, so callers can build the manifest before proving anything.
 */
import {
  batchRoot,
  EMPTY_STATE,
  encodeListSignals,
  encodeSegmentSignals,
  FIELD_P,
  type LiabilityFields,
  type ListState,
  type LotFields,
  liabilityLeaf,
  listCommitment,
  listStateHash,
  lotLeaf,
  merkleLevels,
  mod,
  packListMeta,
  packSegmentMeta,
  packSegmentParams,
  type SegmentState,
  type SlotParams,
  segmentStateHash,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";

/**
 * Witness input of the segment circuit (circuits/segment_batch.circom), as decimal strings;
 * arrays have N (lot*), M (liab*) or A/2 (params) entries. (Type aliases, not interfaces, so
 * they stay assignable to snarkjs' `Record<string, unknown>`.)
 */
export type SegmentInput = {
  r: string;
  prevState: string;
  meta: string;
  params: string[];
  prevColl: string;
  prevLiab: string;
  prevFp: string;
  prevSalt: string;
  nextSalt: string;
  lotId: string[];
  lotSlot: string[];
  lotAmount: string[];
  lotSalt: string[];
  lotActive: string[];
  liabAccount: string[];
  liabSlot: string[];
  liabAmount: string[];
  liabSalt: string[];
  liabActive: string[];
};

/** Witness input of the lot-list circuit (circuits/lot_list_batch.circom); arrays have G entries. */
export type ListInput = {
  r: string;
  prevState: string;
  meta: string;
  prevLastId: string;
  prevFp: string;
  prevSalt: string;
  nextSalt: string;
  lotId: string[];
  lotSegment: string[];
  lotSlot: string[];
  lotAmount: string[];
  lotSalt: string[];
  lotActive: string[];
};

export type CircuitInput = SegmentInput | ListInput;

const str = (xs: readonly bigint[]): string[] => xs.map(String);

export interface SegmentBatchRequest {
  profile: Profile;
  epoch: bigint;
  segmentId: bigint;
  marginBps: bigint;
  /** the segment's used asset slots (unused ones are filled per SPEC) */
  slots: readonly SlotParams[];
  isFirst: boolean;
  isLast: boolean;
  r: bigint;
  /** state after the previous batch; ignored (empty) when isFirst */
  prev: SegmentState | null;
  /** salt of the state this batch produces */
  nextSalt: bigint;
  lots: readonly LotFields[];
  liabilities: readonly LiabilityFields[];
}

export interface SegmentBatchResult {
  input: SegmentInput;
  /** public signals the proof will have, in circuit order */
  publicSignals: string[];
  next: SegmentState;
  nextState: bigint;
  prevState: bigint;
  lotLevels: bigint[][];
  liabLevels: bigint[][];
  lotRoot: bigint;
  liabRoot: bigint;
  batchRoot: bigint;
  healthy: boolean;
  fingerprint: bigint;
  meta: bigint;
  params: bigint[];
}

/** Σ amount·price·cf and Σ amount·price·(10000+margin) for one batch, as the circuit computes. */
export function batchValues(
  slots: readonly SlotParams[],
  marginBps: bigint,
  lots: readonly { slot: bigint; amount: bigint }[],
  liabilities: readonly { slot: bigint; amount: bigint }[],
): { coll: bigint; liab: bigint } {
  const slot = (i: bigint): SlotParams => {
    const s = slots[Number(i)];
    if (!s) throw new Error(`slot ${i} is not a priced asset slot of the segment`);
    return s;
  };
  let coll = 0n;
  let liab = 0n;
  // an amount of 0 adds 0 in any slot (the circuit admits every slot < A): a dummy entry sits in
  // slot 0 even in a segment that prices no asset (slot 0 is then padding: price 1, cf 0)
  for (const l of lots) if (l.amount !== 0n) coll += l.amount * slot(l.slot).price * slot(l.slot).cfBps;
  for (const l of liabilities)
    if (l.amount !== 0n) liab += l.amount * slot(l.slot).price * (10000n + marginBps);
  return { coll, liab };
}

/** A batch must fit the profile and hold only entries of its own segment. */
function checkSegmentBatch(q: SegmentBatchRequest): void {
  const { lotsPerBatch: N, liabsPerBatch: M } = q.profile;
  if (q.lots.length > N)
    throw new Error(`segment ${q.segmentId}: ${q.lots.length} lots exceed a batch of ${N}`);
  if (q.liabilities.length > M) {
    throw new Error(`segment ${q.segmentId}: ${q.liabilities.length} liabilities exceed a batch of ${M}`);
  }
  for (const l of q.lots) {
    if (l.segmentId !== q.segmentId) throw new Error(`lot ${l.lotId}: belongs to segment ${l.segmentId}`);
  }
  for (const l of q.liabilities) {
    if (l.segmentId !== q.segmentId) throw new Error(`liability: belongs to segment ${l.segmentId}`);
  }
}

const pad = (xs: bigint[], n: number): bigint[] => [...xs, ...Array<bigint>(n - xs.length).fill(0n)];

/** The witness input: public values, the carried state, and the entries padded to N and M. */
function segmentInputOf(
  q: SegmentBatchRequest,
  prev: SegmentState,
  prevState: bigint,
  meta: bigint,
  params: bigint[],
): SegmentInput {
  const { lotsPerBatch: N, liabsPerBatch: M } = q.profile;
  const col = <T>(xs: readonly T[], f: (x: T) => bigint, n: number): string[] => str(pad(xs.map(f), n));
  return {
    r: String(q.r),
    prevState: String(prevState),
    meta: String(meta),
    params: str(params),
    prevColl: String(prev.collSum),
    prevLiab: String(prev.liabSum),
    prevFp: String(prev.fp),
    prevSalt: String(prev.salt),
    nextSalt: String(q.nextSalt),
    lotId: col(q.lots, (l) => l.lotId, N),
    lotSlot: col(q.lots, (l) => l.slot, N),
    lotAmount: col(q.lots, (l) => l.amount, N),
    lotSalt: col(q.lots, (l) => l.salt, N),
    lotActive: col(q.lots, () => 1n, N),
    liabAccount: col(q.liabilities, (l) => l.accountId, M),
    liabSlot: col(q.liabilities, (l) => l.slot, M),
    liabAmount: col(q.liabilities, (l) => l.amount, M),
    liabSalt: col(q.liabilities, (l) => l.salt, M),
    liabActive: col(q.liabilities, () => 1n, M),
  };
}

export function buildSegmentBatch(q: SegmentBatchRequest): SegmentBatchResult {
  checkSegmentBatch(q);
  const { lotsPerBatch: N, liabsPerBatch: M, assetsPerSegment: A } = q.profile;
  const params = packSegmentParams(q.slots, A);
  const meta = packSegmentMeta({
    segmentId: q.segmentId,
    marginBps: q.marginBps,
    isFirst: q.isFirst,
    isLast: q.isLast,
    epoch: q.epoch,
  });
  const prev: SegmentState = q.isFirst || !q.prev ? { collSum: 0n, liabSum: 0n, fp: 1n, salt: 0n } : q.prev;
  if (!q.isFirst && !q.prev) throw new Error("a batch that is not first needs the previous state");
  const prevState = q.isFirst ? EMPTY_STATE : segmentStateHash(prev);

  const lotLeaves = q.lots.map(lotLeaf);
  const liabLeaves = q.liabilities.map(liabilityLeaf);
  const lotLevels = merkleLevels(pad(lotLeaves, N));
  const liabLevels = merkleLevels(pad(liabLeaves, M));
  const lotRoot = (lotLevels[lotLevels.length - 1] as bigint[])[0] as bigint;
  const liabRoot = (liabLevels[liabLevels.length - 1] as bigint[])[0] as bigint;
  const root = batchRoot(lotRoot, liabRoot);

  const { coll, liab } = batchValues(q.slots, q.marginBps, q.lots, q.liabilities);
  let fp = prev.fp;
  for (const leaf of lotLeaves) fp = (fp * mod(q.r - leaf)) % FIELD_P;
  const next: SegmentState = {
    collSum: prev.collSum + coll,
    liabSum: prev.liabSum + liab,
    fp,
    salt: q.nextSalt,
  };
  const nextState = segmentStateHash(next);
  const healthy = q.isLast && next.collSum >= next.liabSum;
  const fingerprint = q.isLast ? fp : 0n;

  const input = segmentInputOf(q, prev, prevState, meta, params);
  const publicSignals = encodeSegmentSignals({
    nextState,
    batchRoot: root,
    healthy: healthy ? 1n : 0n,
    fingerprint,
    r: q.r,
    prevState,
    meta,
    params,
  });
  return {
    input,
    publicSignals,
    next,
    nextState,
    prevState,
    lotLevels,
    liabLevels,
    lotRoot,
    liabRoot,
    batchRoot: root,
    healthy,
    fingerprint,
    meta,
    params,
  };
}

export interface ListBatchRequest {
  profile: Profile;
  epoch: bigint;
  isFirst: boolean;
  isLast: boolean;
  r: bigint;
  prev: ListState | null;
  nextSalt: bigint;
  /** lots of this batch, in strictly increasing lotId order */
  lots: readonly LotFields[];
}
export interface ListBatchResult {
  input: ListInput;
  publicSignals: string[];
  next: ListState;
  nextState: bigint;
  prevState: bigint;
  leaves: bigint[];
  commitment: bigint;
  fingerprint: bigint;
  meta: bigint;
}

export function buildListBatch(q: ListBatchRequest): ListBatchResult {
  const G = q.profile.lotsPerGlobalBatch;
  if (q.lots.length > G) throw new Error(`lot list: ${q.lots.length} lots exceed a batch of ${G}`);
  if (!q.isFirst && !q.prev) throw new Error("a batch that is not first needs the previous state");
  const prev: ListState = q.isFirst || !q.prev ? { lastId: 0n, fp: 1n, salt: 0n } : q.prev;
  const prevState = q.isFirst ? EMPTY_STATE : listStateHash(prev);
  let last = prev.lastId;
  for (const l of q.lots) {
    if (l.lotId <= last) throw new Error(`lot list: lotId ${l.lotId} is not above the previous id ${last}`);
    last = l.lotId;
  }
  const leaves = q.lots.map(lotLeaf);
  const padded = [...leaves, ...Array<bigint>(G - leaves.length).fill(0n)];
  const commitment = listCommitment(padded);
  let fp = prev.fp;
  for (const leaf of leaves) fp = (fp * mod(q.r - leaf)) % FIELD_P;
  const next: ListState = { lastId: last, fp, salt: q.nextSalt };
  const nextState = listStateHash(next);
  const meta = packListMeta({ isFirst: q.isFirst, isLast: q.isLast, epoch: q.epoch });
  const fingerprint = q.isLast ? fp : 0n;
  const col = (f: (x: LotFields) => bigint): string[] =>
    str([...q.lots.map(f), ...Array<bigint>(G - q.lots.length).fill(0n)]);
  const input: ListInput = {
    r: String(q.r),
    prevState: String(prevState),
    meta: String(meta),
    prevLastId: String(prev.lastId),
    prevFp: String(prev.fp),
    prevSalt: String(prev.salt),
    nextSalt: String(q.nextSalt),
    lotId: col((l) => l.lotId),
    lotSegment: col((l) => l.segmentId),
    lotSlot: col((l) => l.slot),
    lotAmount: col((l) => l.amount),
    lotSalt: col((l) => l.salt),
    lotActive: col(() => 1n),
  };
  const publicSignals = encodeListSignals({ nextState, commitment, fingerprint, r: q.r, prevState, meta });
  return { input, publicSignals, next, nextState, prevState, leaves, commitment, fingerprint, meta };
}
