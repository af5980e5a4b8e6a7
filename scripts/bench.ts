/**
 * `npm run bench [-- --quick] [--profiles test,default,large] [--baseline REV|v1 [--baseline-profiles default]]
 *   [--ptau FILE] [--runs K] [--out DIR] [--json]`
 *
 * Benchmarks of bulkhead, measured in one run so that ratios compare like with like:
 *  - constraints per circuit, per collateral lot / liability / position (the segment circuit and
 *    the lot list compiled at two sizes each to separate per-entry from per-batch cost), zkey sizes;
 *  - witness generation: snarkjs wtns.calculate (wasm) and circom's C++ generator where it builds;
 *  - Groth16 proving per batch (raw snarkjs on a precomputed witness, median of K runs);
 *  - the pipeline (src/pipeline.ts, worker pool on all cores) proving a generated epoch vs raw
 *    snarkjs (witness + prove) on the same witnesses, interleaved, medians: pipeline overhead;
 *  - offline verification: per proof and whole-epoch audit (src/audit/audit.ts), proofs per second;
 *  - gas on a local anvil: commitEpoch / submitSegmentBatches / submitListBatches / finalizeEpoch, and
 *    per epoch for 1, 10 and 100 segments (measured where proven, derived otherwise: labelled):
 *    scripts/bench-gas.ts `epochGas`;
 *  - public bundle size and receipt size per position;
 *  - with --baseline, the same measures for an earlier revision (its own bench, run in a git
 *    worktree in this run, scripts/bench-baseline.ts), reported side by side as before/after.
 * Writes DIR/results.json and DIR/BENCHMARKS.md atomically (default DIR: bench, or
 * build/bench-quick with --quick). Progress goes to stderr; --json prints the results on stdout.
 *
 * Profiles may be suffixed `:constraints` (e.g. `large:constraints`) to measure only what needs
 * no trusted setup (constraint counts), when a setup would take too long.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { auditBundle } from "../src/audit/node.js";
import { buildEpoch, type EpochBuild } from "../src/epoch/plan.js";
import { readSecret } from "../src/epoch/salts.js";
import { type ProveOptions, proveSnapshot } from "../src/pipeline.js";
import { defaultWorkers } from "../src/prove/pool.js";
import { type CircuitName, getProfile, type Profile } from "../src/spec/profiles.js";
import { ensureCircuit } from "../src/toolchain/artifacts.js";
import { readR1csHeader } from "../src/toolchain/binfile.js";
import { circuitSpec, compileCircuit } from "../src/toolchain/compile.js";
import { ensureNativeWitness, nativeWitnessMissing } from "../src/toolchain/witness.js";
import { terminateCurves } from "../src/util/curve.js";
import { atomicWrite, atomicWriteJson } from "../src/util/fsutil.js";
import { BUILD_DIR, PACKAGE_ROOT, packageVersion } from "../src/util/paths.js";
import { sj } from "../src/util/snarkjs.js";
import { benchBaseline, V1_REVISION } from "./bench-baseline.js";
import { benchLog, median, round } from "./bench-cli.js";
import { epochGas } from "./bench-gas.js";
import { benchQueue } from "./bench-queue.js";
import { type AtScale, compareBaseline, type Json, markdown, targets } from "./bench-report.js";
import { syntheticSnapshot } from "./bench-snapshot.js";

// ------------------------------------------------------------------------------------ options

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    profiles: { type: "string" },
    ptau: { type: "string" },
    runs: { type: "string" },
    out: { type: "string" },
    json: { type: "boolean", default: false },
    cpp: { type: "string" },
    "no-gas": { type: "boolean", default: false },
    "gas-prove-max": { type: "string" },
    render: { type: "boolean", default: false },
    merge: { type: "boolean", default: false },
    queue: { type: "boolean", default: false },
    baseline: { type: "string" },
    "baseline-profiles": { type: "string" },
  },
  allowPositionals: false,
});

const QUICK = args.quick ?? false;
const RUNS = Math.max(1, Number(args.runs ?? (QUICK ? 2 : 3)));
const OUT = path.resolve(
  args.out ?? (QUICK ? path.join(BUILD_DIR, "bench-quick") : path.join(PACKAGE_ROOT, "bench")),
);
const PROFILE_SPECS = (args.profiles ?? (QUICK ? "test" : "test,default")).split(",").map((s) => {
  const [name, mode] = s.trim().split(":");
  if (mode !== undefined && mode !== "constraints")
    throw new Error(`--profiles: unknown mode "${mode}" in "${s}"`);
  getProfile(name as string);
  return { name: name as string, constraintsOnly: mode === "constraints" };
});
if (QUICK && PROFILE_SPECS.some((p) => p.name !== "test" && !p.constraintsOnly)) {
  throw new Error("--quick benchmarks the test profile only");
}
/** C++ witness generator for: "all", "none" or a list of profiles (default: none with --quick, else all) */
const CPP_ARG = args.cpp ?? (QUICK ? "none" : "all");
const cppFor = (profile: string) => CPP_ARG === "all" || CPP_ARG.split(",").includes(profile);
const GAS = !args["no-gas"];
/**
 * Epochs of up to this many segments are proven and published for real; larger ones are derived.
 * Default 10 for the test profile (cheap proofs), 1 for the others.
 */
const gasProveMax = (profile: string) => Number(args["gas-prove-max"] ?? (profile === "test" ? 10 : 1));
const GAS_SEGMENTS = [1, 10, 100];

const log = benchLog("bench", true);

// ------------------------------------------------------------------------------------ helpers

const now = () => performance.now();
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = now();
  const r = await fn();
  return [r, now() - t];
}
const maxRssMiB = () => round(process.resourceUsage().maxRSS / 1024, 0);
const fileSize = async (f: string) => (await fs.stat(f)).size;
async function dirBytes(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const d = await dirBytes(p);
      files += d.files;
      bytes += d.bytes;
    } else if (e.isFile()) {
      files++;
      bytes += await fileSize(p);
    }
  }
  return { files, bytes };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    availableParallelism: defaultWorkers(),
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
    toolchain: {
      snarkjs: packageVersion("snarkjs"),
      circom2: packageVersion("circom2"),
      circomlib: packageVersion("circomlib"),
      solc: packageVersion("solc"),
      ethers: packageVersion("ethers"),
    },
  };
}

// ------------------------------------------------------------------------------------ snapshot

const BENCH_SECRET = new Uint8Array(32).fill(7);

// ------------------------------------------------------------------------------------ circuits

/** Constraints of one circuit at a given size (the shared compile cache; no setup). */
async function compileConstraints(circuit: CircuitName, p: Profile): Promise<number> {
  const { dir } = await compileCircuit(circuitSpec(circuit, p));
  return (await readR1csHeader(path.join(dir, "main.r1cs"))).nConstraints;
}

/**
 * Per-entry costs by finite differences: segment(N, M), segment(N/2, M), segment(N, M/2);
 * lotlist(G), lotlist(G/2). The circuits are linear in N, M, G (Merkle trees over powers of two
 * have N-1 internal nodes), so the differences are exact per-entry costs and the rest is the
 * per-batch overhead.
 */
async function perEntryCosts(p: Profile, segFull: number, listFull: number) {
  const { lotsPerBatch: N, liabsPerBatch: M, lotsPerGlobalBatch: G } = p;
  const halfLots = { ...p, name: `${p.name}-halfN`, lotsPerBatch: N / 2 };
  const halfLiabs = { ...p, name: `${p.name}-halfM`, liabsPerBatch: M / 2 };
  const halfList = { ...p, name: `${p.name}-halfG`, lotsPerGlobalBatch: G / 2 };
  log(
    `${p.name}: compiling segment(${N / 2},${M}), segment(${N},${M / 2}), lotlist(${G / 2}) for per-entry costs`,
  );
  const segHalfN = await compileConstraints("segment", halfLots);
  const segHalfM = await compileConstraints("segment", halfLiabs);
  const listHalf = await compileConstraints("lotlist", halfList);
  const perLot = (segFull - segHalfN) / (N / 2);
  const perLiab = (segFull - segHalfM) / (M / 2);
  const segFixed = segFull - N * perLot - M * perLiab;
  const listPerLot = (listFull - listHalf) / (G / 2);
  const listFixed = listFull - G * listPerLot;
  // a position = one collateral lot + one liability: the lot is in a segment batch AND the list
  const marginal = perLot + perLiab + listPerLot;
  const positionsPerSegBatch = Math.min(N, M);
  const amortized = segFull / positionsPerSegBatch + listFull / G;
  return {
    method:
      "finite differences: the segment circuit compiled at (N,M), (N/2,M), (N,M/2) and the lot list at G, G/2 " +
      "(circom2 --O2, r1cs constraints); per-batch overhead = full - N*perLot - M*perLiability",
    sizes: {
      segment: [
        { N, M, A: p.assetsPerSegment, constraints: segFull },
        { N: N / 2, M, A: p.assetsPerSegment, constraints: segHalfN },
        { N, M: M / 2, A: p.assetsPerSegment, constraints: segHalfM },
      ],
      lotlist: [
        { G, constraints: listFull },
        { G: G / 2, constraints: listHalf },
      ],
    },
    segment: { perLot: round(perLot), perLiability: round(perLiab), perBatch: round(segFixed) },
    lotlist: { perLot: round(listPerLot), perBatch: round(listFixed) },
    perPosition: {
      marginal: round(marginal),
      amortizedFullBatches: round(amortized),
      definition:
        "position = one collateral lot + one liability, 8 asset slots in default/large; marginal = segment " +
        "perLot + perLiability + list perLot; amortized = segment constraints / min(N,M) + list constraints / G " +
        "(full batches, per-batch overhead included)",
    },
  };
}

// ------------------------------------------------------------------------------------ C++ witness

interface CppResult {
  available: boolean;
  reason?: string;
  buildMs?: number;
  segmentMs?: number;
  lotlistMs?: number;
  checked?: boolean;
  note?: string;
}

/** circom2 --c + make, as the cached artifact of src/toolchain/witness.ts. */
async function buildCppWitness(circuit: CircuitName, p: Profile): Promise<{ bin: string; ms: number }> {
  const w = await ensureNativeWitness(circuit, p.name);
  return { bin: w.bin, ms: w.built ? w.ms : 0 };
}

// ------------------------------------------------------------------------------------ per profile

interface Keys {
  segment: Awaited<ReturnType<typeof ensureCircuit>>;
  lotlist: Awaited<ReturnType<typeof ensureCircuit>>;
}

/** Raw snarkjs on every job, `concurrency` jobs in flight in this thread (one shared snarkjs curve). */
async function rawProveJobs(build: EpochBuild, keys: Keys, concurrency = 1) {
  let witnessMs = 0;
  let proveMs = 0;
  const t = now();
  let next = 0;
  const one = async (job: EpochBuild["jobs"][number]) => {
    const k = keys[job.circuit];
    const wtns = { type: "mem" as const };
    const tw = now();
    await sj.wtns.calculate(build.inputOf(job), k.wasm, wtns);
    witnessMs += now() - tw;
    const tp = now();
    const { publicSignals } = await sj.groth16.prove(k.zkey, wtns);
    proveMs += now() - tp;
    if (publicSignals.join() !== job.publicSignals.join())
      throw new Error(`${job.id}: raw proof signals differ`);
  };
  const lane = async () => {
    while (next < build.jobs.length) await one(build.jobs[next++] as EpochBuild["jobs"][number]);
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { totalMs: now() - t, witnessMs, proveMs };
}

/** Artifacts (setup unless constraints only), circuit sizes and per-entry constraint costs. */
async function benchCircuits(
  p: Profile,
  constraintsOnly: boolean,
  out: Record<string, unknown>,
  notes: string[],
): Promise<Keys | undefined> {
  let segFull: number;
  let listFull: number;
  let keys: Keys | undefined;
  if (constraintsOnly) {
    log(`${p.name}: constraints only (no setup)`);
    segFull = await compileConstraints("segment", p);
    listFull = await compileConstraints("lotlist", p);
    out.circuits = { segment: { constraints: segFull }, lotlist: { constraints: listFull } };
    notes.push(
      "constraints only: no trusted setup, proving, verification or gas for this profile in this run",
    );
  } else {
    log(`${p.name}: artifacts (ensureCircuit; a setup takes minutes the first time, cached afterwards)`);
    keys = {
      segment: await ensureCircuit("segment", p.name, { ptauFile: args.ptau }),
      lotlist: await ensureCircuit("lotlist", p.name, { ptauFile: args.ptau }),
    };
    segFull = keys.segment.meta.constraints;
    listFull = keys.lotlist.meta.constraints;
    const circ = async (k: Keys[CircuitName]) => ({
      constraints: k.meta.constraints,
      wires: k.meta.wires,
      publicSignals: k.meta.nPublic,
      ptauPower: k.meta.ptau.power,
      ptauPowerNeeded: k.meta.powerNeeded,
      security: k.meta.security,
      zkeyBytes: await fileSize(k.zkey),
      r1csBytes: await fileSize(k.r1cs),
      wasmBytes: await fileSize(k.wasm),
      vkeyBytes: await fileSize(k.vkeyPath),
    });
    out.circuits = { segment: await circ(keys.segment), lotlist: await circ(keys.lotlist) };
  }
  out.constraints = await perEntryCosts(p, segFull, listFull);
  return keys;
}

/** The epoch used for timing: 2 segments x 2 full batches (4N positions), list 4N/G batches. */
async function benchEpoch(p: Profile) {
  const SEGMENTS = 2;
  const perSegment = 2 * Math.min(p.lotsPerBatch, p.liabsPerBatch);
  const snapshot = syntheticSnapshot(p, 1, SEGMENTS, perSegment);
  const positions = SEGMENTS * perSegment;
  const build = await buildEpoch(snapshot, p, BENCH_SECRET);
  const seg = build.jobs.find((j) => j.circuit === "segment");
  const list = build.jobs.find((j) => j.circuit === "lotlist");
  if (!seg || !list) throw new Error("epoch has no segment or list job");
  const segJob = { ...seg, input: build.inputOf(seg) };
  const listJob = { ...list, input: build.inputOf(list) };
  const epochShape = {
    segments: SEGMENTS,
    positions,
    lots: snapshot.lots.length,
    liabilities: snapshot.liabilities.length,
    segmentBatches: build.jobs.filter((j) => j.circuit === "segment").length,
    listBatches: build.jobs.filter((j) => j.circuit === "lotlist").length,
    proofs: build.jobs.length,
  };
  return { snapshot, build, segJob, listJob, positions, shape: epochShape };
}

type BenchEpoch = Awaited<ReturnType<typeof benchEpoch>>;

/** Witness generation (snarkjs wtns.calculate, wasm), warm; keeps one witness per circuit. */
async function benchWasmWitness(p: Profile, keys: Keys, e: BenchEpoch) {
  log(`${p.name}: witness generation (wasm), ${RUNS + 1} runs per circuit`);
  const wtnsTimes: Record<CircuitName, number[]> = { segment: [], lotlist: [] };
  const wtnsMem: Record<CircuitName, { type: "mem"; data?: Uint8Array }> = {
    segment: { type: "mem" },
    lotlist: { type: "mem" },
  };
  for (const job of [e.segJob, e.listJob]) {
    for (let i = 0; i <= RUNS; i++) {
      const w = { type: "mem" as const };
      const [, ms] = await timed(() => sj.wtns.calculate(job.input, keys[job.circuit].wasm, w));
      if (i > 0) wtnsTimes[job.circuit].push(ms); // first run: wasm compile warm-up
      wtnsMem[job.circuit] = w;
    }
  }
  const witness: Record<string, unknown> = {
    wasm: {
      segmentMs: round(median(wtnsTimes.segment)),
      lotlistMs: round(median(wtnsTimes.lotlist)),
      runs: RUNS,
      note: "snarkjs wtns.calculate on a full batch, in memory, warm (first run discarded)",
    },
  };

  return { witness, wtnsMem };
}

/** circom's C++ witness generator, where it builds (prerequisites, x86-64). */
async function benchCppWitness(p: Profile, e: BenchEpoch, notes: string[]): Promise<CppResult> {
  let cpp: CppResult;
  const missing = nativeWitnessMissing();
  if (!cppFor(p.name))
    cpp = { available: false, reason: `skipped for this profile in this run (--cpp ${CPP_ARG})` };
  else if (missing) cpp = { available: false, reason: missing };
  else {
    try {
      log(`${p.name}: C++ witness generator (circom2 --c + make; cached)`);
      const segBin = await buildCppWitness("segment", p);
      const listBin = await buildCppWitness("lotlist", p);
      const dir = path.join(BUILD_DIR, "bench-tmp", `cpp-${process.pid}`);
      await fs.mkdir(dir, { recursive: true });
      const times: Record<CircuitName, number[]> = { segment: [], lotlist: [] };
      let checked = true;
      for (const [job, b] of [
        [e.segJob, segBin],
        [e.listJob, listBin],
      ] as const) {
        const inFile = path.join(dir, `${job.circuit}.json`);
        const wFile = path.join(dir, `${job.circuit}.wtns`);
        await fs.writeFile(inFile, JSON.stringify(job.input));
        for (let i = 0; i <= RUNS; i++) {
          const t = now();
          const r = spawnSync(b.bin, [inFile, wFile], { cwd: path.dirname(b.bin), encoding: "utf8" });
          const ms = now() - t;
          if (r.status !== 0)
            throw new Error(`${job.circuit} witness binary failed: ${(r.stderr || r.stdout).slice(-200)}`);
          if (i > 0) times[job.circuit].push(ms);
        }
        const w = await sj.wtns.exportJson(wFile);
        const pub = w.slice(1, 1 + job.publicSignals.length).map(String);
        if (pub.join() !== job.publicSignals.join()) checked = false;
      }
      await fs.rm(dir, { recursive: true, force: true });
      cpp = {
        available: true,
        buildMs: round(segBin.ms + listBin.ms, 0),
        segmentMs: round(median(times.segment)),
        lotlistMs: round(median(times.lotlist)),
        checked,
        note:
          "native binary per batch (process start + .dat load + JSON input + witness + .wtns write), median; " +
          "checked = the witness's public signals equal the input builder's",
      };
      if (!checked) notes.push("C++ witness public signals differ from the expected ones");
    } catch (err) {
      cpp = { available: false, reason: `build failed: ${(err as Error).message.split("\n")[0]}` };
    }
  }
  return cpp;
}

/** Raw snarkjs groth16.prove per batch on the precomputed witnesses; verification per proof. */
async function benchRawProving(
  p: Profile,
  keys: Keys,
  wtnsMem: Record<CircuitName, { type: "mem"; data?: Uint8Array }>,
) {
  log(`${p.name}: raw snarkjs groth16.prove per batch, ${RUNS} runs per circuit`);
  const proveTimes: Record<CircuitName, number[]> = { segment: [], lotlist: [] };
  const verifyTimes: Record<CircuitName, number[]> = { segment: [], lotlist: [] };
  const proofBytes: Record<CircuitName, number> = { segment: 0, lotlist: 0 };
  for (const c of ["segment", "lotlist"] as const) {
    let last: Awaited<ReturnType<typeof sj.groth16.prove>> | undefined;
    for (let i = 0; i < RUNS; i++) {
      const [res, ms] = await timed(() => sj.groth16.prove(keys[c].zkey, wtnsMem[c]));
      proveTimes[c].push(ms);
      last = res;
    }
    if (!last) throw new Error("no proof");
    proofBytes[c] = JSON.stringify(last.proof).length;
    const vk = keys[c].vkey;
    for (let i = 0; i < Math.max(5, RUNS * 3); i++) {
      const [ok, ms] = await timed(() => sj.groth16.verify(vk, last.publicSignals, last.proof));
      if (!ok) throw new Error(`${c}: raw proof does not verify`);
      if (i > 0) verifyTimes[c].push(ms);
    }
  }
  await terminateCurves();
  const rssAfterRaw = maxRssMiB();

  return { proveTimes, verifyTimes, proofBytes, rssAfterRaw };
}

type RawProving = Awaited<ReturnType<typeof benchRawProving>>;

/**
 * The pipeline vs raw snarkjs on the same epoch (same snapshot, same secret -> same witnesses),
 * interleaved, RUNS times. Keeps the last pipeline output for the audit and size measurements.
 */
async function benchPipelineRuns(p: Profile, keys: Keys, e: BenchEpoch) {
  const runDir = path.join(BUILD_DIR, "bench-tmp", `${p.name}-${process.pid}`);
  await fs.rm(runDir, { recursive: true, force: true });
  await fs.mkdir(runDir, { recursive: true });
  const secretFile = path.join(runDir, "secret");
  await fs.writeFile(secretFile, Buffer.from(BENCH_SECRET).toString("hex"), { mode: 0o600 });
  const secret = await readSecret(secretFile);
  const sameBuild = await buildEpoch(e.snapshot, p, secret);
  const keysOpt: ProveOptions["keys"] = {
    segment: {
      wasm: keys.segment.wasm,
      zkey: keys.segment.zkey,
      vkeyPath: keys.segment.vkeyPath,
      insecure: keys.segment.meta.insecure,
    },
    lotlist: {
      wasm: keys.lotlist.wasm,
      zkey: keys.lotlist.zkey,
      vkeyPath: keys.lotlist.vkeyPath,
      insecure: keys.lotlist.meta.insecure,
    },
  };
  const pipe: { proveMs: number; totalMs: number }[] = [];
  const raw: { totalMs: number; witnessMs: number; proveMs: number }[] = [];
  const rawPar: { totalMs: number }[] = [];
  let lastOut = "";
  for (let i = 0; i < RUNS; i++) {
    log(
      `${p.name}: epoch run ${i + 1}/${RUNS}: pipeline (${e.shape.proofs} proofs, ${defaultWorkers()} workers)`,
    );
    const outDir = path.join(runDir, `run-${i}`);
    const s = await proveSnapshot({
      snapshot: e.snapshot,
      out: outDir,
      profile: p.name,
      secretFile,
      keys: keysOpt,
      selfAudit: false,
      // this measures the pipeline's overhead over raw snarkjs: the same prover on both sides
      prover: "snarkjs",
    });
    if (s.manifestHash !== sameBuild.manifestHash)
      throw new Error("pipeline and raw epochs differ (manifest)");
    if (s.proofs.proven !== e.build.jobs.length)
      throw new Error(`pipeline reused proofs (${s.proofs.reused})`);
    pipe.push({ proveMs: s.timings.proveMs, totalMs: s.timings.totalMs - s.timings.artifactsMs });
    if (lastOut) await fs.rm(lastOut, { recursive: true, force: true });
    lastOut = outDir;
    log(`${p.name}: epoch run ${i + 1}/${RUNS}: raw snarkjs (wtns.calculate + groth16.prove, sequential)`);
    raw.push(await rawProveJobs(sameBuild, keys));
    log(`${p.name}: epoch run ${i + 1}/${RUNS}: raw snarkjs, ${defaultWorkers()} batches in flight`);
    rawPar.push(await rawProveJobs(sameBuild, keys, defaultWorkers()));
    await terminateCurves();
  }
  return { pipe, raw, rawPar, runDir, lastOut, rssAfterPipeline: maxRssMiB() };
}

/** The "proving" results: per batch, the epoch side by side (medians, ratios), memory. */
function provingResult(e: BenchEpoch, rawp: RawProving, runs: Awaited<ReturnType<typeof benchPipelineRuns>>) {
  const { pipe, raw, rawPar } = runs;
  const pipeProve = median(pipe.map((x) => x.proveMs));
  const pipeTotal = median(pipe.map((x) => x.totalMs));
  const rawTotal = median(raw.map((x) => x.totalMs));
  const rawParTotal = median(rawPar.map((x) => x.totalMs));
  const perRunRatio = pipe.map((x, i) => x.proveMs / (raw[i] as { totalMs: number }).totalMs);
  const perRunParRatio = pipe.map((x, i) => x.proveMs / (rawPar[i] as { totalMs: number }).totalMs);
  return {
    perBatchMs: {
      segment: round(median(rawp.proveTimes.segment)),
      lotlist: round(median(rawp.proveTimes.lotlist)),
      runs: RUNS,
      note: "snarkjs groth16.prove on a precomputed in-memory witness, main thread (snarkjs' own curve threads)",
    },
    epoch: {
      ...e.shape,
      workers: defaultWorkers(),
      pipelineProveMs: pipe.map((x) => round(x.proveMs, 0)),
      pipelineEndToEndMs: pipe.map((x) => round(x.totalMs, 0)),
      rawMs: raw.map((x) => round(x.totalMs, 0)),
      rawWitnessMs: raw.map((x) => round(x.witnessMs, 0)),
      rawProveOnlyMs: raw.map((x) => round(x.proveMs, 0)),
      medianPipelineProveMs: round(pipeProve, 0),
      medianPipelineEndToEndMs: round(pipeTotal, 0),
      medianRawMs: round(rawTotal, 0),
      rawConcurrentMs: rawPar.map((x) => round(x.totalMs, 0)),
      medianRawConcurrentMs: round(rawParTotal, 0),
      /** pipeline / raw with the same number of batches in flight: the pipeline's overhead */
      overheadRatio: round(pipeProve / rawParTotal, 3),
      overheadRatioPerRun: perRunParRatio.map((x) => round(x, 3)),
      /** pipeline / raw one batch after another */
      ratioVsSequentialRaw: round(pipeProve / rawTotal, 3),
      ratioVsSequentialRawPerRun: perRunRatio.map((x) => round(x, 3)),
      endToEndRatio: round(pipeTotal / rawParTotal, 3),
      positionsPerSecond: round(e.positions / (pipeProve / 1000), 2),
      positionsPerSecondEndToEnd: round(e.positions / (pipeTotal / 1000), 2),
      definition:
        "pipeline = proveSnapshot's proving stage (worker pool, fullProve = wasm witness + prove per batch, " +
        "work files); end-to-end adds input building, bundle, receipts (no self-audit); raw = the same " +
        "witnesses (same snapshot and secret) through snarkjs wtns.calculate + groth16.prove in the main thread, " +
        "one batch after another (sequential; snarkjs parallelises inside each proof) and with as many batches " +
        "in flight as the pool has workers (concurrent: the overhead baseline); runs interleaved, medians",
    },
    memory: {
      maxRssMiBAfterRawProving: rawp.rssAfterRaw,
      maxRssMiBAfterPipeline: runs.rssAfterPipeline,
      note:
        "process.resourceUsage().maxRSS: one process; the pipeline's worker threads share it, so per-worker " +
        "RSS is not separable (the peak after the pipeline includes every worker)",
    },
  };
}

/** Offline verification: per proof (from the raw runs) and the whole-epoch audit, cold and warm. */
async function benchAudit(p: Profile, publicDir: string, verifyTimes: RawProving["verifyTimes"]) {
  log(`${p.name}: offline audit of the epoch bundle, ${RUNS + 1} runs`);
  const auditMs: number[] = [];
  let proofsVerified = 0;
  for (let i = 0; i <= RUNS; i++) {
    // the bench's own keys, trusted as such: this measures verification, not anchoring
    const [rep, ms] = await timed(() =>
      auditBundle(publicDir, { anchor: { kind: "bundle" }, allowDevKeys: true }),
    );
    if (!rep.ok) throw new Error(`audit failed: ${rep.errors.slice(0, 2).join("; ")}`);
    proofsVerified = rep.proofsVerified;
    auditMs.push(ms);
  }
  await terminateCurves();
  const warm = median(auditMs.slice(1));
  return {
    perProofMs: {
      segment: round(median(verifyTimes.segment), 2),
      lotlist: round(median(verifyTimes.lotlist), 2),
      note: "snarkjs groth16.verify, warm curve, median",
    },
    audit: {
      proofs: proofsVerified,
      coldMs: round(auditMs[0] as number, 0),
      warmMs: auditMs.slice(1).map((x) => round(x, 0)),
      medianWarmMs: round(warm, 0),
      proofsPerSecondWarm: round(proofsVerified / (warm / 1000), 1),
      proofsPerSecondCold: round(proofsVerified / ((auditMs[0] as number) / 1000), 1),
      note: "src/audit/audit.ts auditBundle on the pipeline's bundle; cold = first call in the process (curve setup)",
    },
  };
}

/** Public bundle and receipt sizes of the last pipeline output, per position. */
async function benchSizes(e: BenchEpoch, rawp: RawProving, publicDir: string, lastOut: string) {
  const bundleFile = path.join(publicDir, "bundle.json");
  const bundleBytes = await fileSize(bundleFile);
  const vkeys = await dirBytes(path.join(publicDir, "vkeys"));
  const receipts = await dirBytes(path.join(lastOut, "private", "receipts", "lots"));
  const accReceipts = await dirBytes(path.join(lastOut, "private", "receipts", "accounts"));
  return {
    bundleBytes,
    vkeysBytes: vkeys.bytes,
    bundleBytesPerPosition: round(bundleBytes / e.positions, 1),
    publicBytesPerPosition: round((bundleBytes + vkeys.bytes) / e.positions, 1),
    proofJsonBytes: rawp.proofBytes,
    receiptFiles: receipts.files + accReceipts.files,
    lotReceiptBytesMean: round(receipts.bytes / Math.max(1, receipts.files), 0),
    accountReceiptBytesMean: round(accReceipts.bytes / Math.max(1, accReceipts.files), 0),
    receiptBytesPerPosition: round((receipts.bytes + accReceipts.bytes) / e.positions, 0),
    note: "bundle.json (pretty JSON) for the epoch above; a position has one lot receipt and one account receipt",
  };
}

async function benchProfile(p: Profile, constraintsOnly: boolean) {
  const out: Record<string, unknown> = { profile: { ...p }, constraintsOnly };
  const notes: string[] = [];
  out.notes = notes;
  const keys = await benchCircuits(p, constraintsOnly, out, notes);
  if (!keys) return out;
  const e = await benchEpoch(p);
  out.epoch = e.shape;
  const { witness, wtnsMem } = await benchWasmWitness(p, keys, e);
  witness.cpp = await benchCppWitness(p, e, notes);
  out.witness = witness;
  const rawp = await benchRawProving(p, keys, wtnsMem);
  const runs = await benchPipelineRuns(p, keys, e);
  out.proving = provingResult(e, rawp, runs);
  const publicDir = path.join(runs.lastOut, "public");
  out.verification = await benchAudit(p, publicDir, rawp.verifyTimes);
  out.sizes = await benchSizes(e, rawp, publicDir, runs.lastOut);
  if (GAS)
    out.gas = await epochGas(p, keys, e.build, publicDir, notes, e.positions, {
      proveMax: gasProveMax(p.name),
      segmentCounts: GAS_SEGMENTS,
      secret: BENCH_SECRET,
      log,
    });
  else out.gas = { skipped: "--no-gas" };
  out.protocols = {
    groth16: "measured above",
    plonk: "not measured: the pipeline, bundle, audit and registry support Groth16 only",
    fflonk: "not measured: the pipeline, bundle, audit and registry support Groth16 only",
  };
  await fs.rm(runs.runDir, { recursive: true, force: true });
  return out;
}

// ------------------------------------------------------------------------------------ main

/**
 * bench/audit.json (scripts/bench-audit.ts: the audit of an epoch of many proofs) and bench/gas.json
 * (scripts/bench-gas.ts: an epoch's gas at full batches), those that exist.
 */
async function atScale(): Promise<AtScale> {
  const read = async (f: string) => {
    const text = await fs.readFile(path.join(OUT, f), "utf8").catch(() => undefined);
    return text === undefined ? undefined : (JSON.parse(text) as Json);
  };
  return { audit: await read("audit.json"), gas: await read("gas.json") };
}

/** --render: recompute the targets and the before/after table and rewrite BENCHMARKS.md from an existing DIR/results.json. */
async function render() {
  const file = path.join(OUT, "results.json");
  const results = JSON.parse(await fs.readFile(file, "utf8")) as Json;
  results.targets = targets(results.profiles as Record<string, Json>, Number(results.runs), await atScale());
  if (results.baseline)
    results.comparison = compareBaseline(results.profiles as Record<string, Json>, results.baseline as Json);
  await atomicWriteJson(file, results);
  await atomicWrite(path.join(OUT, "BENCHMARKS.md"), markdown(results));
  log(`re-rendered ${path.relative(process.cwd(), file)} and BENCHMARKS.md`);
}

async function main() {
  if (args.render) return render();
  if (args.queue) return void (await benchQueue({ quick: QUICK, out: args.out })); // scripts/bench-queue.ts
  const t0 = now();
  const results: Json = {
    format: "bulkhead-bench",
    version: 1,
    date: new Date().toISOString(),
    command: ["npm run bench --", ...process.argv.slice(2)].join(" "),
    mode: QUICK ? "quick" : "full",
    runs: RUNS,
    machine: machine(),
    options: {
      profiles: PROFILE_SPECS,
      ptau: args.ptau ?? null,
      cpp: CPP_ARG,
      gas: GAS,
      gasProveMax: Object.fromEntries(PROFILE_SPECS.map((x) => [x.name, gasProveMax(x.name)])),
    },
  };
  const profiles: Record<string, Json> = {};
  try {
    for (const spec of PROFILE_SPECS) {
      log(`profile ${spec.name}${spec.constraintsOnly ? " (constraints only)" : ""}`);
      profiles[spec.name] = await benchProfile(getProfile(spec.name), spec.constraintsOnly);
    }
  } finally {
    await terminateCurves();
  }
  if (args.merge) {
    // --merge: add (or replace) this run's profiles in an existing DIR/results.json
    const prev = JSON.parse(await fs.readFile(path.join(OUT, "results.json"), "utf8")) as Json;
    const merged = { ...(prev.profiles as Record<string, Json>), ...profiles };
    for (const k of Object.keys(profiles))
      (merged[k] as Json).mergedFrom = { command: results.command, date: results.date };
    Object.assign(results, prev, {
      command: `${prev.command}; ${results.command}`,
      loadAvgAtEnd: os.loadavg().map((x) => round(x, 2)),
    });
    results.profiles = merged;
  } else results.profiles = profiles;
  if (args.baseline) {
    results.baseline = await benchBaseline({
      rev: args.baseline === "v1" ? V1_REVISION : args.baseline,
      profiles: args["baseline-profiles"] ?? "default",
      runs: RUNS,
      noGas: !GAS,
      log,
    });
    results.comparison = compareBaseline(results.profiles as Record<string, Json>, results.baseline as Json);
  }
  results.targets = targets(results.profiles as Record<string, Json>, Number(results.runs), await atScale());
  results.loadAvgAtEnd ??= os.loadavg().map((x) => round(x, 2));
  results.elapsedSeconds ??= round((now() - t0) / 1000, 0);
  results.maxRssMiB ??= maxRssMiB();
  await fs.mkdir(OUT, { recursive: true });
  await atomicWriteJson(path.join(OUT, "results.json"), results);
  await atomicWrite(path.join(OUT, "BENCHMARKS.md"), markdown(results));
  log(
    `wrote ${path.relative(process.cwd(), path.join(OUT, "results.json"))} and BENCHMARKS.md in ${results.elapsedSeconds}s`,
  );
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
