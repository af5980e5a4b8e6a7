/**
 * The chain steps of `npm run demo` (scripts/demo.ts calls `runChainDemo`): start anvil on
 * 127.0.0.1 (free port), build the contracts, deploy the verifiers + SolvencyRegistry, publish the
 * epoch bundle, show the per-segment status read from the contract, verify a user's receipt
 * against the chain, stop anvil (always, even on failure).
 */
import * as path from "node:path";
import { Wallet } from "ethers";
import { auditBundle, formatAuditVerdict } from "../src/audit/audit.js";
import { readBundle } from "../src/bundle/bundle.js";
import { startAnvil } from "../src/chain/anvil.js";
import { deployRegistry, loadDeployArtifacts, writeDeployment } from "../src/chain/deploy.js";
import { publishEpoch } from "../src/chain/publish.js";
import { formatChainReceiptVerdict, verifyReceiptOnChain } from "../src/chain/receipt.js";
import { chainEpochFromBundle, registryAt } from "../src/chain/registry.js";
import { connectRpc } from "../src/chain/signer.js";
import { formatStatus, readStatus } from "../src/chain/status.js";
import { listReceipts } from "../src/receipts/store.js";
import { getProfile } from "../src/spec/profiles.js";
import { buildContracts } from "../src/toolchain/contracts.js";
import { createReporter, type Reporter } from "../src/util/progress.js";

export interface ChainDemoContext {
  publicDir: string;
  privateDir: string;
  say: (s?: string) => void;
  reporter?: Reporter;
}

export interface ChainDemoResult {
  registry: string;
  gas: { commitEpoch?: bigint; segmentBatch: bigint[]; listBatch: bigint[]; finalizeEpoch?: bigint };
  healthy: Record<string, boolean>;
  receiptOk: boolean;
}

export async function runChainDemo(ctx: ChainDemoContext): Promise<ChainDemoResult> {
  const say = ctx.say;
  const reporter = ctx.reporter ?? createReporter({});
  const { bundle } = await readBundle(ctx.publicDir);
  const profile = bundle.profile.name;
  await buildContracts({ profile, reporter });
  const arts = await loadDeployArtifacts();

  const node = await startAnvil();
  say(`local node: anvil at ${node.url} (pid ${node.pid})`);
  const provider = await connectRpc(node.url, { pollingMs: 50 });
  try {
    // anvil's funded development key; a real deployment reads $BULKHEAD_PRIVATE_KEY or --keystore
    const signer = new Wallet(node.privateKeys[0] as string, provider);
    say(`$ BULKHEAD_PRIVATE_KEY=... bulkhead deploy --rpc ${node.url}`);
    const d = await deployRegistry(signer, arts, { profile: getProfile(profile), reporter });
    const depFile = path.join(path.dirname(ctx.publicDir), "deployment.json");
    await writeDeployment(depFile, d);
    say(
      `  registry ${d.registry} (verifiers ${d.segmentVerifier}, ${d.listVerifier}); deployment file ${depFile}`,
    );

    say(`$ bulkhead publish ${ctx.publicDir} --rpc ${node.url} --registry ${d.registry}`);
    const registry = registryAt(d.registry, signer);
    const res = await publishEpoch(registry, chainEpochFromBundle(bundle), { reporter });
    const segGas = res.gas.segmentBatches.map((g) => g.gasUsed);
    const listGas = res.gas.listBatches.map((g) => g.gasUsed);
    const range = (xs: bigint[]) =>
      xs.length === 0 ? "-" : `${Math.min(...xs.map(Number))}..${Math.max(...xs.map(Number))}`;
    say(
      `  epoch ${res.epoch}: ${res.batchesSent} batch proofs verified on chain; gas: commitEpoch ${res.gas.commitEpoch ?? "-"}, submitSegmentBatch ${range(segGas)}, submitListBatch ${range(listGas)}, finalizeEpoch ${res.gas.finalizeEpoch ?? "-"}`,
    );

    say(`$ bulkhead status --rpc ${node.url} --registry ${d.registry}`);
    const status = await readStatus(registryAt(d.registry, provider));
    for (const line of formatStatus(status).split("\n")) say(`  ${line}`);

    say(`$ bulkhead audit ${ctx.publicDir} --rpc ${node.url} --registry ${d.registry} --allow-dev-keys -q`);
    const anchored = await auditBundle(ctx.publicDir, {
      anchor: { kind: "registry", runner: provider, registry: d.registry },
      allowDevKeys: true,
    });
    for (const line of formatAuditVerdict(anchored).split("\n")) say(`  ${line}`);
    say("  (the bundle's keys are exactly the ones inlined in the registry's deployed verifiers)");

    const first = (await listReceipts(path.join(ctx.privateDir, "receipts")).next()).value;
    let receiptOk = false;
    if (first) {
      const { file } = first;
      say(`$ bulkhead receipt verify ${file} --rpc ${node.url} --registry ${d.registry} --allow-dev-keys`);
      const v = await verifyReceiptOnChain(file, registryAt(d.registry, provider), { allowDevKeys: true });
      for (const line of formatChainReceiptVerdict(v).split("\n")) say(`  ${line}`);
      say(
        "  (the client read the whole latest epoch in one call; it never asked the node about this lot's segment)",
      );
      receiptOk = v.included && anchored.ok;
    }
    return {
      registry: d.registry,
      gas: {
        commitEpoch: res.gas.commitEpoch,
        segmentBatch: segGas,
        listBatch: listGas,
        finalizeEpoch: res.gas.finalizeEpoch,
      },
      healthy: Object.fromEntries(status.segments.map((s) => [String(s.id), s.healthy])),
      receiptOk,
    };
  } finally {
    provider.destroy();
    await node.stop();
    say("local node stopped");
  }
}
