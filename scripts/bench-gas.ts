/**
 * The benchmarks' gas, every figure a transaction's gasUsed on a local anvil (gas is
 * deterministic, so runs on different days compare):
 *  - `epochGas` (`npm run bench`, per profile): the timing epoch published as is on a plain
 *    registry with verifiers from the profile's zkeys, then epochs of 1, 10 and 100 segments
 *    (proven and published up to `proveMax` segments, derived from measured medians beyond);
 *  - `gasAtScale` (this script's command; bench/gas.json): whole-epoch gas at scale on a governed
 *    registry (<= 2,000 gas per position at the default profile). `npm run bench` publishes its
 *    small timing epoch, where the commit's per-segment work dominates; this proves a synthetic
 *    epoch of full batches (default: one segment of 32 batches, 2,048 positions of one lot and one
 *    liability, and its 16 lot-list batches) and publishes it on the governed registry the demo
 *    uses (SegmentGovernance behind its timelock, Chainlink MockV3Aggregator feeds, ERC-20
 *    custody: test/helpers/devworld.ts), once per group size, each on a fresh registry (the proofs
 *    do not depend on the registry's address). The measured epoch is epoch 2, after a one-position
 *    epoch 1: a registry's steady state. With anvil's callTracer: the verifier's share and the
 *    calldata cost. Proofs are kept in build/bench-gas/ and reused while the governed snapshot is
 *    unchanged.
 *
 *   npx tsx scripts/bench-gas.ts [--profile default] [--segments 1] [--positions 2048]
 *     [--groups 32] [--out bench]
 */
import * as os from "node:os";
import * as path from "node:path";
import type { JsonRpcProvider } from "ethers";
import { readBundle } from "../src/bundle/disk.js";
import { deployRegistry, loadDeployArtifacts } from "../src/chain/deploy.js";
import { loadGovernanceArtifacts } from "../src/chain/governance.js";
import { deployGovernedRegistry, governedSnapshotFromRegistry } from "../src/chain/governed.js";
import { type PublishGas, publishEpoch } from "../src/chain/publish.js";
import {
  chainEpochFromBundle,
  listBatchFromProof,
  manifestArgs,
  REGISTRY_IFACE,
  registryAt,
  segmentBatchFromProof,
  sendTx,
} from "../src/chain/registry.js";
import { buildEpoch, type EpochBuild } from "../src/epoch/plan.js";
import { proveSnapshot } from "../src/pipeline.js";
import { proveMany } from "../src/prove/pool.js";
import { parseSnapshot } from "../src/snapshot/snapshot.js";
import { type CircuitName, getProfile, type Profile } from "../src/spec/profiles.js";
import { buildContracts, compileRegistryWith } from "../src/toolchain/contracts.js";
import { terminateCurves } from "../src/util/curve.js";
import { atomicWriteJson } from "../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../src/util/paths.js";
import { createReporter } from "../src/util/progress.js";
import { type LocalChain, startLocalChain } from "../test/helpers/anvil.js";
import { compileDevContracts, type DevWorld, deployDevWorld } from "../test/helpers/devworld.js";
import { arg, benchLog, isMain, median, round } from "./bench-cli.js";
import { syntheticPositions, syntheticSnapshot } from "./bench-snapshot.js";

const log = benchLog("bench-gas");

// ------------------------------------------------------------------------------------ shared

/** A local anvil with a high block gas limit (the fixture of test/helpers/anvil.ts). */
const startBenchNode = () => startLocalChain({ gasLimit: 1_000_000_000n });

/** A publication's gas per call: commit, the segment and list submissions summed, finalize, total. */
function gasSums(g: PublishGas) {
  const sum = (xs: { gasUsed: bigint }[]) => xs.reduce((a, x) => a + Number(x.gasUsed), 0);
  const commit = Number(g.commitEpoch ?? 0);
  const seg = sum(g.segmentBatches);
  const list = sum(g.listBatches);
  const fin = Number(g.finalizeEpoch ?? 0);
  return { commit, seg, list, fin, total: commit + seg + list + fin };
}

// ------------------------------------------------------------------------------------ per profile (npm run bench)

/** The proving keys of a profile's two circuits. */
export type BenchKeys = Record<CircuitName, { wasm: string; zkey: string }>;

/** anvil with a plain registry whose verifiers are generated from `keys`' zkeys; the deploy gas. */
async function startPlainChain(keys: BenchKeys, p: Profile) {
  const compiled = await compileRegistryWith({ segment: keys.segment.zkey, lotlist: keys.lotlist.zkey });
  const pick = (n: string) => {
    const c = compiled[n];
    if (!c) throw new Error(`${n} not compiled`);
    return c;
  };
  const node = await startBenchNode();
  try {
    const d = await deployRegistry(
      node.admin,
      {
        segmentVerifier: pick("SegmentVerifier"),
        listVerifier: pick("LotListVerifier"),
        registry: pick("SolvencyRegistry"),
        profile: p.name,
      },
      { profile: p },
    );
    const deployGas = Object.fromEntries(d.transactions.map((t) => [t.what, Number(t.gasUsed)]));
    return { node, registry: registryAt(d.registry, node.admin), deployGas };
  } catch (err) {
    await node.stop();
    throw err;
  }
}
type PlainChain = Awaited<ReturnType<typeof startPlainChain>>;

/** The timing epoch's publication: gas per call, per batch (grouped: a transaction's gas / its batches). */
async function timingEpochGas(chain: PlainChain, build: EpochBuild, publicDir: string, positions: number) {
  const { bundle } = await readBundle(publicDir);
  const pub = await publishEpoch(chain.registry, chainEpochFromBundle(bundle));
  const perBatch = (xs: { gasUsed: bigint; batches: number }[]) =>
    xs.map((x) => Number(x.gasUsed) / x.batches);
  const segGas = perBatch(pub.gas.segmentBatches);
  const listGas = perBatch(pub.gas.listBatches);
  const sums = gasSums(pub.gas);
  return {
    segments: build.segments.length,
    segmentBatches: segGas.length,
    listBatches: listGas.length,
    commitEpoch: sums.commit,
    submitSegmentBatch: segGas,
    submitListBatch: listGas,
    submissionTransactions: pub.gas.segmentBatches.length + pub.gas.listBatches.length,
    finalizeEpoch: sums.fin,
    positions,
    wholeEpoch: sums.total,
    wholeEpochPerPosition: round(sums.total / positions, 0),
  };
}

/** An epoch of S one-batch segments, proven on the pool and published: its gas row. */
async function measuredScalingRow(chain: PlainChain, b: EpochBuild, keys: BenchKeys, p: Profile, S: number) {
  const proofs = await proveMany(
    b.jobs.map((j) => ({
      id: j.id,
      input: () => b.inputOf(j),
      wasm: keys[j.circuit].wasm,
      zkey: keys[j.circuit].zkey,
    })),
  );
  const get = (id: string) => {
    const r = proofs.get(id);
    if (!r) throw new Error(`missing proof ${id}`);
    return r;
  };
  const ce = {
    epoch: b.manifest.epoch,
    globalAssets: b.manifest.globalAssets,
    poolCaps: b.manifest.poolCaps,
    segments: b.manifest.segments.map((m, i) => ({
      ...m,
      batches: (b.segments[i]?.batches ?? []).map((_, k) => {
        const r = get(`segment-${m.id}-${k}`);
        return segmentBatchFromProof(r.proof, r.publicSignals, p);
      }),
    })),
    globalCommitments: b.manifest.globalCommitments,
    list: b.list.map((_, k) => {
      const r = get(`lotlist-${k}`);
      return listBatchFromProof(r.proof, r.publicSignals, p);
    }),
  };
  const g = gasSums((await publishEpoch(chain.registry, ce)).gas);
  return {
    segments: S,
    listBatches: b.list.length,
    positions: S,
    kind: "measured",
    commitEpoch: g.commit,
    submitSegmentBatches: g.seg,
    submitListBatches: g.list,
    finalizeEpoch: g.fin,
    total: g.total,
    perSegment: round(g.total / S, 0),
    perPosition: round(g.total / S, 0),
  };
}

/**
 * An epoch of S segments too large to prove here: commitEpoch measured, submissions = count x
 * median measured submit gas, finalizeEpoch on the line through the measured points (it is linear
 * in S: one storage read pair + mulmod + event per segment).
 */
async function derivedScalingRow(
  chain: PlainChain,
  b: EpochBuild,
  S: number,
  submit: { seg: number; list: number },
  finalizeAt: readonly { s: number; gas: number }[],
) {
  const rc = await sendTx("commitEpoch", () =>
    chain.registry.getFunction("commitEpoch")(...manifestArgs(b.manifest)),
  );
  const commit = Number(rc.gasUsed);
  let fin = Number.NaN;
  const pts = [...finalizeAt].sort((x, y) => x.s - y.s);
  const [a, z] = [pts[0], pts[pts.length - 1]];
  if (a && z && z.s !== a.s) fin = a.gas + ((z.gas - a.gas) / (z.s - a.s)) * (S - a.s);
  const L = b.list.length;
  const seg = S * submit.seg;
  const list = L * submit.list;
  const total = commit + seg + list + fin;
  return {
    segments: S,
    listBatches: L,
    positions: S,
    kind: "commitEpoch measured; submissions = count x median measured submit gas; finalizeEpoch linear fit",
    commitEpoch: commit,
    submitSegmentBatches: round(seg, 0),
    submitListBatches: round(list, 0),
    finalizeEpoch: round(fin, 0),
    total: round(total, 0),
    perSegment: round(total / S, 0),
    perPosition: round(total / S, 0),
  };
}

/** What `epochGas` needs besides the profile's keys and its timing epoch. */
export interface EpochGasOptions {
  /** epochs of up to this many segments are proven and published for real; larger ones derived */
  proveMax: number;
  /** the segment counts of the scaling rows */
  segmentCounts: readonly number[];
  /** the secret the synthetic epochs are built with */
  secret: Uint8Array;
  log: (m: string) => void;
}

/**
 * `npm run bench`'s gas of profile `p`: the timing epoch (`build`, proven into `publicDir`), then
 * one row per segment count. A failure is a note and an `error` field, not a failed bench.
 */
export async function epochGas(
  p: Profile,
  keys: BenchKeys,
  build: EpochBuild,
  publicDir: string,
  notes: string[],
  positions: number,
  opts: EpochGasOptions,
) {
  opts.log(`${p.name}: gas: compiling verifiers + registry, starting anvil`);
  const chain = await startPlainChain(keys, p);
  try {
    const mainEpoch = await timingEpochGas(chain, build, publicDir, positions);
    const submit = { seg: median(mainEpoch.submitSegmentBatch), list: median(mainEpoch.submitListBatch) };
    const scaling: Record<string, unknown>[] = [];
    const finalizeAt = [{ s: mainEpoch.segments, gas: mainEpoch.finalizeEpoch }];
    for (const [i, S] of opts.segmentCounts.entries()) {
      const b = await buildEpoch(syntheticSnapshot(p, 2 + i, S, 1), p, opts.secret);
      if (S <= opts.proveMax) {
        opts.log(`${p.name}: gas: ${S} segment(s): proving ${b.jobs.length} batches on the pool, publishing`);
        const row = await measuredScalingRow(chain, b, keys, p, S);
        finalizeAt.push({ s: S, gas: row.finalizeEpoch });
        scaling.push(row);
      } else {
        opts.log(`${p.name}: gas: ${S} segments: commitEpoch measured, submissions and finalize derived`);
        scaling.push(await derivedScalingRow(chain, b, S, submit, finalizeAt));
      }
    }
    const perPositionFullBatches =
      submit.seg / Math.min(p.lotsPerBatch, p.liabsPerBatch) + submit.list / p.lotsPerGlobalBatch;
    return {
      node: "anvil (local), verifiers generated from this profile's zkeys",
      deploy: chain.deployGas,
      epoch: mainEpoch,
      wholeEpochPerPosition: mainEpoch.wholeEpochPerPosition,
      medianSubmitSegmentBatch: round(submit.seg, 0),
      medianSubmitListBatch: round(submit.list, 0),
      submitGasPerPositionFullBatches: round(perPositionFullBatches, 0),
      perPositionDefinition:
        "median gas per segment batch / min(N,M) + median gas per list batch / G (full batches; grouped " +
        "submissions: a transaction's gas / its batches); wholeEpochPerPosition = (commitEpoch + every " +
        "submission + finalizeEpoch) / positions of the timing epoch",
      scaling,
    };
  } catch (err) {
    notes.push(`gas: ${(err as Error).message.split("\n")[0]}`);
    return { error: (err as Error).message.split("\n")[0] };
  } finally {
    await terminateCurves();
    await chain.node.stop();
  }
}

// ------------------------------------------------------------------------------------ at scale (bench/gas.json)

interface Chain extends LocalChain {
  world: DevWorld;
}

/** anvil with the development world (tokens, feeds, custody) of the synthetic epoch. */
async function startChain(profile: Profile, raw: Record<string, unknown>): Promise<Chain> {
  const node = await startBenchNode();
  try {
    const snap = parseSnapshot(raw, { profile }, "synthetic positions");
    const world = await deployDevWorld(node.admin, snap, await compileDevContracts());
    return { ...node, world };
  } catch (err) {
    await node.stop();
    throw err;
  }
}

/** One publication's gas, split by call, per position and per batch. */
function gasRow(group: number, g: PublishGas, positions: number, segBatches: number, listBatches: number) {
  const { commit, seg, list, fin, total } = gasSums(g);
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

/** What `gasAtScale` measures: the profile, the synthetic epoch's shape, the group sizes, where to write. */
export interface GasAtScaleOptions {
  profileName: string;
  segments: number;
  perSegment: number;
  groups: number[];
  outDir: string;
}

// Over 80 lines: the two proven epochs, then one publication per group size on a fresh registry,
// and the result record written from them.
/** Proves and publishes the synthetic epoch at scale once per group size; writes OUT/gas.json. */
export async function gasAtScale(o: GasAtScaleOptions): Promise<void> {
  const { profileName, segments, perSegment, groups, outDir } = o;
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
      deployGovernedRegistry(chain.admin, arts, chain.world.config, { profile, delaySeconds: 3600 });
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
      const reg = registryAt(registry, chain.admin);
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

if (isMain(import.meta.url)) {
  gasAtScale({
    profileName: arg("profile", "default"),
    segments: Number(arg("segments", "1")),
    perSegment: Number(arg("positions", "2048")),
    groups: arg("groups", "32").split(",").map(Number),
    outDir: path.resolve(arg("out", path.join(PACKAGE_ROOT, "bench"))),
  }).catch(async (err) => {
    process.stderr.write(`[bench-gas] ${(err as Error).stack ?? err}\n`);
    await terminateCurves();
    process.exit(1);
  });
}
