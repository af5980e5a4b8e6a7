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
 * Proving runs in threads, so this process's event loop stays free to renew BullMQ's job locks;
 * a killed worker's jobs go back to the queue when their lock expires (BullMQ stalled jobs).
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import { type Job, WaitingError, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CircuitName } from "../../spec/profiles.js";
import { loadArtifacts } from "../../toolchain/artifacts.js";
import { sha256Hex } from "../../util/hash.js";
import { type Reporter, silentReporter } from "../../util/progress.js";
import { defaultWorkers, ProverPool } from "../pool.js";
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
}

export class KeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyMismatchError";
  }
}

interface LocalKeys {
  wasm: string;
  zkey: string;
  vkeySha256: string;
}

export interface QueueWorkerHandle {
  /** resolves when the worker stopped: after `stop()`, `maxJobs` proofs, or a refused job (rejects) */
  done: Promise<{ proofs: number }>;
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
  const pool = new ProverPool({ workers: threads, singleThread: opts.singleThread });
  const keys = new Map<string, Promise<LocalKeys>>();
  const self = `${os.hostname()}:${process.pid}`;
  let proofs = 0;
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
    // process CPU (all threads) during the job: the proof's own CPU when one job runs at a time
    const cpu0 = process.cpuUsage();
    const out = await pool.prove({ id: data.job, input: data.input, wasm: local.wasm, zkey: local.zkey });
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    proofs++;
    reporter.info(`proved ${data.job} in ${out.ms} ms (process CPU ${cpuMs} ms)`, {
      job: data.job,
      ms: out.ms,
      cpuMs,
    });
    if (opts.maxJobs !== undefined && proofs >= opts.maxJobs) setImmediate(() => settle());
    return {
      format: RESULT_FORMAT,
      proof: out.proof,
      publicSignals: out.publicSignals,
      ms: out.ms,
      worker: self,
    };
  };

  const connection: Redis = connect(target);
  const unwatch = watchOutage([connection], target, outageMs, (msg) => settle(new Error(msg)));
  const worker = new Worker(name, processor, {
    connection,
    concurrency: threads,
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
  reporter.info(
    `worker ${self}: queue "${name}" on ${target.display}, ${threads} proving thread(s)${opts.singleThread ? " (single-threaded curve)" : ""}`,
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
      await pool.close();
      await connection.quit().catch(() => connection.disconnect());
    })();
    return closing;
  };
  const done = finished.then(
    async () => {
      await stop();
      return { proofs };
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

/** This machine's artifacts for (circuit, profile) and the sha256 of its verification key file. */
async function localKeys(circuit: CircuitName, profile: string, buildDir?: string): Promise<LocalKeys> {
  const a = await loadArtifacts(circuit, profile, buildDir);
  return { wasm: a.wasm, zkey: a.zkey, vkeySha256: sha256Hex(await fs.readFile(a.vkeyPath, "utf8")) };
}
