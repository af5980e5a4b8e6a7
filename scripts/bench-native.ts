/**
 * Native prover against snarkjs, side by side in one run:
 *
 *   tsx scripts/bench-native.ts [--quick] [--profiles test,default,large] [--runs K]
 *     [--pipeline-profile default] [--pipeline-positions P] [--scale N] [--out DIR] [--json]
 *
 *  - per proof, segment and lot list, each profile: the native prover (keys loaded once, then
 *    native witness generator + `serve` prove per proof: what the pipeline runs) and snarkjs
 *    (`groth16.fullProve`: wasm witness + prove, snarkjs's own curve threads), K repetitions
 *    interleaved (native, snarkjs, native, snarkjs, …) so that the machine's load hits both alike;
 *    medians, ratio, and the native time broken down from the prover's `timings` (witness
 *    generator, witness file read, A/B/C evaluation, FFT, MSM G1, MSM G2, key load once) plus the
 *    client's I/O (wall minus witness generator minus the prover's total);
 *  - pipeline: proveSnapshot on a synthetic epoch (scripts/bench-snapshot.ts) at the pipeline
 *    profile on all cores, with each prover, K runs interleaved: positions per second of the
 *    proving stage (every proof verified before it is stored on the native side);
 *  - with --scale N: one native proveSnapshot of N positions at the default profile (the
 *    docs/SCALE.md model check): proving time, positions/s, core-seconds per position.
 * Every proof is verified (outside the timings). Writes DIR/native.json and DIR/NATIVE.md
 * atomically (DIR: bench, or build/bench-quick with --quick); progress on stderr. Run it on a
 * quiet machine: no tests, helpers or other benchmarks at the same time.
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { buildEpoch, type ProofJob } from "../src/epoch/plan.js";
import { proveSnapshot } from "../src/pipeline.js";
import { type NativeJobTimings, NativeSession } from "../src/prove/native.js";
import type { ProverName } from "../src/prove/prover.js";
import { type CircuitName, getProfile, type Profile } from "../src/spec/profiles.js";
import { type Artifacts, ensureCircuit } from "../src/toolchain/artifacts.js";
import { ensureNativeProver } from "../src/toolchain/native.js";
import { ensureNativeWitnesses } from "../src/toolchain/witness.js";
import { terminateCurves } from "../src/util/curve.js";
import { atomicWrite, atomicWriteJson } from "../src/util/fsutil.js";
import { buildDir, PACKAGE_ROOT } from "../src/util/paths.js";
import { sj } from "../src/util/snarkjs.js";
import { arg, benchLog, median, round } from "./bench-cli.js";
import { syntheticSnapshot } from "./bench-snapshot.js";

type Json = Record<string, unknown>;
const log = benchLog("bench-native", true);
const QUICK = process.argv.includes("--quick");
const RUNS = Math.max(1, Number(arg("runs", QUICK ? "1" : "5")));
const PROFILES = arg("profiles", QUICK ? "test" : "test,default,large")
  .split(",")
  .map((p) => getProfile(p.trim()));
const PIPE_PROFILE = getProfile(arg("pipeline-profile", QUICK ? "test" : "default"));
const SCALE = Number(arg("scale", "0"));
const OUT = path.resolve(
  arg("out", QUICK ? path.join(buildDir(), "bench-quick") : path.join(PACKAGE_ROOT, "bench")),
);
const THREADS = os.availableParallelism();
const SECRET = new Uint8Array(32).fill(0x5a);

interface Keys {
  art: Record<CircuitName, Artifacts>;
  witness: Record<CircuitName, string>;
}

async function keysFor(p: Profile): Promise<Keys> {
  const art = {
    segment: await ensureCircuit("segment", p.name),
    lotlist: await ensureCircuit("lotlist", p.name),
  };
  log(`${p.name}: native witness generators (built once, cached)`);
  const witness = await ensureNativeWitnesses(["segment", "lotlist"], p.name);
  return { art, witness };
}

/** One full segment batch and one full lot-list batch of a synthetic epoch. */
async function jobsFor(
  p: Profile,
): Promise<{ build: Awaited<ReturnType<typeof buildEpoch>>; jobs: ProofJob[] }> {
  const perSegment = Math.max(p.lotsPerBatch, p.liabsPerBatch, p.lotsPerGlobalBatch);
  const build = await buildEpoch(syntheticSnapshot(p, 1, 1, perSegment), p, SECRET);
  const seg = build.jobs.find((j) => j.circuit === "segment");
  const list = build.jobs.find((j) => j.circuit === "lotlist");
  if (!seg || !list) throw new Error("the synthetic epoch has no segment or lot-list job");
  return { build, jobs: [seg, list] };
}

async function verified(a: Artifacts, signals: string[], proof: unknown, what: string): Promise<void> {
  if (!(await sj.groth16.verify(a.vkey, signals, proof as never)))
    throw new Error(`${what}: the proof does not verify`);
}

/** Per-proof times, native vs snarkjs, interleaved, for one profile. */
async function perProof(p: Profile, bin: string): Promise<Json> {
  const keys = await keysFor(p);
  const { build, jobs } = await jobsFor(p);
  const session = new NativeSession({
    bin,
    threads: THREADS,
    witness: { [keys.art.segment.zkey]: keys.witness.segment, [keys.art.lotlist.zkey]: keys.witness.lotlist },
  });
  const out: Json = {};
  try {
    const loadMs: Record<string, number> = {};
    for (const c of ["segment", "lotlist"] as const) {
      const t = performance.now();
      await session.load(keys.art[c].zkey);
      loadMs[c] = round(performance.now() - t, 0);
    }
    for (const job of jobs) {
      const a = keys.art[job.circuit];
      const input = build.inputOf(job);
      const native: { wallMs: number; t: NativeJobTimings }[] = [];
      const snark: number[] = [];
      // one warm-up of each, then RUNS interleaved pairs
      for (let i = 0; i <= RUNS; i++) {
        log(`${p.name} ${job.circuit}: run ${i}/${RUNS} (0 = warm-up): native, then snarkjs`);
        const t0 = performance.now();
        const n = await session.prove(a.zkey, input);
        const nativeMs = performance.now() - t0;
        await verified(a, n.publicSignals, n.proof, `${p.name} ${job.circuit} native`);
        const t1 = performance.now();
        const s = await sj.groth16.fullProve(input, a.wasm, a.zkey);
        const snarkMs = performance.now() - t1;
        await verified(a, s.publicSignals, s.proof, `${p.name} ${job.circuit} snarkjs`);
        if (n.publicSignals.join() !== s.publicSignals.join())
          throw new Error(`${p.name} ${job.circuit}: native and snarkjs public signals differ`);
        if (i === 0) continue;
        native.push({ wallMs: nativeMs, t: n.timings });
        snark.push(snarkMs);
      }
      const med = (f: (x: (typeof native)[number]) => number) => round(median(native.map(f)), 1);
      const nativeMs = med((x) => x.wallMs);
      const snarkMs = round(median(snark), 1);
      out[job.circuit] = {
        constraints: a.meta.constraints,
        nativeMs,
        snarkjsMs: snarkMs,
        speedup: round(snarkMs / nativeMs, 2),
        nativeRunsMs: native.map((x) => round(x.wallMs, 0)),
        snarkjsRunsMs: snark.map((x) => round(x, 0)),
        nativeBreakdownMs: {
          witnessGenerator: med((x) => x.t.witnessMs),
          witnessRead: med((x) => x.t.wtnsMs),
          abc: med((x) => x.t.abcMs),
          fft: med((x) => x.t.fftMs),
          msmG1: med((x) => x.t.msmG1Ms),
          msmG2: med((x) => x.t.msmG2Ms),
          proverTotal: med((x) => x.t.totalMs),
          clientIo: med((x) => x.wallMs - x.t.witnessMs - x.t.totalMs),
          keyLoadOnce: loadMs[job.circuit],
        },
      };
    }
  } finally {
    await session.close();
    await terminateCurves();
  }
  return out;
}

/** The pipeline's proving stage with one prover: positions per second. */
async function pipelineRun(p: Profile, positions: number, prover: ProverName, tmp: string, i: number) {
  const snapshot = syntheticSnapshot(p, 1, Math.max(1, Math.round(positions / 10_000)), positions);
  const secretFile = path.join(tmp, "secret");
  await fs.writeFile(secretFile, Buffer.from(SECRET).toString("hex"));
  const out = path.join(tmp, `${prover}-${i}`);
  const s = await proveSnapshot({ snapshot, out, profile: p.name, secretFile, prover, selfAudit: false });
  await fs.rm(out, { recursive: true, force: true });
  if (s.prover.used !== prover) throw new Error(`asked for ${prover}, ${s.prover.used} proved`);
  return { proveMs: s.timings.proveMs, proofs: s.proofs.proven, incidents: s.prover.incidents.length };
}

async function pipeline(p: Profile, positions: number): Promise<Json> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-native-"));
  const runs: Record<ProverName, { proveMs: number; proofs: number; incidents: number }[]> = {
    native: [],
    snarkjs: [],
  };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const prover of ["native", "snarkjs"] as const) {
        log(`pipeline ${p.name}, ${positions} positions, ${prover}: run ${i + 1}/${RUNS}`);
        runs[prover].push(await pipelineRun(p, positions, prover, tmp, i));
      }
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  const pps = (prover: ProverName) =>
    round(positions / (median(runs[prover].map((r) => r.proveMs)) / 1000), 2);
  return {
    profile: p.name,
    positions,
    cores: THREADS,
    proofs: runs.native[0]?.proofs,
    positionsPerSecond: { native: pps("native"), snarkjs: pps("snarkjs") },
    speedup: round(pps("native") / pps("snarkjs"), 2),
    proveMsRuns: { native: runs.native.map((r) => r.proveMs), snarkjs: runs.snarkjs.map((r) => r.proveMs) },
    nativeIncidents: runs.native.reduce((n, r) => n + r.incidents, 0),
    definition:
      "proveSnapshot's proving stage (timings.proveMs: inputs, proofs, per-proof verification on the native side, work files), median over runs interleaved native/snarkjs, all cores (-w default)",
  };
}

async function scale(positions: number): Promise<Json> {
  const p = getProfile("default");
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-scale-"));
  try {
    log(`scale: ${positions} positions, default profile, native`);
    const r = await pipelineRun(p, positions, "native", tmp, 0);
    const s = r.proveMs / 1000;
    return {
      profile: "default",
      positions,
      proofs: r.proofs,
      proveS: round(s, 1),
      positionsPerSecond: round(positions / s, 2),
      coreSecondsPerPosition: round((s * THREADS) / positions, 4),
      coreHoursPer1M: round((s * THREADS * (1_000_000 / positions)) / 3600, 1),
      cores: THREADS,
      incidents: r.incidents,
    };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function markdown(r: Json): string {
  const L = [
    "# Native prover vs snarkjs",
    "",
    `Measured ${r.date} on ${(r.machine as Json).cpu} (${(r.machine as Json).cores} cores), command: \`${r.command}\`.`,
    "",
    "## Per proof (median ms; native = witness generator + prover, keys loaded)",
    "",
    "| profile | circuit | constraints | native | snarkjs | speedup | witness gen | wtns read | A,B,C | FFT | MSM G1 | MSM G2 | client I/O | key load (once) |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [profile, per] of Object.entries(r.perProof as Record<string, Json>)) {
    for (const c of ["segment", "lotlist"]) {
      const x = per[c] as Json;
      const b = x.nativeBreakdownMs as Json;
      L.push(
        `| ${profile} | ${c} | ${x.constraints} | ${x.nativeMs} | ${x.snarkjsMs} | **${x.speedup}x** | ${b.witnessGenerator} | ${b.witnessRead} | ${b.abc} | ${b.fft} | ${b.msmG1} | ${b.msmG2} | ${b.clientIo} | ${b.keyLoadOnce} |`,
      );
    }
  }
  const pl = r.pipeline as Json | undefined;
  if (pl) {
    const pps = pl.positionsPerSecond as Json;
    L.push(
      "",
      `## Pipeline (${pl.profile} profile, ${pl.positions} positions, ${pl.proofs} proofs, ${pl.cores} cores)`,
      "",
      `Positions per second: native **${pps.native}**, snarkjs ${pps.snarkjs} (${pl.speedup}x). ${pl.definition}.`,
    );
  }
  const sc = r.scale as Json | undefined;
  if (sc)
    L.push(
      "",
      `## Scale check (${sc.profile} profile, ${sc.positions} positions, native)`,
      "",
      `${sc.proofs} proofs in ${sc.proveS} s: ${sc.positionsPerSecond} positions/s, ${sc.coreSecondsPerPosition} core-s per position, ${sc.coreHoursPer1M} core-hours per 1M positions (${sc.cores} cores).`,
    );
  return `${L.join("\n")}\n`;
}

async function main(): Promise<void> {
  const bin = await ensureNativeProver({ log });
  const res: Json = {
    format: "bulkhead-bench-native",
    version: 1,
    date: new Date().toISOString(),
    command: ["tsx scripts/bench-native.ts", ...process.argv.slice(2)].join(" "),
    machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: THREADS, node: process.version },
    runs: RUNS,
  };
  const per: Json = {};
  for (const p of PROFILES) per[p.name] = await perProof(p, bin);
  res.perProof = per;
  const positions = Number(arg("pipeline-positions", String(QUICK ? 16 : 4 * PIPE_PROFILE.lotsPerBatch)));
  res.pipeline = await pipeline(PIPE_PROFILE, positions);
  if (SCALE > 0) res.scale = await scale(SCALE);
  await fs.mkdir(OUT, { recursive: true });
  await atomicWriteJson(path.join(OUT, "native.json"), res);
  await atomicWrite(path.join(OUT, "NATIVE.md"), markdown(res));
  log(`wrote ${path.join(OUT, "native.json")} and NATIVE.md`);
  if (process.argv.includes("--json")) process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench-native failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
