/**
 * Fixture of the chain tests: small test-profile epochs built with the one input builder
 * (src/epoch/inputs.ts), proven for real with the test-profile artifacts, and turned into what the
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
  chainEpoch,
  type EpochSegmentChain,
  splitListBatches,
  splitSegmentBatches,
} from "../../src/epoch/chain.js";
import { type ListBatchResult, listLotOf, type SegmentBatchResult } from "../../src/epoch/inputs.js";
import {
  FIELD_P,
  type LiabilityFields,
  type LotFields,
  type Manifest,
  type ManifestAsset,
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
  /** used slots; `asset` is the global index into DEFAULT_ASSETS (cap: custody cap, base units) */
  slots: SlotParams[];
  /** stress factors, scenario x used slot (default: none, i.e. every factor 10000) */
  stress?: bigint[][];
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

const segmentChainOf = (s: SegmentSpec, profile: Profile): EpochSegmentChain => ({
  segmentId: s.id,
  marginBps: s.marginBps,
  slots: s.slots,
  stress: s.stress ?? [],
  assets: s.assets ?? s.slots.map((x) => DEFAULT_ASSETS[Number(x.asset)] as ManifestAsset),
  batches: splitSegmentBatches(s.lots, s.liabilities, profile),
  nextSalt: (b) => 1000n + BigInt(b) * 7n + s.id,
});

/**
 * Plans an epoch with the pipeline's two-pass chaining (src/epoch/chain.ts). `listLots`
 * defaults to every segment's lots sorted by lotId; pass another list to build an inconsistent
 * epoch.
 */
export function planEpoch(
  profile: Profile,
  epoch: bigint,
  segments: SegmentSpec[],
  listLots?: LotFields[],
  poolCaps: bigint[] = [],
): PlannedEpoch {
  const slotsOf = (l: LotFields) => segments.find((s) => s.id === l.segmentId)?.slots ?? [];
  const lotsForList =
    listLots ?? [...segments.flatMap((s) => s.lots)].sort((a, b) => (a.lotId < b.lotId ? -1 : 1));
  const e = chainEpoch(
    profile,
    epoch,
    segments.map((s) => segmentChainOf(s, profile)),
    {
      batches: splitListBatches(
        lotsForList.map((l) => listLotOf(slotsOf(l), l)),
        profile,
      ),
      nextSalt: (b) => 5000n + BigInt(b),
      poolCaps,
      globalAssets: [...DEFAULT_ASSETS],
    },
  );
  return {
    epoch,
    manifest: e.manifest,
    manifestHash: e.manifestHash,
    r: e.r,
    segments: segments.map((spec, i) => ({ spec, batches: e.segments[i] as SegmentBatchResult[] })),
    list: e.list,
  };
}

export interface Prover {
  segment: Artifacts;
  lotlist: Artifacts;
  profile: Profile;
}

export async function proveSegment(p: Prover, b: SegmentBatchResult): Promise<ChainSegmentBatch> {
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(b.input, p.segment.wasm, p.segment.zkey);
  if (publicSignals.join() !== b.publicSignals.join())
    throw new Error("fixture: segment public signals differ from inputs.ts");
  return segmentBatchFromProof(proof, publicSignals, p.profile);
}

export async function proveList(p: Prover, b: ListBatchResult): Promise<ChainListBatch> {
  const { proof, publicSignals } = await snarkjs.groth16.fullProve(b.input, p.lotlist.wasm, p.lotlist.zkey);
  if (publicSignals.join() !== b.publicSignals.join())
    throw new Error("fixture: list public signals differ from inputs.ts");
  return listBatchFromProof(proof, publicSignals, p.profile);
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
  return {
    epoch: e.epoch,
    globalAssets: e.manifest.globalAssets,
    poolCaps: e.manifest.poolCaps,
    segments,
    globalCommitments: e.manifest.globalCommitments,
    list,
  };
}

/** State `s` with another salt: same sums and fingerprint, another commitment. */
export function resalted(s: SegmentState): SegmentState {
  return { ...s, salt: s.salt + 1n };
}
