/**
 * Small hand-made epochs for the circuit tests, built directly from docs/SPEC.md (independent of
 * the witness builder in src/epoch/, so the circuits are checked against the written encodings and
 * not against another implementation of them). Only Poseidon, the sponge and field helpers come
 * from src/spec/encoding.ts.
 */

import { FIELD_P, listCommitment, mod, poseidon } from "../../src/spec/encoding.js";
import { getProfile, type Profile } from "../../src/spec/profiles.js";

export const TEST = getProfile("test");
export const EPOCH = 7n;
/** any fixed challenge works for circuit-level tests; the manifest derivation is tested elsewhere */
export const R = 0x1234567890abcdef1234567890abcdef1234567890abcdefn % FIELD_P;

export const AMOUNT_BITS = 96n;
export const CAP_BITS = 120n;
export const LOT_ID_BITS = 128n;
export const MAX_AMOUNT = (1n << AMOUNT_BITS) - 1n;
/** cap meaning "no custody bound given" */
export const UNBOUNDED_CAP = (1n << CAP_BITS) - 1n;
/** stress factor of an unshocked price */
export const NO_SHOCK = 10000n;
/** coverage band floors in basis points (band b covers [FLOOR[b], FLOOR[b+1])) */
export const BAND_FLOORS = [0n, 10000n, 11000n, 15000n, 20000n] as const;

/** A segment's asset slot: price, haircut, the global asset index g, the custody cap, pooled. */
export interface Slot {
  price: bigint;
  cfBps: bigint;
  asset: bigint;
  cap: bigint;
  /** held by the pooled account: its lots count against the pooled caps */
  pooled: boolean;
}
export const SLOTS: Slot[] = [
  { price: 301255000000n, cfBps: 8500n, asset: 0n, cap: UNBOUNDED_CAP, pooled: true }, // ETH-like (18 decimals)
  { price: 100000000n * 10n ** 12n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP, pooled: true }, // USDC-like (6)
  { price: 6500000000000n * 10n ** 10n, cfBps: 7000n, asset: 2n, cap: UNBOUNDED_CAP, pooled: true }, // BTC-like (8)
];
/** what an unused slot must hold */
export const UNUSED_SLOT: Slot = { price: 1n, cfBps: 0n, asset: 0n, cap: 0n, pooled: false };
export const MARGIN = 1000n;

let saltCounter = 1000n;
export const salt = (): bigint => (saltCounter++ * 0x9e3779b97f4a7c15n) % FIELD_P;

export interface Lot {
  lotId: bigint;
  segmentId: bigint;
  slot: bigint;
  amount: bigint;
  salt: bigint;
}
export interface Liability {
  accountId: bigint;
  segmentId: bigint;
  slot: bigint;
  amount: bigint;
  salt: bigint;
}
export function lot(lotId: bigint, segmentId: bigint, slot: bigint, amount: bigint): Lot {
  return { lotId, segmentId, slot, amount, salt: salt() };
}
export function liability(accountId: bigint, segmentId: bigint, slot: bigint, amount: bigint): Liability {
  return { accountId, segmentId, slot, amount, salt: salt() };
}

/** Circuit input: every signal as a decimal string (arrays for array signals). */
export type Input = Record<string, string | string[]>;
const str = (xs: readonly bigint[]): string[] => xs.map(String);

export const product = (xs: readonly bigint[]): bigint => xs.reduce((a, x) => mod(a * x), 1n);
const sum = (xs: readonly bigint[]): bigint => xs.reduce((a, x) => a + x, 0n);

// ------------------------------------------------------------------------ encodings (SPEC.md)

/** the packed middle field of both leaves: amount + 2^96 slot + 2^100 segmentId */
const packedFields = (amount: bigint, slot: bigint, segmentId: bigint): bigint =>
  amount + (slot << 96n) + (segmentId << 100n);
export const lotLeaf = (l: Lot): bigint =>
  poseidon([l.lotId, packedFields(l.amount, l.slot, l.segmentId), l.salt]);
export const liabilityLeaf = (l: Liability): bigint =>
  poseidon([l.accountId, packedFields(l.amount, l.slot, l.segmentId), l.salt]);

export const gammaOf = (r: bigint): bigint => poseidon([r]);
/** tag = g + 16 * pooled */
export const tagOf = (x: { asset: bigint; pooled: boolean }): bigint => x.asset + (x.pooled ? 16n : 0n);
/** tuple(lot) = lotId + gamma * amount + gamma^2 * tag (mod p) */
export function lotTuple(r: bigint, lotId: bigint, amount: bigint, tag: bigint): bigint {
  const g = gammaOf(r);
  return mod(lotId + g * amount + g * g * tag);
}
/** prod (r - tuple) over lots given as (lotId, amount, tag) */
export const fingerprintOf = (r: bigint, lots: readonly ListLot[]): bigint =>
  product(lots.map((l) => mod(r - lotTuple(r, l.lotId, l.amount, tagOf(l)))));

export interface SegmentMeta {
  segmentId: bigint;
  marginBps: bigint;
  isFirst: boolean;
  isLast: boolean;
  epoch: bigint;
}
export const packSegmentMeta = (m: SegmentMeta): bigint =>
  m.segmentId +
  (m.marginBps << 32n) +
  (m.isFirst ? 1n << 48n : 0n) +
  (m.isLast ? 1n << 49n : 0n) +
  (m.epoch << 50n);
export const packSlot = (s: Slot): bigint =>
  s.price + (s.cfBps << 96n) + (s.asset << 110n) + (s.cap << 114n) + (s.pooled ? 1n << 234n : 0n);
/** the A slots of a segment (unused ones are UNUSED_SLOT) */
export function fullSlots(slots: readonly Slot[], A: number): Slot[] {
  if (slots.length > A) throw new Error(`${slots.length} slots > A = ${A}`);
  return Array.from({ length: A }, (_, j) => slots[j] ?? UNUSED_SLOT);
}
/** K x A stress factors (given scenarios x used slots; the rest NO_SHOCK) */
export function fullStress(stress: readonly (readonly bigint[])[], K: number, A: number): bigint[][] {
  if (stress.length > K) throw new Error(`${stress.length} scenarios > K = ${K}`);
  return Array.from({ length: K }, (_, k) => Array.from({ length: A }, (_, j) => stress[k]?.[j] ?? NO_SHOCK));
}
export function packStress(factors: readonly (readonly bigint[])[], K: number, A: number): bigint[] {
  const W = Math.ceil((K * A) / 16);
  const words = Array.from({ length: W }, () => 0n);
  for (let n = 0; n < K * A; n++) {
    const f = factors[Math.floor(n / A)]?.[n % A] ?? NO_SHOCK;
    words[Math.floor(n / 16)] = (words[Math.floor(n / 16)] as bigint) + (f << BigInt(15 * (n % 16)));
  }
  return words;
}
export const packListMeta = (isFirst: boolean, isLast: boolean, epoch: bigint): bigint =>
  (isFirst ? 1n : 0n) + (isLast ? 2n : 0n) + (epoch << 2n);
export function packListCaps(caps: readonly bigint[], GA: number): bigint[] {
  return Array.from(
    { length: Math.ceil(GA / 2) },
    (_, q) =>
      (caps[2 * q] ?? UNBOUNDED_CAP) + (2 * q + 1 < GA ? (caps[2 * q + 1] ?? UNBOUNDED_CAP) << 120n : 0n),
  );
}

export interface SegmentState {
  coll: bigint[];
  liab: bigint[];
  fp: bigint;
  salt: bigint;
}
export interface ListState {
  lastId: bigint;
  fp: bigint;
  totals: bigint[];
  salt: bigint;
}
export const segmentStateHash = (s: SegmentState): bigint =>
  listCommitment([...s.coll, ...s.liab, s.fp, s.salt]);
export const listStateHash = (s: ListState): bigint => listCommitment([s.lastId, s.fp, ...s.totals, s.salt]);
export const emptySegmentState = (A: number): SegmentState => ({
  coll: Array(A).fill(0n),
  liab: Array(A).fill(0n),
  fp: 1n,
  salt: 0n,
});
export const emptyListState = (GA: number): ListState => ({
  lastId: 0n,
  fp: 1n,
  totals: Array(GA).fill(0n),
  salt: 0n,
});

// ------------------------------------------------------------------------ outcome

export interface Outcome {
  coll: bigint;
  req: bigint;
  healthy: boolean;
  stress: boolean[];
  band: number;
  result: bigint;
}
/** The last batch's outcome from per-slot totals (docs/SPEC.md "Public signals", result). */
export function outcomeOf(
  coll: readonly bigint[],
  liab: readonly bigint[],
  slots: readonly Slot[],
  marginBps: bigint,
  factors: readonly (readonly bigint[])[],
): Outcome {
  const cv = slots.map((s, j) => (coll[j] as bigint) * s.price * s.cfBps);
  const lv = slots.map((s, j) => (liab[j] as bigint) * s.price * (10000n + marginBps));
  const c = sum(cv);
  const q = sum(lv);
  let band = 0;
  for (let b = 1; b < 5; b++) if (10000n * c >= (BAND_FLOORS[b] as bigint) * q) band = b;
  const stress = factors.map(
    (f) => sum(cv.map((v, j) => v * (f[j] as bigint))) >= sum(lv.map((v, j) => v * (f[j] as bigint))),
  );
  const healthy = c >= q;
  const K = factors.length;
  let result = (healthy ? 1n : 0n) + (BigInt(band) << BigInt(1 + K));
  stress.forEach((ok, k) => {
    if (ok) result += 1n << BigInt(1 + k);
  });
  return { coll: c, req: q, healthy, stress, band, result };
}
export function decodeResult(
  result: bigint,
  K: number,
): { healthy: boolean; stress: boolean[]; band: number } {
  return {
    healthy: (result & 1n) === 1n,
    stress: Array.from({ length: K }, (_, k) => ((result >> BigInt(1 + k)) & 1n) === 1n),
    band: Number(result >> BigInt(1 + K)),
  };
}

// ------------------------------------------------------------------------ segment batches

export interface SegmentChainOptions {
  segmentId: bigint;
  lots: Lot[];
  liabilities: Liability[];
  slots?: Slot[];
  marginBps?: bigint;
  /** scenarios x slots price factors (bps); missing ones NO_SHOCK */
  stress?: bigint[][];
  r?: bigint;
  epoch?: bigint;
  profile?: Profile;
  /** open the first batch from this state instead of the empty one (forgeries only) */
  start?: SegmentState;
}
export interface SegmentBatch {
  input: Input;
  publicSignals: string[];
  prev: SegmentState;
  next: SegmentState;
  prevState: bigint;
  nextState: bigint;
  batchRoot: bigint;
  result: bigint;
  fingerprint: bigint;
  meta: bigint;
  slots: bigint[];
  stress: bigint[];
  outcome: Outcome;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Split a segment into profile batches and build every batch's input and public signals, chained. */
export function segmentChain(o: SegmentChainOptions): SegmentBatch[] {
  const p = o.profile ?? TEST;
  const N = p.lotsPerBatch;
  const M = p.liabsPerBatch;
  const A = p.assetsPerSegment;
  const K = p.stressScenarios;
  const r = o.r ?? R;
  const slots = fullSlots(o.slots ?? SLOTS, A);
  const margin = o.marginBps ?? MARGIN;
  const factors = fullStress(o.stress ?? [], K, A);
  const slotWords = slots.map(packSlot);
  const stressWords = packStress(factors, K, A);
  const lotBatches = chunks(o.lots, N);
  const liabBatches = chunks(o.liabilities, M);
  const n = Math.max(lotBatches.length, liabBatches.length, 1);
  const out: SegmentBatch[] = [];
  let prev = o.start ?? emptySegmentState(A);
  for (let b = 0; b < n; b++) {
    const ls = lotBatches[b] ?? [];
    const qs = liabBatches[b] ?? [];
    const isFirst = b === 0 && !o.start;
    const isLast = b === n - 1;
    const prevState = isFirst ? 0n : segmentStateHash(prev);
    const meta = packSegmentMeta({
      segmentId: o.segmentId,
      marginBps: margin,
      isFirst,
      isLast,
      epoch: o.epoch ?? EPOCH,
    });
    const coll = [...prev.coll];
    const liab = [...prev.liab];
    let fp = prev.fp;
    for (const l of ls) {
      coll[Number(l.slot)] = (coll[Number(l.slot)] as bigint) + l.amount;
      fp = mod(fp * mod(r - lotTuple(r, l.lotId, l.amount, tagOf(slots[Number(l.slot)] as Slot))));
    }
    for (const q of qs) liab[Number(q.slot)] = (liab[Number(q.slot)] as bigint) + q.amount;
    const next: SegmentState = { coll, liab, fp, salt: salt() };
    const nextState = segmentStateHash(next);
    const lotLeaves = Array.from({ length: N }, (_, i) => (ls[i] ? lotLeaf(ls[i]) : 0n));
    const liabLeaves = Array.from({ length: M }, (_, i) => (qs[i] ? liabilityLeaf(qs[i]) : 0n));
    const batchRoot = poseidon([listCommitment(lotLeaves), listCommitment(liabLeaves)]);
    const outcome = outcomeOf(coll, liab, slots, margin, factors);
    const result = isLast ? outcome.result : 0n;
    const fingerprint = isLast ? fp : 0n;
    const pad = <T>(xs: readonly T[], len: number, f: (x: T) => bigint): string[] =>
      Array.from({ length: len }, (_, i) => String(xs[i] === undefined ? 0n : f(xs[i] as T)));
    const input: Input = {
      r: String(r),
      prevState: String(prevState),
      meta: String(meta),
      slots: str(slotWords),
      stress: str(stressWords),
      prevColl: str(prev.coll),
      prevLiab: str(prev.liab),
      prevFp: String(prev.fp),
      prevSalt: String(prev.salt),
      nextSalt: String(next.salt),
      lotId: pad(ls, N, (l) => l.lotId),
      lotSlot: pad(ls, N, (l) => l.slot),
      lotAmount: pad(ls, N, (l) => l.amount),
      lotSalt: pad(ls, N, (l) => l.salt),
      lotActive: pad(ls, N, () => 1n),
      liabAccount: pad(qs, M, (l) => l.accountId),
      liabSlot: pad(qs, M, (l) => l.slot),
      liabAmount: pad(qs, M, (l) => l.amount),
      liabSalt: pad(qs, M, (l) => l.salt),
      liabActive: pad(qs, M, () => 1n),
    };
    const publicSignals = str([
      nextState,
      batchRoot,
      result,
      fingerprint,
      r,
      prevState,
      meta,
      ...slotWords,
      ...stressWords,
    ]);
    out.push({
      input,
      publicSignals,
      prev,
      next,
      prevState,
      nextState,
      batchRoot,
      result,
      fingerprint,
      meta,
      slots: slotWords,
      stress: stressWords,
      outcome,
    });
    prev = next;
  }
  return out;
}

// ------------------------------------------------------------------------ lot list batches

/** A lot as the global list sees it: (lotId, global asset index, amount, pooled). */
export interface ListLot {
  lotId: bigint;
  asset: bigint;
  amount: bigint;
  pooled: boolean;
}
/** The list entry of a segment lot: its slot's global asset index and pooled bit. */
export const listLot = (l: Lot, slots: readonly Slot[] = SLOTS): ListLot => ({
  lotId: l.lotId,
  asset: (slots[Number(l.slot)] as Slot).asset,
  amount: l.amount,
  pooled: (slots[Number(l.slot)] as Slot).pooled,
});
export const byId = (a: { lotId: bigint }, b: { lotId: bigint }): number =>
  a.lotId < b.lotId ? -1 : a.lotId > b.lotId ? 1 : 0;

export interface ListChainOptions {
  r?: bigint;
  epoch?: bigint;
  /** pooled custody caps per global asset (missing: UNBOUNDED_CAP) */
  caps?: bigint[];
  profile?: Profile;
}
export interface ListBatch {
  input: Input;
  publicSignals: string[];
  prev: ListState;
  next: ListState;
  prevState: bigint;
  nextState: bigint;
  commitment: bigint;
  fingerprint: bigint;
  meta: bigint;
  caps: bigint[];
}

/** The global lot list over `lots` (taken in the given order), in profile batches, chained. */
export function listChain(lots: readonly ListLot[], o: ListChainOptions = {}): ListBatch[] {
  const p = o.profile ?? TEST;
  const G = p.lotsPerGlobalBatch;
  const GA = p.globalAssets;
  const r = o.r ?? R;
  const capWords = packListCaps(o.caps ?? [], GA);
  const batches = chunks(lots, G);
  const n = Math.max(batches.length, 1);
  const out: ListBatch[] = [];
  let prev = emptyListState(GA);
  for (let b = 0; b < n; b++) {
    const ls = batches[b] ?? [];
    const isFirst = b === 0;
    const isLast = b === n - 1;
    const prevState = isFirst ? 0n : listStateHash(prev);
    const meta = packListMeta(isFirst, isLast, o.epoch ?? EPOCH);
    const totals = [...prev.totals];
    let fp = prev.fp;
    let lastId = prev.lastId;
    for (const l of ls) {
      if (l.pooled) totals[Number(l.asset)] = (totals[Number(l.asset)] as bigint) + l.amount;
      fp = mod(fp * mod(r - lotTuple(r, l.lotId, l.amount, tagOf(l))));
      lastId = l.lotId;
    }
    const next: ListState = { lastId, fp, totals, salt: salt() };
    const nextState = listStateHash(next);
    const items: bigint[] = [];
    for (let i = 0; i < G; i++) {
      const l = ls[i];
      items.push(l ? l.lotId + (tagOf(l) << LOT_ID_BITS) : 0n, l ? l.amount : 0n);
    }
    const commitment = listCommitment(items);
    const fingerprint = isLast ? fp : 0n;
    const pad = (f: (x: ListLot) => bigint): string[] =>
      Array.from({ length: G }, (_, i) => String(ls[i] ? f(ls[i] as ListLot) : 0n));
    const input: Input = {
      r: String(r),
      prevState: String(prevState),
      meta: String(meta),
      caps: str(capWords),
      prevLastId: String(prev.lastId),
      prevFp: String(prev.fp),
      prevTotal: str(prev.totals),
      prevSalt: String(prev.salt),
      nextSalt: String(next.salt),
      lotId: pad((l) => l.lotId),
      lotAsset: pad((l) => l.asset),
      lotPooled: pad((l) => (l.pooled ? 1n : 0n)),
      lotAmount: pad((l) => l.amount),
      lotActive: pad(() => 1n),
    };
    const publicSignals = str([nextState, commitment, fingerprint, r, prevState, meta, ...capWords]);
    out.push({
      input,
      publicSignals,
      prev,
      next,
      prevState,
      nextState,
      commitment,
      fingerprint,
      meta,
      caps: capWords,
    });
    prev = next;
  }
  return out;
}
