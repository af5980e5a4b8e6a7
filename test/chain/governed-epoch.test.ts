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
import { type Contract, type JsonRpcProvider, type Wallet, ZeroAddress } from "ethers";
import { readBundle } from "../../src/bundle/disk.js";
import {
  GovernanceTxError,
  governanceAt,
  readGovernedEpoch,
  sendGovernanceTx,
} from "../../src/chain/governance.js";
import {
  deployGovernedRegistry,
  type GovernedDeployment,
  governedSnapshot,
  governedSnapshotFromRegistry,
  manifestSlotPrices,
  parseGovernanceConfig,
  readCustody,
  roundIdsFor,
} from "../../src/chain/governed.js";
import { type PublishResult, publishEpoch } from "../../src/chain/publish.js";
import { chainEpochFromBundle, registryAt } from "../../src/chain/registry.js";
import { proveSnapshot } from "../../src/pipeline.js";
import { loadSnapshot, parseSnapshot } from "../../src/snapshot/snapshot.js";
import { getProfile } from "../../src/spec/profiles.js";
import { loadArtifacts } from "../../src/toolchain/artifacts.js";
import { type CompiledContract, compileRegistryWith } from "../../src/toolchain/contracts.js";
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
  let res: PublishResult;
  let raw: Record<string, unknown>;

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
    const c = await compileRegistryWith(zkeys);
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
    res = await publishEpoch(registry, chainEpochFromBundle(bundle));
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
    };

  it("the epoch built from governed state commits (prices named by oracle round) and finalizes", async () => {
    assert.equal(res.committed, "sent");
    assert.equal(res.finalized, "sent");
    // the governance is the timelock's now: the deployer cannot change it directly
    const gov = governanceAt(d.governance.address, provider);
    assert.equal(await registry.getFunction("governance")(), d.governance.address);
    const byId = Object.fromEntries(res.healthy.map((h) => [String(h.segmentId), h]));
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
    assert.equal(h.stressBits, BigInt(res.healthy.find((x) => x.segmentId === 2n)?.stressBits ?? -1));
    assert.equal(h.band, BigInt(res.healthy.find((x) => x.segmentId === 2n)?.band ?? -1));
    assert.equal(h.governanceVersion, 1n);
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

  it("governedSnapshot refuses a cap above what custody holds, naming the field", async () => {
    const ge = await readGovernedEpoch(governanceAt(d.governance.address, provider));
    const custody = await readCustody(ge, provider);
    const over = structuredClone(raw) as { segments: { id: number; custodyCaps?: Record<string, string> }[] };
    (over.segments[0] as { custodyCaps?: Record<string, string> }).custodyCaps = {
      ETH: "20.000000000000000001",
    };
    assert.throws(
      () => governedSnapshot(over, ge, custody, PROFILE),
      /segments \(id 1\)\.custodyCaps\.ETH: 20\.000000000000000001 exceeds the balance of custody/,
    );
    assert.throws(
      () =>
        governedSnapshot({ ...raw, custody: { pooled: { USDC: "1000000000000" } } }, ge, custody, PROFILE),
      /custody\.pooled\.USDC: 1000000000000 exceeds the pooled custody balance/,
    );
    assert.equal(ge.pooledCustody === ZeroAddress, false);
  });
});
