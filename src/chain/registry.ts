/**
 * Chain client core: the registry contract handle, conversions from proofs/bundles to what the
 * contract takes, epoch views, and decoding of reverts to custom-error names.
 */
import {
  type BaseContract,
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  Interface,
  type TransactionReceipt,
} from "ethers";
import { type Bundle, bundleManifest } from "../bundle/bundle.js";
import {
  decodeListSignals,
  decodeSegmentSignals,
  type Manifest,
  type ManifestAsset,
  manifestSegmentsArg,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import type { Groth16Proof } from "../util/snarkjs.js";
import { REGISTRY_ABI } from "./abi.js";

export const REGISTRY_IFACE = new Interface(REGISTRY_ABI as string[]);

/** The registry contract (ethers v6) at `address`, with the embedded ABI. */
export function registryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, REGISTRY_IFACE, runner);
}

// ---------------------------------------------------------------- proofs and epochs

/** A Groth16 proof as the snarkjs Solidity verifier takes it (b's coordinate pairs swapped). */
export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

export function toSolidityProof(p: Groth16Proof): SolidityProof {
  const n = (x: string | undefined): bigint => {
    if (x === undefined) throw new Error("proof: missing coordinate");
    return BigInt(x);
  };
  const b0 = p.pi_b[0] ?? [];
  const b1 = p.pi_b[1] ?? [];
  return {
    a: [n(p.pi_a[0]), n(p.pi_a[1])],
    b: [
      [n(b0[1]), n(b0[0])],
      [n(b1[1]), n(b1[0])],
    ],
    c: [n(p.pi_c[0]), n(p.pi_c[1])],
  };
}

/** What `submitSegmentBatch` takes besides the position: the proof and the circuit's outputs. */
export interface ChainSegmentBatch {
  proof: SolidityProof;
  nextState: bigint;
  /** packed result (SPEC "Public signals"): healthy | stress bits << 1 | band << (1 + K) */
  result: bigint;
  fingerprint: bigint;
}
export interface ChainListBatch {
  proof: SolidityProof;
  nextState: bigint;
  fingerprint: bigint;
}
export interface ChainSegment {
  id: bigint;
  marginBps: bigint;
  /** packed slot words (price, cf, global asset, custody cap), one per asset slot */
  slots: bigint[];
  /** packed stress factor words */
  stress: bigint[];
  batchRoots: bigint[];
  /** the asset slots the manifest commits (slot k = assets[k]) */
  assets: ManifestAsset[];
  batches: ChainSegmentBatch[];
}
/** An epoch ready to publish: the manifest plus every batch's proof, in manifest order. */
export interface ChainEpoch {
  epoch: bigint;
  /** the epoch's asset table (global asset index g = position) */
  globalAssets: ManifestAsset[];
  /** packed pooled custody caps, two per word */
  poolCaps: bigint[];
  segments: ChainSegment[];
  globalCommitments: bigint[];
  list: ChainListBatch[];
}

export function segmentBatchFromProof(
  proof: Groth16Proof,
  publicSignals: readonly string[],
  profile: Profile,
): ChainSegmentBatch {
  const s = decodeSegmentSignals(publicSignals, profile);
  return {
    proof: toSolidityProof(proof),
    nextState: s.nextState,
    result: s.result,
    fingerprint: s.fingerprint,
  };
}

export function listBatchFromProof(
  proof: Groth16Proof,
  publicSignals: readonly string[],
  profile: Profile,
): ChainListBatch {
  const s = decodeListSignals(publicSignals, profile);
  return { proof: toSolidityProof(proof), nextState: s.nextState, fingerprint: s.fingerprint };
}

/** The epoch of a (parsed) bundle in the form the registry takes. */
export function chainEpochFromBundle(b: Bundle): ChainEpoch {
  const m = bundleManifest(b);
  const profile = b.profile;
  return {
    epoch: m.epoch,
    globalAssets: m.globalAssets,
    poolCaps: m.poolCaps,
    segments: m.segments.map((s, i) => {
      const proofs = b.proofs.segments[i];
      if (!proofs) throw new Error(`bundle: no proofs for segment ${s.id}`);
      return {
        ...s,
        batches: proofs.batches.map((x) => segmentBatchFromProof(x.proof, x.publicSignals, profile)),
      };
    }),
    globalCommitments: m.globalCommitments,
    list: b.proofs.lotList.map((x) => listBatchFromProof(x.proof, x.publicSignals, profile)),
  };
}

export function manifestOf(e: ChainEpoch): Manifest {
  return {
    epoch: e.epoch,
    globalAssets: e.globalAssets,
    poolCaps: e.poolCaps,
    segments: e.segments.map((s) => ({
      id: s.id,
      marginBps: s.marginBps,
      slots: s.slots,
      stress: s.stress,
      batchRoots: s.batchRoots,
      assets: s.assets,
    })),
    globalCommitments: e.globalCommitments,
  };
}

/** The arguments of `commitEpoch`: (epoch, asset table, pooled caps, segments, list commitments, round ids). */
export function manifestArgs(
  m: Manifest,
  roundIds: readonly bigint[] = [],
): [
  bigint,
  [string, number, string][],
  bigint[],
  ReturnType<typeof manifestSegmentsArg>,
  bigint[],
  bigint[],
] {
  return [
    m.epoch,
    m.globalAssets.map((a) => [a.symbol, a.decimals, a.token]),
    m.poolCaps,
    manifestSegmentsArg(m),
    m.globalCommitments,
    // oracle round per global asset for a governed registry (0: latest); unused when ungoverned
    [...roundIds],
  ];
}

// ---------------------------------------------------------------- views

export interface SegmentView {
  id: number;
  marginBps: number;
  accepted: number;
  batchCount: number;
  complete: boolean;
  healthy: boolean;
  /** stress-scenario health bits (bit k: healthy under scenario k); 0 until complete */
  stressBits: number;
  /** coverage band 0..4 (COVERAGE_BANDS); 0 until complete */
  band: number;
  slots: bigint[];
  stress: bigint[];
  batchRoots: bigint[];
  /** the committed asset slots (slot k = assets[k]) */
  assets: ManifestAsset[];
}
export interface EpochView {
  epoch: bigint;
  manifestHash: string;
  r: bigint;
  committedAt: number;
  finalizedAt: number;
  finalized: boolean;
  listAccepted: number;
  globalCommitments: bigint[];
  poolCaps: bigint[];
  globalAssets: ManifestAsset[];
  segments: SegmentView[];
}

// biome-ignore lint/suspicious/noExplicitAny: ethers Result
const toAsset = (a: any): ManifestAsset => ({
  symbol: String(a.symbol),
  decimals: Number(a.decimals),
  token: String(a.token),
});
const toBigs = (xs: Iterable<bigint>): bigint[] => [...xs].map((x) => BigInt(x));

// biome-ignore lint/suspicious/noExplicitAny: ethers Result
function toEpochView(v: any): EpochView {
  return {
    epoch: BigInt(v.epoch),
    manifestHash: String(v.manifestHash),
    r: BigInt(v.r),
    committedAt: Number(v.committedAt),
    finalizedAt: Number(v.finalizedAt),
    finalized: Boolean(v.finalized),
    listAccepted: Number(v.listAccepted),
    globalCommitments: toBigs(v.globalCommitments),
    poolCaps: toBigs(v.poolCaps),
    globalAssets: [...v.globalAssets].map(toAsset),
    // biome-ignore lint/suspicious/noExplicitAny: ethers Result
    segments: [...v.segments].map((s: any) => ({
      id: Number(s.id),
      marginBps: Number(s.marginBps),
      accepted: Number(s.accepted),
      batchCount: Number(s.batchCount),
      complete: Boolean(s.complete),
      healthy: Boolean(s.healthy),
      stressBits: Number(s.stressBits),
      band: Number(s.band),
      slots: toBigs(s.slots),
      stress: toBigs(s.stress),
      batchRoots: toBigs(s.batchRoots),
      assets: [...s.assets].map(toAsset),
    })),
  };
}

/** The whole committed epoch, or `undefined` when it was never committed. */
export async function readEpoch(registry: Contract, epoch: bigint): Promise<EpochView | undefined> {
  try {
    return toEpochView(await registry.getFunction("getEpoch").staticCall(epoch));
  } catch (err) {
    if (revertOf(err)?.name === "EpochNotCommitted") return undefined;
    throw new ChainError("getEpoch", err);
  }
}

/** The latest finalized epoch in one call (every segment), or `undefined` before the first. */
export async function readLatestEpoch(registry: Contract): Promise<EpochView | undefined> {
  try {
    return toEpochView(await registry.getFunction("latestEpochView").staticCall());
  } catch (err) {
    if (revertOf(err)?.name === "NoFinalizedEpoch") return undefined;
    throw new ChainError("latestEpochView", err);
  }
}

// ---------------------------------------------------------------- reverts

export interface DecodedRevert {
  name: string;
  args: unknown[];
  /** "Name(arg, ...)" */
  text: string;
}

function findRevertData(err: unknown, depth = 0): string | undefined {
  if (!err || typeof err !== "object" || depth > 6) return undefined;
  const e = err as Record<string, unknown>;
  for (const k of ["data", "revertData"]) {
    const v = e[k];
    if (typeof v === "string" && /^0x[0-9a-fA-F]{8}/.test(v)) return v;
  }
  for (const k of ["error", "info", "cause", "data"]) {
    const found = findRevertData(e[k], depth + 1);
    if (found) return found;
  }
  return undefined;
}

const fmtArg = (a: unknown): string =>
  typeof a === "bigint" ? a.toString() : Array.isArray(a) ? `[${a.map(fmtArg).join(", ")}]` : String(a);

/** The registry custom error (or Error(string)/Panic) a failed call or transaction carries. */
export function revertOf(err: unknown, iface: Interface = REGISTRY_IFACE): DecodedRevert | undefined {
  const data = findRevertData(err);
  if (data) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) {
        const args = [...parsed.args];
        return { name: parsed.name, args, text: `${parsed.name}(${args.map(fmtArg).join(", ")})` };
      }
    } catch {
      // not one of ours
    }
  }
  const rev = (err as { revert?: { name: string; args: unknown[] } } | undefined)?.revert;
  if (rev?.name) {
    const args = [...rev.args];
    return { name: rev.name, args, text: `${rev.name}(${args.map(fmtArg).join(", ")})` };
  }
  return undefined;
}

/** A failed chain call with its decoded custom error (when any). */
export class ChainError extends Error {
  readonly revert?: DecodedRevert;
  constructor(what: string, cause: unknown) {
    const rev = revertOf(cause);
    const msg = rev
      ? `${what}: reverted with ${rev.text}`
      : `${what}: ${(cause as { shortMessage?: string; message?: string })?.shortMessage ?? (cause as Error)?.message ?? String(cause)}`;
    super(msg);
    this.name = "ChainError";
    this.revert = rev;
  }
  /** The custom error's name, e.g. "InvalidProof". */
  get revertName(): string | undefined {
    return this.revert?.name;
  }
}

/** Send a transaction and wait for its receipt; a revert becomes a ChainError naming the custom error. */
export async function sendTx(
  what: string,
  send: () => Promise<ContractTransactionResponse>,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    const tx = await send();
    receipt = await tx.wait();
  } catch (err) {
    throw new ChainError(what, err);
  }
  if (!receipt) throw new Error(`${what}: no receipt`);
  return receipt;
}

/** Narrow a BaseContract to Contract (for getFunction). */
export function asContract(c: BaseContract): Contract {
  return c as Contract;
}
