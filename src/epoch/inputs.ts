/**
 * The one builder of circuit inputs (witness JSON) for both circuits, shared by the prover,
 * the CLI, the benchmarks and the chain fixtures. It also computes, off-circuit, every public
 * value the proof will expose, so callers can build the manifest before proving anything.
 * Each builder is a function of ONE batch (its request carries the previous batch's state), so a
 * caller can build batches lazily, one at a time.
 */
import {
  batchRoot,
  decodeResult,
  EMPTY_STATE,
  emptyListState,
  emptySegmentState,
  encodeListSignals,
  encodeResult,
  encodeSegmentSignals,
  fingerprintStep,
  gammaOf,
  type LiabilityFields,
  type ListLot,
  type ListState,
  type LotFields,
  liabilityLeaf,
  listBatchCommitment,
  listStateHash,
  lotLeaf,
  lotTuple,
  packListCaps,
  packListMeta,
  packSegmentMeta,
  packSegmentSlots,
  packStress,
  padTo,
  type SegmentResult,
  type SegmentState,
  type SlotParams,
  segmentOutcome,
  segmentStateHash,
  sideCommitment,
  UNUSED_SLOT,
  unpackListCaps,
  unpackSegmentSlots,
  unpackStress,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";

/**
 * Witness input of the segment circuit (circuits/segment_batch.circom), as decimal strings;
 * arrays have N (lot*), M (liab*), A (slots, prevColl, prevLiab) or ceil(K*A/16) (stress)
 * entries. (Type aliases, not interfaces, so they stay assignable to snarkjs'
 * `Record<string, unknown>`.)
 */
export type SegmentInput = {
  r: string;
  prevState: string;
  meta: string;
  slots: string[];
  stress: string[];
  prevColl: string[];
  prevLiab: string[];
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
  caps: string[];
  prevLastId: string;
  prevFp: string;
  prevTotal: string[];
  prevSalt: string;
  nextSalt: string;
  lotId: string[];
  lotAsset: string[];
  lotPooled: string[];
  lotAmount: string[];
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
  /** stress factors: scenario x used slot (bps of the price); missing ones are 10000 */
  stress: readonly (readonly bigint[])[];
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
  /** the batch's lot leaves and liability leaves in order (no padding) */
  lotLeaves: bigint[];
  liabLeaves: bigint[];
  lotCommit: bigint;
  liabCommit: bigint;
  batchRoot: bigint;
  /** packed result (0 unless last) */
  result: bigint;
  /** decoded result of the last batch (null on other batches) */
  outcome: SegmentResult | null;
  fingerprint: bigint;
  meta: bigint;
  /** packed slot words and stress words (public inputs) */
  slots: bigint[];
  stress: bigint[];
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

/**
 * An entry's slot: a priced slot of the segment, or (amount 0 only: a dummy entry) slot 0 of a
 * segment that prices no asset, which is then the unused slot (global asset 0).
 */
function slotOf(slots: readonly SlotParams[], e: { slot: bigint; amount: bigint }, what: string): SlotParams {
  const s = slots[Number(e.slot)];
  if (s) return s;
  if (e.slot === 0n && e.amount === 0n) return UNUSED_SLOT;
  throw new Error(`${what}: slot ${e.slot} is not a priced asset slot of the segment`);
}

/** The global lot-list entry of a segment lot: (lotId, its slot's global asset index, amount). */
export function listLotOf(slots: readonly SlotParams[], l: LotFields): ListLot {
  const s = slotOf(slots, l, `lot ${l.lotId}`);
  return { lotId: l.lotId, asset: s.asset, amount: l.amount, pooled: s.pooled };
}

// Long by nature: one circuit input field by field in the circuit's order, with the public signals
// and state it implies; splitting it would scatter one SPEC section.
export function buildSegmentBatch(q: SegmentBatchRequest): SegmentBatchResult {
  checkSegmentBatch(q);
  const { lotsPerBatch: N, liabsPerBatch: M, assetsPerSegment: A, stressScenarios: K } = q.profile;
  const slots = packSegmentSlots(q.slots, A);
  const stress = packStress(q.stress, K, A);
  const meta = packSegmentMeta({
    segmentId: q.segmentId,
    marginBps: q.marginBps,
    isFirst: q.isFirst,
    isLast: q.isLast,
    epoch: q.epoch,
  });
  if (!q.isFirst && !q.prev) throw new Error("a batch that is not first needs the previous state");
  const prev: SegmentState = q.isFirst || !q.prev ? emptySegmentState(A) : q.prev;
  const prevState = q.isFirst ? EMPTY_STATE : segmentStateHash(prev);

  const lotLeaves = q.lots.map(lotLeaf);
  const liabLeaves = q.liabilities.map(liabilityLeaf);
  const lotCommit = sideCommitment(lotLeaves, N);
  const liabCommit = sideCommitment(liabLeaves, M);
  const root = batchRoot(lotCommit, liabCommit);

  const coll = [...prev.coll];
  const liab = [...prev.liab];
  const gamma = gammaOf(q.r);
  let fp = prev.fp;
  for (const l of q.lots) {
    const s = slotOf(q.slots, l, `lot ${l.lotId}`);
    const j = Number(l.slot);
    coll[j] = (coll[j] as bigint) + l.amount;
    fp = fingerprintStep(
      fp,
      q.r,
      lotTuple({ lotId: l.lotId, amount: l.amount, asset: s.asset, pooled: s.pooled }, gamma),
    );
  }
  for (const l of q.liabilities) {
    slotOf(q.slots, l, "liability");
    const j = Number(l.slot);
    liab[j] = (liab[j] as bigint) + l.amount;
  }
  const all = unpackSegmentSlots(slots);
  all.forEach((s, j) => {
    if ((coll[j] as bigint) > s.cap) {
      throw new Error(
        `segment ${q.segmentId}: collateral ${coll[j]} in slot ${j} exceeds its custody cap ${s.cap} (base units); no proof can exist`,
      );
    }
  });
  const next: SegmentState = { coll, liab, fp, salt: q.nextSalt };
  const nextState = segmentStateHash(next);
  let result = 0n;
  let outcome: SegmentResult | null = null;
  if (q.isLast) {
    const o = segmentOutcome(coll, liab, all, q.marginBps, unpackStress(stress, K, A));
    result = encodeResult(o, K);
    outcome = decodeResult(result, K);
  }
  const fingerprint = q.isLast ? fp : 0n;

  const col = <T>(xs: readonly T[], f: (x: T) => bigint, n: number): string[] => str(padTo(xs.map(f), n, 0n));
  const input: SegmentInput = {
    r: String(q.r),
    prevState: String(prevState),
    meta: String(meta),
    slots: str(slots),
    stress: str(stress),
    prevColl: str(prev.coll),
    prevLiab: str(prev.liab),
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
  const publicSignals = encodeSegmentSignals(
    { nextState, batchRoot: root, result, fingerprint, r: q.r, prevState, meta, slots, stress },
    q.profile,
  );
  return {
    input,
    publicSignals,
    next,
    nextState,
    prevState,
    lotLeaves,
    liabLeaves,
    lotCommit,
    liabCommit,
    batchRoot: root,
    result,
    outcome,
    fingerprint,
    meta,
    slots,
    stress,
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
  /** pooled custody caps per global asset (missing: UNBOUNDED_CAP) */
  poolCaps: readonly bigint[];
  /** lots of this batch, in strictly increasing lotId order */
  lots: readonly ListLot[];
}
export interface ListBatchResult {
  input: ListInput;
  publicSignals: string[];
  next: ListState;
  nextState: bigint;
  prevState: bigint;
  commitment: bigint;
  fingerprint: bigint;
  meta: bigint;
  /** packed pooled caps (public input) */
  caps: bigint[];
}

export function buildListBatch(q: ListBatchRequest): ListBatchResult {
  const { lotsPerGlobalBatch: G, globalAssets: GA } = q.profile;
  if (q.lots.length > G) throw new Error(`lot list: ${q.lots.length} lots exceed a batch of ${G}`);
  if (!q.isFirst && !q.prev) throw new Error("a batch that is not first needs the previous state");
  const prev: ListState = q.isFirst || !q.prev ? emptyListState(GA) : q.prev;
  const prevState = q.isFirst ? EMPTY_STATE : listStateHash(prev);
  const caps = packListCaps(q.poolCaps, GA);
  const capOf = unpackListCaps(caps, GA);
  const gamma = gammaOf(q.r);
  let last = prev.lastId;
  let fp = prev.fp;
  const totals = [...prev.totals];
  for (const l of q.lots) {
    if (l.lotId <= last) throw new Error(`lot list: lotId ${l.lotId} is not above the previous id ${last}`);
    if (l.asset < 0n || l.asset >= BigInt(GA))
      throw new Error(`lot list: lot ${l.lotId} asset ${l.asset} >= GA ${GA}`);
    last = l.lotId;
    // the pooled caps bound the lots of pooled-custody slots only
    const g = Number(l.asset);
    if (l.pooled) totals[g] = (totals[g] as bigint) + l.amount;
    fp = fingerprintStep(fp, q.r, lotTuple(l, gamma));
  }
  totals.forEach((t, g) => {
    if (t > (capOf[g] as bigint)) {
      throw new Error(
        `lot list: pooled collateral ${t} of global asset ${g} exceeds the pooled cap ${capOf[g]} (base units)`,
      );
    }
  });
  const commitment = listBatchCommitment(q.lots, G);
  const next: ListState = { lastId: last, fp, totals, salt: q.nextSalt };
  const nextState = listStateHash(next);
  const meta = packListMeta({ isFirst: q.isFirst, isLast: q.isLast, epoch: q.epoch });
  const fingerprint = q.isLast ? fp : 0n;
  const col = (f: (x: ListLot) => bigint): string[] => str(padTo(q.lots.map(f), G, 0n));
  const input: ListInput = {
    r: String(q.r),
    prevState: String(prevState),
    meta: String(meta),
    caps: str(caps),
    prevLastId: String(prev.lastId),
    prevFp: String(prev.fp),
    prevTotal: str(prev.totals),
    prevSalt: String(prev.salt),
    nextSalt: String(q.nextSalt),
    lotId: col((l) => l.lotId),
    lotAsset: col((l) => l.asset),
    lotPooled: col((l) => (l.pooled ? 1n : 0n)),
    lotAmount: col((l) => l.amount),
    lotActive: col(() => 1n),
  };
  const publicSignals = encodeListSignals(
    { nextState, commitment, fingerprint, r: q.r, prevState, meta, caps },
    q.profile,
  );
  return { input, publicSignals, next, nextState, prevState, commitment, fingerprint, meta, caps };
}
