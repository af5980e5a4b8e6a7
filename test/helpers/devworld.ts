/**
 * A development world for a governed registry on a local chain (the demo and the chain tests): for
 * the assets and segments of a snapshot, an ERC-20 token per asset (contracts/test/TestToken.sol),
 * a Chainlink MockV3Aggregator feed per asset (from @chainlink/contracts, 8 decimals, at the
 * snapshot's price), custody accounts holding the collateral, and the genesis configuration
 * (`GovernanceConfig`) that names them all. Never for a real chain: the tokens mint freely and the
 * feeds answer whatever their owner says.
 *
 * Custody: a segment that gives custody caps gets its own account, funded with each cap (or, for an
 * asset without a cap, exactly the segment's collateral); the other segments share the pooled
 * account, funded with their collateral.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { type Contract, ContractFactory, type InterfaceAbi, type Signer, Wallet } from "ethers";
import { sendGovernanceTx } from "../../src/chain/governance.js";
import type { GovernanceConfig } from "../../src/chain/governed.js";
import type { Snapshot } from "../../src/snapshot/snapshot.js";
import { PRICE_DECIMALS, shockOf, UNBOUNDED_CAP } from "../../src/spec/encoding.js";
import { parseDecimal } from "../../src/spec/units.js";
import { type CompiledContract, compileSolidity } from "../../src/toolchain/contracts.js";
import { PACKAGE_ROOT, packageDir } from "../../src/util/paths.js";

const MOCK_AGGREGATOR = "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";

/** TestToken, Chainlink's MockV3Aggregator and the IsolatedVault example, compiled. */
export async function compileDevContracts(): Promise<Record<string, CompiledContract>> {
  const read = (f: string) => readFileSync(f, "utf8");
  return compileSolidity({
    "contracts/test/TestToken.sol": read(path.join(PACKAGE_ROOT, "contracts", "test", "TestToken.sol")),
    "contracts/examples/IsolatedVault.sol": read(
      path.join(PACKAGE_ROOT, "contracts", "examples", "IsolatedVault.sol"),
    ),
    "contracts/ISolvencyRegistry.sol": read(path.join(PACKAGE_ROOT, "contracts", "ISolvencyRegistry.sol")),
    [MOCK_AGGREGATOR]: read(
      path.join(packageDir("@chainlink/contracts"), "src/v0.8/tests/MockV3Aggregator.sol"),
    ),
  });
}

export async function deployContract(
  compiled: Record<string, CompiledContract>,
  name: string,
  args: unknown[],
  signer: Signer,
): Promise<Contract> {
  const c = compiled[name];
  if (!c) throw new Error(`${name} not compiled`);
  const f = new ContractFactory(c.abi as InterfaceAbi, c.bytecode, signer);
  return (await (await f.deploy(...args)).waitForDeployment()) as Contract;
}

export interface DevWorld {
  config: GovernanceConfig;
  /** per asset symbol */
  tokens: Record<string, Contract>;
  feeds: Record<string, Contract>;
  /** segment id -> its own custody account */
  custody: Record<string, string>;
  pooled: string;
}

export interface DevWorldOptions {
  /** seconds a segment's record stays fresh (default one day) */
  maxAgeSeconds?: number;
  /** seconds a named oracle round may be old at commit (default one day) */
  maxStalenessSeconds?: number;
  /** bps a named round may deviate from the latest (default 500) */
  maxDeviationBps?: number;
}

/** Deploys tokens, feeds and funded custody for `snap`; returns the governance configuration. */
export async function deployDevWorld(
  signer: Signer,
  snap: Snapshot,
  compiled: Record<string, CompiledContract>,
  opts: DevWorldOptions = {},
): Promise<DevWorld> {
  const tokens: DevWorld["tokens"] = {};
  const feeds: DevWorld["feeds"] = {};
  for (const a of snap.assets) {
    tokens[a.symbol] = await deployContract(compiled, "TestToken", [a.symbol, a.symbol, a.decimals], signer);
    feeds[a.symbol] = await deployContract(
      compiled,
      "MockV3Aggregator",
      [PRICE_DECIMALS, feedAnswer(snap, a.symbol)],
      signer,
    );
  }
  const pooled = Wallet.createRandom().address;
  const custody: DevWorld["custody"] = {};
  const mint = async (symbol: string, to: string, amount: bigint) => {
    if (amount === 0n) return;
    const t = tokens[symbol] as Contract;
    await sendGovernanceTx(`mint ${symbol}`, () => t.getFunction("mint")(to, amount));
  };
  const segments: GovernanceConfig["segments"] = [];
  for (const s of snap.segments) {
    const own = s.slots.some((x) => x.cap !== UNBOUNDED_CAP);
    const account = own ? Wallet.createRandom().address : pooled;
    if (own) custody[String(s.id)] = account;
    for (const x of s.slots) {
      const held = snap.lots
        .filter((l) => l.segmentId === s.id && l.slot === x.slot)
        .reduce((t, l) => t + l.amount, 0n);
      await mint(x.symbol, account, own && x.cap !== UNBOUNDED_CAP ? x.cap : held);
    }
    segments.push({
      id: Number(s.id),
      name: s.name,
      marginBps: Number(s.marginBps),
      maxAgeSeconds: opts.maxAgeSeconds ?? 86_400,
      custody: own ? account : "pooled",
      collateralFactorBps: Object.fromEntries(s.slots.map((x) => [x.symbol, Number(x.cfBps)])),
      stressScenarios: s.stress.map((sc) => ({
        name: sc.name,
        shocksBps: Object.fromEntries(s.slots.map((x, j) => [x.symbol, shockOf(sc.factors[j] as bigint)])),
      })),
    });
  }
  const config: GovernanceConfig = {
    assets: await Promise.all(
      snap.assets.map(async (a) => ({
        symbol: a.symbol,
        decimals: a.decimals,
        token: await (tokens[a.symbol] as Contract).getAddress(),
        feed: await (feeds[a.symbol] as Contract).getAddress(),
        maxStalenessSeconds: opts.maxStalenessSeconds ?? 86_400,
        maxDeviationBps: opts.maxDeviationBps ?? 500,
      })),
    ),
    pooledCustody: pooled,
    segments,
  };
  return { config, tokens, feeds, custody, pooled };
}

/** The feed answer (8 decimals) of an asset: its price in the first segment that prices it. */
function feedAnswer(snap: Snapshot, symbol: string): bigint {
  for (const s of snap.segments)
    for (const x of s.slots)
      if (x.symbol === symbol) {
        const r = parseDecimal(x.price, PRICE_DECIMALS, "exact");
        if (!r.ok) throw new Error(`${s.path}.prices.${symbol}: ${r.error}`);
        return r.value;
      }
  return 10n ** BigInt(PRICE_DECIMALS); // an asset no segment prices: any positive answer
}
