/**
 * Whole-epoch gas at scale on a governed registry (<= 2,000 gas per position at the
 * default profile). `npm run bench` publishes its small timing epoch, where the commit's
 * per-segment work dominates; this proves a synthetic epoch of full batches (default: one segment
 * of 32 batches, 2,048 positions of one lot and one liability, and its 16 lot-list batches) and
 * publishes it on the governed registry the demo uses (SegmentGovernance behind its timelock,
 * Chainlink MockV3Aggregator feeds, ERC-20 custody: test/helpers/devworld.ts), once per group size,
 * each on a fresh registry (the proofs do not depend on the registry's address). The measured
 * epoch is epoch 2, after a one-position epoch 1: a registry's steady state. Every figure is a
 * transaction's gasUsed on anvil (with anvil's callTracer: the verifier's share and the calldata
 * cost); gas is deterministic, so runs on different days compare. Proofs are kept in
 * build/bench-gas/ and reused while the governed snapshot is unchanged. Writes bench/gas.json.
 *
 *   npx tsx scripts/bench-gas.ts [--profile default] [--segments 1] [--positions 2048]
 *     [--groups 32] [--out bench]
 */
import * as os from "node:os";
import * as path from "node:path";
import { type JsonRpcProvider, Wallet } from "ethers";
import { readBundle } from "../src/bundle/disk.js";
import { loadDeployArtifacts } from "../src/chain/deploy.js";
import { loadGovernanceArtifacts } from "../src/chain/governance.js";
import { deployGovernedRegistry, governedSnapshotFromRegistry } from "../src/chain/governed.js";
import { type PublishGas, publishEpoch } from "../src/chain/publish.js";
import { chainEpochFromBundle, REGISTRY_IFACE, registryAt } from "../src/chain/registry.js";
import { connectRpc } from "../src/chain/signer.js";
import { proveSnapshot } from "../src/pipeline.js";
import { parseSnapshot } from "../src/snapshot/snapshot.js";
import { getProfile, type Profile } from "../src/spec/profiles.js";
import { buildContracts } from "../src/toolchain/contracts.js";
import { terminateCurves } from "../src/util/curve.js";
import { atomicWriteJson } from "../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../src/util/paths.js";
import { createReporter } from "../src/util/progress.js";
import { startAnvil } from "../test/helpers/anvil.js";
import { compileDevContracts, type DevWorld, deployDevWorld } from "../test/helpers/devworld.js";
import { arg, benchLog, round } from "./bench-cli.js";
import { syntheticPositions } from "./bench-snapshot.js";

const profileName = arg("profile", "default");
const segments = Number(arg("segments", "1"));
const perSegment = Number(arg("positions", "2048"));
const groups = arg("groups", "32").split(",").map(Number);
const outDir = path.resolve(arg("out", path.join(PACKAGE_ROOT, "bench")));
const log = benchLog("bench-gas");

interface Chain {
  provider: JsonRpcProvider;
  signer: Wallet;
  world: DevWorld;
  stop: () => Promise<void>;
}

/** anvil with the development world (tokens, feeds, custody) of the synthetic epoch. */
async function startChain(profile: Profile, raw: Record<string, unknown>): Promise<Chain> {
  const node = await startAnvil({ gasLimit: 1_000_000_000n });
  const provider = await connectRpc(node.url, { pollingMs: 50 });
  const stop = async () => {
    provider.destroy();
    await node.stop();
  };
  try {
    const signer = new Wallet(node.privateKeys[0] as string, provider);
    const snap = parseSnapshot(raw, { profile }, "synthetic positions");
    const world = await deployDevWorld(signer, snap, await compileDevContracts());
    return { provider, signer, world, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One publication's gas, split by call, per position and per batch. */
function gasRow(group: number, g: PublishGas, positions: number, segBatches: number, listBatches: number) {
  const sum = (xs: { gasUsed: bigint }[]) => xs.reduce((a, x) => a + Number(x.gasUsed), 0);
  const commit = Number(g.commitEpoch ?? 0);
  const seg = sum(g.segmentBatches);
  const list = sum(g.listBatches);
  const fin = Number(g.finalizeEpoch ?? 0);
  const total = commit + seg + list + fin;
  return {
    group,
    transactions: 2 + g.segmentBatches.length + g.listBatches.length,
    commitEpoch: commit,
    segmentSubmissions: g.segmentBatches.map((x) => ({ batches: x.batches, gasUsed: Number(x.gasUsed) })),
    listSubmissions: g.listBatches.map((x) => ({ batches: x.batches, gasUsed: Number(x.gasUsed) })),
    finalizeEpoch: fin,
    total,
    perSegmentBatch: round(seg / segBatches, 0),
    perListBatch: round(list / listBatches, 0),
    perPosition: {
      commitEpoch: round(commit / positions, 1),
      segmentSubmissions: round(seg / positions, 1),
      listSubmissions: round(list / positions, 1),
      finalizeEpoch: round(fin / positions, 1),
      wholeEpoch: round(total / positions, 1),
    },
  };
}

/**
 * Each registry transaction from block `from` on: its gas, and the gas of the calls it makes
 * (anvil's callTracer), so a submission's verifier share is measured, not inferred.
 */
async function traceCalls(provider: JsonRpcProvider, registry: string, from: number) {
  const out: {
    fn: string;
    gasUsed: number;
    calldataBytes: number;
    intrinsic: number;
    calls: { to: string; gasUsed: number }[];
  }[] = [];
  const to = await provider.getBlockNumber();
  for (let n = from; n <= to; n++) {
    const block = await provider.getBlock(n);
    for (const hash of block?.transactions ?? []) {
      const t = (await provider.send("debug_traceTransaction", [hash, { tracer: "callTracer" }])) as {
        to: string;
        input: string;
        gasUsed: string;
        calls?: { to: string; gasUsed: string }[];
      };
      if (t.to.toLowerCase() !== registry.toLowerCase()) continue;
      // intrinsic gas: 21000 + 16 per non-zero and 4 per zero calldata byte
      const data = Buffer.from(t.input.slice(2), "hex");
      const zeros = data.filter((b) => b === 0).length;
      out.push({
        fn: REGISTRY_IFACE.getFunction(t.input.slice(0, 10))?.name ?? t.input.slice(0, 10),
        gasUsed: Number(t.gasUsed),
        calldataBytes: data.length,
        intrinsic: 21_000 + 16 * (data.length - zeros) + 4 * zeros,
        calls: (t.calls ?? []).map((c) => ({ to: c.to, gasUsed: Number(c.gasUsed) })),
      });
    }
  }
  return out;
}

/** The governed snapshot of `raw` on `registry`, proven into build/bench-gas/<name> (reused when unchanged). */
async function proveGoverned(
  registry: string,
  chain: Chain,
  profile: Profile,
  raw: Record<string, unknown>,
  name: string,
) {
  const governed = await governedSnapshotFromRegistry(registryAt(registry, chain.provider), raw);
  const snapshot = parseSnapshot(governed.snapshot, { profile }, "governed synthetic snapshot");
  const work = path.join(PACKAGE_ROOT, "build", "bench-gas", name);
  log(`proving ${name} into ${work} (reused when unchanged)`);
  const t0 = performance.now();
  const summary = await proveSnapshot({
    snapshot,
    out: work,
    profile: profile.name,
    selfAudit: false,
    force: true,
    reporter: createReporter({ quiet: false }),
  });
  const seconds = (performance.now() - t0) / 1000;
  return { epoch: chainEpochFromBundle((await readBundle(summary.publicDir)).bundle), seconds };
}

async function main(): Promise<void> {
  const profile = getProfile(profileName);
  // epoch 1: one position per segment, so that epoch 2 (measured) is a registry's steady state:
  // the registry's own counters (last committed and latest finalized epoch) are written from
  // zero once, by a registry's first epoch
  const warmRaw = syntheticPositions(profile, 1, segments, 1);
  const raw = syntheticPositions(profile, 2, segments, perSegment);
  log(`building contracts (profile ${profileName})`);
  await buildContracts({ profile: profileName, reporter: createReporter({ quiet: true }) });
  const arts = { ...(await loadDeployArtifacts()), ...(await loadGovernanceArtifacts()) };
  const chain = await startChain(profile, raw);
  try {
    const deploy = () =>
      deployGovernedRegistry(chain.signer, arts, chain.world.config, { profile, delaySeconds: 3600 });
    const first = await deploy();
    const warm = await proveGoverned(
      first.registry,
      chain,
      profile,
      warmRaw,
      `${profileName}-${segments}x1-e1`,
    );
    const main = await proveGoverned(
      first.registry,
      chain,
      profile,
      raw,
      `${profileName}-${segments}x${perSegment}-e2`,
    );
    const e = main.epoch;
    const segBatches = e.segments.reduce((n, s) => n + s.batches.length, 0);
    const listBatches = e.list.length;
    const positions = segments * perSegment;
    const rows = [];
    for (const [i, group] of groups.entries()) {
      const registry = i === 0 ? first.registry : (await deploy()).registry;
      const reg = registryAt(registry, chain.signer);
      log(`publishing epochs 1 (warm-up) and 2 on ${registry} in groups of ${group}`);
      const w = await publishEpoch(reg, warm.epoch, { group });
      const from = await chain.provider.getBlockNumber();
      const res = await publishEpoch(reg, e, { group });
      if (res.healthy.some((h) => !h.healthy)) throw new Error("the synthetic epoch is not healthy on chain");
      const calls = await traceCalls(chain.provider, registry, from + 1);
      rows.push({
        ...gasRow(group, res.gas, positions, segBatches, listBatches),
        calls,
        warmUpEpoch: {
          commitEpoch: Number(w.gas.commitEpoch ?? 0),
          finalizeEpoch: Number(w.gas.finalizeEpoch ?? 0),
        },
      });
    }
    const proveS = main.seconds;
    const result = {
      bench: "gas",
      date: new Date().toISOString(),
      command: `npx tsx scripts/bench-gas.ts --profile ${profileName} --segments ${segments} --positions ${perSegment} --groups ${groups.join(",")}`,
      node: "anvil (local); governed registry (SegmentGovernance, timelock, MockV3Aggregator feeds, ERC-20 pooled custody)",
      cpu: os.cpus()[0]?.model ?? "unknown",
      profile: profileName,
      segments,
      positions,
      segmentBatches: segBatches,
      listBatches,
      // 0-ish when the proofs were reused from build/bench-gas
      proveSecondsThisRun: round(proveS, 1),
      definition:
        "gasUsed of epoch 2's commitEpoch + every grouped submission + finalizeEpoch, divided by positions (one lot and one liability each); epoch 1 (one position per segment) is published first so that epoch 2 is a registry's steady state",
      rows,
    };
    await atomicWriteJson(path.join(outDir, "gas.json"), result);
    for (const r of rows)
      log(
        `group ${r.group}: ${r.perPosition.wholeEpoch} gas/position (commit ${r.perPosition.commitEpoch}, segments ${r.perPosition.segmentSubmissions}, list ${r.perPosition.listSubmissions}, finalize ${r.perPosition.finalizeEpoch})`,
      );
    log(`wrote ${path.join(outDir, "gas.json")}`);
  } finally {
    await chain.stop();
    await terminateCurves();
  }
}

main().catch(async (err) => {
  process.stderr.write(`[bench-gas] ${(err as Error).stack ?? err}\n`);
  await terminateCurves();
  process.exit(1);
});
