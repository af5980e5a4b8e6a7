/**
 * Groth16 proving on a pool of worker threads (node:worker_threads), one batch per job:
 * `snarkjs.groth16.fullProve(input, wasm, zkey)` in each worker. Batches are independent once
 * the manifest is fixed, so the pool simply runs jobs in parallel; results come back in
 * completion order through `onProof` (the pipeline persists each proof there, which is what
 * makes a killed run resumable).
 *
 * Worker code is plain CommonJS (evaluated, no TypeScript loader needed) that requires snarkjs's
 * CJS build. ffjavascript's `web-worker` dependency mistakes any worker thread for one of its own
 * workers, so the worker declares itself "main" before loading snarkjs. Each worker terminates
 * its curve (`globalThis.curve_bn128.terminate()`) when the pool closes.
 */
import { createRequire } from "node:module";
import * as os from "node:os";
import { Worker } from "node:worker_threads";
import type { CircuitInput } from "../epoch/inputs.js";
import type { Groth16Proof } from "../util/snarkjs.js";

export interface ProveRequest {
  id: string;
  input: CircuitInput;
  wasm: string;
  zkey: string;
}
export interface ProveOutput {
  proof: Groth16Proof;
  publicSignals: string[];
  /** wall time of this proof inside its worker */
  ms: number;
}
export interface PoolOptions {
  /** worker threads (default os.availableParallelism()) */
  workers?: number;
  /**
   * Use snarkjs's single-threaded curve inside each worker (no nested curve threads). Default
   * false: each worker uses the shared multi-threaded curve, as snarkjs does by default.
   */
  singleThread?: boolean;
}

const WORKER_SOURCE = `
"use strict";
const wt = require("node:worker_threads");
const { parentPort, workerData } = wt;
// ffjavascript's web-worker shim treats every non-main thread as one of its own workers.
Object.defineProperty(wt, "isMainThread", { value: true, configurable: true });
const snarkjs = require(workerData.snarkjs);
const proverOptions = workerData.singleThread ? { singleThread: true } : undefined;
parentPort.on("message", async (msg) => {
  if (msg.type === "prove") {
    const t0 = Date.now();
    try {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(
        msg.input, msg.wasm, msg.zkey, undefined, undefined, proverOptions);
      parentPort.postMessage({ type: "done", id: msg.id, proof, publicSignals, ms: Date.now() - t0 });
    } catch (err) {
      parentPort.postMessage({ type: "error", id: msg.id, message: String((err && err.message) || err) });
    }
  } else if (msg.type === "exit") {
    try {
      if (globalThis.curve_bn128) await globalThis.curve_bn128.terminate();
    } catch (_) {}
    globalThis.curve_bn128 = null;
    parentPort.postMessage({ type: "closed" });
    parentPort.close();
  }
});
`;

type WorkerMessage =
  | { type: "done"; id: string; proof: Groth16Proof; publicSignals: string[]; ms: number }
  | { type: "error"; id: string; message: string }
  | { type: "closed" };

interface Slot {
  worker: Worker;
  busy: { req: ProveRequest; resolve: (o: ProveOutput) => void; reject: (e: Error) => void } | null;
  dead: boolean;
  closed?: () => void;
}

export function defaultWorkers(): number {
  return Math.max(
    1,
    typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length,
  );
}

/** A fixed pool of proving workers. `prove` queues; `close` terminates curves and threads. */
export class ProverPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: {
    req: ProveRequest;
    resolve: (o: ProveOutput) => void;
    reject: (e: Error) => void;
  }[] = [];
  private closing = false;

  constructor(opts: PoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? defaultWorkers());
    const snarkjsPath = createRequire(import.meta.url).resolve("snarkjs");
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // the worker source is CommonJS: drop a caller's `--input-type=module` (node -e scripts)
        execArgv: process.execArgv.filter((a) => !a.startsWith("--input-type")),
        workerData: { snarkjs: snarkjsPath, singleThread: opts.singleThread ?? false },
      });
      const slot: Slot = { worker, busy: null, dead: false };
      worker.on("message", (m: WorkerMessage) => this.onMessage(slot, m));
      worker.on("error", (err) => this.onDeath(slot, err));
      worker.on("exit", (code) => {
        slot.closed?.();
        if (!this.closing || slot.busy)
          this.onDeath(slot, new Error(`prover worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  prove(req: ProveRequest): Promise<ProveOutput> {
    if (this.closing) return Promise.reject(new Error("prover pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.dead || slot.busy) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.busy = job;
      slot.worker.postMessage({
        type: "prove",
        id: job.req.id,
        input: job.req.input,
        wasm: job.req.wasm,
        zkey: job.req.zkey,
      });
    }
    if (this.queue.length > 0 && this.slots.every((s) => s.dead)) {
      for (const job of this.queue.splice(0)) job.reject(new Error("all prover workers died"));
    }
  }

  private onMessage(slot: Slot, m: WorkerMessage): void {
    if (m.type === "closed") return;
    const job = slot.busy;
    slot.busy = null;
    if (job && job.req.id === m.id) {
      if (m.type === "done") job.resolve({ proof: m.proof, publicSignals: m.publicSignals, ms: m.ms });
      else job.reject(new Error(`proving ${m.id} failed: ${m.message}`));
    }
    this.pump();
  }

  private onDeath(slot: Slot, err: Error): void {
    if (slot.dead) return;
    slot.dead = true;
    const job = slot.busy;
    slot.busy = null;
    if (job) job.reject(new Error(`proving ${job.req.id} failed: ${err.message}`));
    this.pump();
  }

  /** Finishes nothing new; asks every worker to terminate its curve and exit. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const job of this.queue.splice(0)) job.reject(new Error("prover pool closed"));
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            if (slot.dead) return resolve();
            const timer = setTimeout(() => {
              void slot.worker.terminate().then(() => resolve());
            }, 10_000);
            slot.closed = () => {
              clearTimeout(timer);
              resolve();
            };
            slot.worker.postMessage({ type: "exit" });
          }),
      ),
    );
  }
}

/** A request whose input is built when a proving thread is free for it (proveMany). */
export type LazyProveRequest = Omit<ProveRequest, "input"> & { input: () => CircuitInput };

export interface ProveManyOptions extends PoolOptions {
  /** called in completion order, awaited before the job counts as done */
  onProof?: (req: LazyProveRequest, out: ProveOutput) => Promise<void> | void;
}

/**
 * Proves every request on a fresh pool (never more workers than requests). Each proving thread
 * has one lane that builds its next request's input only when it is free, so at most `workers`
 * inputs exist at once. On the first failure it stops starting new jobs, lets running ones
 * finish (their `onProof` still runs, so their proofs are kept), closes the pool and throws.
 */
export async function proveMany(
  reqs: readonly LazyProveRequest[],
  opts: ProveManyOptions = {},
): Promise<Map<string, ProveOutput>> {
  const results = new Map<string, ProveOutput>();
  if (reqs.length === 0) return results;
  const pool = new ProverPool({ ...opts, workers: Math.min(opts.workers ?? defaultWorkers(), reqs.length) });
  let failure: Error | undefined;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (!failure && next < reqs.length) {
      const req = reqs[next++] as LazyProveRequest;
      try {
        const out = await pool.prove({ id: req.id, wasm: req.wasm, zkey: req.zkey, input: req.input() });
        await opts.onProof?.(req, out);
        results.set(req.id, out);
      } catch (err) {
        failure ??= err as Error;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: pool.size }, lane));
  } finally {
    await pool.close();
  }
  if (failure) throw failure;
  return results;
}
