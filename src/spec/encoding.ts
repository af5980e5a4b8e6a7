/**
 * The single implementation of every encoding in docs/SPEC.md (circuits v2): leaves, the sponge
 * that makes batch commitments and chained states, lot tuples and fingerprints, packed public
 * inputs (segment meta / slots / stress words, lot-list meta / pooled caps), the packed result,
 * the manifest hash, r, and the decoding of public signals by name (circuits/circuits.json).
 * Circuits, prover, audit, receipts and the chain client all go through here.
 */

import { buildPoseidon } from "circomlibjs";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { CIRCUIT_DEFS } from "./circuits.js";
import type { CircuitName, Profile } from "./profiles.js";

/** BN254 scalar field modulus. */
export const FIELD_P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export const AMOUNT_BITS = 96;
export const PRICE_BITS = 96;
export const MAX_CF_BPS = 10000;
export const CF_BITS = 14;
export const MARGIN_BITS = 16;
export const MAX_MARGIN_BPS = 50000;
export const SEGMENT_ID_BITS = 32;
export const EPOCH_BITS = 64;
export const LOT_ID_BITS = 128;
/** bits of a global asset index (GA <= 16) and of a segment slot index (A <= 16) */
export const ASSET_BITS = 4;
export const SLOT_BITS = 4;
/** custody caps (per segment slot and pooled per global asset) are < 2^CAP_BITS */
export const CAP_BITS = 120;
/** the cap that means "no custody bound given": 2^120 - 1 */
export const UNBOUNDED_CAP = (1n << 120n) - 1n;
/** a stress factor is the stressed price in basis points of the price: 0..2^15-1, 10000 = unchanged */
export const FACTOR_BITS = 15;
export const MAX_FACTOR = (1 << FACTOR_BITS) - 1;
export const UNSTRESSED_FACTOR = 10000n;

/**
 * A stress scenario's price factor for an asset (bps of the price): 10000 + the asset's own shock,
 * else the scenario's "*" shock, else no shock.
 */
export function stressFactor(shocksBps: Readonly<Record<string, number>>, symbol: string): bigint {
  return UNSTRESSED_FACTOR + BigInt(shocksBps[symbol] ?? shocksBps["*"] ?? 0);
}

/** The shock (bps, may be negative) a price factor applies: factor - 10000. */
export const shockOf = (factor: bigint): number => Number(factor - UNSTRESSED_FACTOR);
export const FACTORS_PER_WORD = 16;
/** price shocks of a snapshot's stress scenario, in bps: factor = 10000 + shock in [0, 2^15) */
export const MIN_SHOCK_BPS = -10000;
export const MAX_SHOCK_BPS = MAX_FACTOR - 10000;
/**
 * Verifier bound (SPEC "Bounds"): a segment has at most 2^24 / max(N, M) batches and the lot list
 * at most 2^24 / G, so at most 2^24 entries of < 2^96 each: every per-slot / per-asset total is
 * < 2^120 and no sum wraps.
 */
export const MAX_ENTRIES = 1 << 24;
export const TOTAL_BITS = 120;
export const PRICE_DECIMALS = 8;
/** Items per Poseidon call of the sponge (Poseidon takes at most 16 inputs, one is the chain). */
export const COMMIT_CHUNK = 15;

type PoseidonFn = (inputs: bigint[]) => bigint;
let poseidonImpl: PoseidonFn | undefined;

/** Loads circomlibjs Poseidon once. Call before any hashing function. */
export async function initPoseidon(): Promise<void> {
  if (poseidonImpl) return;
  const p = await buildPoseidon();
  poseidonImpl = (inputs) => p.F.toObject(p(inputs)) as bigint;
}

/** circomlib Poseidon over 1..16 field elements. */
export function poseidon(inputs: readonly bigint[]): bigint {
  if (!poseidonImpl) throw new Error("encoding: initPoseidon() was not awaited");
  if (inputs.length < 1 || inputs.length > 16) throw new Error(`poseidon: ${inputs.length} inputs (1..16)`);
  for (const x of inputs) {
    if (x < 0n || x >= FIELD_P) throw new Error(`poseidon: input ${x} is not a field element`);
  }
  return poseidonImpl([...inputs]);
}

export const mod = (x: bigint): bigint => ((x % FIELD_P) + FIELD_P) % FIELD_P;

function checkBits(name: string, v: bigint, bits: number): void {
  if (v < 0n || v >= 1n << BigInt(bits)) throw new Error(`${name}: ${v} is outside [0, 2^${bits})`);
}

// ---------------------------------------------------------------- sponge

/**
 * SPEC "Sponge": h = 0; for each chunk of up to 15 consecutive items: h = Poseidon(h, chunk...).
 * Batch commitments and chained states are sponges.
 */
export function sponge(items: readonly bigint[]): bigint {
  if (items.length < 1) throw new Error("sponge: no items");
  let h = 0n;
  for (let i = 0; i < items.length; i += COMMIT_CHUNK) {
    h = poseidon([h, ...items.slice(i, i + COMMIT_CHUNK)]);
  }
  return h;
}
/** The circuits' ListCommitment: the sponge (same function, the circuit's name). */
export const listCommitment = sponge;

/** `items` followed by `fill` up to `n` entries (throws when there are more than n). */
export function padTo<T>(items: readonly T[], n: number, fill: T, what = "list"): T[] {
  if (items.length > n) throw new Error(`${what}: ${items.length} entries exceed ${n}`);
  return [...items, ...Array<T>(n - items.length).fill(fill)];
}

// ---------------------------------------------------------------- leaves

export interface LotFields {
  lotId: bigint;
  segmentId: bigint;
  slot: bigint;
  amount: bigint;
  salt: bigint;
}
export interface LiabilityFields {
  accountId: bigint;
  segmentId: bigint;
  slot: bigint;
  amount: bigint;
  salt: bigint;
}

/** amount + 2^96 * slot + 2^100 * segmentId (amount < 2^96, slot < 16, segmentId < 2^32). */
export function packLeafValue(amount: bigint, slot: bigint, segmentId: bigint): bigint {
  checkBits("leaf amount", amount, AMOUNT_BITS);
  checkBits("leaf slot", slot, SLOT_BITS);
  checkBits("leaf segmentId", segmentId, SEGMENT_ID_BITS);
  return amount + (slot << 96n) + (segmentId << 100n);
}

/** lot leaf = H3(lotId, amount + 2^96 slot + 2^100 segmentId, salt) */
export function lotLeaf(l: LotFields): bigint {
  return poseidon([l.lotId, packLeafValue(l.amount, l.slot, l.segmentId), l.salt]);
}
/** liability leaf = H3(accountId, amount + 2^96 slot + 2^100 segmentId, salt) */
export function liabilityLeaf(l: LiabilityFields): bigint {
  return poseidon([l.accountId, packLeafValue(l.amount, l.slot, l.segmentId), l.salt]);
}
/** accountId = uint256(keccak256(utf8(account))) >> 8. */
export function accountIdOf(account: string): bigint {
  return BigInt(keccak256(toUtf8Bytes(normalizeAccount(account)))) >> 8n;
}

/**
 * One spelling per account, like lot ids: a hex account (`0x` + hex digits, e.g. an address,
 * checksummed or not) is lower-cased with a lower-case `0x`; any other account is taken as written.
 */
export function normalizeAccount(account: string): string {
  return /^0[xX][0-9a-fA-F]+$/.test(account) ? `0x${account.slice(2).toLowerCase()}` : account;
}

// ---------------------------------------------------------------- batch commitments

/** A segment batch side's commitment: sponge over its `size` leaves (padding 0). */
export function sideCommitment(leaves: readonly bigint[], size: number): bigint {
  return sponge(padTo(leaves, size, 0n, "batch side"));
}

/** batchRoot = H2(lotCommit, liabCommit) */
export function batchRoot(lotCommit: bigint, liabCommit: bigint): bigint {
  return poseidon([lotCommit, liabCommit]);
}

/**
 * One lot of the global lot list: its id, its global asset index, its amount, and whether the
 * slot that counts it is pooled (its amount counts against the pooled caps).
 */
export interface ListLot {
  lotId: bigint;
  asset: bigint;
  amount: bigint;
  pooled: boolean;
}
/** A lot's tag: g + 16 * pooled (< 32), the third member of its fingerprint tuple. */
export function lotTag(l: Pick<ListLot, "asset" | "pooled">): bigint {
  checkBits("lot asset", l.asset, ASSET_BITS);
  return l.asset + (l.pooled ? 16n : 0n);
}
/** The lot list batch's sponge items: [lotId + 2^128 tag, amount] per lot, [0, 0] per padding slot. */
export function listItems(lots: readonly ListLot[], G: number): bigint[] {
  if (lots.length > G) throw new Error(`lot list batch: ${lots.length} lots exceed ${G}`);
  const items: bigint[] = [];
  for (const l of lots) {
    checkBits("lot id", l.lotId, LOT_ID_BITS);
    items.push(l.lotId + (lotTag(l) << 128n), l.amount);
  }
  while (items.length < 2 * G) items.push(0n);
  return items;
}
/** The lot list batch commitment: sponge(listItems(lots, G)). */
export function listBatchCommitment(lots: readonly ListLot[], G: number): bigint {
  return sponge(listItems(lots, G));
}

// ---------------------------------------------------------------- fingerprint

/** gamma = H1(r): the second fingerprint challenge. */
export function gammaOf(r: bigint): bigint {
  return poseidon([r]);
}
/** tuple(lot) = lotId + gamma * amount + gamma^2 * tag (mod p); tag = lotTag(lot). */
export function lotTuple(l: ListLot, gamma: bigint): bigint {
  return mod(l.lotId + gamma * l.amount + mod(gamma * gamma) * lotTag(l));
}
/** fp * (r - tuple) mod p: one factor of a fingerprint. */
export function fingerprintStep(fp: bigint, r: bigint, tuple: bigint): bigint {
  return mod(fp * mod(r - tuple));
}

// ---------------------------------------------------------------- chained state

/** Segment state: per-slot amount totals (base units) of collateral and liabilities, fp, salt. */
export interface SegmentState {
  coll: bigint[];
  liab: bigint[];
  fp: bigint;
  salt: bigint;
}
/** Lot-list state: last lot id, fp, per global asset amount totals, salt. */
export interface ListState {
  lastId: bigint;
  fp: bigint;
  totals: bigint[];
  salt: bigint;
}
/** The canonical empty state's public value. */
export const EMPTY_STATE = 0n;

export function emptySegmentState(A: number): SegmentState {
  return { coll: Array<bigint>(A).fill(0n), liab: Array<bigint>(A).fill(0n), fp: 1n, salt: 0n };
}
export function emptyListState(GA: number): ListState {
  return { lastId: 0n, fp: 1n, totals: Array<bigint>(GA).fill(0n), salt: 0n };
}
/** sponge([collTotal[0..A-1], liabTotal[0..A-1], fp, salt]) */
export function segmentStateHash(s: SegmentState): bigint {
  if (s.coll.length !== s.liab.length)
    throw new Error("segment state: coll and liab totals differ in length");
  return sponge([...s.coll, ...s.liab, s.fp, s.salt]);
}
/** sponge([lastId, fp, total[0..GA-1], salt]) */
export function listStateHash(s: ListState): bigint {
  return sponge([s.lastId, s.fp, ...s.totals, s.salt]);
}

// ---------------------------------------------------------------- packed public inputs

export interface SegmentMeta {
  segmentId: bigint;
  marginBps: bigint;
  isFirst: boolean;
  isLast: boolean;
  epoch: bigint;
}
/** segment meta word: id | marginBps << 32 | isFirst << 48 | isLast << 49 | epoch << 50 */
export const META_MARGIN_SHIFT = SEGMENT_ID_BITS;
export const META_FIRST_SHIFT = META_MARGIN_SHIFT + MARGIN_BITS;
export const META_LAST_SHIFT = META_FIRST_SHIFT + 1;
export const META_EPOCH_SHIFT = META_LAST_SHIFT + 1;
/** list meta word: isFirst | isLast << 1 | epoch << 2 */
export const LIST_META_EPOCH_SHIFT = 2;

export function packSegmentMeta(m: SegmentMeta): bigint {
  checkBits("segmentId", m.segmentId, SEGMENT_ID_BITS);
  checkBits("marginBps", m.marginBps, MARGIN_BITS);
  checkBits("epoch", m.epoch, EPOCH_BITS);
  return (
    m.segmentId +
    (m.marginBps << BigInt(META_MARGIN_SHIFT)) +
    (m.isFirst ? 1n << BigInt(META_FIRST_SHIFT) : 0n) +
    (m.isLast ? 1n << BigInt(META_LAST_SHIFT) : 0n) +
    (m.epoch << BigInt(META_EPOCH_SHIFT))
  );
}
export interface ListMeta {
  isFirst: boolean;
  isLast: boolean;
  epoch: bigint;
}
export function packListMeta(m: ListMeta): bigint {
  checkBits("epoch", m.epoch, EPOCH_BITS);
  return (m.isFirst ? 1n : 0n) + (m.isLast ? 2n : 0n) + (m.epoch << BigInt(LIST_META_EPOCH_SHIFT));
}

/** One asset slot of a segment as the circuit takes it. */
export interface SlotParams {
  /** price in circuit units, 1 <= price < 2^96 */
  price: bigint;
  /** collateral factor in basis points, <= 10000 */
  cfBps: bigint;
  /** global asset index g of the slot's asset (position in the epoch's asset table), < 16 */
  asset: bigint;
  /** custody cap of this segment for the asset, base units, <= UNBOUNDED_CAP */
  cap: bigint;
  /**
   * the slot's collateral is held by the pooled custody account: its lots count against the
   * pooled caps (false: the segment's own custody account, bounded by `cap` alone)
   */
  pooled: boolean;
}
/** The canonical unused slot: price 1, cf 0, asset 0, cap 0, not pooled (packed word 1). */
export const UNUSED_SLOT: Readonly<SlotParams> = { price: 1n, cfBps: 0n, asset: 0n, cap: 0n, pooled: false };

/**
 * Bit offsets of a slot word's fields: price | cfBps << 96 | g << 110 | cap << 114 |
 * pooled << 234, 235 bits.
 */
export const SLOT_CF_SHIFT = PRICE_BITS;
export const SLOT_ASSET_SHIFT = SLOT_CF_SHIFT + CF_BITS;
export const SLOT_CAP_SHIFT = SLOT_ASSET_SHIFT + ASSET_BITS;
export const SLOT_POOLED_SHIFT = SLOT_CAP_SHIFT + CAP_BITS;
export const SLOT_WORD_BITS = SLOT_POOLED_SHIFT + 1;

/** slots[j] = price + 2^96 cfBps + 2^110 g + 2^114 cap + 2^234 pooled */
export function packSlot(s: SlotParams, j = 0): bigint {
  if (s.price < 1n || s.price >= 1n << BigInt(PRICE_BITS)) {
    throw new Error(`slots: slot ${j} price ${s.price} is outside [1, 2^${PRICE_BITS})`);
  }
  if (s.cfBps < 0n || s.cfBps > BigInt(MAX_CF_BPS)) {
    throw new Error(`slots: slot ${j} collateral factor ${s.cfBps} is outside [0, ${MAX_CF_BPS}]`);
  }
  checkBits(`slots: slot ${j} asset index`, s.asset, ASSET_BITS);
  checkBits(`slots: slot ${j} cap`, s.cap, CAP_BITS);
  return (
    s.price +
    (s.cfBps << BigInt(SLOT_CF_SHIFT)) +
    (s.asset << BigInt(SLOT_ASSET_SHIFT)) +
    (s.cap << BigInt(SLOT_CAP_SHIFT)) +
    (s.pooled ? 1n << BigInt(SLOT_POOLED_SHIFT) : 0n)
  );
}
/** Packs a segment's used slots and fills unused ones (UNUSED_SLOT) up to A words. */
export function packSegmentSlots(slots: readonly SlotParams[], A: number): bigint[] {
  if (slots.length > A) throw new Error(`slots: ${slots.length} assets exceed the profile's ${A} slots`);
  return padTo(slots, A, UNUSED_SLOT).map((s, j) => packSlot(s, j));
}
export function unpackSlot(w: bigint): SlotParams {
  return {
    price: w & ((1n << BigInt(PRICE_BITS)) - 1n),
    cfBps: (w >> BigInt(SLOT_CF_SHIFT)) & ((1n << BigInt(CF_BITS)) - 1n),
    asset: (w >> BigInt(SLOT_ASSET_SHIFT)) & ((1n << BigInt(ASSET_BITS)) - 1n),
    cap: (w >> BigInt(SLOT_CAP_SHIFT)) & ((1n << BigInt(CAP_BITS)) - 1n),
    pooled: ((w >> BigInt(SLOT_POOLED_SHIFT)) & 1n) === 1n,
  };
}
export function unpackSegmentSlots(words: readonly bigint[]): SlotParams[] {
  return words.map(unpackSlot);
}

/** W = ceil(K * A / 16): the number of stress words. */
export const stressWordCount = (K: number, A: number): number => Math.ceil((K * A) / FACTORS_PER_WORD);
/** P = ceil(GA / 2): the number of pooled-cap words. */
export const capWordCount = (GA: number): number => Math.ceil(GA / 2);

/**
 * stress[w] = sum over i < 16 of factor_n * 2^(15 i), n = 16 w + i, factor_n = factors[n / A][n % A].
 * `factors[k][j]`: scenario k, slot j (given scenarios <= K, slots per scenario <= A); every
 * missing factor (unused scenarios, unused slots) is 10000 (unchanged).
 */
export function packStress(factors: readonly (readonly bigint[])[], K: number, A: number): bigint[] {
  if (factors.length > K) throw new Error(`stress: ${factors.length} scenarios exceed the profile's ${K}`);
  const flat: bigint[] = [];
  for (let k = 0; k < K; k++) {
    const row = factors[k] ?? [];
    if (row.length > A) throw new Error(`stress: scenario ${k} has ${row.length} factors for ${A} slots`);
    for (let j = 0; j < A; j++) {
      const f = row[j] ?? UNSTRESSED_FACTOR;
      if (f < 0n || f > BigInt(MAX_FACTOR)) {
        throw new Error(`stress: scenario ${k} slot ${j} factor ${f} is outside [0, ${MAX_FACTOR}]`);
      }
      flat.push(f);
    }
  }
  const words: bigint[] = [];
  for (let w = 0; w < stressWordCount(K, A); w++) {
    let word = 0n;
    for (let i = 0; i < FACTORS_PER_WORD; i++) {
      const f = flat[w * FACTORS_PER_WORD + i];
      if (f !== undefined) word += f << BigInt(FACTOR_BITS * i);
    }
    words.push(word);
  }
  return words;
}
/** factors[k][j] (K x A) from the stress words; throws when a word has bits above its factors. */
export function unpackStress(words: readonly bigint[], K: number, A: number): bigint[][] {
  const W = stressWordCount(K, A);
  if (words.length !== W) throw new Error(`stress: ${words.length} words, expected ${W}`);
  const n = K * A;
  const out: bigint[][] = Array.from({ length: K }, () => []);
  for (let w = 0; w < W; w++) {
    const word = words[w] as bigint;
    const len = Math.min(FACTORS_PER_WORD, n - w * FACTORS_PER_WORD);
    if (word < 0n || word >> BigInt(FACTOR_BITS * len) !== 0n) {
      throw new Error(`stress: word ${w} has bits above its ${len} factors`);
    }
    for (let i = 0; i < len; i++) {
      const idx = w * FACTORS_PER_WORD + i;
      (out[Math.floor(idx / A)] as bigint[])[idx % A] =
        (word >> BigInt(FACTOR_BITS * i)) & BigInt(MAX_FACTOR);
    }
  }
  return out;
}

/**
 * How many stress scenarios of packed words are in use: up to the last one that shocks some slot
 * (scenarios after it have every factor 10000, the price itself, and only repeat the health bit).
 */
export function stressScenariosInUse(words: readonly bigint[], K: number, A: number): number {
  const f = unpackStress(words, K, A);
  let used = f.length;
  while (used > 0 && (f[used - 1] as bigint[]).every((x) => x === UNSTRESSED_FACTOR)) used--;
  return used;
}

/**
 * The stress scenarios a report shows for a segment, from its committed stress words: every
 * scenario in use (and any the bundle names, up to K), labelled with the bundle's names (display
 * metadata outside the manifest hash), "unnamed" where it has none. Malformed words: the names.
 */
export function scenarioLabels(
  names: readonly string[],
  words: readonly bigint[],
  K: number,
  A: number,
): string[] {
  let used = 0;
  try {
    used = stressScenariosInUse(words, K, A);
  } catch {
    used = 0;
  }
  const n = Math.max(used, Math.min(names.length, K));
  return Array.from({ length: n }, (_, k) => names[k] ?? "unnamed");
}

/** caps[q] = cap_2q + 2^120 cap_2q+1 (odd GA: high half 0); missing caps are UNBOUNDED_CAP. */
export function packListCaps(caps: readonly bigint[], GA: number): bigint[] {
  if (caps.length > GA) throw new Error(`pooled caps: ${caps.length} caps exceed the profile's ${GA} assets`);
  const full = padTo(caps, GA, UNBOUNDED_CAP);
  full.forEach((c, g) => {
    checkBits(`pooled caps: asset ${g} cap`, c, CAP_BITS);
  });
  const words: bigint[] = [];
  for (let q = 0; q < capWordCount(GA); q++) {
    words.push((full[2 * q] as bigint) + ((full[2 * q + 1] ?? 0n) << 120n));
  }
  return words;
}
/** The GA pooled caps from the packed words; throws on a non-canonical word. */
export function unpackListCaps(words: readonly bigint[], GA: number): bigint[] {
  const P = capWordCount(GA);
  if (words.length !== P) throw new Error(`pooled caps: ${words.length} words, expected ${P}`);
  const out: bigint[] = [];
  const mask = (1n << 120n) - 1n;
  words.forEach((w, q) => {
    const top = 2 * q + 1 < GA ? 240n : 120n;
    if (w < 0n || w >> top !== 0n) throw new Error(`pooled caps: word ${q} is not two 120-bit caps`);
    out.push(w & mask);
    if (2 * q + 1 < GA) out.push(w >> 120n);
  });
  return out;
}

// ---------------------------------------------------------------- result

/** Coverage band labels (SPEC "Public signals"): coverage = haircut collateral / required. */
export const COVERAGE_BANDS: readonly string[] = ["<100%", "100-110%", "110-150%", "150-200%", ">=200%"];
/** Band floors in basis points of coverage. */
export const BAND_FLOORS_BPS: readonly bigint[] = [0n, 10000n, 11000n, 15000n, 20000n];

export interface SegmentResult {
  /** haircut collateral >= liabilities * (1 + margin) at the published prices */
  healthy: boolean;
  /** health under each of the K stress scenarios (unused scenarios repeat `healthy`) */
  stress: boolean[];
  /** coverage band 0..4 (COVERAGE_BANDS) */
  band: number;
}
/** result = healthy + sum_k 2^(1+k) stress_k + 2^(1+K) band; throws on a malformed word. */
export function decodeResult(result: bigint, K: number): SegmentResult {
  if (result < 0n) throw new Error("result: negative");
  const band = result >> BigInt(1 + K);
  if (band > 4n) throw new Error(`result: band ${band} is not 0..4`);
  const healthy = (result & 1n) === 1n;
  if (healthy !== band >= 1n)
    throw new Error(`result: health bit ${healthy ? 1 : 0} disagrees with band ${band}`);
  const stress = Array.from({ length: K }, (_, k) => ((result >> BigInt(1 + k)) & 1n) === 1n);
  return { healthy, stress, band: Number(band) };
}
export function encodeResult(r: SegmentResult, K: number): bigint {
  if (r.stress.length !== K) throw new Error(`result: ${r.stress.length} stress bits for K = ${K}`);
  let v = (r.healthy ? 1n : 0n) + (BigInt(r.band) << BigInt(1 + K));
  r.stress.forEach((b, k) => {
    if (b) v += 1n << BigInt(1 + k);
  });
  return v;
}

/**
 * The outcome the circuit proves from per-slot totals (reference implementation of
 * SegmentResult/CoverageBand, for the prover's summary and tests).
 */
export function segmentOutcome(
  coll: readonly bigint[],
  liab: readonly bigint[],
  slots: readonly SlotParams[],
  marginBps: bigint,
  factors: readonly (readonly bigint[])[],
): SegmentResult & { collValue: bigint; reqValue: bigint } {
  let c = 0n;
  let q = 0n;
  const cv: bigint[] = [];
  const lv: bigint[] = [];
  slots.forEach((s, j) => {
    cv.push((coll[j] ?? 0n) * s.price * s.cfBps);
    lv.push((liab[j] ?? 0n) * s.price * (10000n + marginBps));
    c += cv[j] as bigint;
    q += lv[j] as bigint;
  });
  let band = 0;
  for (let b = 1; b < 5; b++) if (10000n * c >= (BAND_FLOORS_BPS[b] as bigint) * q) band = b;
  const stress = factors.map((row) => {
    let ck = 0n;
    let lk = 0n;
    slots.forEach((_, j) => {
      const f = row[j] ?? UNSTRESSED_FACTOR;
      ck += (cv[j] as bigint) * f;
      lk += (lv[j] as bigint) * f;
    });
    return ck >= lk;
  });
  return { healthy: c >= q, stress, band, collValue: c, reqValue: q };
}

// ---------------------------------------------------------------- bounds

/** Largest number of batches a segment may have: floor(2^24 / max(N, M)). */
export function maxSegmentBatches(p: Pick<Profile, "lotsPerBatch" | "liabsPerBatch">): number {
  return Math.floor(MAX_ENTRIES / Math.max(p.lotsPerBatch, p.liabsPerBatch));
}
/** Largest number of lot-list batches: floor(2^24 / G). */
export function maxListBatches(p: Pick<Profile, "lotsPerGlobalBatch">): number {
  return Math.floor(MAX_ENTRIES / p.lotsPerGlobalBatch);
}

// ---------------------------------------------------------------- manifest and r

/**
 * One asset as the manifest commits it: its symbol, its decimals (what turns an amount in base
 * units into tokens) and its token address (the zero address when not known). The epoch's asset
 * table is `globalAssets` (index g = position); slot k of a segment is `assets[k]`, which must
 * equal `globalAssets[g_k]` with g_k the global index packed in slot word k.
 */
export interface ManifestAsset {
  symbol: string;
  decimals: number;
  token: string;
}
export const NO_TOKEN = "0x0000000000000000000000000000000000000000";
export const MAX_SYMBOL_BYTES = 32;

export interface ManifestSegment {
  id: bigint;
  marginBps: bigint;
  /** A packed slot words (packSegmentSlots) */
  slots: bigint[];
  /** ceil(K*A/16) packed stress words (packStress) */
  stress: bigint[];
  batchRoots: bigint[];
  assets: ManifestAsset[];
}
export interface Manifest {
  epoch: bigint;
  /** the epoch's asset table (at most GA assets) */
  globalAssets: ManifestAsset[];
  /** ceil(GA/2) packed pooled custody caps (packListCaps) */
  poolCaps: bigint[];
  segments: ManifestSegment[];
  globalCommitments: bigint[];
}

const abi = AbiCoder.defaultAbiCoder();

/** ABI type of one asset slot, of the asset table, and of the manifest's segments. */
export const ASSET_TYPE = "tuple(string,uint8,address)";
export const MANIFEST_SEGMENTS_TYPE = `tuple(uint32,uint16,uint256[],uint256[],uint256[],${ASSET_TYPE}[])[]`;

/**
 * manifestHash = keccak256(abi.encode(AssetSlot[] globalAssets, uint256[] poolCaps,
 * SegmentEntry[] segments, uint256[] globalCommitments)). Checks the structural rules the
 * registry enforces that do not depend on the profile (segment order, batches, asset fields).
 */
export function manifestHash(m: Omit<Manifest, "epoch">): string {
  let prev = -1n;
  for (const s of m.segments) {
    if (s.id <= prev) throw new Error("manifest: segments must be in strictly increasing id order");
    if (s.batchRoots.length < 1) throw new Error(`manifest: segment ${s.id} has no batch`);
    prev = s.id;
  }
  if (m.globalCommitments.length < 1) throw new Error("manifest: the global lot list has no batch");
  checkAssetList(m.globalAssets, "manifest: global asset");
  for (const s of m.segments) checkAssetList(s.assets, `manifest: segment ${s.id} asset slot`);
  return keccak256(
    abi.encode(
      [`${ASSET_TYPE}[]`, "uint256[]", MANIFEST_SEGMENTS_TYPE, "uint256[]"],
      [assetsArg(m.globalAssets), m.poolCaps, manifestSegmentsArg(m), m.globalCommitments],
    ),
  );
}

const assetsArg = (as: readonly ManifestAsset[]): [string, number, string][] =>
  as.map((a) => [a.symbol, a.decimals, a.token]);

/** The segments in ABI form: (id, marginBps, slots, stress, batchRoots, (symbol, decimals, token)[]). */
export function manifestSegmentsArg(
  m: Pick<Manifest, "segments">,
): [bigint, bigint, bigint[], bigint[], bigint[], [string, number, string][]][] {
  return m.segments.map((s) => [s.id, s.marginBps, s.slots, s.stress, s.batchRoots, assetsArg(s.assets)]);
}
/** Assets the registry accepts: 1..32-byte symbols, unique, decimals <= 30, an address (or zero). */
function checkAssetList(list: readonly ManifestAsset[], what: string): void {
  const seen = new Set<string>();
  for (const [k, a] of list.entries()) {
    const where = `${what} ${k}`;
    const bytes = toUtf8Bytes(a.symbol).length;
    if (bytes < 1 || bytes > MAX_SYMBOL_BYTES) throw new Error(`${where}: symbol must be 1..32 bytes`);
    if (seen.has(a.symbol)) throw new Error(`${where}: symbol ${a.symbol} appears twice`);
    seen.add(a.symbol);
    if (!Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 30)
      throw new Error(`${where}: decimals must be an integer in [0, 30]`);
    if (!/^0x[0-9a-fA-F]{40}$/.test(a.token)) throw new Error(`${where}: token is not an address`);
  }
}

export const sameAsset = (a: ManifestAsset, b: ManifestAsset): boolean =>
  a.symbol === b.symbol && a.decimals === b.decimals && a.token.toLowerCase() === b.token.toLowerCase();

/**
 * Every profile-dependent rule of a manifest, as the registry applies it (SPEC "Manifest and r",
 * "Bounds"): the asset table has at most GA entries; every segment has A slot words and W stress
 * words; slot k < assets.length is a valid slot (price >= 1, cf <= 10000) whose global index g
 * names an asset of the table equal to assets[k]; slots after the segment's assets are the unused
 * word 1; stress words have no bits above their factors; pooled caps are ceil(GA/2) canonical
 * words; batch counts are within the 2^24-entry bound. Returns every problem (empty: valid).
 */
export function manifestProblems(m: Manifest, p: Profile): string[] {
  const out: string[] = [];
  const A = p.assetsPerSegment;
  const W = stressWordCount(p.stressScenarios, A);
  if (m.globalAssets.length > p.globalAssets) {
    out.push(`manifest: ${m.globalAssets.length} global assets exceed the profile's ${p.globalAssets}`);
  }
  // one custody per token: a token listed under two symbols would get two caps
  const tokens = new Map<string, number>();
  m.globalAssets.forEach((a, g) => {
    const t = a.token.toLowerCase();
    if (t === NO_TOKEN) return;
    const prev = tokens.get(t);
    if (prev !== undefined)
      out.push(`manifest: global assets ${prev} and ${g} have the same token ${a.token}`);
    else tokens.set(t, g);
  });
  try {
    unpackListCaps(m.poolCaps, p.globalAssets);
  } catch (e) {
    out.push(`manifest: ${(e as Error).message}`);
  }
  const maxList = maxListBatches(p);
  if (m.globalCommitments.length > maxList) {
    out.push(
      `manifest: the lot list has ${m.globalCommitments.length} batches; at most ${maxList} (2^24 / G) keep its totals below 2^120`,
    );
  }
  const maxSeg = maxSegmentBatches(p);
  for (const s of m.segments) {
    const where = `manifest: segment ${s.id}`;
    if (s.batchRoots.length > maxSeg) {
      out.push(
        `${where} has ${s.batchRoots.length} batches; at most ${maxSeg} (2^24 / max(N, M)) keep its totals below 2^120`,
      );
    }
    if (s.slots.length !== A) out.push(`${where}: ${s.slots.length} slot words, expected ${A}`);
    if (s.stress.length !== W) out.push(`${where}: ${s.stress.length} stress words, expected ${W}`);
    if (s.assets.length > A) out.push(`${where}: ${s.assets.length} asset slots exceed ${A}`);
    const used = new Map<bigint, number>();
    s.slots.forEach((w, k) => {
      if (k >= s.assets.length) {
        if (w !== 1n) out.push(`${where} slot ${k}: an unused slot must be the word 1`);
        return;
      }
      if (w < 0n || w >> BigInt(SLOT_WORD_BITS) !== 0n) {
        out.push(`${where} slot ${k}: not a ${SLOT_WORD_BITS}-bit slot word`);
        return;
      }
      const sl = unpackSlot(w);
      // two slots of one asset would each get the full custody cap
      const twice = used.get(sl.asset);
      if (twice !== undefined)
        out.push(`${where} slots ${twice} and ${k}: the same global asset ${sl.asset}`);
      else used.set(sl.asset, k);
      if (sl.price < 1n) out.push(`${where} slot ${k}: price 0`);
      if (sl.cfBps > BigInt(MAX_CF_BPS)) out.push(`${where} slot ${k}: collateral factor above 10000`);
      const g = Number(sl.asset);
      const ga = m.globalAssets[g];
      const a = s.assets[k] as ManifestAsset;
      if (!ga) out.push(`${where} slot ${k}: global asset index ${g} is not in the asset table`);
      else if (!sameAsset(ga, a)) {
        out.push(
          `${where} slot ${k}: the slot's global asset ${g} is ${ga.symbol} (${ga.decimals} decimals, ${ga.token}), but the segment lists ${a.symbol} (${a.decimals} decimals, ${a.token})`,
        );
      }
    });
    try {
      if (s.stress.length === W) unpackStress(s.stress, p.stressScenarios, A);
    } catch (e) {
      out.push(`${where}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The manifest's assets from published asset descriptions (token: zero when unknown). */
export function manifestAssets(
  slots: readonly { symbol: string; decimals: number; token?: string }[],
): ManifestAsset[] {
  return slots.map((a) => ({ symbol: a.symbol, decimals: a.decimals, token: a.token ?? NO_TOKEN }));
}

/** r = keccak256(abi.encode(uint64 epoch, bytes32 manifestHash)) mod p */
export function deriveR(epoch: bigint, mHash: string): bigint {
  return BigInt(keccak256(abi.encode(["uint64", "bytes32"], [epoch, mHash]))) % FIELD_P;
}

// ---------------------------------------------------------------- public signals

export interface SegmentSignals {
  nextState: bigint;
  batchRoot: bigint;
  /** packed result (decodeResult); 0 unless last batch */
  result: bigint;
  fingerprint: bigint;
  r: bigint;
  prevState: bigint;
  meta: bigint;
  /** A packed slot words */
  slots: bigint[];
  /** ceil(K*A/16) packed stress words */
  stress: bigint[];
}
export interface ListSignals {
  nextState: bigint;
  commitment: bigint;
  fingerprint: bigint;
  r: bigint;
  prevState: bigint;
  meta: bigint;
  /** ceil(GA/2) packed pooled caps */
  caps: bigint[];
}

type ProfileShape = Pick<Profile, "assetsPerSegment" | "stressScenarios" | "globalAssets">;

/**
 * The names of each circuit's public signals come from circuits/circuits.json; the lengths of the
 * array-valued ones from the profile. Anything in circuits.json that this table does not know (or
 * a name it lacks) stops the module from loading: encode and decode would be wrong.
 */
const SIGNAL_SHAPES: Record<CircuitName, Record<string, ((p: ProfileShape) => number) | null>> = {
  segment: {
    nextState: null,
    batchRoot: null,
    result: null,
    fingerprint: null,
    r: null,
    prevState: null,
    meta: null,
    slots: (p) => p.assetsPerSegment,
    stress: (p) => stressWordCount(p.stressScenarios, p.assetsPerSegment),
  },
  lotlist: {
    nextState: null,
    commitment: null,
    fingerprint: null,
    r: null,
    prevState: null,
    meta: null,
    caps: (p) => capWordCount(p.globalAssets),
  },
};
for (const c of Object.keys(SIGNAL_SHAPES) as CircuitName[]) {
  const names = CIRCUIT_DEFS[c].publicSignals;
  const known = Object.keys(SIGNAL_SHAPES[c]);
  if (
    names.length !== known.length ||
    new Set(names).size !== names.length ||
    names.some((n) => !known.includes(n))
  ) {
    throw new Error(
      `circuits/circuits.json: the ${c} circuit's public signals [${names.join(", ")}] are not the ones encoding.ts knows [${known.join(", ")}]`,
    );
  }
}

interface SignalSlot {
  name: string;
  offset: number;
  /** null: a scalar; else the array length */
  length: number | null;
}
function signalLayout(c: CircuitName, p: ProfileShape): SignalSlot[] {
  let offset = 0;
  return CIRCUIT_DEFS[c].publicSignals.map((name) => {
    const f = SIGNAL_SHAPES[c][name];
    const length = f ? f(p) : null;
    const slot = { name, offset, length };
    offset += length ?? 1;
    return slot;
  });
}
/** Number of public signals of a circuit under a profile. */
export function signalCount(c: CircuitName, p: ProfileShape): number {
  return signalLayout(c, p).reduce((n, s) => n + (s.length ?? 1), 0);
}
export const segmentSignalCount = (p: ProfileShape): number => signalCount("segment", p);
export const listSignalCount = (p: ProfileShape): number => signalCount("lotlist", p);

function toFieldList(signals: readonly (string | bigint)[], expected: number, what: string): bigint[] {
  if (signals.length !== expected) {
    throw new Error(`${what}: expected ${expected} public signals, got ${signals.length}`);
  }
  return signals.map((s, i) => {
    let v: bigint;
    try {
      v = typeof s === "bigint" ? s : BigInt(s);
    } catch {
      throw new Error(`${what}[${i}]: not an integer`);
    }
    if (v < 0n || v >= FIELD_P) throw new Error(`${what}[${i}]: not below the field modulus`);
    return v;
  });
}

function decodeByName(c: CircuitName, signals: readonly (string | bigint)[], p: ProfileShape, what: string) {
  const layout = signalLayout(c, p);
  const v = toFieldList(signals, signalCount(c, p), what);
  const out: Record<string, bigint | bigint[]> = {};
  for (const s of layout) {
    out[s.name] = s.length === null ? (v[s.offset] as bigint) : v.slice(s.offset, s.offset + s.length);
  }
  return out;
}
function encodeByName(c: CircuitName, s: Record<string, bigint | bigint[]>, p: ProfileShape): string[] {
  const out: string[] = [];
  for (const slot of signalLayout(c, p)) {
    const v = s[slot.name];
    if (slot.length === null) {
      if (typeof v !== "bigint") throw new Error(`${c} signals: ${slot.name} must be a scalar`);
      out.push(String(v));
    } else {
      if (!Array.isArray(v) || v.length !== slot.length) {
        throw new Error(`${c} signals: ${slot.name} must have ${slot.length} words`);
      }
      out.push(...v.map(String));
    }
  }
  return out;
}

/** One scalar signal of a segment proof's public signals, unvalidated (undefined when absent). */
export function segmentSignal(
  signals: readonly string[],
  name: Exclude<keyof SegmentSignals, "slots" | "stress">,
  p: ProfileShape,
): string | undefined {
  const slot = signalLayout("segment", p).find((s) => s.name === name);
  return slot ? signals[slot.offset] : undefined;
}

export function decodeSegmentSignals(signals: readonly (string | bigint)[], p: ProfileShape): SegmentSignals {
  return decodeByName("segment", signals, p, "segment public signals") as unknown as SegmentSignals;
}
export function encodeSegmentSignals(s: SegmentSignals, p: ProfileShape): string[] {
  return encodeByName("segment", s as unknown as Record<string, bigint | bigint[]>, p);
}
export function decodeListSignals(signals: readonly (string | bigint)[], p: ProfileShape): ListSignals {
  return decodeByName("lotlist", signals, p, "lot-list public signals") as unknown as ListSignals;
}
export function encodeListSignals(s: ListSignals, p: ProfileShape): string[] {
  return encodeByName("lotlist", s as unknown as Record<string, bigint | bigint[]>, p);
}
