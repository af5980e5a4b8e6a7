/**
 * `bulkhead worker --queue redis://…`: pulls batch jobs from the BullMQ queue, proves each on the
 * local worker-thread pool (src/prove/pool.ts, all or `workers` cores) and returns the proof.
 *
 * The worker uses its own build artifacts (no building: a worker must run the same build as the
 * coordinator). Before proving, it compares the sha256 of its verification key with the job's:
 * on a mismatch (or missing artifacts) it puts the job back on the queue untouched (no attempt
 * used, so a correct worker can take it), stops, and fails with a clear error; it never returns
 * proofs the coordinator would have to reject.
 *
 * Prover: native (`bulkhead-prover serve` with the circuits' native witness programs, two jobs in
 * flight) when its toolchain is available or `prover: "native"`, else snarkjs on the thread pool
 * (src/prove/prover.ts). The coordinator verifies every returned proof against its own key and
 * derived public signals; a native proof it rejects comes back as a job marked `prover:
 * "snarkjs"`, which this worker proves with snarkjs. A job the native prover fails on (witness
 * program, prover error) is proven with snarkjs here, and the result says why (`incident`), which
 * the coordinator reports by job id.
 *
 * Proving runs in threads and child processes, so this process's event loop stays free to renew
 * BullMQ's job locks; a killed worker's jobs go back to the queue when their lock expires
 * (BullMQ stalled jobs).
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import { type Job, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CircuitName } from "../../spec/profiles.js";
import { loadArtifacts } from "../../toolchain/artifacts.js";
import { sha256Hex } from "../../util/hash.js";
import { type Reporter, silentReporter } from "../../util/progress.js";
import { NativeProverError, NativeSession } from "../native.js";
import { defaultWorkers, type ProveOutput, ProverPool } from "../pool.js";
import { nativeWitnessFor, type ProverName, resolveProverBinary } from "../prover.js";
import {
  connect,
  DEFAULT_QUEUE_NAME,
  outageLimitMs,
  parseJobData,
  parseQueueUrl,
  preflight,
  type QueueJobData,
  type QueueJobResult,
  RESULT_FORMAT,
  settleWithin,
  watchOutage,
} from "./protocol.js";

export interface QueueWorkerOptions {
  /** redis://… or rediss://… */
  url: string;
  queueName?: string;
  /** proving threads = jobs proven at once (default: all cores) */
  workers?: number;
  singleThread?: boolean;
  /** build directory of the artifacts (default <repo>/build) */
  buildDir?: string;
  reporter?: Reporter;
  /** BullMQ job lock (ms): a killed worker's job is retaken after about this long (default 30000) */
  lockMs?: number;
  /** how often this worker looks for stalled jobs of killed workers (ms, default 30000) */
  stalledIntervalMs?: number;
  /** resolve after this many proofs (tests, benchmarks); default: run until `stop()` */
  maxJobs?: number;
  /** how long a lost Redis connection is retried before the worker fails (ms; see outageLimitMs) */
  outageMs?: number;
  /** "native" or "snarkjs"; default native when its toolchain is available (src/prove/prover.ts) */
  prover?: ProverName;
  /** a prebuilt bulkhead-prover binary (default: built into the build directory) */
  nativeBin?: string;
}

export class KeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyMismatchError";
  }
}

interface LocalKeys {
  circuit: CircuitName;
  profile: string;
  wasm: string;
  zkey: string;
  vkeySha256: string;
}

/** What a worker proved, by prover, and its native proofs it did not return. */
export interface WorkerStats {
  proofs: number;
  prover: ProverName;
  /** why native, the default, was not used */
  fallback?: string;
  byProver: Record<ProverName, number>;
  incidents: { job: string; reason: string }[];
}

export interface QueueWorkerHandle {
  /** resolves when the worker stopped: after `stop()`, `maxJobs` proofs, or a refused job (rejects) */
  done: Promise<WorkerStats>;
  stop(): Promise<void>;
}

/**
 * Start a queue worker. Long because the BullMQ processor, its refusal path and the settle/stop
 * closures share one worker's state (pool, counters, refusal); split apart they would need that
 * state threaded through every piece.
 */
export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorkerHandle> {
  const reporter = opts.reporter ?? silentReporter;
  const target = parseQueueUrl(opts.url);
  const outageMs = outageLimitMs(opts.outageMs);
  await preflight(target);
  const name = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const threads = Math.max(1, opts.workers ?? defaultWorkers());
  const choice = await resolveProverBinary(opts.prover, {
    buildDir: opts.buildDir,
    reporter,
    nativeBin: opts.nativeBin,
  });
  const prover = new WorkerProver(choice.bin, threads, opts, reporter);
  const keys = new Map<string, Promise<LocalKeys>>();
  const self = `${os.hostname()}:${process.pid}`;
  const stats: WorkerStats = {
    proofs: 0,
    prover: choice.name,
    ...(choice.fallback ? { fallback: choice.fallback } : {}),
    byProver: { native: 0, snarkjs: 0 },
    incidents: [],
  };
  let refusal: Error | undefined;
  let settle!: (err?: Error) => void;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });

  const keysFor = (d: QueueJobData): Promise<LocalKeys> => {
    const id = `${d.circuit}-${d.profile}`;
    let k = keys.get(id);
    if (!k) {
      k = localKeys(d.circuit, d.profile, opts.buildDir);
      keys.set(id, k);
    }
    return k;
  };

  const processor = async (job: Job, token?: string): Promise<QueueJobResult> => {
    const data = parseJobData(job.data);
    const local = await keysFor(data).catch((err: Error) => err);
    const problem =
      refusal ??
      (local instanceof Error
        ? new KeyMismatchError(`cannot prove ${data.job}: ${local.message}`)
        : local.vkeySha256 !== data.vkeySha256
          ? new KeyMismatchError(
              `refusing job ${data.job}: this worker's ${data.circuit}-${data.profile} verification key is sha256 ${local.vkeySha256}, the coordinator's is ${data.vkeySha256} (run the same build on both; bulkhead build --profile ${data.profile})`,
            )
          : undefined);
    if (problem || local instanceof Error) {
      // give the job back untouched (no attempt used) so that a correct worker proves it
      await job.moveToWait(token);
      if (!refusal) {
        refusal = problem as Error;
        reporter.warn((problem as Error).message);
        setImmediate(() => settle(refusal));
      }
      throw new WaitingError();
    }
    // this process's CPU (all threads) during the job: the proof's own CPU with snarkjs when one
    // job runs at a time (the native prover and witness program are other processes)
    const cpu0 = process.cpuUsage();
    const out = await prover.prove(data, local);
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    stats.proofs++;
    stats.byProver[out.prover]++;
    if (out.incident) stats.incidents.push({ job: data.job, reason: out.incident });
    reporter.info(`proved ${data.job} with ${out.prover} in ${out.ms} ms (process CPU ${cpuMs} ms)`, {
      job: data.job,
      prover: out.prover,
      ms: out.ms,
      cpuMs,
    });
    if (opts.maxJobs !== undefined && stats.proofs >= opts.maxJobs) setImmediate(() => settle());
    return {
      format: RESULT_FORMAT,
      proof: out.proof,
      publicSignals: out.publicSignals,
      ms: out.ms,
      worker: self,
      prover: out.prover,
      ...(out.incident ? { incident: out.incident } : {}),
    };
  };

  const connection: Redis = connect(target);
  const unwatch = watchOutage([connection], target, outageMs, (msg) => settle(new Error(msg)));
  const worker = new Worker(name, processor, {
    connection,
    concurrency: prover.concurrency(),
    lockDuration: opts.lockMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    // a job may stall (its worker killed) a few times before BullMQ gives up on it
    maxStalledCount: 3,
    autorun: false,
  });
  // connection trouble is retried forever: say so once per cause
  const seen = new Set<string>();
  worker.on("error", (err) => {
    if (seen.has(err.message)) return;
    seen.add(err.message);
    reporter.warn(`queue ${target.display}: ${err.message} (retrying)`);
  });
  worker.on("failed", (job, err) => {
    if (job && !(err instanceof WaitingError))
      reporter.warn(`job ${String(job.data?.job)} failed: ${err.message}`);
  });
  void worker.run().catch((err: Error) => settle(err));
  await Promise.race([worker.waitUntilReady(), finished]);
  prover.onConcurrency = (n) => {
    worker.concurrency = n;
  };
  reporter.info(
    `worker ${self}: queue "${name}" on ${target.display}, prover ${choice.name}, ${threads} proving thread(s)${opts.singleThread ? " (single-threaded curve)" : ""}`,
    { prover: choice.name, threads },
  );

  let closing: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    closing ??= (async () => {
      unwatch();
      // Redis gone: a graceful close waits for it forever; drop the connection and the jobs in
      // hand (their locks expire and other workers retake them)
      const up = connection.status === "ready";
      if (!up) connection.disconnect();
      await settleWithin(worker.close(!up), up ? 60 * 60_000 : 5000);
      await prover.close();
      await connection.quit().catch(() => connection.disconnect());
    })();
    return closing;
  };
  const done = finished.then(
    async () => {
      await stop();
      return stats;
    },
    async (err: Error) => {
      await stop();
      throw err;
    },
  );
  return {
    done,
    stop: async () => {
      settle();
      await done.catch(() => undefined);
    },
  };
}

/** This machine's artifacts for (circuit, profile) and the sha256 of its verification key. */
async function localKeys(circuit: CircuitName, profile: string, buildDir?: string): Promise<LocalKeys> {
  const a = await loadArtifacts(circuit, profile, buildDir);
  const text = await fs.readFile(a.vkeyPath, "utf8");
  return {
    circuit,
    profile,
    wasm: a.wasm,
    zkey: a.zkey,
    vkeySha256: sha256Hex(text),
  };
}

/** The proving side of a worker: native (snarkjs when it fails or when the job asks) or snarkjs. */
class WorkerProver {
  private session: NativeSession | undefined;
  private pool: ProverPool | undefined;
  private readonly witness = new Map<string, Promise<string>>();
  onConcurrency: (n: number) => void = () => undefined;

  constructor(
    bin: string | undefined,
    private readonly threads: number,
    private readonly opts: QueueWorkerOptions,
    private readonly reporter: Reporter,
  ) {
    if (bin) this.session = new NativeSession({ bin, threads, witness: {} });
  }

  /** Jobs proven at once: two for native (witness of the next while one proves), else one per thread. */
  concurrency(): number {
    return this.session ? 2 : this.threads;
  }

  async prove(
    data: QueueJobData,
    local: LocalKeys,
  ): Promise<ProveOutput & { prover: ProverName; incident?: string }> {
    let incident: string | undefined;
    if (data.prover === "snarkjs" && this.session)
      this.reporter.info(
        `job ${data.job}: the coordinator rejected its native proof; proving it with snarkjs`,
        {
          job: data.job,
        },
      );
    else if (this.session) {
      const t0 = Date.now();
      try {
        const witness = await this.witnessFor(local);
        const out = await this.session.prove(local.zkey, data.input, witness);
        return { proof: out.proof, publicSignals: out.publicSignals, ms: Date.now() - t0, prover: "native" };
      } catch (err) {
        incident = (err as Error).message;
        if (err instanceof NativeProverError && err.fatal) this.nativeStopped(err);
      }
      this.reporter.warn(`job ${data.job}: ${incident}; proving it again with snarkjs`, {
        job: data.job,
        incident,
      });
    }
    this.pool ??= new ProverPool({ workers: this.threads, singleThread: this.opts.singleThread });
    const out = await this.pool.prove({
      id: data.job,
      input: data.input,
      wasm: local.wasm,
      zkey: local.zkey,
    });
    return { ...out, prover: "snarkjs", ...(incident ? { incident } : {}) };
  }

  private witnessFor(local: LocalKeys): Promise<string> {
    const id = `${local.circuit}-${local.profile}`;
    let w = this.witness.get(id);
    if (!w) {
      w = nativeWitnessFor(local.circuit, local.profile, {
        buildDir: this.opts.buildDir,
        reporter: this.reporter,
      });
      this.witness.set(id, w);
    }
    return w;
  }

  /** The native process stopped: snarkjs for every later job, on all threads. */
  private nativeStopped(err: NativeProverError): void {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    this.reporter.warn(`native prover stopped: ${err.message}; proving with snarkjs from now on`);
    void s.close();
    this.onConcurrency(this.threads);
  }

  async close(): Promise<void> {
    await this.session?.close();
    await this.pool?.close();
  }
}
