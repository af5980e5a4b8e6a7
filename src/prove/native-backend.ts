/**
 * The local proof backend on the native prover (src/prove/native.ts): one `bulkhead-prover serve`
 * process with `workers` threads proves job after job, while the next job's native witness is
 * computed (two jobs in flight, so at most two circuit inputs exist at once).
 *
 * Nothing trusted: every native proof is checked before it is stored, against the verification
 * key and the public signals the coordinator derived (src/util/batchverify.ts, the check the queue
 * coordinator and the auditor run). A proof that fails, or a job the native prover or
 * witness program fails on, is proven again with snarkjs and reported by job id (a warning and a
 * `ProverIncident`). If the native process itself stops (exit, deadline, protocol error), the
 * remaining jobs are proven with snarkjs on all `workers` threads, reported once.
 */
import type { CircuitName } from "../spec/profiles.js";
import type { Groth16Proof } from "../util/snarkjs.js";
import { type BackendContext, type ProofBackend, type ProofTask, proofProblem } from "./backend.js";
import { NativeProverError, NativeSession } from "./native.js";
import { defaultWorkers, type ProveOutput, ProverPool } from "./pool.js";
import type { NativeSetup } from "./prover.js";

/** Jobs in flight on the native prover: one proving, the next one's witness being computed. */
const NATIVE_LANES = 2;

export interface NativeBackendOptions {
  native: NativeSetup;
  /** proving threads of the native process (and of the snarkjs fallback); default all cores */
  workers?: number;
  singleThread?: boolean;
  /** deadline of one native request or witness run (ms, default 10 min) */
  timeoutMs?: number;
}

export function nativeBackend(opts: NativeBackendOptions): ProofBackend {
  return {
    name: "local",
    prover: "native",
    prove: (tasks, ctx) => new NativeRun(tasks, ctx, opts).run(),
  };
}

class NativeRun {
  private readonly session: NativeSession;
  private readonly vkeys: Record<CircuitName, object>;
  private readonly workers: number;
  private snarkPool: ProverPool | undefined;
  private next = 0;
  private failure: Error | undefined;
  /** why the native process stopped (the remaining jobs go to snarkjs) */
  private dead: string | undefined;

  constructor(
    private readonly tasks: readonly ProofTask[],
    private readonly ctx: BackendContext,
    private readonly opts: NativeBackendOptions,
  ) {
    this.workers = Math.max(1, opts.workers ?? defaultWorkers());
    const zkeys = ctx.keys;
    this.session = new NativeSession({
      bin: opts.native.bin,
      threads: this.workers,
      timeoutMs: opts.timeoutMs,
      witnessTimeoutMs: opts.timeoutMs,
      witness: {
        [zkeys.segment.zkey]: opts.native.witness.segment,
        [zkeys.lotlist.zkey]: opts.native.witness.lotlist,
      },
    });
    this.vkeys = {
      segment: JSON.parse(zkeys.segment.vkeyText) as object,
      lotlist: JSON.parse(zkeys.lotlist.vkeyText) as object,
    };
  }

  /** Proves every task: natively, or with snarkjs where the native prover failed or stopped. */
  async run(): Promise<void> {
    this.ctx.reporter.info(
      `prover: native (${this.opts.native.bin}, ${this.workers} thread(s)); every proof verified before it is stored`,
      { prover: "native", threads: this.workers },
    );
    try {
      await Promise.all(
        Array.from({ length: Math.min(NATIVE_LANES, this.tasks.length) }, () => this.nativeLane()),
      );
      // the native process stopped: the rest on snarkjs, on all threads
      if (this.dead && !this.failure) {
        const left = this.tasks.length - this.next;
        if (left > 0) this.ctx.reporter.warn(`proving the remaining ${left} job(s) with snarkjs`);
        await Promise.all(Array.from({ length: this.workers }, () => this.snarkLane()));
      }
    } finally {
      await this.session.close();
      await this.snarkPool?.close();
    }
    if (this.failure) throw this.failure;
  }

  private take(): ProofTask | undefined {
    if (this.failure || this.next >= this.tasks.length) return undefined;
    return this.tasks[this.next++];
  }

  private async nativeLane(): Promise<void> {
    for (let t = this.take(); t && !this.dead; t = this.dead ? undefined : this.take()) {
      await this.guard(() => this.proveNative(t as ProofTask));
    }
  }

  private async snarkLane(): Promise<void> {
    for (let t = this.take(); t; t = this.take()) {
      const task = t;
      await this.guard(async () => this.store(task, await this.proveSnarkjs(task), "snarkjs"));
    }
  }

  /** Runs one job's work; the first error (a store that throws) stops the run. */
  private async guard(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.failure ??= err as Error;
    }
  }

  private async proveNative(t: ProofTask): Promise<void> {
    const keys = this.ctx.keys[t.circuit];
    let problem: string;
    try {
      const out = await this.session.prove(keys.zkey, t.input());
      const rejected = await proofProblem(this.vkeys[t.circuit], t, out);
      if (!rejected) {
        await this.store(t, { proof: out.proof, publicSignals: t.publicSignals }, "native");
        return;
      }
      problem = `its native proof was rejected: ${rejected}`;
    } catch (err) {
      if (!(err instanceof NativeProverError)) throw err;
      if (err.fatal) {
        if (!this.dead) this.ctx.reporter.warn(`native prover stopped: ${err.message}`);
        this.dead = err.message;
      }
      problem = err.message;
    }
    this.ctx.onIncident({ job: t.id, key: t.key, reason: problem, reprovedWith: "snarkjs" });
    this.ctx.reporter.warn(`job ${t.id}: ${problem}; proving it again with snarkjs`, {
      job: t.id,
      incident: problem,
    });
    await this.store(t, await this.proveSnarkjs(t), "snarkjs");
  }

  private async proveSnarkjs(t: ProofTask): Promise<ProveOutput> {
    this.snarkPool ??= new ProverPool({ workers: this.workers, singleThread: this.opts.singleThread });
    const keys = this.ctx.keys[t.circuit];
    return this.snarkPool.prove({ id: t.id, input: t.input(), wasm: keys.wasm, zkey: keys.zkey });
  }

  private async store(
    t: ProofTask,
    out: { proof: Groth16Proof; publicSignals: string[] },
    prover: "native" | "snarkjs",
  ): Promise<void> {
    await this.ctx.onProof(t, { proof: out.proof, publicSignals: out.publicSignals, prover });
    this.ctx.progress.tick(1, `${t.id}, ${prover}`);
  }
}
