/**
 * The chain steps of `npm run demo` (scripts/demo.ts), in two phases around proving:
 *
 *  `startGovernedChain` (before proving): start anvil on 127.0.0.1 (free port), build the
 *  contracts, deploy the development world of the example snapshot (an ERC-20 token and a
 *  Chainlink MockV3Aggregator feed per asset, funded custody accounts: test/helpers/devworld.ts), then
 *  SegmentGovernance with that genesis configuration, the verifiers and the registry, and hand
 *  governance to the timelock; write the snapshot to prove from governed state (feed prices,
 *  governed parameters, custody caps from balanceOf).
 *
 *  `runChainDemo` (after proving): publish the epoch (oracle rounds named), show the on-chain
 *  health table, audit against the registry, verify a receipt against the chain, and show the
 *  IsolatedVault example reacting (lends in a healthy segment, refuses an unhealthy one, refuses
 *  once the record is older than the segment's maximum age).
 * The caller stops the node (`chain.stop()`), always.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { type JsonRpcProvider, Wallet } from "ethers";
import { formatAuditVerdict } from "../src/audit/audit.js";
import { auditBundle, readReceiptFile } from "../src/audit/node.js";
import { readBundle } from "../src/bundle/disk.js";
import { loadDeployArtifacts, writeDeployment } from "../src/chain/deploy.js";
import { GovernanceTxError, loadGovernanceArtifacts, sendGovernanceTx } from "../src/chain/governance.js";
import {
  deployGovernedRegistry,
  type GovernedDeployment,
  governedSnapshotFromRegistry,
} from "../src/chain/governed.js";
import { publishEpoch } from "../src/chain/publish.js";
import { formatChainReceiptVerdict, verifyReceiptOnChain } from "../src/chain/receipt.js";
import { chainEpochFromBundle, registryAt, registryVerifiers } from "../src/chain/registry.js";
import { connectRpc } from "../src/chain/signer.js";
import { formatStatus, readStatus } from "../src/chain/status.js";
import { listReceipts } from "../src/receipts/store.js";
import { loadSnapshot } from "../src/snapshot/snapshot.js";
import { getProfile } from "../src/spec/profiles.js";
import { buildContracts, type CompiledContract } from "../src/toolchain/contracts.js";
import { atomicWriteJson } from "../src/util/fsutil.js";
import { createReporter, type Reporter } from "../src/util/progress.js";
import { startAnvil } from "../test/helpers/anvil.js";
import { compileDevContracts, deployContract, deployDevWorld } from "../test/helpers/devworld.js";

/** Seconds a segment's record stays fresh in the demo, and the timelock's delay. */
const MAX_AGE = 86_400;
const TIMELOCK_DELAY = 3_600;

export interface GovernedChain {
  url: string;
  provider: JsonRpcProvider;
  signer: Wallet;
  deployment: GovernedDeployment;
  dev: Record<string, CompiledContract>;
  /** the snapshot to prove, built from governed state */
  snapshotFile: string;
  stop: () => Promise<void>;
}

export interface ChainDemoContext {
  say: (s?: string) => void;
  reporter?: Reporter;
}

/** anvil, the development world, the governed registry behind the timelock, the governed snapshot. */
export async function startGovernedChain(
  ctx: ChainDemoContext & { positions: string; outDir: string; profile: string },
): Promise<GovernedChain> {
  const say = ctx.say;
  const reporter = ctx.reporter ?? createReporter({ quiet: true });
  const profile = getProfile(ctx.profile);
  await buildContracts({ profile: ctx.profile, reporter });
  const arts = { ...(await loadDeployArtifacts()), ...(await loadGovernanceArtifacts()) };
  const dev = await compileDevContracts();
  const node = await startAnvil();
  const provider = await connectRpc(node.url, { pollingMs: 50 });
  const stop = async () => {
    provider.destroy();
    await node.stop();
    say("local node stopped");
  };
  try {
    say(`local node: anvil at ${node.url} (pid ${node.pid})`);
    // anvil's funded development key; a real deployment reads $BULKHEAD_PRIVATE_KEY or --keystore
    const signer = new Wallet(node.privateKeys[0] as string, provider);
    const world = await deployDevWorld(signer, await loadSnapshot(ctx.positions, { profile }), dev, {
      maxAgeSeconds: MAX_AGE,
    });
    for (const a of world.config.assets)
      say(`  ${a.symbol}: token ${a.token} (TestToken), feed ${a.feed} (Chainlink MockV3Aggregator)`);
    say(
      `  custody: ${Object.entries(world.custody)
        .map(([id, acct]) => `segment ${id} own ${acct}`)
        .join(", ")}; pooled ${world.pooled} (other segments)`,
    );
    const configFile = path.join(ctx.outDir, "governance.json");
    await atomicWriteJson(configFile, world.config);
    say(`$ bulkhead deploy --rpc ${node.url} --governance ${configFile} --timelock-delay ${TIMELOCK_DELAY}`);
    const deployment = await deployGovernedRegistry(signer, arts, world.config, {
      profile,
      delaySeconds: TIMELOCK_DELAY,
      reporter,
    });
    await writeDeployment(path.join(ctx.outDir, "deployment.json"), deployment);
    say(
      `  registry ${deployment.registry}; SegmentGovernance ${deployment.governance.address} governed by the timelock ${deployment.governance.timelock} (every change waits ${TIMELOCK_DELAY} s)`,
    );

    const snapshotFile = path.join(ctx.outDir, "snapshot.json");
    say(
      `$ bulkhead snapshot govern ${path.relative(process.cwd(), ctx.positions)} --rpc ${node.url} --registry ${deployment.registry} -o ${snapshotFile}`,
    );
    const raw = JSON.parse(await readFile(ctx.positions, "utf8")) as Record<string, unknown>;
    const { snapshot, governed: ge } = await governedSnapshotFromRegistry(
      registryAt(deployment.registry, provider),
      raw,
    );
    await atomicWriteJson(snapshotFile, snapshot);
    say(
      `  prices from the feeds (${ge.assets.map((a, g) => `${a.symbol} ${ge.prices[g]}`).join(", ")} in circuit units), parameters of the ${ge.segments.length} governed segments, custody caps from balanceOf: the publisher contributes only the positions`,
    );
    return { url: node.url, provider, signer, deployment, dev, snapshotFile, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface ChainDemoResult {
  healthy: Record<string, boolean>;
  receiptOk: boolean;
  vaultOk: boolean;
}

/** Publish, status, chain-anchored audit, on-chain receipt, the vault reacting. */
export async function runChainDemo(
  ctx: ChainDemoContext & { publicDir: string; privateDir: string },
  chain: GovernedChain,
): Promise<ChainDemoResult> {
  const say = ctx.say;
  const { provider, signer } = chain;
  const reporter = ctx.reporter ?? createReporter({});
  const url = chain.url;
  const reg = chain.deployment.registry;
  const { bundle } = await readBundle(ctx.publicDir);
  say(`$ bulkhead publish ${ctx.publicDir} --rpc ${url} --registry ${reg}`);
  const res = await publishEpoch(registryAt(reg, signer), chainEpochFromBundle(bundle), { reporter });
  const batchGas = [...res.gas.segmentBatches, ...res.gas.listBatches].reduce((t, g) => t + g.gasUsed, 0n);
  say(
    `  epoch ${res.epoch}: ${res.batchesSent} batch proofs verified on chain; gas: commitEpoch ${res.gas.commitEpoch ?? "-"} (governed parameters, oracle rounds, custody balances checked), submissions ${batchGas}, finalizeEpoch ${res.gas.finalizeEpoch ?? "-"}`,
  );

  say(`$ bulkhead status --rpc ${url} --registry ${reg}`);
  const status = await readStatus(registryAt(reg, provider));
  for (const line of formatStatus(status).split("\n")) say(`  ${line}`);

  say(`$ bulkhead audit ${ctx.publicDir} --rpc ${url} --registry ${reg} --allow-dev-keys -q`);
  const anchored = await auditBundle(ctx.publicDir, {
    anchor: { kind: "registry", registry: reg, verifiers: await registryVerifiers(provider, reg) },
    allowDevKeys: true,
  });
  for (const line of formatAuditVerdict(anchored).split("\n")) say(`  ${line}`);
  say(
    "  (keys: the registry's deployed verifiers; manifest, prices, caps and results: the registry's record)",
  );

  const first = (await listReceipts(path.join(ctx.privateDir, "receipts")).next()).value;
  let receiptOk = false;
  if (first) {
    say(`$ bulkhead receipt verify ${first.file} --rpc ${url} --registry ${reg} --allow-dev-keys`);
    const receipt = await readReceiptFile(first.file);
    const v = await verifyReceiptOnChain(receipt, registryAt(reg, provider), { allowDevKeys: true });
    for (const line of formatChainReceiptVerdict(v).split("\n")) say(`  ${line}`);
    receiptOk = v.included && anchored.ok;
  }
  const vaultOk = await vaultDemo(
    ctx.say,
    chain,
    status.segments.map((s) => ({ id: s.id, healthy: s.healthy })),
  );
  return {
    healthy: Object.fromEntries(status.segments.map((s) => [String(s.id), s.healthy])),
    receiptOk,
    vaultOk,
  };
}

/** The IsolatedVault example against the registry: fresh, then after the segments' maximum age. */
async function vaultDemo(
  say: (s?: string) => void,
  chain: GovernedChain,
  segments: { id: number; healthy: boolean }[],
): Promise<boolean> {
  const { dev, signer, provider } = chain;
  const loan = await deployContract(dev, "TestToken", ["Loan", "LOAN", 18], signer);
  const vault = await deployContract(
    dev,
    "IsolatedVault",
    [chain.deployment.registry, await loan.getAddress()],
    signer,
  );
  await sendGovernanceTx("fund", () => loan.getFunction("mint")(vault.target, 10n ** 24n));
  say(
    `IsolatedVault ${vault.target} (contracts/examples): lends only in segments healthy and fresh on the registry`,
  );
  const tryBorrow = async (id: number): Promise<string> => {
    try {
      await sendGovernanceTx("borrow", () => vault.getFunction("borrow")(id, 10n ** 18n), vault.interface);
      return "lent 1 LOAN";
    } catch (err) {
      if (err instanceof GovernanceTxError && err.revertName) return `refused: ${err.revertName}`;
      throw err;
    }
  };
  let ok = true;
  for (const s of segments) {
    const out = await tryBorrow(s.id);
    say(`  borrow in segment ${s.id} (${s.healthy ? "healthy" : "UNHEALTHY"}): ${out}`);
    ok &&= s.healthy === out.startsWith("lent");
  }
  await provider.send("evm_increaseTime", [MAX_AGE + 1]);
  await provider.send("evm_mine", []);
  const healthyOne = segments.find((s) => s.healthy);
  if (healthyOne) {
    const out = await tryBorrow(healthyOne.id);
    say(`  a day later, no new epoch: borrow in segment ${healthyOne.id}: ${out}`);
    ok &&= out === "refused: SolvencyRecordStale";
  }
  return ok;
}
