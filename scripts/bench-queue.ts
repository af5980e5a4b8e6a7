/**
 * Distributed-proving benchmark: `npm run bench -- --queue [--quick]`, or on its own
 * `tsx scripts/bench-queue.ts [--quick] [--positions N] [--repeats K] [--prover snarkjs|native]
 * [--profile test] [--rss 10000,50000,100000]
 * [--validate 10000 --validate-profile default --validate-workers 2 --validate-minutes M] [--out DIR]`.
 *
 *  - scaling: the same synthetic epoch (`--profile`, default test) proven through BullMQ by 1 and
 *    by 2 `bulkhead worker -w 1 --prover P` processes (one core each; snarkjs with
 *    `--single-thread`; `--prover`, default snarkjs), K pairs interleaved
 *    (1, 2, 1, 2, …) so that the shared machine's load hits both alike; medians, their ratio
 *    (target >= 1.8x), each pair's ratio, the load average of every run;
 *  - coordinator overhead per job: the coordinator's own CPU time during the proving stage (input
 *    building, queue traffic, checking and verifying each returned proof, work files) divided by
 *    the jobs, and its wall-time overhead (1-worker wall time minus the worker's proving time);
 *  - peak RSS of the coordinator without proving (build the epoch, hash every input, build every
 *    input again one at a time) at 10k/50k/100k default-profile positions, each in a fresh child
 *    process, and per position;
 *  - the model check of docs/SCALE.md (--validate): a real epoch proven by single-core workers,
 *    their CPU per proof against the model's core-seconds per proof (stopped after M minutes:
 *    a partial run, said so).
 * Starts its own redis-server (127.0.0.1, free port, no persistence). Writes DIR/queue.json and
 * DIR/QUEUE.md atomically (DIR: bench, or build/bench-quick with --quick); a section not measured
 * (`--positions 0`, `--rss ""`, no --validate) keeps its figures from DIR/queue.json.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildEpoch } from "../src/epoch/plan.js";
import { jobKey, proveSnapshot } from "../src/pipeline.js";
import type { ProofBackend } from "../src/prove/backend.js";
import { QueueBackend } from "../src/prove/queue/coordinator.js";
import { parseSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import { getProfile, type Profile } from "../src/spec/profiles.js";
import { atomicWrite, atomicWriteJson } from "../src/util/fsutil.js";
import { BUILD_DIR, PACKAGE_ROOT } from "../src/util/paths.js";
import { createReporter } from "../src/util/progress.js";
import { benchLog, median, round } from "./bench-cli.js";

type Json = Record<string, unknown>;
const log = benchLog("bench-queue", true);
const BIN = path.join(PACKAGE_ROOT, "bin", "bulkhead.mjs");
const SECRET_HEX = "be".repeat(32);

/** A healthy synthetic epoch: one lot and one liability per position, `segments` segments. */
export function syntheticQueueSnapshot(profile: Profile, positions: number, segments = 1): Snapshot {
  const assets = [
    { symbol: "ETH", decimals: 18, price: "3012.55", cf: 8500 },
    { symbol: "USDC", decimals: 6, price: "1", cf: 10000 },
  ];
  const raw = {
    epoch: 12,
    assets: assets.map((a) => ({ symbol: a.symbol, decimals: a.decimals })),
    segments: Array.from({ length: segments }, (_, s) => ({
      id: s + 1,
      name: `queue bench ${s + 1}`,
      marginBps: 1000,
      prices: Object.fromEntries(assets.map((a) => [a.symbol, a.price])),
      collateralFactorBps: Object.fromEntries(assets.map((a) => [a.symbol, a.cf])),
    })),
    collateral: Array.from({ length: positions }, (_, i) => ({
      lotId: `0x${(0xc0000000 + i).toString(16)}`,
      segment: (i % segments) + 1,
      asset: (assets[i % 2] as (typeof assets)[number]).symbol,
      amount: `${10 + (i % 90)}`,
    })),
    liabilities: Array.from({ length: positions }, (_, i) => ({
      account: `queue-bench-${i}`,
      segment: (i % segments) + 1,
      asset: (assets[i % 2] as (typeof assets)[number]).symbol,
      amount: "1",
    })),
  };
  return parseSnapshot(raw, { profile }, `queue bench (${positions} positions)`);
}

// ------------------------------------------------------------------------------------ redis + workers

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

async function startRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (spawnSync("redis-server", ["--version"]).error)
    throw new Error("redis-server not found (Debian: apt-get install -y redis-server)");
  const port = await freePort();
  const p = spawn("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  let out = "";
  p.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await until(() => out.includes("Ready to accept connections"), 60_000, "redis-server");
  return {
    url: `redis://127.0.0.1:${port}/0`,
    stop: async () => {
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await exited;
    },
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A worker's `proved <job> with <prover> in <ms> ms (process CPU <ms> ms)` lines. */
function provedLines(out: string): { job: string; prover: string; ms: number; cpuMs: number }[] {
  return [...out.matchAll(/proved (\S+) with (\w+) in (\d+) ms \(process CPU (\d+) ms\)/g)].map((m) => ({
    job: String(m[1]),
    prover: String(m[2]),
    ms: Number(m[3]),
    cpuMs: Number(m[4]),
  }));
}

/** The prover of the bench's workers: snarkjs (one single-threaded core) or native (one thread). */
export type BenchProver = "native" | "snarkjs";

interface WorkerProc {
  child: ChildProcess;
  output: () => string;
}

/**
 * `bulkhead worker -w 1 --prover P` (snarkjs: `--single-thread`), one core, ready (connected)
 * when this resolves.
 */
async function startWorker(url: string, queue: string, prover: BenchProver): Promise<WorkerProc> {
  const oneCore = prover === "snarkjs" ? ["--single-thread"] : [];
  const child = spawn(
    process.execPath,
    [BIN, "worker", "--queue", url, "--queue-name", queue, "-w", "1", "--prover", prover, ...oneCore],
    {
      cwd: PACKAGE_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await until(() => /proving thread/.test(out) || child.exitCode !== null, 300_000, "a worker to connect");
  if (child.exitCode !== null) throw new Error(`worker exited: ${out}`);
  return { child, output: () => out };
}

async function stopWorker(w: WorkerProc): Promise<void> {
  const exited = new Promise((r) => w.child.once("exit", r));
  w.child.kill("SIGTERM");
  await exited;
}

// ------------------------------------------------------------------------------------ measurements

/** Prove `snapshot` through the queue with `n` single-core worker processes. */
async function queueRun(
  url: string,
  snapshot: Snapshot,
  n: number,
  tmp: string,
  run: { prover: BenchProver; profile: string },
): Promise<Json> {
  const queue = `bench-${n}-${Date.now()}`;
  const workers: WorkerProc[] = [];
  for (let i = 0; i < n; i++) workers.push(await startWorker(url, queue, run.prover));
  const secretFile = path.join(tmp, "secret");
  await fs.writeFile(secretFile, `${SECRET_HEX}\n`);
  const loadAvgBefore = os.loadavg().map((x) => round(x, 2));
  try {
    // the coordinator's CPU in the queue stage only (queue traffic, checks, verification, work files)
    const qb = new QueueBackend({ url, queueName: queue, reconcileMs: 1000 });
    let cpu = { user: 0, system: 0 };
    const measured: ProofBackend = {
      name: qb.name,
      prove: async (tasks, ctx) => {
        const cpu0 = process.cpuUsage();
        await qb.prove(tasks, ctx);
        cpu = process.cpuUsage(cpu0);
      },
    };
    const s = await proveSnapshot({
      snapshot,
      out: path.join(tmp, `out-${n}-${Date.now()}`),
      profile: run.profile,
      secretFile,
      selfAudit: false,
      backend: measured,
    });
    const coordinatorCpuMs = (cpu.user + cpu.system) / 1000;
    const proved = workers.flatMap((w) => provedLines(w.output()));
    return {
      workers: n,
      provers: [...new Set(proved.map((x) => x.prover))],
      proofs: s.proofs.proven,
      proveWallMs: s.timings.proveMs,
      endToEndMs: s.timings.totalMs,
      workerProofMs: proved.map((x) => x.ms),
      sumWorkerProofMs: proved.reduce((a, x) => a + x.ms, 0),
      sumWorkerCpuMs: proved.reduce((a, x) => a + x.cpuMs, 0),
      coordinatorCpuMsTotal: round(coordinatorCpuMs, 0),
      proofsPerWorker: workers.map((w) => provedLines(w.output()).length),
      loadAvgBefore,
      loadAvgAfter: os.loadavg().map((x) => round(x, 2)),
    };
  } finally {
    for (const w of workers) await stopWorker(w);
  }
}

/**
 * 1 vs 2 single-core worker processes on the same epoch, interleaved (1, 2, 1, 2, …, `repeats`
 * pairs) so that a change in the shared machine's load hits both sides alike; medians and ratio.
 */
export async function benchScaling(
  positions: number,
  repeats = 1,
  prover: BenchProver = "snarkjs",
  profileName = "test",
): Promise<Json> {
  const profile = getProfile(profileName);
  const snapshot = syntheticQueueSnapshot(profile, positions);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-queue-"));
  const redis = await startRedis();
  try {
    const runs: Json[] = [];
    for (let i = 0; i < repeats; i++) {
      for (const n of [1, 2]) {
        log(
          `scaling: ${positions} ${profileName}-profile positions, ${n} ${prover} worker process(es), pair ${i + 1}/${repeats}`,
        );
        const r = await queueRun(redis.url, snapshot, n, tmp, { prover, profile: profileName });
        log(
          `scaling: ${n} worker(s): ${round(Number(r.proveWallMs) / 1000)} s, load ${(r.loadAvgBefore as number[]).join(" ")}`,
        );
        runs.push(r);
      }
    }
    const of = (n: number) => runs.filter((r) => r.workers === n);
    const wall = (n: number) => of(n).map((r) => Number(r.proveWallMs));
    const jobs = Number(runs[0]?.proofs);
    const m1 = median(wall(1));
    const m2 = median(wall(2));
    const ratio = m1 / m2;
    const pairRatios = wall(1).map((w, i) => round(w / (wall(2)[i] as number), 2));
    const perJob = (r: Json) => Number(r.coordinatorCpuMsTotal) / jobs;
    const cpuPerProof = (n: number) => median(of(n).map((r) => Number(r.sumWorkerCpuMs) / jobs));
    return {
      profile: profileName,
      prover,
      positions,
      jobs,
      repeats,
      runs,
      medianProveWallMs: { oneWorker: m1, twoWorkers: m2 },
      speedup: round(ratio, 2),
      pairSpeedups: pairRatios,
      target: 1.8,
      met: ratio >= 1.8,
      workerCpuMsPerProof: { oneWorker: round(cpuPerProof(1), 0), twoWorkers: round(cpuPerProof(2), 0) },
      coordinatorCpuMsPerJob: round(median(runs.map(perJob)), 1),
      coordinatorWallOverheadMsPerJob: round(
        median(of(1).map((r) => (Number(r.proveWallMs) - Number(r.sumWorkerProofMs)) / jobs)),
        0,
      ),
      definition:
        "proveWallMs: the pipeline's proving stage (queue the jobs, wait, verify and store each proof); workers are started and connected before it; runs interleaved 1, 2, 1, 2, …; speedup = median 1-worker wall / median 2-worker wall, pairSpeedups = each pair's ratio; worker CPU per proof: the worker process's CPU during each job (all threads), summed / proofs (with the native prover this excludes the bulkhead-prover and witness processes: not a proof's CPU); coordinator CPU: process.cpuUsage of the coordinator during the queue stage (queueing with input building, checking and verifying each proof, work files) / jobs, median over runs; wall overhead: (1-worker wall - sum of the worker's proving times) / jobs, median (with the native prover a worker has two jobs in flight, its proving times overlap, and this figure is not an overhead); a native worker with -w 1 proves on one thread while its next job's witness generator runs beside it",
      cores: os.availableParallelism(),
      loadAvg: os.loadavg().map((x) => round(x, 2)),
    };
  } finally {
    await redis.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Child-process body: what the coordinator does for `positions` default-profile positions apart
 * from proving: build the epoch hashing every input into its work key (as the pipeline does),
 * then build every input once more, one at a time (as the provers pull them); print RSS.
 */
async function rssChild(positions: number): Promise<void> {
  const profile = getProfile("default");
  const base = process.memoryUsage().rss;
  const t0 = Date.now();
  const snapshot = syntheticQueueSnapshot(profile, positions, Math.max(1, Math.round(positions / 10_000)));
  const tSnap = Date.now() - t0;
  const keys = new Map<string, string>();
  const build = await buildEpoch(snapshot, profile, new Uint8Array(32).fill(9), {
    onInput: (job, input) => keys.set(job.id, jobKey({ circuit: job.circuit, input }, profile, "bench")),
  });
  const buildMs = Date.now() - t0 - tSnap;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapAfterBuild = process.memoryUsage().heapUsed;
  const tI = Date.now();
  let inputBytes = 0;
  for (const job of build.jobs) inputBytes += JSON.stringify(build.inputOf(job)).length;
  const inputsMs = Date.now() - tI;
  const out = {
    positions,
    segments: snapshot.segments.length,
    jobs: build.jobs.length,
    baseRssMiB: round(base / 2 ** 20, 0),
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
    heapAfterBuildMiB: gc ? round(heapAfterBuild / 2 ** 20, 1) : null,
    inputJsonMiB: round(inputBytes / 2 ** 20, 1),
    snapshotMs: tSnap,
    buildMs,
    inputsMs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export async function benchRss(sizes: number[], keep: readonly Json[] = []): Promise<Json> {
  const rows: Json[] = [];
  for (const n of sizes) {
    log(`peak RSS: ${n} default-profile positions (witnesses + manifest, no proving)`);
    const script = fileURLToPath(import.meta.url);
    const r = spawnSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", script, "--rss-child", String(n)],
      {
        cwd: PACKAGE_ROOT,
        encoding: "utf8",
        maxBuffer: 1 << 20,
      },
    );
    if (r.status !== 0) throw new Error(`rss child ${n}: ${r.stderr}`);
    const row = JSON.parse(r.stdout.trim().split("\n").pop() as string) as Json;
    row.bytesPerPosition = round(((Number(row.peakRssMiB) - Number(row.baseRssMiB)) * 2 ** 20) / n, 0);
    log(`peak RSS: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  // sizes measured earlier (--keep-rss) and not re-measured now
  for (const row of keep) if (!rows.some((x) => x.positions === row.positions)) rows.push(row);
  rows.sort((a, b) => Number(a.positions) - Number(b.positions));
  const first = rows[0];
  const last = rows[rows.length - 1];
  const slopeOf = (f: (r: Json) => number) =>
    first && last && rows.length > 1
      ? (f(last) - f(first)) / (Number(last.positions) - Number(first.positions))
      : null;
  const slope = slopeOf((r) => Number(r.peakRssMiB) * 2 ** 20);
  const heapSlope = slopeOf((r) => Number(r.heapAfterBuildMiB) * 2 ** 20);
  return {
    profile: "default",
    rows,
    marginalBytesPerPosition: slope === null ? null : round(slope, 0),
    marginalHeapBytesPerPosition: heapSlope === null || Number.isNaN(heapSlope) ? null : round(heapSlope, 0),
    definition:
      "one fresh process per size (node --expose-gc): synthetic snapshot parsed, buildEpoch (leaves, trees, manifest, chained states; each circuit input hashed into its work key and dropped, as the pipeline does), then every input built again one at a time (as the provers pull them); peak = process.resourceUsage().maxRSS; per position = (peak - RSS at start) / positions; marginal = slope between the smallest and largest size; heap after build = V8 heap in use after a full GC (what the build retains: snapshot, placements, trees, public signals)",
  };
}

/** SCALE.md's model: core-seconds per proof (witness included), default profile, bench/results.json. */
const MODEL_CORE_S: Record<string, Record<string, number>> = { default: { segment: 11.4, lotlist: 7.8 } };

/** CPU seconds (user + system, all threads) a live process has used, from /proc (Linux). */
async function procCpuS(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const stat = await fs.readFile(`/proc/${pid}/stat`, "utf8").catch(() => null);
  if (!stat) return null;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim();
  return (Number(f[11]) + Number(f[12])) / Number(ticks || 100);
}

/** Segment and lot-list tasks interleaved in their proportions, so a partial run samples both. */
function interleave<T extends { circuit: string }>(tasks: readonly T[]): T[] {
  const seg = tasks.filter((t) => t.circuit === "segment");
  const list = tasks.filter((t) => t.circuit !== "segment");
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < seg.length || j < list.length) {
    if (j >= list.length || (i < seg.length && i * list.length <= j * seg.length)) out.push(seg[i++] as T);
    else out.push(list[j++] as T);
  }
  return out;
}

/**
 * The model check of docs/SCALE.md: a real `positions`-position epoch proven through the queue by
 * `workers` single-core worker processes; the workers' CPU per proof against the model's
 * core-seconds per proof. Stops (a partial run, said so) after `minutes` of proving.
 */
export async function benchValidate(
  positions: number,
  profileName: string,
  workers: number,
  minutes: number,
) {
  const profile = getProfile(profileName);
  const model = MODEL_CORE_S[profileName];
  if (!model) throw new Error(`no model figures for profile ${profileName}`);
  const snapshot = syntheticQueueSnapshot(profile, positions, Math.max(1, Math.round(positions / 10_000)));
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-validate-"));
  const redis = await startRedis();
  const queue = `validate-${Date.now()}`;
  const procs: WorkerProc[] = [];
  const loadAvgBefore = os.loadavg().map((x) => round(x, 2));
  try {
    // the model's figures are snarkjs's
    for (let i = 0; i < workers; i++) procs.push(await startWorker(redis.url, queue, "snarkjs"));
    await fs.writeFile(path.join(tmp, "secret"), `${SECRET_HEX}\n`);
    const qb = new QueueBackend({ url: redis.url, queueName: queue });
    let deadline = 0;
    let total = 0;
    const cpu0 = process.cpuUsage();
    let coordinatorProveCpuMs = 0;
    const bounded: ProofBackend = {
      name: qb.name,
      prove: async (tasks, ctx) => {
        total = tasks.length;
        deadline = Date.now() + minutes * 60_000;
        const c0 = process.cpuUsage();
        try {
          await qb.prove(interleave(tasks), {
            ...ctx,
            onProof: async (t, out) => {
              await ctx.onProof(t, out);
              if (Date.now() > deadline) throw new Error("validation deadline");
            },
          });
        } finally {
          const c = process.cpuUsage(c0);
          coordinatorProveCpuMs = (c.user + c.system) / 1000;
        }
      },
    };
    const t0 = Date.now();
    let finished = true;
    let summary: Awaited<ReturnType<typeof proveSnapshot>> | undefined;
    try {
      summary = await proveSnapshot({
        snapshot,
        out: path.join(tmp, "out"),
        profile: profileName,
        secretFile: path.join(tmp, "secret"),
        selfAudit: false,
        backend: bounded,
        reporter: createReporter({ stream: process.stderr }),
      });
    } catch (err) {
      if (!/validation deadline/.test((err as Error).message)) throw err;
      finished = false;
    }
    const wallMs = Date.now() - t0;
    const coordinatorCpu = process.cpuUsage(cpu0);
    const workerProcCpuS = await Promise.all(procs.map((w) => procCpuS(w.child.pid)));
    const proved = procs.flatMap((w) => provedLines(w.output()));
    const byCircuit = (c: string) => proved.filter((x) => x.job.startsWith(c));
    const circuits = ["segment", "lotlist"].map((c) => {
      const xs = byCircuit(c);
      const cpuS = xs.reduce((a, x) => a + x.cpuMs, 0) / 1000;
      const predictedS = xs.length * (model[c] as number);
      return {
        circuit: c,
        proofs: xs.length,
        measuredCpuS: round(cpuS, 1),
        medianCpuSPerProof: round(median(xs.map((x) => x.cpuMs)) / 1000, 2),
        medianWallSPerProof: round(median(xs.map((x) => x.ms)) / 1000, 2),
        modelCpuSPerProof: model[c],
        predictedCpuS: round(predictedS, 1),
      };
    });
    const measured = circuits.reduce((a, c) => a + c.measuredCpuS, 0);
    const predicted = circuits.reduce((a, c) => a + c.predictedCpuS, 0);
    return {
      profile: profileName,
      positions,
      segments: snapshot.segments.length,
      jobs: total,
      workers,
      finished,
      proofs: proved.length,
      stoppedAfterMinutes: finished ? null : minutes,
      proveSummary: summary ? { proofs: summary.proofs, timings: summary.timings } : null,
      wallMs,
      circuits,
      measuredCpuS: round(measured, 1),
      predictedCpuS: round(predicted, 1),
      deviation: round((measured - predicted) / predicted, 3),
      workerProcessCpuS: workerProcCpuS.map((x) => (x === null ? null : round(x, 1))),
      coordinatorCpuS: round((coordinatorCpu.user + coordinatorCpu.system) / 1e6, 1),
      coordinatorProvingStageCpuS: round(coordinatorProveCpuMs / 1000, 1),
      loadAvgBefore,
      loadAvgAfter: os.loadavg().map((x) => round(x, 2)),
      definition:
        "the epoch's jobs, segment and lot-list interleaved in their proportions, proven through BullMQ by `workers` `bulkhead worker -w 1 --single-thread` processes; measured = the workers' process CPU (user + system, all threads) during each job, summed over the proofs they returned; predicted = the same proofs x the model's core-seconds per proof (docs/SCALE.md); deviation = (measured - predicted) / predicted; worker process CPU = /proc totals when stopped (includes start-up, idle polling, and a job in progress when a partial run stops)",
    };
  } finally {
    for (const w of procs) await stopWorker(w).catch(() => undefined);
    await redis.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

function scalingMarkdown(s: Json): string[] {
  const runs = (s.runs as Json[] | undefined) ?? [];
  const med = s.medianProveWallMs as Json | undefined;
  const lines = [
    `## 1 vs 2 single-core worker processes (${s.prover ?? "snarkjs"} prover, ${s.profile} profile, ${s.positions} positions, ${s.jobs} proofs)`,
    "",
    "| run | workers | proving wall | proofs per worker | worker CPU per proof | load average before |",
    "|---|---|---|---|---|---|",
    ...runs.map(
      (r, i) =>
        `| ${i + 1} | ${r.workers} | ${round(Number(r.proveWallMs) / 1000)} s | ${(r.proofsPerWorker as number[]).join(", ")} | ${round(Number(r.sumWorkerCpuMs) / Number(r.proofs), 0)} ms | ${(r.loadAvgBefore as number[]).join(" ")} |`,
    ),
    "",
  ];
  if (med)
    lines.push(
      `Median proving wall: 1 worker ${round(Number(med.oneWorker) / 1000)} s, 2 workers ${round(Number(med.twoWorkers) / 1000)} s: speedup **${s.speedup}x** (target ${s.target}x: ${s.met ? "met" : "missed"}); per pair: ${(s.pairSpeedups as number[]).join(", ")}. ${s.cores} cores, load average at the end ${(s.loadAvg as number[]).join(" ")}.`,
    );
  lines.push(
    `Coordinator: ${s.coordinatorCpuMsPerJob} ms CPU per job (median over runs), ${s.coordinatorWallOverheadMsPerJob} ms wall per job beyond the worker's proving time (1 worker, median).`,
    "",
  );
  return lines;
}

function rssMarkdown(m: Json): string[] {
  const lines = [
    "## Peak RSS of the coordinator without proving (default profile)",
    "",
    "Build the epoch (every input hashed into its work key and dropped), then build every input again one at a time, as the provers pull them.",
    "",
    "| positions | segments | jobs | peak RSS | per position | heap after build | build | inputs again |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const row of m.rows as Json[])
    lines.push(
      `| ${row.positions} | ${row.segments} | ${row.jobs} | ${row.peakRssMiB} MiB | ${row.bytesPerPosition} B | ${row.heapAfterBuildMiB ?? "?"} MiB | ${round(Number(row.buildMs) / 1000)} s | ${row.inputsMs === undefined ? "?" : `${round(Number(row.inputsMs) / 1000)} s`} |`,
    );
  lines.push(
    "",
    `Marginal: ${m.marginalBytesPerPosition} bytes of peak RSS per position${m.marginalHeapBytesPerPosition ? `, ${m.marginalHeapBytesPerPosition} bytes of live heap per position` : ""}.`,
    "",
  );
  return lines;
}

function validationMarkdown(v: Json): string[] {
  const lines = [
    `## Model check: ${v.positions} positions, ${v.profile} profile, ${v.workers} single-core workers`,
    "",
    `${v.finished ? "Complete" : `Partial: stopped after ${v.stoppedAfterMinutes} min of proving`}: ${v.proofs} of ${v.jobs} proofs, wall ${round(Number(v.wallMs) / 1000)} s, load average ${(v.loadAvgBefore as number[]).join(" ")} before, ${(v.loadAvgAfter as number[]).join(" ")} after.`,
    "",
    "| circuit | proofs | measured CPU | per proof (median) | model per proof | predicted CPU |",
    "|---|---|---|---|---|---|",
  ];
  for (const c of v.circuits as Json[])
    lines.push(
      `| ${c.circuit} | ${c.proofs} | ${c.measuredCpuS} s | ${c.medianCpuSPerProof} s | ${c.modelCpuSPerProof} s | ${c.predictedCpuS} s |`,
    );
  lines.push(
    "",
    `Measured ${v.measuredCpuS} core-s vs model ${v.predictedCpuS} core-s: deviation ${round(Number(v.deviation) * 100)} %. Coordinator CPU ${v.coordinatorCpuS} s in all (${v.coordinatorProvingStageCpuS} s in the proving stage).`,
    "",
  );
  return lines;
}

function markdown(r: Json): string {
  const lines = ["# Distributed proving benchmark (BullMQ/Redis)", "", `${r.date} · \`${r.command}\``, ""];
  const at = (x: Json) =>
    x.measuredAt ? [`(measured ${x.measuredAt}${x.command ? ` with \`${x.command}\`` : ""})`, ""] : [];
  if (r.scaling) lines.push(...scalingMarkdown(r.scaling as Json), ...at(r.scaling as Json));
  if (r.rss) lines.push(...rssMarkdown(r.rss as Json), ...at(r.rss as Json));
  if (r.validation) lines.push(...validationMarkdown(r.validation as Json), ...at(r.validation as Json));
  return lines.join("\n");
}

export interface BenchQueueOptions {
  quick: boolean;
  out?: string;
  /** scaling epoch size (0: keep the figures in DIR/queue.json) */
  positions?: number;
  /** 1-worker/2-worker pairs of the scaling runs (default 1) */
  repeats?: number;
  /** RSS sizes ([]: keep the figures in DIR/queue.json) */
  rss?: number[];
  /** the model check: positions (default: keep the figures in DIR/queue.json) */
  validate?: { positions: number; profile: string; workers: number; minutes: number };
  /** the scaling runs' worker prover (default snarkjs) and profile (default test) */
  prover?: BenchProver;
  profile?: string;
}

/** An earlier section of DIR/queue.json, kept with the date it was measured. */
const kept = (prev: Json | undefined, key: string): Json | undefined => {
  const x = prev?.[key] as Json | undefined;
  return x
    ? { ...x, measuredAt: x.measuredAt ?? prev?.date, command: x.command ?? prev?.command }
    : undefined;
};

export async function benchQueue(opts: BenchQueueOptions): Promise<Json> {
  const out = path.resolve(
    opts.out ?? (opts.quick ? path.join(BUILD_DIR, "bench-quick") : path.join(PACKAGE_ROOT, "bench")),
  );
  const res: Json = {
    format: "bulkhead-bench-queue",
    version: 2,
    date: new Date().toISOString(),
    command: ["tsx scripts/bench-queue.ts", ...process.argv.slice(2)].join(" "),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.availableParallelism(),
      node: process.version,
    },
  };
  const positions = opts.positions ?? (opts.quick ? 16 : 32);
  // sections not measured now keep the figures of an earlier run in DIR/queue.json
  const prev = await fs.readFile(path.join(out, "queue.json"), "utf8").then(
    (t) => JSON.parse(t) as Json,
    () => undefined,
  );
  res.scaling =
    positions > 0
      ? await benchScaling(positions, opts.repeats ?? 1, opts.prover ?? "snarkjs", opts.profile ?? "test")
      : kept(prev, "scaling");
  const sizes = opts.rss ?? (opts.quick ? [2000] : [10_000, 50_000, 100_000]);
  res.rss =
    sizes.length > 0
      ? await benchRss(sizes, ((prev?.rss as Json | undefined)?.rows as Json[]) ?? [])
      : kept(prev, "rss");
  const v = opts.validate;
  res.validation = v
    ? await benchValidate(v.positions, v.profile, v.workers, v.minutes)
    : kept(prev, "validation");
  await fs.mkdir(out, { recursive: true });
  await atomicWriteJson(path.join(out, "queue.json"), res);
  await atomicWrite(path.join(out, "QUEUE.md"), markdown(res));
  log(`wrote ${path.join(out, "queue.json")} and QUEUE.md`);
  return res;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      positions: { type: "string" },
      repeats: { type: "string" },
      rss: { type: "string" },
      out: { type: "string" },
      "rss-child": { type: "string" },
      validate: { type: "string" },
      "validate-profile": { type: "string", default: "default" },
      "validate-workers": { type: "string", default: "2" },
      "validate-minutes": { type: "string", default: "60" },
      json: { type: "boolean", default: false },
      prover: { type: "string", default: "snarkjs" },
      profile: { type: "string", default: "test" },
    },
  });
  if (values["rss-child"]) return rssChild(Number(values["rss-child"]));
  const num = (x: string | undefined, flag: string): number | undefined => {
    if (x === undefined) return undefined;
    const n = Number(x);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag}: "${x}" is not a non-negative number`);
    return n;
  };
  const prover = values.prover as string;
  if (prover !== "native" && prover !== "snarkjs")
    throw new Error(`--prover: "${prover}" is not a prover (expected native or snarkjs)`);
  getProfile(values.profile as string);
  const res = await benchQueue({
    prover,
    profile: values.profile,
    quick: values.quick ?? false,
    out: values.out,
    positions: num(values.positions, "--positions"),
    repeats: num(values.repeats, "--repeats"),
    rss: values.rss === undefined ? undefined : values.rss.split(",").filter(Boolean).map(Number),
    validate: values.validate
      ? {
          positions: num(values.validate, "--validate") as number,
          profile: values["validate-profile"] as string,
          workers: num(values["validate-workers"], "--validate-workers") as number,
          minutes: num(values["validate-minutes"], "--validate-minutes") as number,
        }
      : undefined,
  });
  if (values.json) process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench-queue failed: ${(err as Error).stack ?? err}\n`);
      process.exit(1);
    },
  );
}
