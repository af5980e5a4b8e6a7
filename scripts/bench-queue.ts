/**
 * Distributed-proving benchmark (issue 12): `npm run bench -- --queue [--quick]`, or on its own
 * `tsx scripts/bench-queue.ts [--quick] [--positions N] [--rss 10000,50000,100000] [--out DIR]`.
 *
 *  - scaling: the same synthetic test-profile epoch proven through BullMQ by 1 and then by 2
 *    `bulkhead worker -w 1 --single-thread` processes (one core each), in one run; reports the
 *    proving wall times and their ratio (target >= 1.8x);
 *  - coordinator overhead per job: the coordinator's own CPU time during the proving stage (queue
 *    traffic, checking and verifying each returned proof, work files) divided by the jobs, and
 *    its wall-time overhead (1-worker wall time minus the worker's own proving time, per job);
 *  - peak RSS of building the epoch (witnesses and manifest, nothing proven) at 10k/50k/100k
 *    default-profile positions, each in a fresh child process, and per position.
 * Starts its own redis-server (127.0.0.1, free port, no persistence). Writes DIR/queue.json and
 * DIR/QUEUE.md atomically (DIR: bench, or build/bench-quick with --quick); `--positions 0` measures
 * RSS only and keeps the scaling figures already in DIR/queue.json.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildEpoch } from "../src/epoch/plan.js";
import type { ProofBackend } from "../src/prove/backend.js";
import { proveSnapshot } from "../src/prove/pipeline.js";
import { QueueBackend } from "../src/prove/queue/coordinator.js";
import { parseSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import { getProfile, type Profile } from "../src/spec/profiles.js";
import { atomicWrite, atomicWriteJson } from "../src/util/fsutil.js";
import { BUILD_DIR, REPO_ROOT } from "../src/util/paths.js";

type Json = Record<string, unknown>;
const log = (m: string) =>
  process.stderr.write(`[bench-queue ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
const BIN = path.join(REPO_ROOT, "bin", "bulkhead.mjs");
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
  await until(() => out.includes("Ready to accept connections"), 10_000, "redis-server");
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

interface WorkerProc {
  child: ChildProcess;
  output: () => string;
}

/** `bulkhead worker -w 1 --single-thread`, ready (connected) when this resolves. */
async function startWorker(url: string, queue: string): Promise<WorkerProc> {
  const child = spawn(
    process.execPath,
    [BIN, "worker", "--queue", url, "--queue-name", queue, "-w", "1", "--single-thread"],
    {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  await until(() => /proving thread/.test(out) || child.exitCode !== null, 60_000, "a worker to connect");
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
async function queueRun(url: string, snapshot: Snapshot, n: number, tmp: string): Promise<Json> {
  const queue = `bench-${n}-${Date.now()}`;
  const workers: WorkerProc[] = [];
  for (let i = 0; i < n; i++) workers.push(await startWorker(url, queue));
  const secretFile = path.join(tmp, "secret");
  await fs.writeFile(secretFile, `${SECRET_HEX}\n`);
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
      out: path.join(tmp, `out-${n}`),
      profile: "test",
      secretFile,
      selfAudit: false,
      backend: measured,
    });
    const coordinatorCpuMs = (cpu.user + cpu.system) / 1000;
    const proofMs = workers.flatMap((w) =>
      [...w.output().matchAll(/proved \S+ in (\d+) ms/g)].map((m) => Number(m[1])),
    );
    return {
      workers: n,
      proofs: s.proofs.proven,
      proveWallMs: s.timings.proveMs,
      endToEndMs: s.timings.totalMs,
      workerProofMs: proofMs,
      sumWorkerProofMs: proofMs.reduce((a, b) => a + b, 0),
      coordinatorCpuMsTotal: round(coordinatorCpuMs, 0),
      proofsPerWorker: workers.map((w) => (w.output().match(/^proved /gm) ?? []).length),
    };
  } finally {
    for (const w of workers) await stopWorker(w);
  }
}

export async function benchScaling(positions: number): Promise<Json> {
  const profile = getProfile("test");
  const snapshot = syntheticQueueSnapshot(profile, positions);
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-queue-"));
  const redis = await startRedis();
  try {
    log(`scaling: ${positions} test-profile positions, 1 worker process`);
    const one = await queueRun(redis.url, snapshot, 1, tmp);
    log(`scaling: 2 worker processes`);
    const two = await queueRun(redis.url, snapshot, 2, tmp);
    const jobs = Number(one.proofs);
    const ratio = Number(one.proveWallMs) / Number(two.proveWallMs);
    return {
      profile: "test",
      positions,
      jobs,
      oneWorker: one,
      twoWorkers: two,
      speedup: round(ratio, 2),
      target: 1.8,
      met: ratio >= 1.8,
      coordinatorCpuMsPerJob: round(Number(one.coordinatorCpuMsTotal) / jobs, 1),
      coordinatorWallOverheadMsPerJob: round(
        (Number(one.proveWallMs) - Number(one.sumWorkerProofMs)) / jobs,
        0,
      ),
      definition:
        "proveWallMs: the pipeline's proving stage (queue the jobs, wait, verify and store each proof); workers are started and connected before it; speedup = 1-worker / 2-worker wall time; coordinator CPU: process.cpuUsage of the coordinator during the queue stage (queueing, checking and verifying each proof, work files) / jobs; wall overhead: (1-worker wall - sum of the worker's proving times) / jobs",
      cores: os.availableParallelism(),
      loadAvg: os.loadavg().map((x) => round(x, 2)),
    };
  } finally {
    await redis.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Child-process body: build the epoch of `positions` default-profile positions, print RSS. */
async function rssChild(positions: number): Promise<void> {
  const profile = getProfile("default");
  const base = process.memoryUsage().rss;
  const t0 = Date.now();
  const snapshot = syntheticQueueSnapshot(profile, positions, Math.max(1, Math.round(positions / 10_000)));
  const tSnap = Date.now() - t0;
  const build = await buildEpoch(snapshot, profile, new Uint8Array(32).fill(9));
  const out = {
    positions,
    segments: snapshot.segments.length,
    jobs: build.jobs.length,
    baseRssMiB: round(base / 2 ** 20, 0),
    peakRssMiB: round(process.resourceUsage().maxRSS / 1024, 0),
    snapshotMs: tSnap,
    buildMs: Date.now() - t0 - tSnap,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export async function benchRss(sizes: number[], keep: readonly Json[] = []): Promise<Json> {
  const rows: Json[] = [];
  for (const n of sizes) {
    log(`peak RSS: ${n} default-profile positions (witnesses + manifest, no proving)`);
    const script = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ["--import", "tsx", script, "--rss-child", String(n)], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
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
  const slope =
    first && last && rows.length > 1
      ? ((Number(last.peakRssMiB) - Number(first.peakRssMiB)) * 2 ** 20) /
        (Number(last.positions) - Number(first.positions))
      : null;
  return {
    profile: "default",
    rows,
    marginalBytesPerPosition: slope === null ? null : round(slope, 0),
    definition:
      "one fresh process per size: synthetic snapshot parsed, then buildEpoch (leaves, trees, manifest, every circuit input); peak = process.resourceUsage().maxRSS; per position = (peak - RSS at start) / positions; marginal = slope between the smallest and largest size",
  };
}

function markdown(r: Json): string {
  const s = r.scaling as Json | undefined;
  const m = r.rss as Json | undefined;
  const lines = ["# Distributed proving benchmark (BullMQ/Redis)", "", `${r.date} · \`${r.command}\``, ""];
  if (s) {
    const one = s.oneWorker as Json;
    const two = s.twoWorkers as Json;
    lines.push(
      `## 1 vs 2 single-core worker processes (${s.profile} profile, ${s.positions} positions, ${s.jobs} proofs${s.measuredAt ? `; measured ${s.measuredAt}` : ""})`,
      "",
      "| workers | proving wall | proofs per worker |",
      "|---|---|---|",
      `| 1 | ${round(Number(one.proveWallMs) / 1000)} s | ${(one.proofsPerWorker as number[]).join(", ")} |`,
      `| 2 | ${round(Number(two.proveWallMs) / 1000)} s | ${(two.proofsPerWorker as number[]).join(", ")} |`,
      "",
      `Speedup **${s.speedup}x** (target ${s.target}x: ${s.met ? "met" : "missed"}) on ${s.cores} cores, load average ${(s.loadAvg as number[]).join(" ")}.`,
      `Coordinator: ${s.coordinatorCpuMsPerJob} ms CPU per job, ${s.coordinatorWallOverheadMsPerJob} ms wall per job beyond the worker's proving time.`,
      "",
    );
  }
  if (m) {
    lines.push(
      "## Peak RSS of building the epoch (default profile, no proving)",
      "",
      "| positions | segments | jobs | peak RSS | per position | build |",
      "|---|---|---|---|---|---|",
    );
    for (const row of m.rows as Json[])
      lines.push(
        `| ${row.positions} | ${row.segments} | ${row.jobs} | ${row.peakRssMiB} MiB | ${row.bytesPerPosition} B | ${round(Number(row.buildMs) / 1000)} s |`,
      );
    lines.push("", `Marginal: ${m.marginalBytesPerPosition} bytes per position.`, "");
  }
  return lines.join("\n");
}

export async function benchQueue(opts: {
  quick: boolean;
  out?: string;
  positions?: number;
  rss?: number[];
}): Promise<Json> {
  const out = path.resolve(
    opts.out ?? (opts.quick ? path.join(BUILD_DIR, "bench-quick") : path.join(REPO_ROOT, "bench")),
  );
  const res: Json = {
    format: "bulkhead-bench-queue",
    version: 1,
    date: new Date().toISOString(),
    command: ["tsx scripts/bench-queue.ts", ...process.argv.slice(2)].join(" "),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.availableParallelism(),
      node: process.version,
    },
  };
  const positions = opts.positions ?? (opts.quick ? 16 : 32);
  // --positions 0: keep the scaling figures of an earlier run in DIR/queue.json (measure RSS only)
  const prev = await fs.readFile(path.join(out, "queue.json"), "utf8").then(
    (t) => JSON.parse(t) as Json,
    () => undefined,
  );
  if (positions > 0) res.scaling = await benchScaling(positions);
  else if (prev?.scaling)
    res.scaling = { ...(prev.scaling as Json), measuredAt: (prev.scaling as Json).measuredAt ?? prev.date };
  const sizes = opts.rss ?? (opts.quick ? [2000] : [10_000, 50_000, 100_000]);
  if (sizes.length > 0)
    res.rss = await benchRss(sizes, ((prev?.rss as Json | undefined)?.rows as Json[]) ?? []);
  else if (prev?.rss) res.rss = prev.rss; // `--positions 0 --rss ""`: re-render DIR/queue.json only
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
      rss: { type: "string" },
      out: { type: "string" },
      "rss-child": { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (values["rss-child"]) return rssChild(Number(values["rss-child"]));
  const res = await benchQueue({
    quick: values.quick ?? false,
    out: values.out,
    positions: values.positions ? Number(values.positions) : undefined,
    rss: values.rss === undefined ? undefined : values.rss.split(",").filter(Boolean).map(Number),
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
