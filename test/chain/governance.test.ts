/**
 * Governed segments, oracle prices and custody at commitEpoch, on anvil with real
 * contracts: SegmentGovernance, SolvencyRegistry with the `test` profile's real verifiers,
 * Chainlink's MockV3Aggregator feeds, OpenZeppelin ERC-20 tokens and custody accounts, the
 * GovernanceTimelock, and the IsolatedVault example. Nothing here needs a proof: every check is
 * made at commitEpoch (which verifies none) or by views. What needs a finalized epoch (isHealthy,
 * segmentHealth, the vault against the real registry) is in governed-epoch.test.ts, with proofs.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import {
  type Contract,
  ContractFactory,
  Interface,
  type InterfaceAbi,
  id,
  type JsonRpcProvider,
  Wallet,
  ZeroAddress,
} from "ethers";
import { REGISTRY_ABI } from "../../src/chain/abi.js";
import {
  bindGovernance,
  GovernanceTxError as ChainError,
  deployGovernance,
  executeGovernance,
  type GovernedEpoch,
  type GovernedSegment,
  governanceOp,
  governedSlotWords,
  handOverToTimelock,
  handRegistryToTimelock,
  PUBLISHER_ROLE as PUBLISHER,
  publisherRoleOp,
  readGovernedEpoch,
  scheduleGovernance,
  segmentConfigArg,
  sendGovernanceTx,
} from "../../src/chain/governance.js";
import { packListCaps, packStress } from "../../src/spec/encoding.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import {
  type CompiledContract,
  compileSolidity,
  generateVerifierSource,
} from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { PACKAGE_ROOT, packageDir } from "../../src/util/paths.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";

/** The `test` profile: A=4, K=2, GA=4 (src/spec/profiles.ts). */
const A = 4;
const K = 2;
const GA = 4;
const CONFIG = [A, K, GA, 4, 4, 8];
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;
const HOUR = 3600;
/**
 * Explicit gas for feed updates. Two tests of this file each failed once under load and passed on
 * every rerun; the suspected cause (not confirmed) is a gas estimate that misses the 20k of writing
 * a round's answer back from zero. A fixed limit removes the estimate from the test.
 */
const FEED_GAS = 300_000n;

function solSources(dir: string, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir).filter((f) => f.endsWith(".sol")))
    out[`${prefix}/${n}`] = readFileSync(path.join(dir, n), "utf8");
  return out;
}

interface System {
  gov: Contract;
  reg: Contract;
  weth: Contract;
  usdc: Contract;
  ethFeed: Contract;
  usdcFeed: Contract;
  /** segment 10's own custody account, and the pooled one */
  custody10: string;
  pooled: string;
}

describe("chain: governed segments, oracle prices, custody", function () {
  this.timeout(600_000);

  let chain: LocalChain | undefined;
  let provider: JsonRpcProvider;
  let admin: Wallet;
  let outsider: Wallet;
  let c: Record<string, CompiledContract>;
  const gas: Record<string, bigint> = {};
  let gas2 = 0n;
  let check2 = 0n;

  /** every compiled contract's errors, to name any revert */
  let errors: Interface;
  const sendTx = (what: string, send: Parameters<typeof sendGovernanceTx>[1]) =>
    sendGovernanceTx(what, send, errors);
  const pick = (n: string) => {
    const x = c[n];
    if (!x) throw new Error(`${n} not compiled`);
    return x;
  };
  async function deploy(name: string, args: unknown[], signer: Wallet = admin): Promise<Contract> {
    const x = pick(name);
    const f = new ContractFactory(x.abi as InterfaceAbi, x.bytecode, signer);
    return (await (await f.deploy(...args)).waitForDeployment()) as Contract;
  }
  const addr = (x: Contract) => x.target as string;
  async function increaseTime(seconds: number) {
    await provider.send("evm_increaseTime", [seconds]);
    await provider.send("evm_mine", []);
  }
  async function now(): Promise<number> {
    return (await provider.getBlock("latest"))?.timestamp ?? 0;
  }

  before(async () => {
    chain = await startLocalChain();
    ({ provider, admin, outsider } = chain);
    const seg = await ensureCircuit("segment", "test");
    const list = await ensureCircuit("lotlist", "test");
    const chainlink = "@chainlink/contracts/src/v0.8/tests/MockV3Aggregator.sol";
    const sources = {
      ...solSources(path.join(PACKAGE_ROOT, "contracts"), "contracts"),
      ...solSources(path.join(PACKAGE_ROOT, "contracts", "test"), "contracts/test"),
      ...solSources(path.join(PACKAGE_ROOT, "contracts", "examples"), "contracts/examples"),
      [chainlink]: readFileSync(
        path.join(packageDir("@chainlink/contracts"), "src/v0.8/tests/MockV3Aggregator.sol"),
        "utf8",
      ),
      "build/contracts/SegmentVerifier.sol": await generateVerifierSource(seg.zkey, "SegmentVerifier"),
      "build/contracts/LotListVerifier.sol": await generateVerifierSource(list.zkey, "LotListVerifier"),
    };
    c = await compileSolidity(sources);
    const seen = new Set<string>();
    const frags: unknown[] = [];
    for (const x of Object.values(c))
      for (const f of x.abi as { type: string; name: string }[])
        if (f.type === "error" && !seen.has(f.name)) {
          seen.add(f.name);
          frags.push(f);
        }
    errors = new Interface(frags as InterfaceAbi);
  });

  after(async () => {
    await chain?.stop();
    await terminateCurves();
    if (Object.keys(gas).length > 0) {
      console.log("      gas (anvil, cancun, optimizer 200):");
      for (const [k, v] of Object.entries(gas)) console.log(`        ${k}: ${v}`);
    }
  });

  /** A fresh registry + governance with ETH (18 dec, $3000) and USDC (6 dec, $1) and two segments:
   *  10 (ETH + USDC, own custody) and 20 (USDC only, pooled custody). */
  async function system(): Promise<System> {
    const segV = await deploy("SegmentVerifier", []);
    const listV = await deploy("LotListVerifier", []);
    const gov = await deploy("SegmentGovernance", [admin.address]);
    const reg = await deploy("SolvencyRegistry", [admin.address, addr(segV), addr(listV), addr(gov), CONFIG]);
    await bindGovernance(gov, addr(reg));
    await sendTx("grant", () => reg.getFunction("grantRole")(PUBLISHER, admin.address));
    const weth = await deploy("TestToken", ["Wrapped Ether", "WETH", 18]);
    const usdc = await deploy("TestToken", ["USD Coin", "USDC", 6]);
    const ethFeed = await deploy("MockV3Aggregator", [8, 3000n * 10n ** 8n]);
    const usdcFeed = await deploy("MockV3Aggregator", [8, 10n ** 8n]);
    const custody10 = Wallet.createRandom().address;
    const pooled = Wallet.createRandom().address;
    const f = (n: string) => gov.getFunction(n);
    await sendTx("addAsset", () => f("addAsset")("ETH", 18, addr(weth), addr(ethFeed), HOUR, 200));
    await sendTx("addAsset", () => f("addAsset")("USDC", 6, addr(usdc), addr(usdcFeed), 24 * HOUR, 100));
    await sendTx("pooled", () => f("setPooledCustody")(pooled));
    await sendTx("reg10", () => f("registerSegment")(10, segmentConfigArg(seg10(custody10))));
    await sendTx("reg20", () => f("registerSegment")(20, segmentConfigArg(seg20())));
    await sendTx("mint", () => weth.getFunction("mint")(custody10, 100n * E18));
    await sendTx("mint", () => usdc.getFunction("mint")(custody10, 50_000n * E6));
    await sendTx("mint", () => usdc.getFunction("mint")(pooled, 1_000_000n * E6));
    return { gov, reg, weth, usdc, ethFeed, usdcFeed, custody10, pooled };
  }

  const STRESS = packStress(
    [
      [7000n, 10000n, 10000n, 10000n],
      [5000n, 9000n, 10000n, 10000n],
    ],
    K,
    A,
  );
  const seg10 = (custody: string): GovernedSegment => ({
    name: "eth-usdc",
    marginBps: 1000,
    maxAge: HOUR,
    custody,
    active: true,
    assets: [0, 1],
    cfBps: [8000, 10000],
    stress: STRESS,
  });
  const seg20 = (): GovernedSegment => ({
    name: "usdc",
    marginBps: 500,
    maxAge: 2 * HOUR,
    custody: ZeroAddress,
    active: true,
    assets: [1],
    cfBps: [9500],
    stress: packStress([], K, A),
  });

  /** commitEpoch's arguments for a manifest built from governed state (caps of segment 10). */
  interface Manifest {
    assetTable: [string, number, string][];
    poolCaps: bigint[];
    segments: {
      id: bigint;
      marginBps: number;
      slots: bigint[];
      stress: bigint[];
      batchRoots: bigint[];
      assets: [string, number, string][];
    }[];
    globalCommitments: bigint[];
    roundIds: bigint[];
  }
  function manifestFrom(
    ge: GovernedEpoch,
    caps: Record<string, bigint[]> = { "10": [10n * E18, 1000n * E6] },
    poolCaps: bigint[] = [0n, 500_000n * E6],
  ): Manifest {
    const table = ge.assets.map((a) => [a.symbol, a.decimals, a.token] as [string, number, string]);
    return {
      assetTable: table,
      poolCaps: packListCaps(poolCaps, GA),
      segments: ge.segments.map((s, i) => ({
        id: s.id,
        marginBps: s.marginBps,
        slots: governedSlotWords(s, ge.prices, A, caps[String(s.id)] ?? []),
        stress: s.stress,
        batchRoots: [BigInt(1000 + i)],
        assets: s.assets.map((g) => table[g] as [string, number, string]),
      })),
      globalCommitments: [7n],
      roundIds: ge.roundIds,
    };
  }
  const args = (e: bigint, m: Manifest) => [
    e,
    m.assetTable,
    m.poolCaps,
    m.segments.map((s) => [s.id, s.marginBps, s.slots, s.stress, s.batchRoots, s.assets]),
    m.globalCommitments,
    m.roundIds,
  ];
  async function commit(reg: Contract, e: bigint, m: Manifest) {
    return sendTx(`commitEpoch ${e}`, () => reg.getFunction("commitEpoch")(...args(e, m)));
  }
  /** `p` reverts with the custom error `name` (and, when given, exactly these arguments). */
  async function rejects(p: Promise<unknown>, name: string, args?: string[]) {
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof ChainError, String(err));
      assert.equal(err.revertName, name, err.message);
      if (args) assert.deepEqual(err.revertArgs?.map(String), args);
      return true;
    });
  }
  const expectCommit = (reg: Contract, e: bigint, m: Manifest, name: string) =>
    rejects(commit(reg, e, m), name);

  // ------------------------------------------------------------------ happy path, abi

  it("commits an epoch built from governed state; stores each segment's governed version", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    assert.deepEqual(
      ge.segments.map((x) => x.id),
      [10n, 20n],
    );
    assert.deepEqual(ge.prices, [3000n * 10n ** 8n, 10n ** 8n * 10n ** 12n]);
    const rc = await commit(s.reg, 1n, manifestFrom(ge));
    gas2 = rc.gasUsed;
    check2 = await s.gov.getFunction("checkEpoch").estimateGas(...args(2n, manifestFrom(ge)));
    gas["commitEpoch, 2 segments (3 priced slots, 2 own-custody caps, 2 feeds)"] = rc.gasUsed;
    const h = await s.reg.getFunction("segmentHealth")(10);
    assert.equal(h.listed, false, "no finalized epoch yet: no record");
    assert.equal(await s.reg.getFunction("isHealthy")(10), false);
    assert.equal(await s.reg.getFunction("governance")(), addr(s.gov));
  });

  it("REGISTRY_ABI (src/chain/abi.ts) equals the compiled registry's ABI", () => {
    const compiled = new Interface(pick("SolvencyRegistry").abi as InterfaceAbi).format().sort();
    assert.deepEqual([...REGISTRY_ABI].sort(), compiled);
  });

  // ------------------------------------------------------------------ segment set and parameters

  it("rejects a missing, an extra (ungoverned) and an inactive segment", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    const full = manifestFrom(ge);
    await expectCommit(s.reg, 1n, { ...full, segments: full.segments.slice(0, 1) }, "MissingSegment");
    const extra = { ...full.segments[1], id: 30n } as Manifest["segments"][number];
    await expectCommit(s.reg, 1n, { ...full, segments: [...full.segments, extra] }, "UngovernedSegment");
    // deactivate 20: listing it fails, leaving it out passes
    await sendTx("deactivate", () => s.gov.getFunction("setSegmentActive")(20, false));
    await expectCommit(s.reg, 1n, full, "InactiveSegment");
    await commit(s.reg, 1n, { ...full, segments: full.segments.slice(0, 1) });
  });

  it("rejects a margin, collateral factor, asset index, stress word or asset table that is not the governed one", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    const m = () => manifestFrom(ge);
    const bad = m();
    (bad.segments[0] as { marginBps: number }).marginBps = 999;
    await expectCommit(s.reg, 1n, bad, "MarginMismatch");
    const cf = m();
    const w0 = cf.segments[0]?.slots[0] as bigint;
    (cf.segments[0] as { slots: bigint[] }).slots[0] = w0 - (8000n << 96n) + (9000n << 96n);
    await expectCommit(s.reg, 1n, cf, "SlotMismatch");
    const st = m();
    (st.segments[0] as { stress: bigint[] }).stress = packStress([], K, A);
    await expectCommit(s.reg, 1n, st, "StressMismatch");
    const tbl = m();
    tbl.assetTable = [...tbl.assetTable, ["DAI", 18, "0x00000000000000000000000000000000000000d1"]];
    tbl.roundIds = [...tbl.roundIds, 0n];
    await expectCommit(s.reg, 1n, tbl, "AssetTableMismatch");
    const rounds = m();
    rounds.roundIds = [0n];
    await expectCommit(s.reg, 1n, rounds, "InvalidRoundIds");
  });

  // ------------------------------------------------------------------ prices

  it("checks every slot price against its feed: exact value, named rounds, staleness, deviation", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    const off = manifestFrom(ge);
    (off.segments[0] as { slots: bigint[] }).slots[0] = (off.segments[0]?.slots[0] as bigint) + 1n;
    await expectCommit(s.reg, 1n, off, "PriceMismatch");

    // round 1 = $3000; round 2 = $3030 (+1%, within 2%); naming round 1 uses $3000
    await sendTx("update", () =>
      s.ethFeed.getFunction("updateAnswer")(3030n * 10n ** 8n, { gasLimit: FEED_GAS }),
    );
    const r1 = await readGovernedEpoch(s.gov, { roundIds: [1n, 0n] });
    assert.equal(r1.prices[0], 3000n * 10n ** 8n);
    await commit(s.reg, 1n, manifestFrom(r1));
    // the latest price with round 1 named is a mismatch
    const mixed = manifestFrom(await readGovernedEpoch(s.gov));
    mixed.roundIds = [1n, 0n];
    await expectCommit(s.reg, 2n, mixed, "PriceMismatch");
    // round 3 = $3200: round 1 is now 6.25% off the latest (> 2%)
    await sendTx("update", () =>
      s.ethFeed.getFunction("updateAnswer")(3200n * 10n ** 8n, { gasLimit: FEED_GAS }),
    );
    await expectCommit(
      s.reg,
      2n,
      manifestFrom(await readGovernedEpoch(s.gov, { roundIds: [1n, 0n] })),
      "PriceDeviation",
    );
    // a round that never happened
    const none = manifestFrom(await readGovernedEpoch(s.gov));
    none.roundIds = [99n, 0n];
    await expectCommit(s.reg, 2n, none, "RoundIncomplete");
    // stale: the ETH feed allows 1 hour
    const fresh = manifestFrom(await readGovernedEpoch(s.gov));
    await increaseTime(HOUR + 5);
    await expectCommit(s.reg, 2n, fresh, "StalePrice");
    await sendTx("update", () =>
      s.ethFeed.getFunction("updateAnswer")(3200n * 10n ** 8n, { gasLimit: FEED_GAS }),
    );
    await sendTx("update", () => s.usdcFeed.getFunction("updateAnswer")(10n ** 8n, { gasLimit: FEED_GAS }));
    await commit(s.reg, 2n, manifestFrom(await readGovernedEpoch(s.gov)));
  });

  it("rejects a zero or negative answer and a reverting feed", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    const m = manifestFrom(ge);
    await sendTx("zero", () => s.ethFeed.getFunction("updateAnswer")(0n, { gasLimit: FEED_GAS }));
    await expectCommit(s.reg, 1n, m, "InvalidAnswer");
    await sendTx("neg", () => s.ethFeed.getFunction("updateAnswer")(-5n, { gasLimit: FEED_GAS }));
    await expectCommit(s.reg, 1n, m, "InvalidAnswer");
    const broken = await deploy("ManualFeed", []);
    await sendTx("pause", () => broken.getFunction("setPaused")(true));
    await sendTx("feed", () => s.gov.getFunction("setAssetOracle")(0, addr(broken), HOUR, 200));
    await expectCommit(s.reg, 1n, m, "FeedUnavailable");
  });

  it("converts feed decimals other than 8 exactly, and rejects an answer that is not exact", async () => {
    const s = await system();
    // ETH feed with 18 decimals: 3000.5 USD -> circuit 3000.5 * 10^8 (D = d = 18)
    const feed18 = await deploy("MockV3Aggregator", [18, 30005n * 10n ** 17n]);
    await sendTx("feed", () => s.gov.getFunction("setAssetOracle")(0, addr(feed18), HOUR, 200));
    // USDC feed with 6 decimals: 1.000001 USD -> circuit 1.000001 * 10^8 * 10^12
    const feed6 = await deploy("MockV3Aggregator", [6, 1_000_001n]);
    await sendTx("feed", () => s.gov.getFunction("setAssetOracle")(1, addr(feed6), HOUR, 200));
    const ge = await readGovernedEpoch(s.gov);
    assert.deepEqual(ge.prices, [300050000000n, 100000100n * 10n ** 12n]);
    await commit(s.reg, 1n, manifestFrom(ge));
    // 3000.123456789 USD has 9 fractional digits: no exact circuit price (8 decimals at D = d)
    await sendTx("update", () =>
      feed18.getFunction("updateAnswer")(3000123456789n * 10n ** 9n, { gasLimit: FEED_GAS }),
    );
    const m = manifestFrom({ ...ge, prices: [300012345678n, ge.prices[1] as bigint] });
    await expectCommit(s.reg, 2n, m, "InexactPrice");
  });

  // ------------------------------------------------------------------ custody

  it("bounds the caps drawn on each custody account by its balance: own caps on their account, the pooled cap on the pooled one", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    // segment 10 custody holds 100 WETH, 50,000 USDC
    const over = (caps: bigint[]) =>
      expectCommit(s.reg, 1n, manifestFrom(ge, { "10": caps }), "CustodyOvercommitted");
    await over([101n * E18, 1000n * E6]);
    await over([E18, 50_001n * E6]);
    await over([]); // unbounded caps
    await rejects(commit(s.reg, 1n, manifestFrom(ge, { "10": [101n * E18, 0n] })), "CustodyOvercommitted", [
      s.custody10,
      "0",
      String(100n * E18),
      String(101n * E18),
      "0",
    ]);
    // the pooled cap is backed by the pooled account alone (the lot list totals only pooled
    // lots against it): at most its 1,000,000 USDC and 0 ETH, whatever segment 10's account holds
    await rejects(
      commit(s.reg, 1n, manifestFrom(ge, undefined, [0n, 1_000_001n * E6])),
      "CustodyOvercommitted",
      [s.pooled, "1", String(1_000_000n * E6), "0", String(1_000_001n * E6)],
    );
    // the old attack: segment 10 caps 10 ETH of its account's 100 and proves less; a pooled cap
    // counting that surplus (own caps + surplus) draws ETH on the empty pooled account
    await expectCommit(s.reg, 1n, manifestFrom(ge, undefined, [10n * E18, 0n]), "CustodyOvercommitted");
    await expectCommit(s.reg, 1n, manifestFrom(ge, undefined, [1n, 0n]), "CustodyOvercommitted");
    // loose own caps (the whole balance) with the pooled balance as the pooled cap: exactly covered
    await commit(s.reg, 1n, manifestFrom(ge, { "10": [100n * E18, 50_000n * E6] }, [0n, 1_000_000n * E6]));
    // a withdrawal from custody after the commit does not alter epoch 1, but the next commit sees it
    await sendTx("burn", () => s.weth.getFunction("burn")(s.custody10, 95n * E18));
    await expectCommit(s.reg, 2n, manifestFrom(ge), "CustodyOvercommitted");
  });

  it("an account named by two segments is split between them, never counted twice", async () => {
    const s = await system();
    // segment 11 names segment 10's account (100 WETH, 50,000 USDC): allowed, the balance is shared
    await sendTx("reg11", () =>
      s.gov.getFunction("registerSegment")(11, segmentConfigArg(seg10(s.custody10))),
    );
    const ge = await readGovernedEpoch(s.gov);
    // both claim the 100 WETH: 200 counted against 100 held
    await rejects(
      commit(
        s.reg,
        1n,
        manifestFrom(ge, { "10": [100n * E18, 0n], "11": [100n * E18, 0n] }, [200n * E18, 0n]),
      ),
      "CustodyOvercommitted",
      [s.custody10, "0", String(100n * E18), String(200n * E18), "0"],
    );
    // split: 60 + 40 WETH, 50,000 USDC to segment 11 only; the pooled cap on the pooled account
    await commit(
      s.reg,
      1n,
      manifestFrom(ge, { "10": [60n * E18, 0n], "11": [40n * E18, 50_000n * E6] }, [0n, 50_000n * E6]),
    );
  });

  it("a pooled account that is also an own account: own caps plus the pooled cap fit its balance", async () => {
    const s = await system();
    await sendTx("pooled", () => s.gov.getFunction("setPooledCustody")(s.custody10));
    const ge = await readGovernedEpoch(s.gov);
    // segment 10 claims all 100 WETH; a pooled cap of 1 more is drawn on the same account
    await expectCommit(
      s.reg,
      1n,
      manifestFrom(ge, { "10": [100n * E18, 0n] }, [1n, 0n]),
      "CustodyOvercommitted",
    );
    // segment 10 claims 70: the pooled cap may be the other 30
    await expectCommit(
      s.reg,
      1n,
      manifestFrom(ge, { "10": [70n * E18, 0n] }, [30n * E18 + 1n, 0n]),
      "CustodyOvercommitted",
    );
    await commit(s.reg, 1n, manifestFrom(ge, { "10": [70n * E18, 0n] }, [30n * E18, 50_000n * E6]));
  });

  it("a pooled cap with no pooled account must be 0; a slot's pooled bit must match its segment's custody", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    // segment 10 has its own account: its slot words carry pooled = 0; segment 20's carry 1
    const flip = (m: Manifest, i: number): Manifest => ({
      ...m,
      segments: m.segments.map((x, j) =>
        j === i ? { ...x, slots: x.slots.map((w, k) => (k < x.assets.length ? w ^ (1n << 234n) : w)) } : x,
      ),
    });
    await rejects(commit(s.reg, 1n, flip(manifestFrom(ge), 0)), "CustodyModeMismatch", ["10", "0"]);
    await rejects(commit(s.reg, 1n, flip(manifestFrom(ge), 1)), "CustodyModeMismatch", ["20", "0"]);
    await sendTx("pooled", () => s.gov.getFunction("setPooledCustody")(ZeroAddress));
    await expectCommit(s.reg, 1n, manifestFrom(ge, undefined, [0n, 1n]), "NoPooledCustody");
    await commit(s.reg, 1n, manifestFrom(ge, undefined, [0n, 0n]));
  });

  // ------------------------------------------------------------------ epoch step, roles

  it("epoch numbers advance by at most MAX_EPOCH_STEP: 2^64-1 is refused and governance keeps working", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    const step = (await s.reg.getFunction("MAX_EPOCH_STEP")()) as bigint;
    assert.equal(step, 2n ** 20n);
    await expectCommit(s.reg, 2n ** 64n - 1n, manifestFrom(ge), "EpochStepTooLarge");
    await expectCommit(s.reg, step + 1n, manifestFrom(ge), "EpochStepTooLarge");
    await commit(s.reg, step, manifestFrom(ge));
    await expectCommit(s.reg, 2n * step + 1n, manifestFrom(ge), "EpochStepTooLarge");
    // the next epoch exists, so governance changes still have an epoch to apply from
    await sendTx("update", () =>
      s.gov.getFunction("updateSegment")(10, segmentConfigArg({ ...seg10(s.custody10), marginBps: 2000 })),
    );
    assert.equal((await s.gov.getFunction("segmentVersion")(10, 2))[1], step + 1n);
  });

  it("publisher keys are granted and revoked only through the timelock (key rotation)", async () => {
    const s = await system();
    const delay = 2n * BigInt(HOUR);
    const timelock = await deploy("GovernanceTimelock", [
      delay,
      [admin.address],
      [admin.address],
      ZeroAddress,
    ]);
    await handRegistryToTimelock(s.reg, addr(timelock));
    const ADMIN = await s.reg.getFunction("DEFAULT_ADMIN_ROLE")();
    assert.equal(await s.reg.getFunction("hasRole")(ADMIN, addr(timelock)), true);
    assert.equal(await s.reg.getFunction("hasRole")(ADMIN, admin.address), false);
    // the deployer can no longer add a publisher directly
    await rejects(
      sendTx("grant", () => s.reg.getFunction("grantRole")(PUBLISHER, outsider.address)),
      "AccessControlUnauthorizedAccount",
    );
    // rotation: grant the new key, revoke the old one, both public for the delay
    const grant = publisherRoleOp(s.reg, "grantRole", outsider.address, id("rotate-1"));
    const revoke = publisherRoleOp(s.reg, "revokeRole", admin.address, id("rotate-1"));
    await scheduleGovernance(timelock, grant, delay);
    await scheduleGovernance(timelock, revoke, delay);
    await assert.rejects(executeGovernance(timelock, grant), /TimelockUnexpectedOperationState|reverted/);
    await increaseTime(Number(delay) + 1);
    await executeGovernance(timelock, grant);
    await executeGovernance(timelock, revoke);
    await sendTx("price", () =>
      s.ethFeed.getFunction("updateAnswer")(3000n * 10n ** 8n, { gasLimit: FEED_GAS }),
    );
    await sendTx("price", () => s.usdcFeed.getFunction("updateAnswer")(10n ** 8n, { gasLimit: FEED_GAS }));
    const m = manifestFrom(await readGovernedEpoch(s.gov));
    await expectCommit(s.reg, 1n, m, "AccessControlUnauthorizedAccount"); // the old key
    await commit(s.reg.connect(outsider) as Contract, 1n, m);
  });

  // ------------------------------------------------------------------ oracle rounds, token decimals

  it("refuses a latest round that carries an earlier answer over, and a token whose decimals() are not the governed ones", async () => {
    const s = await system();
    const feed = await deploy("ManualFeed", []);
    const t = await now();
    await sendTx("round", () => feed.getFunction("setRound")(7, 3000n * 10n ** 8n, t, 6));
    await sendTx("oracle", () => s.gov.getFunction("setAssetOracle")(0, addr(feed), HOUR, 200));
    const ge = await readGovernedEpoch(s.gov);
    await expectCommit(s.reg, 1n, manifestFrom(ge), "RoundCarriedOver");
    await sendTx("round", () => feed.getFunction("setRound")(7, 3000n * 10n ** 8n, t, 7));
    await commit(s.reg, 1n, manifestFrom(ge));
    // a 6-decimals token registered as 18 decimals: every amount would be misread by 10^12
    const usdc6 = await deploy("TestToken", ["USD Coin", "USDC2", 6]);
    await rejects(
      sendTx("asset", () =>
        s.gov.getFunction("addAsset")("USDC2", 18, addr(usdc6), addr(s.usdcFeed), HOUR, 100),
      ),
      "TokenDecimalsMismatch",
    );
    await rejects(
      sendTx("asset", () =>
        s.gov.getFunction("addAsset")("X", 18, addr(s.usdcFeed), addr(s.usdcFeed), HOUR, 100),
      ),
      "TokenDecimalsMismatch",
    );
  });

  it("refuses the commit after a token's decimals() change away from the governed decimals", async () => {
    const s = await system();
    const token = await deploy("MutableDecimalsToken", ["Dai", "DAI", 18]);
    await sendTx("asset", () =>
      s.gov.getFunction("addAsset")("DAI", 18, addr(token), addr(s.usdcFeed), 24 * HOUR, 100),
    );
    const ge = await readGovernedEpoch(s.gov);
    const m = manifestFrom(ge, undefined, [0n, 500_000n * E6, 0n]);
    await commit(s.reg, 1n, m);
    await sendTx("decimals", () => token.getFunction("setDecimals")(6));
    await rejects(commit(s.reg, 2n, m), "TokenDecimalsMismatch", ["2", addr(token), "18"]);
    await sendTx("decimals", () => token.getFunction("setDecimals")(18));
    await commit(s.reg, 2n, m);
  });

  // ------------------------------------------------------------------ governance

  it("only GOVERNOR_ROLE changes governed state; invalid configurations are rejected", async () => {
    const s = await system();
    const asOutsider = s.gov.connect(outsider) as Contract;
    await rejects(
      sendTx("x", () => asOutsider.getFunction("updateSegment")(10, segmentConfigArg(seg20()))),
      "AccessControlUnauthorizedAccount",
    );
    await rejects(
      sendTx("x", () => asOutsider.getFunction("setAssetOracle")(0, addr(s.ethFeed), HOUR, 200)),
      "AccessControlUnauthorizedAccount",
    );
    const f = (n: string) => s.gov.getFunction(n);
    await rejects(
      sendTx("x", () => f("updateSegment")(10, segmentConfigArg({ ...seg20(), cfBps: [10001] }))),
      "InvalidCollateralFactor",
    );
    await rejects(
      sendTx("x", () =>
        f("updateSegment")(10, segmentConfigArg({ ...seg20(), assets: [1, 0], cfBps: [1, 1] })),
      ),
      "InvalidSegmentAssets",
    );
    await rejects(
      sendTx("x", () => f("updateSegment")(10, segmentConfigArg({ ...seg20(), stress: [1n << 120n] }))),
      "InvalidStressWords",
    );
    await rejects(
      sendTx("x", () => f("registerSegment")(10, segmentConfigArg(seg20()))),
      "SegmentAlreadyRegistered",
    );
    await rejects(
      sendTx("x", () => f("addAsset")("X", 18, addr(s.weth), addr(s.ethFeed), 0, 200)),
      "InvalidOracleParams",
    );
  });

  it("a change made after epoch E is committed applies from the next epoch; history stays readable", async () => {
    const s = await system();
    const ge = await readGovernedEpoch(s.gov);
    await commit(s.reg, 1n, manifestFrom(ge));
    await sendTx("update", () =>
      s.gov.getFunction("updateSegment")(10, segmentConfigArg({ ...seg10(s.custody10), marginBps: 2000 })),
    );
    const [v1, from1] = await s.gov.getFunction("segmentVersion")(10, 1);
    const [v2, from2] = await s.gov.getFunction("segmentVersion")(10, 2);
    assert.equal(v1.marginBps, 1000n);
    assert.equal(from1, 1n);
    assert.equal(v2.marginBps, 2000n);
    assert.equal(from2, 2n);
    assert.equal(await s.gov.getFunction("segmentAt")(10, 1), 1n);
    assert.equal(await s.gov.getFunction("segmentAt")(10, 2), 2n);
    // epoch 1 keeps what it was committed with
    const e1 = await s.reg.getFunction("getEpoch")(1);
    assert.equal(e1.segments[0].marginBps, 1000n);
    // epoch 2 must use the new margin
    await expectCommit(s.reg, 2n, manifestFrom(ge), "MarginMismatch");
    await commit(s.reg, 2n, manifestFrom(await readGovernedEpoch(s.gov)));
    assert.equal((await s.reg.getFunction("getEpoch")(2)).segments[0].marginBps, 2000n);
  });

  it("deployGovernance: behind the timelock a change executes only after the delay, and never alters a committed epoch", async () => {
    const arts = { governance: pick("SegmentGovernance"), timelock: pick("GovernanceTimelock") };
    const d = await deployGovernance(admin, arts, { delaySeconds: 2 * HOUR });
    gas["deploy SegmentGovernance"] =
      (await provider.getTransactionReceipt(d.governance.deploymentTransaction()?.hash ?? ""))?.gasUsed ?? 0n;
    const segV = await deploy("SegmentVerifier", []);
    const listV = await deploy("LotListVerifier", []);
    const reg = await deploy("SolvencyRegistry", [
      admin.address,
      addr(segV),
      addr(listV),
      d.governanceAddress,
      CONFIG,
    ]);
    await bindGovernance(d.governance, addr(reg));
    await sendTx("grant", () => reg.getFunction("grantRole")(PUBLISHER, admin.address));
    // genesis configuration by the deployer, then the hand-over
    const weth = await deploy("TestToken", ["Wrapped Ether", "WETH", 18]);
    const feed = await deploy("MockV3Aggregator", [8, 2000n * 10n ** 8n]);
    const custody = Wallet.createRandom().address;
    await sendTx("mint", () => weth.getFunction("mint")(custody, 10n * E18));
    const g = d.governance;
    await sendTx("asset", () => g.getFunction("addAsset")("ETH", 18, addr(weth), addr(feed), HOUR, 100));
    const cfg: GovernedSegment = {
      name: "eth",
      marginBps: 1000,
      maxAge: HOUR,
      custody,
      active: true,
      assets: [0],
      cfBps: [8000],
      stress: packStress([], K, A),
    };
    await sendTx("seg", () => g.getFunction("registerSegment")(1, segmentConfigArg(cfg)));
    await handOverToTimelock(g, d.timelockAddress);
    assert.equal(
      await g.getFunction("hasRole")(await g.getFunction("GOVERNOR_ROLE")(), admin.address),
      false,
    );
    await rejects(
      sendTx("direct", () =>
        g.getFunction("updateSegment")(1, segmentConfigArg({ ...cfg, marginBps: 3000 })),
      ),
      "AccessControlUnauthorizedAccount",
    );

    const op = governanceOp(g, d.governanceAddress, "updateSegment", [
      1,
      segmentConfigArg({ ...cfg, marginBps: 3000 }),
    ]);
    await scheduleGovernance(d.timelock, op, d.delaySeconds);
    // epoch 1 committed while the change is pending
    const m1 = manifestFrom(await readGovernedEpoch(g), { "1": [E18] }, [0n]);
    await commit(reg, 1n, m1);
    await assert.rejects(executeGovernance(d.timelock, op), (err: unknown) => {
      assert.match(String((err as Error).message), /TimelockUnexpectedOperationState|reverted/);
      return true;
    });
    await increaseTime(2 * HOUR + 1);
    await sendTx("price", () => feed.getFunction("updateAnswer")(2000n * 10n ** 8n, { gasLimit: FEED_GAS }));
    await executeGovernance(d.timelock, op);
    assert.equal((await g.getFunction("segment")(1)).marginBps, 3000n);
    assert.equal((await g.getFunction("segmentVersion")(1, 2))[1], 2n, "applies from epoch 2");
    assert.equal((await reg.getFunction("getEpoch")(1)).segments[0].marginBps, 1000n, "epoch 1 unchanged");
    const ge2 = await readGovernedEpoch(g);
    await expectCommit(
      reg,
      2n,
      { ...manifestFrom(ge2, { "1": [E18] }, [0n]), segments: m1.segments },
      "MarginMismatch",
    );
    await commit(reg, 2n, manifestFrom(ge2, { "1": [E18] }, [0n]));
  });

  // ------------------------------------------------------------------ health and the example consumer

  it("no record: segmentHealth is all-false and IsolatedVault refuses to lend (real registry)", async () => {
    const s = await system();
    await commit(s.reg, 1n, manifestFrom(await readGovernedEpoch(s.gov))); // committed, not finalized
    const loan = await deploy("TestToken", ["Loan", "LOAN", 18]);
    const vault = await deploy("IsolatedVault", [addr(s.reg), addr(loan)]);
    await sendTx("fund", () => loan.getFunction("mint")(addr(vault), 1000n * E18));
    const h = await s.reg.getFunction("segmentHealth")(10);
    assert.deepEqual([h.listed, h.healthy, h.fresh, h.healthyNow, h.epoch], [false, false, false, false, 0n]);
    assert.equal(await vault.getFunction("canBorrow")(10), false);
    await rejects(
      sendTx("borrow", () => vault.getFunction("borrow")(10, E18)),
      "NoSolvencyRecord",
    );
  });

  it("IsolatedVault against the registry interface: lends while healthy and fresh, refuses unhealthy and stale (mock registry)", async () => {
    const mock = await deploy("MockSolvencyRegistry", []);
    const loan = await deploy("TestToken", ["Loan", "LOAN", 18]);
    const vault = await deploy("IsolatedVault", [addr(mock), addr(loan)]);
    await sendTx("fund", () => loan.getFunction("mint")(addr(vault), 1000n * E18));
    const t = BigInt(await now());
    await sendTx("rec", () => mock.getFunction("setRecord")(10, 1, true, t, HOUR));
    await sendTx("rec", () => mock.getFunction("setRecord")(20, 1, false, t, HOUR));
    await sendTx("borrow", () => vault.getFunction("borrow")(10, 5n * E18));
    assert.equal(await loan.getFunction("balanceOf")(admin.address), 5n * E18);
    await rejects(
      sendTx("borrow", () => vault.getFunction("borrow")(20, E18)),
      "SegmentUnhealthy",
    );
    await rejects(
      sendTx("borrow", () => vault.getFunction("borrow")(30, E18)),
      "NoSolvencyRecord",
    );
    await increaseTime(HOUR + 1);
    assert.equal(await vault.getFunction("canBorrow")(10), false);
    await rejects(
      sendTx("borrow", () => vault.getFunction("borrow")(10, E18)),
      "SolvencyRecordStale",
    );
    // repaying is always open
    await sendTx("approve", () => loan.getFunction("approve")(addr(vault), 5n * E18));
    await sendTx("repay", () => vault.getFunction("repay")(10, 5n * E18));
    assert.equal(await vault.getFunction("debtOf")(10, admin.address), 0n);
  });

  // ------------------------------------------------------------------ gas

  it("gas: commitEpoch with governance checks, per segment", async () => {
    const s = await system();
    const f = (n: string) => s.gov.getFunction(n);
    // 4 more own-custody segments like segment 10 (2 priced slots each)
    for (const id of [11, 12, 13, 14]) {
      await sendTx("reg", () => f("registerSegment")(id, segmentConfigArg(seg10(s.custody10))));
    }
    const ge = await readGovernedEpoch(s.gov);
    const caps = Object.fromEntries(ge.segments.map((x) => [String(x.id), [E18, 100n * E6]]));
    const m = manifestFrom(ge, caps);
    const rc = await commit(s.reg, 1n, m);
    gas["commitEpoch, 6 segments (5 own-custody with 2 slots, 1 pooled with 1)"] = rc.gasUsed;
    if (gas2 > 0n)
      gas["  per added own-custody segment of 2 slots ((6 - 2 segments) / 4)"] = (rc.gasUsed - gas2) / 4n;
    const check = await s.gov.getFunction("checkEpoch").estimateGas(...args(1n, m));
    gas["SegmentGovernance.checkEpoch alone on that manifest (incl. 21k tx base and calldata)"] = check;
    if (check2 > 0n) gas["  checkEpoch per added own-custody segment of 2 slots"] = (check - check2) / 4n;
  });
});
