/**
 * The governed pipeline end to end, on top of the contract bindings in ./governance.ts:
 *
 *  - `parseGovernanceConfig`: the genesis configuration a protocol writes (assets with token and
 *    Chainlink feed, custody accounts, segments with collateral factors, margin, stress scenarios,
 *    maximum age), validated with every problem named by its JSON path;
 *  - `deployGovernedRegistry`: SegmentGovernance + timelock + verifiers + registry, the genesis
 *    configuration written, then governance handed over to the timelock (`bulkhead deploy
 *    --governance FILE --timelock-delay S`);
 *  - `governedSnapshot`: a snapshot whose every public parameter is read from the chain (asset
 *    table, segments, prices from the feeds, collateral factors, margins, stress scenarios, and
 *    custody caps bounded by balanceOf of the custody accounts); the publisher contributes only the
 *    positions (`bulkhead snapshot govern`);
 *  - `roundIdsFor`: the oracle round of every price of a manifest, found on the feeds, so that
 *    `publish` names the rounds its prices come from (a feed that moved since the snapshot is no
 *    reason to fail, as long as the named round is within the governed age and deviation).
 */
import { readFile } from "node:fs/promises";
import {
  Contract,
  type ContractRunner,
  getAddress,
  type InterfaceAbi,
  isAddress,
  type Signer,
  ZeroAddress,
} from "ethers";
import { z } from "zod";
import {
  PRICE_DECIMALS,
  packStress,
  shockOf,
  stressFactor,
  stressScenariosInUse,
  UNSTRESSED_FACTOR,
  unpackSegmentSlots,
  unpackStress,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import { formatDecimal, parseDecimal } from "../spec/units.js";
import { faultPoint } from "../util/fault.js";
import { sha256Hex } from "../util/hash.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { REGISTRY_ABI } from "./abi.js";
import {
  balanceOf,
  blamesPooledCap,
  type CustodyBalances,
  type CustodyClaims,
  findOvercommit,
  type Overcommit,
  overcommitReason,
  ownSlotsOn,
  readCustody,
} from "./custody.js";
import { type DeployArtifacts, type Deployment, deployRegistry } from "./deploy.js";
import { checkGenesisOnChain } from "./genesis-check.js";
import {
  AGGREGATOR_V3_ABI,
  bindGovernance,
  circuitPrice,
  deployGovernance,
  type GovernanceArtifacts,
  type GovernedEpoch,
  type GovernedSegment,
  governanceAt,
  handOverToTimelock,
  handRegistryToTimelock,
  readGovernedAssets,
  readGovernedEpoch,
  segmentConfigArg,
  sendGovernanceTx,
} from "./governance.js";

// ---------------------------------------------------------------- genesis configuration

const Address = z.string().refine((s) => isAddress(s), "not an address (0x + 40 hex digits)");
const Bps = (max: number) => z.number().int().min(0).max(max);
const Scenario = z.strictObject({
  name: z.string().min(1),
  shocksBps: z.record(z.string(), z.number().int().min(-10000).max(22767)),
});

const ConfigSchema = z.strictObject({
  assets: z
    .array(
      z.strictObject({
        symbol: z.string().min(1).max(32),
        decimals: z.number().int().min(0).max(30),
        token: Address,
        feed: Address,
        maxStalenessSeconds: z.number().int().min(1),
        maxDeviationBps: Bps(10000),
      }),
    )
    .min(1),
  /** the account holding the collateral of every segment whose custody is "pooled" */
  pooledCustody: Address.optional(),
  segments: z
    .array(
      z.strictObject({
        id: z
          .number()
          .int()
          .min(1)
          .max(2 ** 32 - 1),
        name: z.string().min(1),
        marginBps: Bps(10000),
        maxAgeSeconds: z.number().int().min(1),
        /** the segment's own custody account, or "pooled" */
        custody: z.union([z.literal("pooled"), Address]),
        /** SYMBOL -> collateral factor (bps); the segment's slots, in asset-table order */
        collateralFactorBps: z.record(z.string(), Bps(10000)),
        stressScenarios: z.array(Scenario).optional(),
      }),
    )
    .min(1),
});

/** The genesis configuration of a governed registry (`bulkhead deploy --governance FILE`). */
export type GovernanceConfig = z.infer<typeof ConfigSchema>;

/** Validates a genesis configuration; every problem is named by its JSON path. */
export function parseGovernanceConfig(
  raw: unknown,
  profile: Profile,
  source = "governance config",
): GovernanceConfig {
  const r = ConfigSchema.safeParse(raw);
  const problems: string[] = r.success ? [] : r.error.issues.map((i) => `${jsonPath(i.path)}: ${i.message}`);
  if (r.success) problems.push(...configProblems(r.data, profile));
  if (problems.length > 0)
    throw new Error(
      `invalid ${source}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
  return r.data as GovernanceConfig;
}

/** `assets[0].feed` from zod's ["assets", 0, "feed"]. */
function jsonPath(p: readonly PropertyKey[]): string {
  if (p.length === 0) return "(root)";
  return p.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i > 0 ? "." : ""}${String(k)}`)).join("");
}

/** What the schema cannot say: symbols resolve, sizes fit the profile, ids are unique. */
function configProblems(c: GovernanceConfig, p: Profile): string[] {
  const out: string[] = [];
  const symbols = c.assets.map((a) => a.symbol);
  if (c.assets.length > p.globalAssets)
    out.push(`assets: ${c.assets.length} assets exceed the profile's ${p.globalAssets} global assets`);
  symbols.forEach((s, i) => {
    if (symbols.indexOf(s) !== i) out.push(`assets[${i}].symbol: "${s}" repeated`);
  });
  const ids = new Set<number>();
  c.segments.forEach((s, i) => {
    const at = `segments[${i}]`;
    if (ids.has(s.id)) out.push(`${at}.id: segment ${s.id} repeated`);
    ids.add(s.id);
    const syms = Object.keys(s.collateralFactorBps);
    if (syms.length === 0 || syms.length > p.assetsPerSegment)
      out.push(
        `${at}.collateralFactorBps: 1 to ${p.assetsPerSegment} assets (the profile's slots), got ${syms.length}`,
      );
    for (const sym of syms)
      if (!symbols.includes(sym)) out.push(`${at}.collateralFactorBps.${sym}: not in assets`);
    if ((s.stressScenarios?.length ?? 0) > p.stressScenarios)
      out.push(`${at}.stressScenarios: more than the profile's ${p.stressScenarios}`);
    s.stressScenarios?.forEach((sc, k) => {
      for (const sym of Object.keys(sc.shocksBps))
        if (sym !== "*" && !syms.includes(sym))
          out.push(`${at}.stressScenarios[${k}].shocksBps.${sym}: not an asset of the segment`);
    });
    if (s.custody === "pooled" && !c.pooledCustody)
      out.push(`${at}.custody: "pooled" but the configuration has no pooledCustody`);
  });
  return out;
}

/** Reads and validates a genesis configuration file. */
export async function readGovernanceConfig(file: string, profile: Profile): Promise<GovernanceConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`governance config ${file}: ${(err as Error).message}`);
  }
  return parseGovernanceConfig(raw, profile, `governance config ${file}`);
}

/** The governed form of a configured segment: slots in asset-table order, stress words packed. */
export function governedSegmentOf(
  c: GovernanceConfig,
  s: GovernanceConfig["segments"][number],
  p: Profile,
): GovernedSegment {
  const assets = c.assets
    .map((a, g) => ({ a, g }))
    .filter(({ a }) => s.collateralFactorBps[a.symbol] !== undefined);
  const factors = (s.stressScenarios ?? []).map((sc) =>
    assets.map(({ a }) => stressFactor(sc.shocksBps, a.symbol)),
  );
  return {
    name: s.name,
    marginBps: s.marginBps,
    maxAge: s.maxAgeSeconds,
    custody: s.custody === "pooled" ? ZeroAddress : getAddress(s.custody),
    active: true,
    assets: assets.map(({ g }) => g),
    cfBps: assets.map(({ a }) => s.collateralFactorBps[a.symbol] as number),
    stress: packStress(factors, p.stressScenarios, p.assetsPerSegment),
  };
}

/**
 * What a governed deployment has done so far. Saved after every step (`deploy --governance` writes
 * it to the deployment file until the deployment is complete), so that a re-run of the same
 * configuration on the same chain resumes where the last one stopped instead of deploying again.
 */
export interface GovernedProgress {
  format: typeof PROGRESS_FORMAT;
  complete: false;
  chainId: string;
  /** sha256 of the configuration, profile and timelock delay: a resume must deploy the same */
  configHash: string;
  governance?: { address: string; timelock: string };
  registry?: Deployment;
  bound?: true;
  /** assets added, pooled custody set, segments registered (in configuration order) */
  assets: number;
  pooled?: true;
  segments: number;
  handedOver?: true;
  /** the registry's admin role (PUBLISHER_ROLE's administrator) handed to the timelock */
  registryHandedOver?: true;
}
export const PROGRESS_FORMAT = "bulkhead-governed-deploy-progress";

/** Where the progress of a governed deployment is kept (the CLI: the deployment file). */
export interface ProgressStore {
  load(): Promise<unknown>;
  save(p: GovernedProgress): Promise<void>;
}

/** The progress to resume from: the stored one when it is of this chain and configuration. */
function resumeFrom(stored: unknown, chainId: string, configHash: string): GovernedProgress {
  const p = stored as Partial<GovernedProgress> | undefined;
  if (p?.format !== PROGRESS_FORMAT)
    return { format: PROGRESS_FORMAT, complete: false, chainId, configHash, assets: 0, segments: 0 };
  if (p.chainId !== chainId || p.configHash !== configHash)
    throw new Error(
      `deploy --governance: the deployment file holds an unfinished deployment of ${p.chainId !== chainId ? `chain ${p.chainId}, not ${chainId}` : "another configuration (assets, segments, profile or delay differ)"}: finish it with that configuration, or move the file away to start over`,
    );
  return p as GovernedProgress;
}

/** Writes the configuration into a governance whose deployer is still governor, from where `p` stopped. */
export async function applyGenesis(
  governance: Contract,
  c: GovernanceConfig,
  p: Profile,
  reporter: Reporter = silentReporter,
  progress: Pick<GovernedProgress, "assets" | "pooled" | "segments"> = { assets: 0, segments: 0 },
  saved: () => Promise<void> = async () => undefined,
): Promise<void> {
  const f = (n: string) => governance.getFunction(n);
  const i = governance.interface;
  for (const a of c.assets.slice(progress.assets)) {
    await sendGovernanceTx(
      `addAsset ${a.symbol}`,
      () => f("addAsset")(a.symbol, a.decimals, a.token, a.feed, a.maxStalenessSeconds, a.maxDeviationBps),
      i,
    );
    progress.assets++;
    await saved();
    reporter.info(`governance: asset ${a.symbol} (token ${a.token}, feed ${a.feed})`);
    faultPoint("deploy:asset-added");
  }
  if (c.pooledCustody && !progress.pooled) {
    await sendGovernanceTx("setPooledCustody", () => f("setPooledCustody")(c.pooledCustody), i);
    progress.pooled = true;
    await saved();
  }
  for (const s of c.segments.slice(progress.segments)) {
    const g = governedSegmentOf(c, s, p);
    await sendGovernanceTx(
      `registerSegment ${s.id}`,
      () => f("registerSegment")(s.id, segmentConfigArg(g)),
      i,
    );
    progress.segments++;
    await saved();
    reporter.info(
      `governance: segment ${s.id} "${s.name}" (${s.custody === "pooled" ? "pooled custody" : `custody ${s.custody}`})`,
    );
  }
}

export interface GovernedDeployment extends Deployment {
  governance: { address: string; timelock: string; delaySeconds: string };
}

/**
 * Governance, timelock, verifiers and registry; the genesis configuration; the hand-over to the
 * timelock (from then on every change waits `delaySeconds`). The configuration is checked against
 * the chain first (genesis-check.ts): a token or feed that does not answer sends nothing. With a
 * progress store, every step is saved as it completes and a re-run resumes after the last one.
 */
export async function deployGovernedRegistry(
  signer: Signer,
  arts: DeployArtifacts & GovernanceArtifacts,
  config: GovernanceConfig,
  opts: {
    profile: Profile;
    delaySeconds: number;
    publishers?: string[];
    allowDevKeys?: boolean;
    reporter?: Reporter;
    progress?: ProgressStore;
  },
): Promise<GovernedDeployment> {
  const reporter = opts.reporter ?? silentReporter;
  // every address of the configuration answers as it must before the first transaction
  if (!signer.provider) throw new Error("deploy --governance: the signer has no provider");
  await checkGenesisOnChain(signer.provider, config, "the governance configuration");
  const chainId = String((await signer.provider.getNetwork()).chainId);
  const configHash = sha256Hex(
    JSON.stringify({ config, profile: opts.profile.name, delaySeconds: opts.delaySeconds }),
  );
  const p = resumeFrom(await opts.progress?.load(), chainId, configHash);
  if (p.governance) reporter.info(`resuming the deployment of governance ${p.governance.address}`);
  const saved = async () => opts.progress?.save(p);
  if (!p.governance) {
    const g = await deployGovernance(signer, arts, { delaySeconds: opts.delaySeconds });
    p.governance = { address: g.governanceAddress, timelock: g.timelockAddress };
    await saved();
    reporter.info(`deployed SegmentGovernance at ${g.governanceAddress}, timelock at ${g.timelockAddress}`);
  }
  const gov = new Contract(p.governance.address, arts.governance.abi as InterfaceAbi, signer);
  if (!p.registry) {
    p.registry = await deployRegistry(signer, arts, {
      profile: opts.profile,
      governance: p.governance.address,
      publishers: opts.publishers,
      allowDevKeys: opts.allowDevKeys,
      reporter,
    });
    await saved();
  }
  if (!p.bound) {
    await bindGovernance(gov, p.registry.registry);
    p.bound = true;
    await saved();
  }
  await applyGenesis(gov, config, opts.profile, reporter, p, saved);
  if (!p.handedOver) {
    await handOverToTimelock(gov, p.governance.timelock);
    p.handedOver = true;
    await saved();
  }
  if (!p.registryHandedOver) {
    await handRegistryToTimelock(
      new Contract(p.registry.registry, REGISTRY_ABI, signer),
      p.governance.timelock,
    );
    p.registryHandedOver = true;
    await saved();
  }
  reporter.info(
    `governance and the registry's admin role (publisher keys) handed over to the timelock (delay ${opts.delaySeconds} s)`,
  );
  return {
    ...p.registry,
    admin: p.governance.timelock,
    governance: {
      address: p.governance.address,
      timelock: p.governance.timelock,
      delaySeconds: String(opts.delaySeconds),
    },
  };
}

// ---------------------------------------------------------------- snapshot from governed state

type Json = Record<string, unknown>;

/** The registry's SegmentGovernance, for reading with the registry's runner; undefined: ungoverned. */
async function registryGovernance(registry: Contract): Promise<Contract | undefined> {
  const runner = registry.runner;
  if (!runner) throw new Error(`registry ${registry.target}: no runner to read it with`);
  const address = String(await registry.getFunction("governance")());
  return address === ZeroAddress ? undefined : governanceAt(address, runner);
}

/**
 * The minimum number of blocks between `epoch`'s commit and its finalization: the governed one
 * for that epoch (SegmentGovernance.finalizeBlocksAt), 1 on an ungoverned registry (finalization
 * always comes in a later block than the commit).
 */
export async function finalizeBlocksForRegistry(registry: Contract, epoch: bigint): Promise<number> {
  const gov = await registryGovernance(registry);
  if (!gov) return 1;
  return Number(await gov.getFunction("finalizeBlocksAt")(epoch));
}

/** What a governed snapshot needs of the circuit profile: the stress words' shape. */
export type StressShape = Pick<Profile, "stressScenarios" | "assetsPerSegment">;

/**
 * `bulkhead snapshot govern`: the governed snapshot for the registry's governance, with the
 * stress-word shape read from the registry itself (its verifiers' profile).
 */
export async function governedSnapshotFromRegistry(
  registry: Contract,
  raw: Json,
): Promise<{ snapshot: Json; governed: GovernedEpoch }> {
  const gov = await registryGovernance(registry);
  if (!gov) throw new Error(`registry ${registry.target}: ungoverned (no SegmentGovernance)`);
  const shape: StressShape = {
    stressScenarios: Number(await registry.getFunction("stressScenarios")()),
    assetsPerSegment: Number(await registry.getFunction("assetSlots")()),
  };
  const governed = await readGovernedEpoch(gov);
  const custody = await readCustody(governed, gov.runner as ContractRunner);
  return { snapshot: governedSnapshot(raw, governed, custody, shape), governed };
}

/**
 * The snapshot to prove for a governed registry: the positions (`collateral`, `liabilities`) and
 * `epoch` of `raw`; everything public from governance and the chain:
 *  - `assets`: the governed asset table; each segment's `prices` (feed prices, in slot order),
 *    `collateralFactorBps`, `marginBps`, `name` and `stressScenarios` (names taken from `raw`'s
 *    scenario at the same index when it has one: names are display metadata);
 *  - custody: a segment with its own custody account is `"custody": "own"` (its lots count
 *    against its own caps only), the others pooled;
 *  - custody caps (`custodyCaps`): a segment with its own custody gets, per admitted asset, `raw`'s
 *    cap when it gives one, else an equal share of what its account holds beyond the caps given
 *    on it, split among the segments without a given cap that name the account (and the pooled
 *    role, when it is also the pooled account): no cap depends on a segment's collateral total.
 *    A share below the segment's collateral total is refused, naming the cap to give instead.
 *    Pooled caps: `raw`'s `custody.pooled`, else what the pooled account holds beyond the own
 *    caps drawn on it (0 without a pooled account).
 * The caps must pass the registry's custody rule (src/chain/custody.ts) against `custody`: the
 * first (account, asset) they overcommit is an error naming the field and the reason.
 * The result is validated like any snapshot when it is proven.
 */
export function governedSnapshot(
  raw: Json,
  ge: GovernedEpoch,
  custody: CustodyBalances,
  p: StressShape,
): Json {
  const D = ge.assets.reduce((m, a) => Math.max(m, a.decimals), 0);
  const price = (g: number) => {
    const a = ge.assets[g] as GovernedEpoch["assets"][number];
    return formatDecimal(ge.prices[g] as bigint, PRICE_DECIMALS + D - a.decimals);
  };
  const rawSegs = new Map(((raw.segments as Json[] | undefined) ?? []).map((s) => [Number(s.id), s]));
  const names = (s: Json | undefined) =>
    ((s?.stressScenarios ?? raw.stressScenarios) as { name?: string }[] | undefined)?.map((x) => x.name) ??
    [];
  const claims = custodyClaims(raw, ge, custody, rawSegs);
  const segments = ge.segments.map((s) => {
    const sym = (g: number) => (ge.assets[g] as { symbol: string }).symbol;
    const caps = claims.own.get(s.id);
    const out: Json = {
      id: Number(s.id),
      name: s.name,
      custody: s.custody === ZeroAddress ? "pooled" : "own",
      marginBps: s.marginBps,
      prices: Object.fromEntries(s.assets.map((g) => [sym(g), price(g)])),
      collateralFactorBps: Object.fromEntries(s.assets.map((g, k) => [sym(g), s.cfBps[k]])),
      stressScenarios: scenariosOf(s, names(rawSegs.get(Number(s.id))), p, sym),
    };
    if (caps) {
      out.custodyCaps = Object.fromEntries(
        s.assets.map((g, k) => {
          const a = ge.assets[g] as { symbol: string; decimals: number };
          return [a.symbol, formatDecimal(caps[k] as bigint, a.decimals)];
        }),
      );
    }
    return out;
  });
  const pooled = Object.fromEntries(
    ge.assets.map((a, g) => [a.symbol, formatDecimal(claims.pooled[g] as bigint, a.decimals)]),
  );
  return {
    epoch: raw.epoch,
    assets: ge.assets.map((a) => ({ symbol: a.symbol, decimals: a.decimals, token: a.token })),
    segments,
    custody: { pooled },
    collateral: raw.collateral ?? [],
    liabilities: raw.liabilities ?? [],
  };
}

/**
 * The caps of a governed snapshot (see governedSnapshot), checked against the registry's custody
 * rule; throws naming the first field the registry would refuse.
 */
function custodyClaims(
  raw: Json,
  ge: GovernedEpoch,
  custody: CustodyBalances,
  rawSegs: Map<number, Json>,
): CustodyClaims {
  const given = givenOwnCaps(ge, rawSegs);
  // filled in below with the default shares; `given` keeps what raw gave
  const own = new Map([...given].map(([id, caps]) => [id, [...caps]]));
  const givenPool = ((raw.custody as Json | undefined)?.pooled ?? {}) as Record<string, string>;
  for (const s of ge.segments) {
    const caps = own.get(s.id);
    if (!caps) continue;
    s.assets.forEach((g, k) => {
      if (caps[k] !== undefined) return;
      const a = ge.assets[g] as { symbol: string; decimals: number };
      const share = defaultShare(ge, given, custody, s.custody, g, givenPool[a.symbol] !== undefined);
      const total = collateralTotal(raw, s.id, a);
      if (share < total)
        throw new Error(
          `segments (id ${s.id}).custodyCaps.${a.symbol}: the segment's share ${formatDecimal(share, a.decimals)} ${a.symbol} of custody ${getAddress(s.custody)} is below its collateral ${formatDecimal(total, a.decimals)} ${a.symbol}; give its custodyCaps explicitly (the caps of the segments sharing the account may sum to its balance)`,
        );
      caps[k] = share;
    });
  }
  const pooled = ge.assets.map((a, g) => {
    const given = givenPool[a.symbol];
    if (given !== undefined) return parsedCap(given, a.decimals, `custody.pooled.${a.symbol}`);
    if (ge.pooledCustody === ZeroAddress) return 0n;
    const left = balanceOf(custody, ge.pooledCustody, g) - ownCapsOn(ge, own, ge.pooledCustody, g);
    return left > 0n ? left : 0n;
  });
  const claims = { own: new Map([...own].map(([id, caps]) => [id, caps.map((c) => c ?? 0n)])), pooled };
  const bad = findOvercommit(ge, claims, custody);
  if (bad) throw new Error(overcommitMessage(ge, bad));
  return claims;
}

/** The own-custody caps `raw` gives, per own-custody segment (undefined: none given). */
function givenOwnCaps(ge: GovernedEpoch, rawSegs: Map<number, Json>): Map<bigint, (bigint | undefined)[]> {
  const own = new Map<bigint, (bigint | undefined)[]>();
  for (const s of ge.segments) {
    if (s.custody === ZeroAddress) continue;
    const given = (rawSegs.get(Number(s.id))?.custodyCaps ?? {}) as Record<string, string>;
    own.set(
      s.id,
      s.assets.map((g) => {
        const a = ge.assets[g] as { symbol: string; decimals: number };
        const v = given[a.symbol];
        return v === undefined
          ? undefined
          : parsedCap(v, a.decimals, `segments (id ${s.id}).custodyCaps.${a.symbol}`);
      }),
    );
  }
  return own;
}

/**
 * The default own cap of asset g on `account`: what the account holds beyond the caps given on it,
 * split equally among the segments naming it without a given cap (plus the pooled role when it
 * is the pooled account and the pooled cap is not given); rounded down.
 */
function defaultShare(
  ge: GovernedEpoch,
  own: Map<bigint, (bigint | undefined)[]>,
  custody: CustodyBalances,
  account: string,
  g: number,
  poolGiven: boolean,
): bigint {
  let given = 0n;
  let open = 0n;
  for (const { id, k } of ownSlotsOn(ge.segments, account, g)) {
    const c = own.get(id)?.[k];
    if (c === undefined) open += 1n;
    else given += c;
  }
  const isPool = ge.pooledCustody !== ZeroAddress && getAddress(ge.pooledCustody) === getAddress(account);
  if (isPool && !poolGiven) open += 1n;
  const left = balanceOf(custody, account, g) - given;
  return left > 0n && open > 0n ? left / open : 0n;
}

/** The sum of the own-custody caps of asset g drawn on `account`. */
function ownCapsOn(
  ge: GovernedEpoch,
  own: Map<bigint, (bigint | undefined)[]>,
  account: string,
  g: number,
): bigint {
  let sum = 0n;
  for (const { id, k } of ownSlotsOn(ge.segments, account, g)) sum += own.get(id)?.[k] ?? 0n;
  return sum;
}

/** A segment's collateral total of an asset in the positions file (malformed amounts skipped:
 *  the snapshot's validation names them). */
function collateralTotal(raw: Json, id: bigint, a: { symbol: string; decimals: number }): bigint {
  let sum = 0n;
  for (const c of (raw.collateral ?? []) as Json[]) {
    if (String(c.segment) !== String(id) || c.asset !== a.symbol) continue;
    const r = parseDecimal(c.amount, a.decimals, "down");
    if (r.ok) sum += r.value;
  }
  return sum;
}

function parsedCap(given: string, decimals: number, at: string): bigint {
  const r = parseDecimal(given, decimals, "down");
  if (!r.ok) throw new Error(`${at}: ${r.error}`);
  return r.value;
}

/** The snapshot field an overcommitted (account, asset) is reported at, and why. */
function overcommitMessage(ge: GovernedEpoch, b: Overcommit): string {
  const sym = (ge.assets[b.asset] as { symbol: string }).symbol;
  const field = blamesPooledCap(b)
    ? `custody.pooled.${sym}`
    : `segments (id ${b.segments[b.segments.length - 1] ?? "?"}).custodyCaps.${sym}`;
  return `${field}: ${overcommitReason(ge, b)}`;
}

/** A segment's governed stress words as snapshot scenarios (unused trailing scenarios dropped). */
function scenariosOf(
  s: GovernedEpoch["segments"][number],
  names: (string | undefined)[],
  p: StressShape,
  sym: (g: number) => string,
): { name: string; shocksBps: Record<string, number> }[] {
  const f = unpackStress(s.stress, p.stressScenarios, p.assetsPerSegment);
  const used = stressScenariosInUse(s.stress, p.stressScenarios, p.assetsPerSegment);
  return f.slice(0, used).map((row, k) => {
    row.forEach((x, j) => {
      if (j >= s.assets.length && x !== UNSTRESSED_FACTOR)
        throw new Error(`segment ${s.id}: governed stress scenario ${k} shocks unused slot ${j}`);
    });
    return {
      name: names[k] ?? `scenario ${k + 1}`,
      shocksBps: Object.fromEntries(s.assets.map((g, j) => [sym(g), shockOf(row[j] as bigint)])),
    };
  });
}

// ---------------------------------------------------------------- oracle rounds

/** The circuit price per global asset that a manifest's used slots carry. */
export function manifestSlotPrices(
  segments: readonly { slots: readonly bigint[]; assets: readonly unknown[] }[],
): Map<number, bigint> {
  const out = new Map<number, bigint>();
  for (const s of segments)
    for (const x of unpackSegmentSlots(s.slots).slice(0, s.assets.length)) out.set(Number(x.asset), x.price);
  return out;
}

/**
 * The round ids `publish` names for a manifest on a governed registry (an empty list on an
 * ungoverned one, which takes none).
 */
export async function roundIdsForRegistry(
  registry: Contract,
  segments: readonly { slots: readonly bigint[]; assets: readonly unknown[] }[],
): Promise<bigint[]> {
  const gov = await registryGovernance(registry);
  if (!gov) return [];
  const assets = await readGovernedAssets(gov);
  return roundIdsFor({ assets }, manifestSlotPrices(segments), gov.runner as ContractRunner);
}

/** How far back `roundIdsFor` looks for a round with the manifest's price. */
export const ROUND_SEARCH_DEPTH = 64;

/**
 * commitEpoch's `roundIds` for a manifest: per governed asset, the newest of the feed's last
 * ROUND_SEARCH_DEPTH rounds whose circuit price is the one the manifest's slots use (0, the latest
 * round, for an asset no slot uses). Throws, naming the asset, when no such round is found.
 */
export async function roundIdsFor(
  ge: Pick<GovernedEpoch, "assets">,
  slotPrices: ReadonlyMap<number, bigint>,
  runner: ContractRunner,
): Promise<bigint[]> {
  const D = ge.assets.reduce((m, a) => Math.max(m, a.decimals), 0);
  const out: bigint[] = [];
  for (const a of ge.assets) {
    const want = slotPrices.get(a.index);
    if (want === undefined) {
      out.push(0n);
      continue;
    }
    const feed = new Contract(a.feed, AGGREGATOR_V3_ABI as unknown as InterfaceAbi, runner);
    const decimals = Number(await feed.getFunction("decimals")());
    const latest = (await feed.getFunction("latestRoundData")()) as unknown[];
    let id = BigInt(latest[0] as bigint);
    let found: bigint | undefined;
    for (let n = 0; n < ROUND_SEARCH_DEPTH && id > 0n && found === undefined; n++, id--) {
      const r = (await feed
        .getFunction("getRoundData")(id)
        .catch(() => undefined)) as unknown[] | undefined;
      const answer = r ? BigInt(r[1] as bigint) : 0n;
      if (answer > 0n && safePrice(answer, decimals, a.decimals, D) === want) found = id;
    }
    if (found === undefined)
      throw new Error(
        `${a.symbol}: none of the last ${ROUND_SEARCH_DEPTH} rounds of feed ${a.feed} has the epoch's price (${want} in circuit units); build the snapshot again from governed state (bulkhead snapshot govern)`,
      );
    out.push(found);
  }
  return out;
}

function safePrice(answer: bigint, feedDecimals: number, d: number, D: number): bigint | undefined {
  try {
    return circuitPrice(answer, feedDecimals, d, D);
  } catch {
    return undefined;
  }
}
