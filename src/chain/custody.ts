/**
 * The custody rule of SegmentGovernance (`_checkClaims`, docs/SPEC.md "Custody"), offline: every
 * unit held in a custody account backs one cap. For each custody account and global asset g,
 *
 *   (caps of g of every own-custody segment naming the account)
 *     + (poolCap_g, when it is the pooled account)  <=  balanceOf(account)
 *
 * The lot list totals against the pooled caps only the lots of pooled-custody slots (the slot
 * word's pooled bit, bound into each lot's fingerprint tag), so a pooled cap is backed by the
 * pooled account alone and an own cap by its own account alone; an account named by several
 * segments (or by segments and the pooled role) is split between them, never counted twice.
 * `snapshot govern` builds caps that pass it and `audit --rpc` checks a committed epoch with it.
 */
import { Contract, type ContractRunner, getAddress, type InterfaceAbi, ZeroAddress } from "ethers";
import { type Manifest, unpackListCaps, unpackSegmentSlots } from "../spec/encoding.js";
import { formatDecimal } from "../spec/units.js";
import { GOVERNANCE_READ_ABI, readGovernedAssets } from "./governance.js";

/** What the custody rule needs of governed state: custody accounts, admitted assets, tokens. */
export interface CustodyView {
  segments: readonly { id: bigint; custody: string; assets: readonly number[] }[];
  assets: readonly { token: string; symbol: string; decimals: number }[];
  pooledCustody: string;
}

const ERC20_ABI = ["function balanceOf(address) view returns (uint256)"] as const;

/** balanceOf per custody account (checksummed) per global asset, read at one block. */
export interface CustodyBalances {
  balances: Map<string, bigint[]>;
}

/** The custody accounts an epoch's caps draw on: every own-custody segment's and the pooled one. */
export function custodyAccounts(ge: Pick<CustodyView, "segments" | "pooledCustody">): string[] {
  const out = new Set<string>();
  for (const s of ge.segments) if (s.custody !== ZeroAddress) out.add(getAddress(s.custody));
  if (ge.pooledCustody !== ZeroAddress) out.add(getAddress(ge.pooledCustody));
  return [...out];
}

/** Every custody account's balance of every governed asset, at `blockTag` (default latest). */
export async function readCustody(
  ge: Pick<CustodyView, "segments" | "pooledCustody" | "assets">,
  runner: ContractRunner,
  blockTag?: number,
): Promise<CustodyBalances> {
  const balances = new Map<string, bigint[]>();
  for (const account of custodyAccounts(ge)) {
    const row: bigint[] = [];
    for (const a of ge.assets) {
      const token = new Contract(a.token, ERC20_ABI as unknown as InterfaceAbi, runner);
      row.push(BigInt(await token.getFunction("balanceOf")(account, { blockTag })));
    }
    balances.set(account, row);
  }
  return { balances };
}

export function balanceOf(c: CustodyBalances, account: string, g: number): bigint {
  return c.balances.get(getAddress(account))?.[g] ?? 0n;
}

/** The own-custody segments naming `account` that admit global asset g, with g's slot index. */
export function ownSlotsOn(
  segments: CustodyView["segments"],
  account: string,
  g: number,
): { id: bigint; k: number }[] {
  const at = getAddress(account);
  const out: { id: bigint; k: number }[] = [];
  for (const s of segments) {
    const k = s.assets.indexOf(g);
    if (k >= 0 && s.custody !== ZeroAddress && getAddress(s.custody) === at) out.push({ id: s.id, k });
  }
  return out;
}

/** What an epoch claims: per own-custody segment, its cap per admitted asset (slot order). */
export interface CustodyClaims {
  /** segment id -> cap per slot (the segment's admitted assets, in order) */
  own: Map<bigint, bigint[]>;
  /** pooled cap per global asset */
  pooled: bigint[];
}

/** One (account, asset) whose caps exceed its balance: SegmentGovernance's CustodyOvercommitted. */
export interface Overcommit {
  account: string;
  asset: number;
  balance: bigint;
  ownCaps: bigint;
  /** the pooled cap when the account is the pooled one, else 0 */
  pooledDraw: bigint;
  /** the own-custody segments naming the account with a cap of the asset */
  segments: bigint[];
}

/**
 * The first (account, asset) the registry would refuse, in the contract's order (own accounts in
 * manifest order, then the pooled account), or undefined when every cap is covered. A non-zero pooled cap
 * with no pooled account is reported with account ZeroAddress (NoPooledCustody on chain).
 */
export function findOvercommit(
  ge: Pick<CustodyView, "segments" | "assets" | "pooledCustody">,
  claims: CustodyClaims,
  custody: CustodyBalances,
): Overcommit | undefined {
  const draw = ge.assets.map((_, g) => claims.pooled[g] ?? 0n);
  const pooled = ge.pooledCustody === ZeroAddress ? undefined : getAddress(ge.pooledCustody);
  for (const [g, d] of draw.entries())
    if (d > 0n && !pooled)
      return { account: ZeroAddress, asset: g, balance: 0n, ownCaps: 0n, pooledDraw: d, segments: [] };
  const accounts = custodyAccounts({ segments: ge.segments, pooledCustody: ZeroAddress });
  if (pooled && !accounts.includes(pooled) && draw.some((d) => d > 0n)) accounts.push(pooled);
  for (const account of accounts) {
    for (const g of ge.assets.keys()) {
      const segments: bigint[] = [];
      let own = 0n;
      for (const { id, k } of ownSlotsOn(ge.segments, account, g)) {
        const cap = claims.own.get(id)?.[k] ?? 0n;
        own += cap;
        if (cap > 0n) segments.push(id);
      }
      const d = account === pooled ? (draw[g] as bigint) : 0n;
      const balance = balanceOf(custody, account, g);
      if (own + d > balance) return { account, asset: g, balance, ownCaps: own, pooledDraw: d, segments };
    }
  }
  return undefined;
}

/**
 * `audit --rpc`: the committed epoch's caps (the bundle's manifest) against the custody rule at
 * the commit's block, with the custody accounts and versions that applied to the epoch. Returns
 * the failure naming the field, or undefined (also on an ungoverned registry: nothing to check).
 * Reads balances at a past block: the node must serve historical state.
 */
export async function committedCustodyProblem(
  registry: Contract,
  m: Manifest,
  commitBlock: number,
): Promise<string | undefined> {
  const runner = registry.runner;
  if (!runner) throw new Error(`registry ${registry.target}: no runner to read it with`);
  const address = String(await registry.getFunction("governance")());
  if (address === ZeroAddress) return undefined;
  const gov = new Contract(address, GOVERNANCE_READ_ABI as unknown as InterfaceAbi, runner);
  const f = (n: string) => gov.getFunction(n);
  const segments: CustodyView["segments"][number][] = [];
  const own = new Map<bigint, bigint[]>();
  for (const s of m.segments) {
    const version = await f("segmentAt")(s.id, m.epoch);
    const [cfg] = (await f("segmentVersion")(s.id, version)) as [{ custody: string; assets: bigint[] }];
    const assets = [...cfg.assets].map(Number);
    segments.push({ id: s.id, custody: String(cfg.custody), assets });
    const slots = unpackSegmentSlots(s.slots).slice(0, assets.length);
    const pooled = String(cfg.custody) === ZeroAddress;
    const k = slots.findIndex((x) => x.pooled !== pooled);
    if (k >= 0)
      return `segments[id=${s.id}].slots[${k}].pooled: ${!pooled} but the segment's custody is ${pooled ? "pooled" : `its own account ${cfg.custody}`}; the registry would refuse it (CustodyModeMismatch)`;
    own.set(
      s.id,
      slots.map((x) => x.cap),
    );
  }
  const assets = await readGovernedAssets(gov);
  const view: CustodyView = { segments, assets, pooledCustody: String(await f("pooledCustodyAt")(m.epoch)) };
  const claims = { own, pooled: unpackListCaps(m.poolCaps, assets.length) };
  const bad = findOvercommit(view, claims, await readCustody(view, runner, commitBlock));
  return (
    bad && `${custodyField(view, bad)}: ${overcommitReason(view, bad)} at the commit's block ${commitBlock}`
  );
}

/** Whether an overcommit is the pooled cap's (no pooled account, or only the draw overflows)
 *  rather than the last own-custody cap's on the account. */
export function blamesPooledCap(b: Overcommit): boolean {
  return b.account === ZeroAddress || (b.pooledDraw > 0n && b.ownCaps <= b.balance);
}

/** The manifest field an overcommit is reported at (see blamesPooledCap). */
export function custodyField(v: CustodyView, b: Overcommit): string {
  if (blamesPooledCap(b)) return `poolCaps[${b.asset}]`;
  const id = b.segments[b.segments.length - 1];
  const s = v.segments.find((x) => x.id === id);
  return `segments[id=${id}].slots[${s?.assets.indexOf(b.asset) ?? "?"}].cap`;
}

/** Why an (account, asset) is overcommitted, in tokens. */
export function overcommitReason(v: CustodyView, b: Overcommit): string {
  const a = v.assets[b.asset] as { symbol: string; decimals: number };
  const f = (x: bigint) => `${formatDecimal(x, a.decimals)} ${a.symbol}`;
  if (b.account === ZeroAddress)
    return `the pooled cap draws ${f(b.pooledDraw)} but governance names no pooled custody account; the registry would refuse it (NoPooledCustody)`;
  const shared = b.segments.length > 1 ? ` (shared by segments ${b.segments.join(", ")})` : "";
  const pool = b.pooledDraw > 0n ? ` plus the pooled cap ${f(b.pooledDraw)}` : "";
  return `custody ${b.account}${shared} holds ${f(b.balance)}, less than the caps drawn on it: own-custody caps ${f(b.ownCaps)}${pool}; each unit backs one cap, the registry would refuse it (CustodyOvercommitted)`;
}
