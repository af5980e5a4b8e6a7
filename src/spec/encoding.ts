/**
 * The single implementation of every encoding in docs/SPEC.md: leaves, Merkle trees, batch
 * commitments, chained states, packed public inputs, manifest hash, r, and the decoding of
 * public signals. Circuits, prover, audit, receipts and the chain client all go through here.
 */

import { buildPoseidon } from "circomlibjs";
import { AbiCoder, keccak256, toUtf8Bytes } from "ethers";
import { CIRCUIT_DEFS } from "./circuits.js";

/** BN254 scalar field modulus. */
export const FIELD_P = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

export const AMOUNT_BITS = 96;
export const PRICE_BITS = 96;
export const MAX_CF_BPS = 10000;
export const MARGIN_BITS = 16;
export const MAX_MARGIN_BPS = 50000;
export const SEGMENT_ID_BITS = 32;
export const EPOCH_BITS = 64;
export const LOT_ID_BITS = 128;
export const SUM_BITS = 240;
export const PRICE_DECIMALS = 8;
/** Leaves per chunk of the global batch commitment (Poseidon takes at most 16 inputs). */
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

export function lotLeaf(l: LotFields): bigint {
  return poseidon([l.lotId, l.segmentId, l.slot, l.amount, l.salt]);
}
export function liabilityLeaf(l: LiabilityFields): bigint {
  return poseidon([l.accountId, l.segmentId, l.slot, l.amount, l.salt]);
}
/** accountId = uint256(keccak256(utf8(account))) >> 8. */
export function accountIdOf(account: string): bigint {
  return BigInt(keccak256(toUtf8Bytes(account))) >> 8n;
}

// ---------------------------------------------------------------- Merkle trees

export interface MerklePath {
  /** leaf index inside the tree (bit i = side at level i: 0 = left). */
  index: number;
  siblings: bigint[];
}

/** Every level of a binary Poseidon Merkle tree over a power-of-two leaf count; levels[0] = leaves. */
export function merkleLevels(leaves: readonly bigint[]): bigint[][] {
  const n = leaves.length;
  if (n < 1 || (n & (n - 1)) !== 0) throw new Error(`merkle: leaf count ${n} is not a power of two`);
  const levels: bigint[][] = [[...leaves]];
  let cur = levels[0] as bigint[];
  while (cur.length > 1) {
    const next: bigint[] = [];
    for (let i = 0; i < cur.length; i += 2) next.push(poseidon([cur[i] as bigint, cur[i + 1] as bigint]));
    levels.push(next);
    cur = next;
  }
  return levels;
}
export function merkleRoot(leaves: readonly bigint[]): bigint {
  const levels = merkleLevels(leaves);
  return (levels[levels.length - 1] as bigint[])[0] as bigint;
}
export function merklePath(levels: readonly bigint[][], index: number): MerklePath {
  const siblings: bigint[] = [];
  let i = index;
  for (let l = 0; l < levels.length - 1; l++) {
    siblings.push((levels[l] as bigint[])[i ^ 1] as bigint);
    i >>= 1;
  }
  return { index, siblings };
}
export function rootFromPath(leaf: bigint, path: MerklePath): bigint {
  let h = leaf;
  let i = path.index;
  for (const s of path.siblings) {
    h = i & 1 ? poseidon([s, h]) : poseidon([h, s]);
    i >>= 1;
  }
  return h;
}

export function batchRoot(lotRoot: bigint, liabRoot: bigint): bigint {
  return poseidon([lotRoot, liabRoot]);
}

/** Global lot-list batch commitment: chained Poseidon over chunks of COMMIT_CHUNK leaves. */
export function listCommitment(leaves: readonly bigint[]): bigint {
  let h = 0n;
  for (let i = 0; i < leaves.length; i += COMMIT_CHUNK) {
    h = poseidon([h, ...leaves.slice(i, i + COMMIT_CHUNK)]);
  }
  return h;
}

// ---------------------------------------------------------------- chained state

export interface SegmentState {
  collSum: bigint;
  liabSum: bigint;
  fp: bigint;
  salt: bigint;
}
export interface ListState {
  lastId: bigint;
  fp: bigint;
  salt: bigint;
}
export const EMPTY_STATE = 0n;
export function segmentStateHash(s: SegmentState): bigint {
  return poseidon([s.collSum, s.liabSum, s.fp, s.salt]);
}
export function listStateHash(s: ListState): bigint {
  return poseidon([s.lastId, s.fp, s.salt]);
}

// ---------------------------------------------------------------- packed public inputs

function checkBits(name: string, v: bigint, bits: number): void {
  if (v < 0n || v >= 1n << BigInt(bits)) throw new Error(`${name}: ${v} is outside [0, 2^${bits})`);
}

export interface SegmentMeta {
  segmentId: bigint;
  marginBps: bigint;
  isFirst: boolean;
  isLast: boolean;
  epoch: bigint;
}
export function packSegmentMeta(m: SegmentMeta): bigint {
  checkBits("segmentId", m.segmentId, SEGMENT_ID_BITS);
  checkBits("marginBps", m.marginBps, MARGIN_BITS);
  checkBits("epoch", m.epoch, EPOCH_BITS);
  return (
    m.segmentId +
    (m.marginBps << 32n) +
    (m.isFirst ? 1n << 48n : 0n) +
    (m.isLast ? 1n << 49n : 0n) +
    (m.epoch << 50n)
  );
}
export interface ListMeta {
  isFirst: boolean;
  isLast: boolean;
  epoch: bigint;
}
export function packListMeta(m: ListMeta): bigint {
  checkBits("epoch", m.epoch, EPOCH_BITS);
  return (m.isFirst ? 1n : 0n) + (m.isLast ? 2n : 0n) + (m.epoch << 2n);
}

export interface SlotParams {
  /** price in circuit units, 1 <= price < 2^96 */
  price: bigint;
  /** collateral factor in basis points, <= 10000 */
  cfBps: bigint;
}
/** Fills unused slots (price 1, cf 0) up to `assets` slots and packs two slots per word. */
export function packSegmentParams(slots: readonly SlotParams[], assets: number): bigint[] {
  if (slots.length > assets)
    throw new Error(`params: ${slots.length} assets exceed the profile's ${assets} slots`);
  const full: SlotParams[] = [...slots];
  while (full.length < assets) full.push({ price: 1n, cfBps: 0n });
  const words: bigint[] = [];
  const slotWord = (s: SlotParams, j: number): bigint => {
    if (s.price < 1n || s.price >= 1n << BigInt(PRICE_BITS)) {
      throw new Error(`params: slot ${j} price ${s.price} is outside [1, 2^${PRICE_BITS})`);
    }
    if (s.cfBps < 0n || s.cfBps > BigInt(MAX_CF_BPS)) {
      throw new Error(`params: slot ${j} collateral factor ${s.cfBps} is outside [0, ${MAX_CF_BPS}]`);
    }
    return s.price + (s.cfBps << 96n);
  };
  for (let k = 0; k < Math.ceil(assets / 2); k++) {
    const lo = slotWord(full[2 * k] as SlotParams, 2 * k);
    const hiSlot = full[2 * k + 1];
    const hi = hiSlot ? slotWord(hiSlot, 2 * k + 1) : 0n;
    words.push(lo + (hi << 112n));
  }
  return words;
}
export function unpackSegmentParams(words: readonly bigint[], assets: number): SlotParams[] {
  const out: SlotParams[] = [];
  const mask96 = (1n << 96n) - 1n;
  for (let j = 0; j < assets; j++) {
    const w = words[j >> 1];
    if (w === undefined) throw new Error(`params: missing word for slot ${j}`);
    const sw = j & 1 ? w >> 112n : w & ((1n << 112n) - 1n);
    out.push({ price: sw & mask96, cfBps: sw >> 96n });
  }
  return out;
}

// ---------------------------------------------------------------- manifest and r

/**
 * One asset slot of a segment as the manifest commits it: the slot's symbol, its decimals (what
 * turns an amount in the leaf's base units into tokens) and its token address (the zero address
 * when not known). Slot k of a segment is `assets[k]`.
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
  params: bigint[];
  batchRoots: bigint[];
  assets: ManifestAsset[];
}
export interface Manifest {
  epoch: bigint;
  segments: ManifestSegment[];
  globalCommitments: bigint[];
}

const abi = AbiCoder.defaultAbiCoder();

export function manifestHash(m: Manifest): string {
  let prev = -1n;
  for (const s of m.segments) {
    if (s.id <= prev) throw new Error("manifest: segments must be in strictly increasing id order");
    if (s.batchRoots.length < 1) throw new Error(`manifest: segment ${s.id} has no batch`);
    prev = s.id;
  }
  if (m.globalCommitments.length < 1) throw new Error("manifest: the global lot list has no batch");
  for (const s of m.segments) checkManifestAssets(s);
  return keccak256(
    abi.encode([MANIFEST_SEGMENTS_TYPE, "uint256[]"], [manifestSegmentsArg(m), m.globalCommitments]),
  );
}

/** ABI type of the manifest's segments (SPEC "Manifest and r"). */
export const MANIFEST_SEGMENTS_TYPE =
  "tuple(uint32,uint16,uint256[],uint256[],tuple(string,uint8,address)[])[]";

/** The segments in ABI form: (id, marginBps, params, batchRoots, (symbol, decimals, token)[]). */
export function manifestSegmentsArg(
  m: Pick<Manifest, "segments">,
): [bigint, bigint, bigint[], bigint[], [string, number, string][]][] {
  return m.segments.map((s) => [
    s.id,
    s.marginBps,
    s.params,
    s.batchRoots,
    s.assets.map((a) => [a.symbol, a.decimals, a.token]),
  ]);
}

/** Asset slots the registry accepts: 1..32-byte symbols, decimals <= 30, an address (or zero). */
function checkManifestAssets(s: ManifestSegment): void {
  const seen = new Set<string>();
  for (const [k, a] of s.assets.entries()) {
    const where = `manifest: segment ${s.id} asset slot ${k}`;
    const bytes = toUtf8Bytes(a.symbol).length;
    if (bytes < 1 || bytes > MAX_SYMBOL_BYTES) throw new Error(`${where}: symbol must be 1..32 bytes`);
    if (seen.has(a.symbol)) throw new Error(`${where}: symbol ${a.symbol} appears twice`);
    seen.add(a.symbol);
    if (!Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 30)
      throw new Error(`${where}: decimals must be an integer in [0, 30]`);
    if (!/^0x[0-9a-fA-F]{40}$/.test(a.token)) throw new Error(`${where}: token is not an address`);
  }
}

/** The manifest's asset slots of a segment from its published slots (token: zero when unknown). */
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
  healthy: bigint;
  fingerprint: bigint;
  r: bigint;
  prevState: bigint;
  meta: bigint;
  params: bigint[];
}
export interface ListSignals {
  nextState: bigint;
  commitment: bigint;
  fingerprint: bigint;
  r: bigint;
  prevState: bigint;
  meta: bigint;
}

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

export const segmentSignalCount = (assets: number): number => 7 + Math.ceil(assets / 2);
export const LIST_SIGNAL_COUNT = 6;

// Signal order comes from the circuit registry (circuits/circuits.json): decode and encode are
// the one place that maps positions to names. The segment circuit's last name ("params") takes
// every remaining signal (A/2 packed slot parameter words).
const SEGMENT_NAMES = CIRCUIT_DEFS.segment.publicSignals as (keyof SegmentSignals)[];
const LIST_NAMES = CIRCUIT_DEFS.lotlist.publicSignals as (keyof ListSignals)[];
const SEGMENT_SCALARS = SEGMENT_NAMES.slice(0, -1) as Exclude<keyof SegmentSignals, "params">[];
if (SEGMENT_SCALARS.length !== segmentSignalCount(0) || LIST_NAMES.length !== LIST_SIGNAL_COUNT) {
  throw new Error("circuits/circuits.json: public signal names do not match the signal counts");
}

/** One named signal of a segment proof's public signals, unvalidated (undefined when absent). */
export function segmentSignal(
  signals: readonly string[],
  name: Exclude<keyof SegmentSignals, "params">,
): string | undefined {
  return signals[SEGMENT_NAMES.indexOf(name)];
}

export function decodeSegmentSignals(signals: readonly (string | bigint)[], assets: number): SegmentSignals {
  const v = toFieldList(signals, segmentSignalCount(assets), "segment public signals");
  const out = { params: v.slice(SEGMENT_SCALARS.length) } as SegmentSignals;
  SEGMENT_SCALARS.forEach((name, i) => {
    out[name] = v[i] as bigint;
  });
  return out;
}
export function encodeSegmentSignals(s: SegmentSignals): string[] {
  return [...SEGMENT_SCALARS.map((name) => s[name]), ...s.params].map(String);
}
export function decodeListSignals(signals: readonly (string | bigint)[]): ListSignals {
  const v = toFieldList(signals, LIST_SIGNAL_COUNT, "lot-list public signals");
  return Object.fromEntries(LIST_NAMES.map((name, i) => [name, v[i] as bigint])) as unknown as ListSignals;
}
export function encodeListSignals(s: ListSignals): string[] {
  return LIST_NAMES.map((name) => String(s[name]));
}
