/**
 * Fixture of the chain tests: small test-profile epochs built with the one input builder
 * (src/inputs.ts), proven for real with the test-profile artifacts, and turned into what the
 * registry takes (src/chain/registry.ts).
 */

import {
  type ChainEpoch,
  type ChainListBatch,
  type ChainSegmentBatch,
  listBatchFromProof,
  segmentBatchFromProof,
} from "../../src/chain/registry.js";
import {
  buildListBatch,
  buildSegmentBatch,
  type ListBatchResult,
  type SegmentBatchResult,
} from "../../src/epoch/inputs.js";
import {
  deriveR,
  FIELD_P,
  type LiabilityFields,
  type LotFields,
  type Manifest,
  type ManifestAsset,
  manifestHash,
  NO_TOKEN,
  type SegmentState,
  type SlotParams,
} from "../../src/spec/encoding.js";
import type { Profile } from "../../src/spec/profiles.js";
import type { Artifacts } from "../../src/toolchain/artifacts.js";
import { sj as snarkjs } from "../../src/util/snarkjs.js";

let saltCounter = 1n;
/** deterministic, distinct salts */
export const nextSalt = (): bigint => (saltCounter++ * 0x9e3779b97f4a7c15f39cc0605cedc835n) % FIELD_P;

export function lot(lotId: bigint, segmentId: bigint, slot: bigint, amount: bigint): LotFields {
  return { lotId, segmentId, slot, amount, salt: nextSalt() };
}
export function liability(
  accountId: bigint,
  segmentId: bigint,
  slot: bigint,
  amount: bigint,
): LiabilityFields {
  return { accountId, segmentId, slot, amount, salt: nextSalt() };
}

export interface SegmentSpec {
  id: bigint;
  marginBps: bigint;
  slots: SlotParams[];
  /** the committed asset slots (default: DEFAULT_ASSETS for as many slots as `slots`) */
  assets?: ManifestAsset[];
  lots: LotFields[];
  liabilities: LiabilityFields[];
}

/** Slot k's asset when a spec names none: WETH (18 decimals), USDC (6), WBTC (8), DAI (18). */
export const DEFAULT_ASSETS: readonly ManifestAsset[] = [
  { symbol: "WETH", decimals: 18, token: NO_TOKEN },
  { symbol: "USDC", decimals: 6, token: NO_TOKEN },
  { symbol: "WBTC", decimals: 8, token: NO_TOKEN },
  { symbol: "DAI", decimals: 18, token: NO_TOKEN },
];

export interface PlannedEpoch {
  epoch: bigint;
  manifest: Manifest;
  manifestHash: string;
  r: bigint;
  segments: { spec: SegmentSpec; batches: SegmentBatchResult[] }[];
  list: ListBatchResult[];
}

export function segmentBatches(
  profile: Profile,
  epoch: bigint,
  s: SegmentSpec,
  r: bigint,
): SegmentBatchResult[] {
  const { lotsPerBatch: N, liabsPerBatch: M } = profile;
  const n = Math.max(1, Math.ceil(s.lots.length / N), Math.ceil(s.liabilities.length / M));
  const out: SegmentBatchResult[] = [];
  for (let b = 0; b < n; b++) {
    out.push(
      buildSegmentBatch({
        profile,
        epoch,
        segmentId: s.id,
        marginBps: s.marginBps,
        slots: s.slots,
        isFirst: b === 0,
        isLast: b === n - 1,
        r,
        prev: out[b - 1]?.next ?? null,
        nextSalt: 1000n + BigInt(b) * 7n + s.id,
        lots: s.lots.slice(b * N, (b + 1) * N),
        liabilities: s.liabilities.slice(b * M, (b + 1) * M),
      }),
    );
  }
  return out;
}

export function listBatches(
  profile: Profile,
  epoch: bigint,
  lots: LotFields[],
  r: bigint,
): ListBatchResult[] {
  const G = profile.lotsPerGlobalBatch;
  const n = Math.max(1, Math.ceil(lots.length / G));
  const out: ListBatchResult[] = [];
  for (let b = 0; b < n; b++) {
    out.push(
      buildListBatch({
        profile,
        epoch,
        isFirst: b === 0,
        isLast: b === n - 1,
        r,
        prev: out[b - 1]?.next ?? null,
        nextSalt: 5000n + BigInt(b),
        lots: lots.slice(b * G, (b + 1) * G),
      }),
    );
  }
  return out;
}

/**
 * Plans an epoch: roots and commitments first (they do not depend on r), then the manifest and r,
 * then every batch's circuit input with the real r. `listLots` defaults to every segment's lots
 * sorted by lotId; pass another list to build an inconsistent epoch.
 */
export function planEpoch(
  profile: Profile,
  epoch: bigint,
  segments: SegmentSpec[],
  listLots?: LotFields[],
): PlannedEpoch {
  const lotsForList =
    listLots ?? [...segments.flatMap((s) => s.lots)].sort((a, b) => (a.lotId < b.lotId ? -1 : 1));
  const draft = segments.map((s) => segmentBatches(profile, epoch, s, 0n));
  const draftList = listBatches(profile, epoch, lotsForList, 0n);
  const manifest: Manifest = {
    epoch,
    segments: segments.map((s, i) => ({
      id: s.id,
      marginBps: s.marginBps,
      params: (draft[i] as SegmentBatchResult[])[0]?.params ?? [],
      batchRoots: (draft[i] as SegmentBatchResult[]).map((b) => b.batchRoot),
      assets: s.assets ?? DEFAULT_ASSETS.slice(0, s.slots.length),
    })),
    globalCommitments: draftList.map((b) => b.commitment),
  };
  const mHash = manifestHash(manifest);
  const r = deriveR(epoch, mHash);
  return {
    epoch,
    manifest,
    manifestHash: mHash,
    r,
    segments: segments.map((spec) => ({ spec, batches: segmentBatches(profile, epoch, spec, r) })),
    list: listBatches(profile, epoch, lotsForList, r),
  };
}

export interface Prover {
  segment: Artifacts;
  lotlist: Artifacts;
  assets: number;
}

export async function proveSegment(p: Prover, b: SegmentBatchResult): Promise<ChainSegmentBatch> {
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(b.input, p.segment.wasm, p.segment.zkey);
  if (publicSignals.join() !== b.publicSignals.join())
    throw new Error("fixture: segment public signals differ from inputs.ts");
  return segmentBatchFromProof(proof, publicSignals, p.assets);
}

export async function proveList(p: Prover, b: ListBatchResult): Promise<ChainListBatch> {
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(b.input, p.lotlist.wasm, p.lotlist.zkey);
  if (publicSignals.join() !== b.publicSignals.join())
    throw new Error("fixture: list public signals differ from inputs.ts");
  return listBatchFromProof(proof, publicSignals);
}

/** Proves every batch of a planned epoch. */
export async function proveEpoch(p: Prover, e: PlannedEpoch): Promise<ChainEpoch> {
  const segments = [];
  for (const [i, s] of e.segments.entries()) {
    const m = e.manifest.segments[i];
    if (!m) throw new Error("fixture: manifest mismatch");
    const batches: ChainSegmentBatch[] = [];
    for (const b of s.batches) batches.push(await proveSegment(p, b));
    segments.push({ ...m, batches });
  }
  const list: ChainListBatch[] = [];
  for (const b of e.list) list.push(await proveList(p, b));
  return { epoch: e.epoch, segments, globalCommitments: e.manifest.globalCommitments, list };
}

/** State `s` with another salt: same sums and fingerprint, another commitment. */
export function resalted(s: SegmentState): SegmentState {
  return { ...s, salt: s.salt + 1n };
}
