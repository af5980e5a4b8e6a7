/**
 * A governed epoch end to end with real proofs, on anvil with real contracts: the
 * example snapshot's assets get TestToken tokens and Chainlink MockV3Aggregator feeds, its
 * segments custody accounts and a SegmentGovernance behind the timelock (test/helpers/devworld.ts,
 * deployGovernedRegistry); the snapshot to prove is built from governed state (governedSnapshot:
 * feed prices, governed parameters, caps from balanceOf), proven with the `test` profile and
 * published (publish names the oracle rounds of its prices). Then what other contracts rely on:
 * isHealthy, segmentHealth and the IsolatedVault example, fresh and stale.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Contract, type InterfaceAbi, type JsonRpcProvider, type Wallet, ZeroAddress } from "ethers";
import { readBundle } from "../../src/bundle/disk.js";
import { committedCustodyProblem, readCustody } from "../../src/chain/custody.js";
import {
  executeGovernance,
  GovernanceTxError,
  governanceAt,
  governanceOp,
  publisherRoleOp,
  readGovernedEpoch,
  scheduleGovernance,
  sendGovernanceTx,
  type TimelockOp,
} from "../../src/chain/governance.js";
import {
  deployGovernedRegistry,
  type GovernedDeployment,
  governedSnapshot,
  governedSnapshotFromRegistry,
  manifestSlotPrices,
  parseGovernanceConfig,
  roundIdsFor,
  roundIdsForRegistry,
} from "../../src/chain/governed.js";
import { listGroupArg, type PublishResult, publishEpoch, segmentGroupArg } from "../../src/chain/publish.js";
import {
  type ChainEpoch,
  chainEpochFromBundle,
  manifestArgs,
  manifestOf,
  registryAt,
  revertOf,
} from "../../src/chain/registry.js";
import { proveSnapshot } from "../../src/pipeline.js";
import { loadSnapshot, parseSnapshot } from "../../src/snapshot/snapshot.js";
import {
  packListCaps,
  packSegmentSlots,
  unpackListCaps,
  unpackSegmentSlots,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { loadArtifacts } from "../../src/toolchain/artifacts.js";
import {
  type CompiledContract,
  compileRegistryWith,
  compileSolidity,
} from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { compileDevContracts, type DevWorld, deployContract, deployDevWorld } from "../helpers/devworld.js";

const PROFILE = getProfile("test");
const EXAMPLE = path.join(PACKAGE_ROOT, "examples", "snapshot.json");
const DAY = 86_400;

describe("chain: a governed epoch with real proofs (isHealthy, segmentHealth, IsolatedVault)", function () {
  this.timeout(900_000);
  let chain: LocalChain | undefined;
  let provider: JsonRpcProvider;
  let admin: Wallet;
  let tmp: string;
  let dev: Record<string, CompiledContract>;
  let world: DevWorld;
  let d: GovernedDeployment;
  let registry: Contract;
  /** the epoch published without finalizing, then finalized by a second, resuming publish */
  let res: PublishResult;
  let resFinal: PublishResult;
  let raw: Record<string, unknown>;
  let epoch: ChainEpoch;
  let c: Record<string, CompiledContract>;
  let timelock: Contract;

  const increaseTime = async (s: number) => {
    await provider.send("evm_increaseTime", [s]);
    await provider.send("evm_mine", []);
  };

  before(async () => {
    chain = await startLocalChain();
    ({ provider, admin } = chain);
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-governed-"));
    const zkeys = {
      segment: (await loadArtifacts("segment", "test")).zkey,
      lotlist: (await loadArtifacts("lotlist", "test")).zkey,
    };
    c = await compileRegistryWith(zkeys);
    dev = await compileDevContracts();
    const pick = (n: string) => {
      const x = c[n];
      if (!x) throw new Error(`not compiled: ${n}`);
      return x;
    };
    raw = JSON.parse(await fs.readFile(EXAMPLE, "utf8")) as Record<string, unknown>;
    world = await deployDevWorld(admin, await loadSnapshot(EXAMPLE, { profile: PROFILE }), dev, {
      maxAgeSeconds: DAY,
    });
    d = await deployGovernedRegistry(
      admin,
      {
        segmentVerifier: pick("SegmentVerifier"),
        listVerifier: pick("LotListVerifier"),
        registry: pick("SolvencyRegistry"),
        governance: pick("SegmentGovernance"),
        timelock: pick("GovernanceTimelock"),
      },
      parseGovernanceConfig(world.config, PROFILE),
      { profile: PROFILE, delaySeconds: 3600 },
    );
    registry = registryAt(d.registry, admin);
    const { snapshot: snap } = await governedSnapshotFromRegistry(registryAt(d.registry, provider), raw);
    const summary = await proveSnapshot({
      snapshot: parseSnapshot(snap, { profile: PROFILE }),
      out: path.join(tmp, "epoch"),
      profile: "test",
      selfAudit: false,
    });
    await terminateCurves();
    const { bundle } = await readBundle(summary.publicDir);
    epoch = chainEpochFromBundle(bundle);
    timelock = new Contract(d.governance.timelock, c.GovernanceTimelock?.abi as InterfaceAbi, admin);
  });

  /** Schedules `ops` on the timelock, waits out its delay, executes them. */
  async function throughTimelock(ops: TimelockOp[]): Promise<void> {
    for (const op of ops) await scheduleGovernance(timelock, op, 3600n);
    await increaseTime(3601);
    for (const op of ops) await executeGovernance(timelock, op);
  }
  /** Every custody account's balance of every token (own accounts and the pooled one). */
  async function custodyHoldings(): Promise<{ token: Contract; account: string; amount: bigint }[]> {
    const out: { token: Contract; account: string; amount: bigint }[] = [];
    for (const account of [...Object.values(world.custody), world.pooled])
      for (const token of Object.values(world.tokens)) {
        const amount = BigInt(await token.getFunction("balanceOf")(account));
        if (amount > 0n) out.push({ token, account, amount });
      }
    return out;
  }
  const moveAll = async (h: { token: Contract; account: string; amount: bigint }[], fn: "mint" | "burn") => {
    for (const x of h) await sendGovernanceTx(fn, () => x.token.getFunction(fn)(x.account, x.amount));
  };

  it("own custody backs only its segment: the pooled cap cannot count what an own account holds beyond its segment's collateral", async () => {
    const m = manifestOf(epoch);
    const roundIds = await roundIdsForRegistry(registry, m.segments);
    const commitCall = (x: typeof m) =>
      registry.getFunction("commitEpoch").staticCall(...manifestArgs(x, roundIds));
    const refused = (x: typeof m, name: string) =>
      assert.rejects(commitCall(x), (e: unknown) => {
        assert.equal(revertOf(e, registry.interface)?.name, name, String(e));
        return true;
      });
    // the honest epoch: segment 1 (own custody) caps 20 ETH, its account's whole balance, and
    // proves 16.39 of it; segments 3 and 4 are pooled; the pooled ETH cap is the pooled
    // account's 2.2 ETH alone
    assert.deepEqual(
      m.segments.map((s) => unpackSegmentSlots(s.slots)[0]?.pooled),
      [false, false, true, true],
    );
    const caps = unpackListCaps(m.poolCaps, PROFILE.globalAssets);
    assert.equal(caps[0], 2_200_000_000_000_000_000n);
    await commitCall(m);
    // the attack: pooled segments count the 3.6 ETH segment 1's account holds beyond its
    // collateral; their lots count against the pooled cap, which must then grow past the pooled
    // account's balance: refused
    const raised = {
      ...m,
      poolCaps: packListCaps([(caps[0] as bigint) + 3n * 10n ** 18n, ...caps.slice(1)], PROFILE.globalAssets),
    };
    await refused(raised, "CustodyOvercommitted");
    // nor can the publisher mark segment 1's slots pooled (or a pooled segment's own)
    const flip = (i: number) => ({
      ...m,
      segments: m.segments.map((s, j) =>
        j === i
          ? {
              ...s,
              slots: packSegmentSlots(
                unpackSegmentSlots(s.slots)
                  .slice(0, s.assets.length)
                  .map((x) => ({ ...x, pooled: !x.pooled })),
                PROFILE.assetsPerSegment,
              ),
            }
          : s,
      ),
    });
    await refused(flip(0), "CustodyModeMismatch");
    await refused(flip(2), "CustodyModeMismatch");
  });

  it("window dressing in one transaction (borrow into custody, commit, submit, finalize, repay) is refused", async () => {
    // an attacker contract gets the publisher role (through the timelock, as every key now does)
    const fc = await compileSolidity({
      "contracts/test/FlashPublisher.sol": await fs.readFile(
        path.join(PACKAGE_ROOT, "contracts", "test", "FlashPublisher.sol"),
        "utf8",
      ),
    });
    const attacker = await deployContract(fc, "FlashPublisher", [], admin);
    await throughTimelock([publisherRoleOp(registry, "grantRole", String(attacker.target))]);
    // the collateral is not in custody: every custody account emptied
    const held = await custodyHoldings();
    await moveAll(held, "burn");
    // one transaction: "borrow" it back (mint), commit, submit every batch, finalize, "repay" (burn)
    const r = registry.interface;
    const m = manifestOf(epoch);
    const roundIds = await roundIdsForRegistry(registry, m.segments);
    const calls: [string, string][] = [];
    for (const x of held)
      calls.push([
        String(x.token.target),
        x.token.interface.encodeFunctionData("mint", [x.account, x.amount]),
      ]);
    calls.push([d.registry, r.encodeFunctionData("commitEpoch", manifestArgs(m, roundIds))]);
    for (const [i, seg] of epoch.segments.entries())
      calls.push([
        d.registry,
        r.encodeFunctionData("submitSegmentBatches", [
          epoch.epoch,
          i,
          segmentGroupArg(epoch, i, 0, seg.batches.length),
        ]),
      ]);
    calls.push([
      d.registry,
      r.encodeFunctionData("submitListBatches", [epoch.epoch, listGroupArg(epoch, 0, epoch.list.length)]),
    ]);
    calls.push([d.registry, r.encodeFunctionData("finalizeEpoch", [epoch.epoch, epoch.poolCaps])]);
    for (const x of held)
      calls.push([
        String(x.token.target),
        x.token.interface.encodeFunctionData("burn", [x.account, x.amount]),
      ]);
    const run = () =>
      attacker.getFunction("run")(
        calls.map((x) => x[0]),
        calls.map((x) => x[1]),
        { gasLimit: 29_000_000n },
      );
    // the call's revert, decoded (a mined transaction's receipt carries no revert data)
    await assert.rejects(
      attacker.getFunction("run").staticCall(
        calls.map((x) => x[0]),
        calls.map((x) => x[1]),
        { gasLimit: 29_000_000n },
      ),
      (e: unknown) => {
        const data = (e as { data?: string }).data;
        assert.ok(data, String(e));
        assert.equal(r.parseError(data)?.name, "FinalizeTooEarly", String(e));
        return true;
      },
    );
    // and sent as a transaction: reverted as a whole
    await assert.rejects(sendGovernanceTx("flash publish", run, r), GovernanceTxError);
    assert.equal(await registry.getFunction("lastCommittedEpoch")(), 0n, "nothing committed");
    // the honest state: the collateral back in custody for good
    await moveAll(held, "mint");
  });

  it("finalization comes the governed minimum of blocks after the commit, with custody checked again then", async () => {
    const gov = governanceAt(d.governance.address, provider);
    const govW = new Contract(d.governance.address, c.SegmentGovernance?.abi as InterfaceAbi, admin);
    await throughTimelock([governanceOp(govW, d.governance.address, "setFinalizeBlocks", [20])]);
    assert.equal(await gov.getFunction("finalizeBlocksAt")(epoch.epoch), 20n);
    res = await publishEpoch(registry, epoch, { noFinalize: true });
    const view = await registry.getFunction("getEpoch")(epoch.epoch);
    const finalize = () =>
      sendGovernanceTx(
        "finalize",
        () => registry.getFunction("finalizeEpoch")(epoch.epoch, epoch.poolCaps),
        registry.interface,
      );
    const refused = (name: string) =>
      assert.rejects(finalize(), (e: unknown) => e instanceof GovernanceTxError && e.revertName === name);
    await refused("FinalizeTooEarly");
    await provider.send("anvil_mine", ["0x14"]);
    assert.ok(BigInt(await provider.getBlockNumber()) >= BigInt(view.commitBlock) + 20n);
    // collateral withdrawn after the commit: the second custody check refuses to finalize
    const held = await custodyHoldings();
    const one = held[0];
    assert.ok(one);
    await sendGovernanceTx("withdraw", () => one.token.getFunction("burn")(one.account, one.amount));
    await refused("CustodyOvercommitted");
    await sendGovernanceTx("return", () => one.token.getFunction("mint")(one.account, one.amount));
    resFinal = await publishEpoch(registry, epoch);
  });

  after(async () => {
    await chain?.stop();
    await terminateCurves();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  const health = async (id: number) =>
    (await registry.getFunction("segmentHealth")(id)) as {
      listed: boolean;
      healthy: boolean;
      fresh: boolean;
      healthyNow: boolean;
      epoch: bigint;
      committedAt: bigint;
      finalizedAt: bigint;
      maxAge: bigint;
      stressBits: bigint;
      band: bigint;
      governanceVersion: bigint;
      oldestPriceAt: bigint;
    };

  it("the epoch built from governed state commits (prices named by oracle round) and finalizes", async () => {
    assert.equal(res.committed, "sent");
    assert.equal(resFinal.committed, "already");
    assert.equal(resFinal.finalized, "sent");
    // the governance is the timelock's now: the deployer cannot change it directly
    const gov = governanceAt(d.governance.address, provider);
    assert.equal(await registry.getFunction("governance")(), d.governance.address);
    const byId = Object.fromEntries(resFinal.healthy.map((h) => [String(h.segmentId), h]));
    assert.equal(byId["1"]?.healthy, true);
    assert.equal(byId["2"]?.healthy, true, "segment 2 healthy at the feed prices");
    assert.notEqual(byId["2"]?.stressBits, 3, "segment 2 fails a stress scenario");
    assert.equal(byId["3"]?.healthy, false, "segment 3 insolvent");
    assert.ok((await readGovernedEpoch(gov)).segments.length === 4);
  });

  it("segmentHealth returns epoch, committedAt, finalizedAt, maxAge, stress bits, band and governance version", async () => {
    const h = await health(2);
    assert.equal(h.listed, true);
    assert.equal(h.healthy, true);
    assert.equal(h.fresh, true);
    assert.equal(h.healthyNow, true);
    assert.equal(h.epoch, BigInt(raw.epoch as number));
    assert.ok(h.committedAt > 0n && h.finalizedAt >= h.committedAt);
    assert.equal(h.maxAge, BigInt(DAY));
    assert.equal(h.stressBits, BigInt(resFinal.healthy.find((x) => x.segmentId === 2n)?.stressBits ?? -1));
    assert.equal(h.band, BigInt(resFinal.healthy.find((x) => x.segmentId === 2n)?.band ?? -1));
    assert.equal(h.governanceVersion, 1n);
    // the oldest price the commit used: the oldest latest round of the feeds the epoch prices
    const used = new Set(epoch.segments.flatMap((x) => x.assets.map((a) => a.symbol)));
    let oldest = 2n ** 64n;
    for (const [sym, feed] of Object.entries(world.feeds)) {
      if (!used.has(sym)) continue;
      const at = BigInt((await feed.getFunction("latestRoundData")())[3]);
      if (at < oldest) oldest = at;
    }
    assert.equal(h.oldestPriceAt, oldest);
    assert.ok(h.oldestPriceAt <= h.committedAt);
    // segmentStatus: the same fields as a tuple
    const st = [...(await registry.getFunction("segmentStatus")(2))];
    assert.deepEqual(st, [
      true,
      true,
      true,
      h.epoch,
      h.committedAt,
      h.finalizedAt,
      h.maxAge,
      h.oldestPriceAt,
    ]);
    const bad = await health(3);
    assert.deepEqual([bad.listed, bad.healthy, bad.healthyNow], [true, false, false]);
    assert.equal(bad.band, 0n, "insolvent: the lowest coverage band");
  });

  it("IsolatedVault lends in a healthy segment of the real registry, refuses an unhealthy one, and refuses once stale", async () => {
    const loan = await deployContract(dev, "TestToken", ["Loan", "LOAN", 18], admin);
    const vault = await deployContract(dev, "IsolatedVault", [d.registry, await loan.getAddress()], admin);
    const send = (what: string, f: () => Promise<unknown>) =>
      sendGovernanceTx(what, f as never, vault.interface);
    await send("fund", () => loan.getFunction("mint")(vault.target, 10n ** 21n));
    assert.equal(await vault.getFunction("canBorrow")(1), true);
    await send("borrow", () => vault.getFunction("borrow")(1, 10n ** 18n));
    assert.equal(await loan.getFunction("balanceOf")(admin.address), 10n ** 18n);
    const rejects = (p: Promise<unknown>, name: string) =>
      assert.rejects(p, (e: unknown) => e instanceof GovernanceTxError && e.revertName === name);
    assert.equal(await vault.getFunction("canBorrow")(3), false);
    await rejects(
      send("borrow", () => vault.getFunction("borrow")(3, 1n)),
      "SegmentUnhealthy",
    );
    await rejects(
      send("borrow", () => vault.getFunction("borrow")(99, 1n)),
      "NoSolvencyRecord",
    );
    // isHealthy: true until maxAge after the epoch's commit, then false
    assert.equal(await registry.getFunction("isHealthy")(1), true);
    await increaseTime(DAY + 1);
    assert.equal(await registry.getFunction("isHealthy")(1), false);
    assert.equal((await health(1)).healthy, true, "the record itself still says healthy");
    assert.equal(await vault.getFunction("canBorrow")(1), false);
    await rejects(
      send("borrow", () => vault.getFunction("borrow")(1, 1n)),
      "SolvencyRecordStale",
    );
  });

  it("a price the feeds never had has no oracle round: publish refuses before sending anything", async () => {
    const ge = await readGovernedEpoch(governanceAt(d.governance.address, provider));
    const prices = new Map([[0, (ge.prices[0] as bigint) + 1n]]);
    await assert.rejects(roundIdsFor(ge, prices, provider), /ETH: none of the last \d+ rounds/);
    // the prices of the published manifest are found, at the feeds' rounds
    const found = await roundIdsFor(
      ge,
      manifestSlotPrices([{ slots: [ge.prices[0] as bigint], assets: [0] }]),
      provider,
    );
    assert.ok((found[0] as bigint) > 0n);
  });

  it("audit --rpc checks the committed caps against the custody rule at the commit's block", async () => {
    const view = await registry.getFunction("getEpoch")(epoch.epoch);
    const m = manifestOf(epoch);
    assert.equal(await committedCustodyProblem(registry, m, Number(view.commitBlock)), undefined);
    // a manifest claiming 1 wei more of segment 1's ETH than its account held at that block
    const s1 = m.segments[0];
    assert.ok(s1);
    const held = BigInt(
      await (world.tokens.ETH as Contract).getFunction("balanceOf")(world.custody["1"], {
        blockTag: Number(view.commitBlock),
      }),
    );
    const slots = unpackSegmentSlots(s1.slots);
    const over = packSegmentSlots(
      slots.map((x, k) => (k === 0 ? { ...x, cap: held + 1n } : x)),
      PROFILE.assetsPerSegment,
    );
    const lying = { ...m, segments: [{ ...s1, slots: over }, ...m.segments.slice(1)] };
    const problem = await committedCustodyProblem(registry, lying, Number(view.commitBlock));
    assert.match(
      problem ?? "",
      /^segments\[id=1\]\.slots\[0\]\.cap: custody 0x[0-9a-fA-F]{40} holds 20 ETH, less than the caps drawn on it: own-custody caps 20\.000000000000000001 ETH; .*\(CustodyOvercommitted\) at the commit's block \d+$/,
    );
    // a pooled cap counting what segment 1's account holds beyond its collateral (3 ETH more
    // than the pooled account's 2.2): refused at the pooled account, naming the pooled cap
    const caps = unpackListCaps(m.poolCaps, PROFILE.globalAssets);
    const raised = {
      ...m,
      poolCaps: packListCaps([(caps[0] as bigint) + 3n * 10n ** 18n, ...caps.slice(1)], PROFILE.globalAssets),
    };
    assert.match(
      (await committedCustodyProblem(registry, raised, Number(view.commitBlock))) ?? "",
      /^poolCaps\[0\]: custody 0x[0-9a-fA-F]{40} holds 2\.2 ETH, less than the caps drawn on it: own-custody caps 0 ETH plus the pooled cap 5\.2 ETH; .*\(CustodyOvercommitted\) at the commit's block \d+$/,
    );
    // segment 1's slots marked pooled (its lots would escape its own caps' account)
    const marked = packSegmentSlots(
      slots.map((x, k) => (k < s1.assets.length ? { ...x, pooled: true } : x)),
      PROFILE.assetsPerSegment,
    );
    assert.match(
      (await committedCustodyProblem(
        registry,
        { ...m, segments: [{ ...s1, slots: marked }, ...m.segments.slice(1)] },
        Number(view.commitBlock),
      )) ?? "",
      /^segments\[id=1\]\.slots\[0\]\.pooled: true but the segment's custody is its own account 0x[0-9a-fA-F]{40}; .*\(CustodyModeMismatch\)/,
    );
  });

  it("governedSnapshot refuses caps the registry would refuse, naming the field", async () => {
    const ge = await readGovernedEpoch(governanceAt(d.governance.address, provider));
    const custody = await readCustody(ge, provider);
    const over = structuredClone(raw) as { segments: { id: number; custodyCaps?: Record<string, string> }[] };
    (over.segments[0] as { custodyCaps?: Record<string, string> }).custodyCaps = {
      ETH: "20.000000000000000001",
    };
    assert.throws(
      () => governedSnapshot(over, ge, custody, PROFILE),
      /segments \(id 1\)\.custodyCaps\.ETH: custody 0x[0-9a-fA-F]{40} holds 20 ETH, less than the caps drawn on it: own-custody caps 20\.000000000000000001 ETH; .*\(CustodyOvercommitted\)/,
    );
    assert.throws(
      () =>
        governedSnapshot({ ...raw, custody: { pooled: { USDC: "1000000000000" } } }, ge, custody, PROFILE),
      /custody\.pooled\.USDC: custody 0x[0-9a-fA-F]{40} holds 0 USDC, less than the caps drawn on it: own-custody caps 0 USDC plus the pooled cap/,
    );
    assert.equal(ge.pooledCustody === ZeroAddress, false);
  });

  it("snapshot govern: own caps default to the account's balance (no total disclosed), pooled caps to the pooled balance", async () => {
    const ge = await readGovernedEpoch(governanceAt(d.governance.address, provider));
    const custody = await readCustody(ge, provider);
    // no caps in the positions file: segment 1's caps are its account's 20 ETH and 50,000 USDC,
    // not its collateral totals (16.39 ETH, 46,235.32 USDC)
    const noCaps = structuredClone(raw) as { segments: { custodyCaps?: unknown }[]; collateral: unknown[] };
    for (const x of noCaps.segments) delete x.custodyCaps;
    const snap = governedSnapshot(noCaps, ge, custody, PROFILE) as {
      segments: { id: number; custody: string; custodyCaps?: Record<string, string> }[];
      custody: { pooled: Record<string, string> };
    };
    assert.deepEqual(snap.segments[0]?.custodyCaps, { ETH: "20", USDC: "50000" });
    assert.deepEqual(
      snap.segments.map((x) => x.custody),
      ["own", "own", "pooled", "pooled"],
    );
    // pooled ETH: the pooled account's 2.2 alone (segment 3's lot)
    assert.equal(snap.custody.pooled.ETH, "2.2");
    parseSnapshot(snap, { profile: PROFILE });
    // a pooled segment counting 3 ETH more (what segment 1's account holds beyond its collateral):
    // over the pooled cap before proving, and a pooled cap raised to cover it is refused by name
    noCaps.collateral.push({
      lotId: "0x7e570000000000000000000000000001",
      segment: 4,
      asset: "ETH",
      amount: "3",
    });
    const more = governedSnapshot(noCaps, ge, custody, PROFILE);
    assert.throws(() => parseSnapshot(more, { profile: PROFILE }), /custody\.pooled\.ETH/);
    assert.throws(
      () => governedSnapshot({ ...noCaps, custody: { pooled: { ETH: "5.2" } } }, ge, custody, PROFILE),
      /custody\.pooled\.ETH: custody 0x[0-9a-fA-F]{40} holds 2\.2 ETH, less than the caps drawn on it: own-custody caps 0 ETH plus the pooled cap 5\.2 ETH; .*\(CustodyOvercommitted\)/,
    );
  });
});
