/**
 * Governed segments (contracts/SegmentGovernance.sol) behind a TimelockController
 * (contracts/GovernanceTimelock.sol): deployment, timelocked changes, and what a publisher reads
 * from governance to build a manifest that `commitEpoch` accepts.
 *
 * Deploy flow (the registry takes the governance address in its constructor, and governance is
 * bound to the registry once, so there are two steps around the registry's deployment):
 *   1. `deployGovernance(signer, arts, { delaySeconds })` deploys SegmentGovernance (the deployer
 *      temporarily admin and governor) and the timelock;
 *   2. deploy the registry with `governance.target` as its `governance_` argument;
 *   3. `bindGovernance(governance, registry)`; the genesis configuration (assets, pooled custody,
 *      segments) may be written directly now, before the hand-over, or later through the timelock;
 *   4. `handOverToTimelock(governance, timelock)`: the timelock gets GOVERNOR_ROLE and
 *      DEFAULT_ADMIN_ROLE, the deployer renounces both. From then on every change is
 *      `scheduleGovernance` + (after the delay) `executeGovernance`.
 */
import * as path from "node:path";
import {
  type BaseContract,
  Contract,
  ContractFactory,
  type ContractRunner,
  type ContractTransactionResponse,
  type Interface,
  type InterfaceAbi,
  id,
  type Signer,
  type TransactionReceipt,
  ZeroAddress,
  ZeroHash,
} from "ethers";
import { PRICE_DECIMALS, packSegmentSlots, UNBOUNDED_CAP } from "../spec/encoding.js";
import { type CompiledContract, loadContract } from "../toolchain/contracts.js";
import { buildDir as defaultBuildDir } from "../util/paths.js";
import { findRevertData, revertOf } from "./registry.js";

export const GOVERNOR_ROLE = id("GOVERNOR_ROLE");
export const PUBLISHER_ROLE = id("PUBLISHER_ROLE");
export const DEFAULT_ADMIN_ROLE = ZeroHash;

export const AGGREGATOR_V3_ABI = [
  "function decimals() view returns (uint8)",
  "function latestRoundData() view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
  "function getRoundData(uint80 roundId) view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)",
] as const;

/** The views of SegmentGovernance that a publisher and an auditor read (readGovernedEpoch). */
export const GOVERNANCE_READ_ABI = [
  "function assetCount() view returns (uint256)",
  "function asset(uint256 g) view returns ((string symbol, uint8 decimals, address token, address feed, uint32 maxStaleness, uint16 maxDeviationBps))",
  "function segmentIds() view returns (uint32[])",
  "function segmentVersionCount(uint32 segmentId) view returns (uint256)",
  "function segment(uint32 segmentId) view returns ((string name, uint16 marginBps, uint64 maxAge, address custody, bool active, uint8[] assets, uint16[] cfBps, uint256[] stress))",
  "function pooledCustody() view returns (address)",
  "function pooledCustodyAt(uint64 epoch) view returns (address)",
  "function segmentAt(uint32 segmentId, uint64 epoch) view returns (uint256)",
  "function segmentVersion(uint32 segmentId, uint256 version) view returns ((string name, uint16 marginBps, uint64 maxAge, address custody, bool active, uint8[] assets, uint16[] cfBps, uint256[] stress) cfg, uint64 fromEpoch)",
  "function finalizeBlocksAt(uint64 epoch) view returns (uint16)",
] as const;

/** SegmentGovernance at `address`, for reading. */
export function governanceAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, GOVERNANCE_READ_ABI as unknown as InterfaceAbi, runner);
}

export interface GovernanceArtifacts {
  governance: Pick<CompiledContract, "abi" | "bytecode">;
  timelock: Pick<CompiledContract, "abi" | "bytecode">;
}

/**
 * A failed governance/timelock/registry transaction with the custom error decoded from the
 * contract's ABI (`iface`; default the registry's) by the one revert decoder, registry.ts `revertOf`.
 */
export class GovernanceTxError extends Error {
  /** the raw revert data, when the node returned any */
  readonly data?: string;
  readonly revertName?: string;
  readonly revertArgs?: unknown[];
  constructor(what: string, cause: unknown, iface?: Interface) {
    const rev = revertOf(cause, iface);
    super(
      rev
        ? `${what}: reverted with ${rev.text}`
        : `${what}: ${(cause as { shortMessage?: string })?.shortMessage ?? (cause as Error)?.message ?? String(cause)}`,
    );
    this.name = "GovernanceTxError";
    this.data = findRevertData(cause);
    this.revertName = rev?.name;
    this.revertArgs = rev?.args;
  }
}

/**
 * Send a transaction and wait for it; a revert becomes a GovernanceTxError naming the custom error
 * (decoded with `iface`, e.g. the contract's own interface or one combining several ABIs).
 */
export async function sendGovernanceTx(
  what: string,
  send: () => Promise<ContractTransactionResponse>,
  iface?: Interface,
): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    receipt = await (await send()).wait();
  } catch (err) {
    throw new GovernanceTxError(what, err, iface);
  }
  if (!receipt) throw new Error(`${what}: no receipt`);
  return receipt;
}
const sendTx = sendGovernanceTx;
const asContract = (c: BaseContract) => c as Contract;

/** SegmentGovernance and GovernanceTimelock from `bulkhead build` (build/contracts/). */
export async function loadGovernanceArtifacts(buildDir = defaultBuildDir()): Promise<GovernanceArtifacts> {
  return {
    governance: await loadContract("SegmentGovernance", path.resolve(buildDir)),
    timelock: await loadContract("GovernanceTimelock", path.resolve(buildDir)),
  };
}

/** One asset of the governed asset table (index = global asset index). */
export interface GovernedAsset {
  symbol: string;
  decimals: number;
  token: string;
  feed: string;
  /** seconds: a named round older than this at commit is rejected (StalePrice) */
  maxStaleness: number;
  /** bps: a named round further than this from the latest round is rejected (PriceDeviation) */
  maxDeviationBps: number;
}

/** One version of a segment's governed configuration (SegmentGovernance.SegmentConfig). */
export interface GovernedSegment {
  name: string;
  marginBps: number;
  /** seconds after the epoch's commit during which a record counts as fresh */
  maxAge: number;
  /** the segment's own custody account; ZeroAddress: the pooled account */
  custody: string;
  active: boolean;
  /** admitted global asset indices, strictly increasing: slot k holds assets[k] */
  assets: number[];
  cfBps: number[];
  /** packed stress words (docs/SPEC.md "Packed public inputs"), ceil(K*A/16) of them */
  stress: bigint[];
}

/** The ABI tuple of a SegmentConfig. */
export function segmentConfigArg(s: GovernedSegment): unknown[] {
  return [s.name, s.marginBps, s.maxAge, s.custody, s.active, s.assets, s.cfBps, s.stress];
}

export interface GovernanceDeployOptions {
  /** the timelock's minimum delay in seconds */
  delaySeconds: bigint | number;
  /** who may schedule (and cancel) changes; default [deployer] */
  proposers?: string[];
  /** who may execute ready changes; default [deployer]; ["0x000…0"] lets anyone execute */
  executors?: string[];
}

export interface GovernanceDeployment {
  governance: Contract;
  timelock: Contract;
  governanceAddress: string;
  timelockAddress: string;
  delaySeconds: bigint;
}

/** Step 1: SegmentGovernance (the deployer temporarily admin and governor) and the timelock. */
export async function deployGovernance(
  signer: Signer,
  arts: GovernanceArtifacts,
  opts: GovernanceDeployOptions,
): Promise<GovernanceDeployment> {
  const me = await signer.getAddress();
  const delay = BigInt(opts.delaySeconds);
  if (delay < 0n) throw new Error("governance: the timelock delay must be >= 0 seconds");
  const gf = new ContractFactory(arts.governance.abi as InterfaceAbi, arts.governance.bytecode, signer);
  const governance = asContract(await (await gf.deploy(me)).waitForDeployment());
  const tf = new ContractFactory(arts.timelock.abi as InterfaceAbi, arts.timelock.bytecode, signer);
  // admin = zero address: the timelock administers itself (role changes go through the delay too)
  const timelock = asContract(
    await (
      await tf.deploy(
        delay,
        opts.proposers ?? [me],
        opts.executors ?? [me],
        "0x0000000000000000000000000000000000000000",
      )
    ).waitForDeployment(),
  );
  return {
    governance,
    timelock,
    governanceAddress: await governance.getAddress(),
    timelockAddress: await timelock.getAddress(),
    delaySeconds: delay,
  };
}

/** Step 3: bind governance to the registry deployed with its address (once). */
export async function bindGovernance(governance: Contract, registryAddress: string): Promise<void> {
  await sendTx(
    "bindRegistry",
    () => governance.getFunction("bindRegistry")(registryAddress),
    governance.interface,
  );
}

/** Step 4: the timelock becomes governor and admin; the deployer renounces both roles. */
export async function handOverToTimelock(governance: Contract, timelockAddress: string): Promise<void> {
  await handRolesTo(
    governance,
    "handOverToTimelock: governance",
    "",
    [GOVERNOR_ROLE, DEFAULT_ADMIN_ROLE],
    timelockAddress,
  );
}

/**
 * Step 5 (governed deploys): the registry's admin role, which grants and revokes PUBLISHER_ROLE,
 * moves to the timelock too; the deployer renounces it. From then on a publisher key is added or
 * rotated out only by a timelock operation (`publisherRoleOp`), public for the delay.
 */
export async function handRegistryToTimelock(registry: Contract, timelockAddress: string): Promise<void> {
  await handRolesTo(
    registry,
    "handRegistryToTimelock: the registry",
    "registry ",
    [DEFAULT_ADMIN_ROLE],
    timelockAddress,
  );
}

const ROLE_NAMES: Record<string, string> = {
  [GOVERNOR_ROLE]: "GOVERNOR_ROLE",
  [DEFAULT_ADMIN_ROLE]: "DEFAULT_ADMIN_ROLE",
};

/**
 * Grants `roles` of `contract` to the timelock, then renounces them for the deployer (the signer
 * `contract` is connected to), one transaction each, in that order; `what` names the caller and
 * the contract in the error when no signer is connected, `label` prefixes the transactions' names.
 */
async function handRolesTo(
  contract: Contract,
  what: string,
  label: string,
  roles: readonly string[],
  timelockAddress: string,
): Promise<void> {
  const runner = contract.runner as Signer | null;
  if (!runner || typeof (runner as Signer).getAddress !== "function")
    throw new Error(`${what} must be connected to the deployer's signer`);
  const me = await runner.getAddress();
  const f = (n: string) => contract.getFunction(n);
  const i = contract.interface;
  for (const role of roles)
    await sendTx(`grant ${label}${ROLE_NAMES[role]}`, () => f("grantRole")(role, timelockAddress), i);
  for (const role of roles)
    await sendTx(`renounce ${label}${ROLE_NAMES[role]}`, () => f("renounceRole")(role, me), i);
}

/** A timelock operation granting or revoking the registry's PUBLISHER_ROLE (key rotation). */
export function publisherRoleOp(
  registry: Contract,
  fn: "grantRole" | "revokeRole",
  account: string,
  salt: string = ZeroHash,
): TimelockOp {
  return governanceOp(registry, String(registry.target), fn, [PUBLISHER_ROLE, account], salt);
}

/** A timelock operation calling one governance function. */
export interface TimelockOp {
  target: string;
  value: bigint;
  data: string;
  predecessor: string;
  salt: string;
}

export function governanceOp(
  governance: Contract,
  target: string,
  fn: string,
  args: unknown[],
  salt: string = ZeroHash,
): TimelockOp {
  return {
    target,
    value: 0n,
    data: governance.interface.encodeFunctionData(fn, args),
    predecessor: ZeroHash,
    salt,
  };
}

export async function scheduleGovernance(timelock: Contract, op: TimelockOp, delaySeconds: bigint) {
  return sendTx(
    "timelock schedule",
    () =>
      timelock.getFunction("schedule")(op.target, op.value, op.data, op.predecessor, op.salt, delaySeconds),
    timelock.interface,
  );
}

export async function executeGovernance(timelock: Contract, op: TimelockOp) {
  return sendTx(
    "timelock execute",
    () => timelock.getFunction("execute")(op.target, op.value, op.data, op.predecessor, op.salt),
    timelock.interface,
  );
}

// ------------------------------------------------------------------ publisher side

/**
 * A feed answer in circuit units, exactly as SegmentGovernance converts it:
 * answer / 10^feedDecimals * 10^(8 + D - d). Throws when that is not an integer (InexactPrice).
 */
export function circuitPrice(
  answer: bigint,
  feedDecimals: number,
  assetDecimals: number,
  maxDecimals: number,
): bigint {
  if (answer <= 0n) throw new Error(`feed answer ${answer} is not positive`);
  const scale = PRICE_DECIMALS + maxDecimals - assetDecimals;
  if (scale >= feedDecimals) return answer * 10n ** BigInt(scale - feedDecimals);
  const div = 10n ** BigInt(feedDecimals - scale);
  if (answer % div !== 0n)
    throw new Error(`feed answer ${answer} (${feedDecimals} decimals) is not exact in circuit units`);
  return answer / div;
}

export interface GovernedEpochSegment extends GovernedSegment {
  id: bigint;
  version: bigint;
}

/** Everything governed that a manifest must reproduce, read at one block. */
export interface GovernedEpoch {
  /** the epoch's asset table: the governed assets in index order */
  assets: (GovernedAsset & { index: number })[];
  /** the round each asset's price comes from (commitEpoch's roundIds argument) */
  roundIds: bigint[];
  /** circuit price per global asset at that round */
  prices: bigint[];
  /** active segments by increasing id: exactly the ones the epoch must list */
  segments: GovernedEpochSegment[];
  pooledCustody: string;
}

type Row = Record<string, unknown> & unknown[];

/** The governed asset table, in index order (no feed is read). */
export async function readGovernedAssets(governance: Contract): Promise<GovernedEpoch["assets"]> {
  const count = Number(await governance.getFunction("assetCount")());
  const assets: GovernedEpoch["assets"] = [];
  for (let i = 0; i < count; i++) {
    const a = (await governance.getFunction("asset")(i)) as Row;
    assets.push({
      index: i,
      symbol: String(a.symbol),
      decimals: Number(a.decimals),
      token: String(a.token),
      feed: String(a.feed),
      maxStaleness: Number(a.maxStaleness),
      maxDeviationBps: Number(a.maxDeviationBps),
    });
  }
  return assets;
}

/**
 * Reads governance and the feeds: the asset table, the price of each asset in circuit units at
 * the named round (roundIds[g]; 0 or absent: the latest round, whose id is returned), and the
 * active segments. The publisher builds the epoch from this: segment k-th slot = assets[k] with
 * the governed cf and this price; margin and stress words as governed; caps within custody.
 */
export async function readGovernedEpoch(
  governance: Contract,
  opts: { roundIds?: readonly bigint[]; runner?: ContractRunner } = {},
): Promise<GovernedEpoch> {
  const runner = opts.runner ?? governance.runner ?? undefined;
  const g = (n: string) => governance.getFunction(n);
  const assets = await readGovernedAssets(governance);
  const maxDecimals = assets.reduce((m, a) => Math.max(m, a.decimals), 0);
  const roundIds: bigint[] = [];
  const prices: bigint[] = [];
  for (const a of assets) {
    const feed = new Contract(a.feed, AGGREGATOR_V3_ABI as unknown as InterfaceAbi, runner);
    const named = opts.roundIds?.[a.index] ?? 0n;
    const round = (await (named === 0n
      ? feed.getFunction("latestRoundData")()
      : feed.getFunction("getRoundData")(named))) as Row;
    const decimals = Number(await feed.getFunction("decimals")());
    roundIds.push(named);
    prices.push(circuitPrice(BigInt(round[1] as bigint), decimals, a.decimals, maxDecimals));
  }
  const ids = ((await g("segmentIds")()) as bigint[]).map((x) => BigInt(x)).sort((x, y) => (x < y ? -1 : 1));
  const segments: GovernedEpochSegment[] = [];
  for (const sid of ids) {
    const version = BigInt(await g("segmentVersionCount")(sid));
    const s = (await g("segment")(sid)) as Row;
    if (!s.active) continue;
    segments.push({
      id: sid,
      version,
      name: String(s.name),
      marginBps: Number(s.marginBps),
      maxAge: Number(s.maxAge),
      custody: String(s.custody),
      active: true,
      assets: (s.assets as bigint[]).map(Number),
      cfBps: (s.cfBps as bigint[]).map(Number),
      stress: (s.stress as bigint[]).map((x) => BigInt(x)),
    });
  }
  return { assets, roundIds, prices, segments, pooledCustody: String(await g("pooledCustody")()) };
}

/**
 * The slot words of a governed segment: slot k = its k-th admitted asset at the governed price
 * and cf, with caps[k] (default UNBOUNDED_CAP, which passes only for pooled segments) and the
 * pooled bit set exactly when the segment has no custody account of its own; the slots
 * after them the unused word; A words in all.
 */
export function governedSlotWords(
  seg: GovernedSegment,
  prices: readonly bigint[],
  A: number,
  caps: readonly bigint[] = [],
): bigint[] {
  const slots = seg.assets.map((g, k) => {
    const price = prices[g];
    if (price === undefined) throw new Error(`no price for asset ${g}`);
    const pooled = seg.custody === ZeroAddress;
    return {
      price,
      cfBps: BigInt(seg.cfBps[k] ?? 0),
      asset: BigInt(g),
      cap: caps[k] ?? UNBOUNDED_CAP,
      pooled,
    };
  });
  return packSegmentSlots(slots, A);
}
