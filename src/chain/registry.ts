/**
 * Chain client core: the registry contract handle, conversions from proofs/bundles to what the
 * contract takes, epoch views, and decoding of reverts to custom-error names.
 */
import {
  type BaseContract,
  Contract,
  type ContractRunner,
  type ContractTransactionResponse,
  type EventLog,
  Interface,
  isAddress,
  solidityPackedKeccak256,
  type TransactionReceipt,
  ZeroHash,
} from "ethers";
import type { DeployedVerifier } from "../audit/anchor.js";
import { type Bundle, bundleManifest } from "../bundle/bundle.js";
import {
  decodeListSignals,
  decodeSegmentSignals,
  type Manifest,
  type ManifestAsset,
  type ManifestSegment,
  manifestHash,
  manifestSegmentsArg,
} from "../spec/encoding.js";
import { CIRCUITS, type CircuitName, type Profile } from "../spec/profiles.js";
import type { Groth16Proof } from "../util/snarkjs.js";
import { REGISTRY_ABI } from "./abi.js";

export const REGISTRY_IFACE = new Interface(REGISTRY_ABI as string[]);

/** The registry contract (ethers v6) at `address`, with the embedded ABI. */
export function registryAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, REGISTRY_IFACE, runner);
}

/** The runtime code of the registry's verifier for `circuit` (address read from the registry). */
export async function deployedVerifierCode(
  runner: ContractRunner,
  registry: string,
  circuit: CircuitName,
): Promise<DeployedVerifier> {
  if (!isAddress(registry)) throw new Error(`registry ${registry}: not an address`);
  const reg = registryAt(registry, runner);
  const fn = circuit === "segment" ? "segmentVerifier" : "listVerifier";
  const address = (await reg.getFunction(fn).staticCall()) as string;
  const provider = runner.provider;
  if (!provider) throw new Error("registry anchor: the runner has no provider");
  const code = await provider.getCode(address);
  if (code === "0x") throw new Error(`${fn} ${address} has no code`);
  return { address, code };
}

/** Every circuit's verifier of the registry, as deployed (the audit's `registry` anchor). */
export async function registryVerifiers(
  runner: ContractRunner,
  registry: string,
): Promise<Record<CircuitName, DeployedVerifier>> {
  const out: Partial<Record<CircuitName, DeployedVerifier>> = {};
  for (const c of CIRCUITS) out[c] = await deployedVerifierCode(runner, registry, c);
  return out as Record<CircuitName, DeployedVerifier>;
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

/** One segment batch as `submitSegmentBatches` takes it: the proof and the circuit's outputs. */
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
/** A manifest segment with its batch proofs. */
export interface ChainSegment extends ManifestSegment {
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

/**
 * The registry's backward hash chain over a segment's batch roots (or the list's commitments):
 * chain[n] = 0, chain[i] = keccak256(abi.encodePacked(roots[i], chain[i + 1])); the registry stores
 * chain[0] at commit, and a submission of batches f .. f+k-1 passes their roots and chain[f + k].
 */
export function rootsChain(roots: readonly bigint[]): string[] {
  const t: string[] = [];
  t[roots.length] = ZeroHash;
  for (let i = roots.length - 1; i >= 0; i--)
    t[i] = solidityPackedKeccak256(["uint256", "bytes32"], [roots[i], t[i + 1]]);
  return t;
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
  /** from the commit's `SegmentCommitted` log (the registry stores their hash chain) */
  batchRoots: bigint[];
  /** the committed asset slots (slot k = assets[k]) */
  assets: ManifestAsset[];
}
export interface EpochView {
  epoch: bigint;
  manifestHash: string;
  r: bigint;
  committedAt: number;
  /** the block of the commit, whose logs hold the batch roots and list commitments */
  commitBlock: number;
  finalizedAt: number;
  finalized: boolean;
  listAccepted: number;
  /** from the commit's `ListCommitted` log */
  globalCommitments: bigint[];
  /** from the commit's `ListCommitted` log (the registry stores their hash) */
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

/**
 * What the registry emitted at an epoch's commit and does not store: each segment's batch roots,
 * the list's commitments (it stores a hash chain of each), the pooled caps (their hash), the
 * asset table.
 */
interface CommitLogs {
  roots: Map<number, bigint[]>;
  commitments: bigint[];
  poolCaps: bigint[];
  assetTable: ManifestAsset[];
}

/**
 * The commit's `SegmentCommitted`, `ListCommitted` and `AssetTableCommitted` logs, read at the
 * commit's block from the registry's own address (a query names the epoch, never a segment).
 */
async function readCommitLogs(registry: Contract, epoch: bigint, block: number): Promise<CommitLogs> {
  const query = async (name: string, ...topics: unknown[]) => {
    try {
      return (await registry.queryFilter(
        registry.filters[name]?.(...topics) ?? name,
        block,
        block,
      )) as EventLog[];
    } catch (err) {
      throw new ChainError(`${name} logs of epoch ${epoch} (block ${block})`, err);
    }
  };
  const roots = new Map<number, bigint[]>();
  for (const ev of await query("SegmentCommitted", epoch))
    roots.set(Number(ev.args.segmentId), toBigs(ev.args.batchRoots));
  const list = (await query("ListCommitted", epoch))[0];
  const table = (await query("AssetTableCommitted", epoch))[0];
  if (!list || !table)
    throw new Error(
      `epoch ${epoch}: the registry's ${list ? "AssetTableCommitted" : "ListCommitted"} log of block ${block} is missing: does the RPC serve logs of that block?`,
    );
  return {
    roots,
    commitments: toBigs(list.args.globalCommitments),
    poolCaps: toBigs(list.args.poolCaps),
    assetTable: [...table.args.assetTable].map(toAsset),
  };
}

/** Slot k < n's asset: the table's entry the slot word's global index (bits 110..113) names. */
function slotAssets(
  slots: readonly bigint[],
  n: number,
  table: readonly ManifestAsset[],
  epoch: bigint,
): ManifestAsset[] {
  return slots.slice(0, n).map((w, k) => {
    const a = table[Number((w >> 110n) & 0xfn)];
    if (!a) throw new Error(`epoch ${epoch}: slot ${k} names an asset outside the committed asset table`);
    return a;
  });
}

/** `what` of epoch `epoch` as logged at its commit, `count` of them, or a clear error. */
function logged(
  xs: bigint[] | undefined,
  count: number,
  what: string,
  epoch: bigint,
  block: number,
): bigint[] {
  if (!xs || xs.length !== count)
    throw new Error(
      `epoch ${epoch}: the registry's commit log of ${what} (block ${block}) is ${xs ? `${xs.length} long, not ${count}` : "missing"}: does the RPC serve logs of that block?`,
    );
  return xs;
}

// biome-ignore lint/suspicious/noExplicitAny: ethers Result
async function toEpochView(registry: Contract, v: any): Promise<EpochView> {
  const epoch = BigInt(v.epoch);
  const block = Number(v.commitBlock);
  const logs = await readCommitLogs(registry, epoch, block);
  const table = logs.assetTable;
  const view: EpochView = {
    epoch,
    manifestHash: String(v.manifestHash),
    r: BigInt(v.r),
    committedAt: Number(v.committedAt),
    commitBlock: block,
    finalizedAt: Number(v.finalizedAt),
    finalized: Boolean(v.finalized),
    listAccepted: Number(v.listAccepted),
    globalCommitments: logged(logs.commitments, Number(v.listCount), "list commitments", epoch, block),
    poolCaps: logs.poolCaps,
    globalAssets: table,
    // biome-ignore lint/suspicious/noExplicitAny: ethers Result
    segments: [...v.segments].map((s: any) => {
      const slots = toBigs(s.slots);
      return {
        id: Number(s.id),
        marginBps: Number(s.marginBps),
        accepted: Number(s.accepted),
        batchCount: Number(s.batchCount),
        complete: Boolean(s.complete),
        healthy: Boolean(s.healthy),
        stressBits: Number(s.stressBits),
        band: Number(s.band),
        slots,
        stress: toBigs(s.stress),
        batchRoots: logged(
          logs.roots.get(Number(s.id)),
          Number(s.batchCount),
          `segment ${s.id}'s batch roots`,
          epoch,
          block,
        ),
        assets: slotAssets(slots, Number(s.assetCount), table, epoch),
      };
    }),
  };
  checkLogsAgainstStorage(view);
  return view;
}

/**
 * The logs complete what the registry stores, so they must hash, with it, to the manifest hash it
 * stored at the commit: a node serving altered or foreign logs is caught here, for every reader.
 */
function checkLogsAgainstStorage(v: EpochView): void {
  const h = manifestHash({
    globalAssets: v.globalAssets,
    poolCaps: v.poolCaps,
    globalCommitments: v.globalCommitments,
    segments: v.segments.map((s) => ({
      id: BigInt(s.id),
      marginBps: BigInt(s.marginBps),
      slots: s.slots,
      stress: s.stress,
      batchRoots: s.batchRoots,
      assets: s.assets,
    })),
  });
  if (h !== v.manifestHash)
    throw new Error(
      `epoch ${v.epoch}: the registry's commit logs and storage hash to ${h}, not to its stored manifest hash ${v.manifestHash}: the node served altered logs`,
    );
}

/** The whole committed epoch, or `undefined` when it was never committed. */
export async function readEpoch(registry: Contract, epoch: bigint): Promise<EpochView | undefined> {
  let v: unknown;
  try {
    v = await registry.getFunction("getEpoch").staticCall(epoch);
  } catch (err) {
    if (revertOf(err)?.name === "EpochNotCommitted") return undefined;
    throw new ChainError("getEpoch", err);
  }
  return toEpochView(registry, v);
}

/** The latest finalized epoch, or `undefined` before the first. */
export async function readLatestEpoch(registry: Contract): Promise<EpochView | undefined> {
  let v: unknown;
  try {
    v = await registry.getFunction("latestEpochView").staticCall();
  } catch (err) {
    if (revertOf(err)?.name === "NoFinalizedEpoch") return undefined;
    throw new ChainError("latestEpochView", err);
  }
  return toEpochView(registry, v);
}

// ---------------------------------------------------------------- reverts

export interface DecodedRevert {
  name: string;
  args: unknown[];
  /** "Name(arg, ...)" */
  text: string;
}

/** The revert data a failed call or transaction carries (ethers nests it in several shapes). */
export function findRevertData(err: unknown, depth = 0): string | undefined {
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
