/**
 * Proof backends: where the batch proofs of an epoch are computed once the manifest is fixed.
 * The pipeline (src/pipeline.ts) hands a backend the jobs still to prove and a callback
 * that persists each accepted proof; the backend reports progress and returns when every job
 * has a proof, or throws naming the jobs that have none.
 *
 * Bounded memory: a task's circuit input is built only when the backend calls `task.input()`,
 * and a backend keeps a bounded window of tasks in flight (the local pool: one per proving
 * thread; the queue: `QueueBackendOptions.window`), building the next input as one completes.
 *
 *  - `localBackend`: snarkjs on the worker-thread pool of this process (src/prove/pool.ts);
 *  - `nativeBackend` (src/prove/native-backend.ts): the native prover of this process, each proof
 *    verified before it is stored (the default where the native toolchain is available);
 *  - `QueueBackend` (src/prove/queue/coordinator.ts): a BullMQ queue on Redis served by
 *    `bulkhead worker` processes on any number of machines.
 */
import type { CircuitInput } from "../epoch/inputs.js";
import type { CircuitName } from "../spec/profiles.js";
import { proofVerifies } from "../util/batchverify.js";
import type { Progress, Reporter } from "../util/progress.js";
import type { Groth16Proof } from "../util/snarkjs.js";
import { type LazyProveRequest, type ProveOutput, proveMany } from "./pool.js";
import type { ProverName } from "./prover.js";

/** One batch proof to compute. */
export interface ProofTask {
  /** job id in the epoch: `segment-<id>-<batch>` or `lotlist-<batch>` */
  id: string;
  /** work-cache key: sha256 of (circuit, profile, verification key, input) */
  key: string;
  circuit: CircuitName;
  /**
   * Builds the private witness input (never log it): called when the task enters the backend's
   * window (again if it must be queued again); not kept by the task.
   */
  input: () => CircuitInput;
  /** the public signals the proof must have (derived by the coordinator) */
  publicSignals: string[];
}

export interface BackendKeys {
  wasm: string;
  zkey: string;
  /** verification key, as the file's text (its sha256 identifies the key) */
  vkeyText: string;
  vkeySha256: string;
}

/** A job whose native proof was not used: it was proven again with snarkjs. */
export interface ProverIncident {
  job: string;
  /** work-cache key of the job */
  key: string;
  reason: string;
  reprovedWith: "snarkjs";
  /** the queue worker that reported it (`host:pid`), when proven on a queue */
  worker?: string;
}

export interface BackendContext {
  profile: string;
  keys: Record<CircuitName, BackendKeys>;
  /** keys of jobs whose proofs were reused from the work cache (nothing to prove) */
  reusedKeys: readonly string[];
  progress: Progress;
  reporter: Reporter;
  /** persist one proof (awaited before the job counts as done); throwing aborts the backend */
  onProof(
    task: ProofTask,
    out: { proof: Groth16Proof; publicSignals: string[]; prover: ProverName },
  ): Promise<void>;
  /** a native proof that was not used (reported by job id; the job is proven again) */
  onIncident(incident: ProverIncident): void;
}

export interface ProofBackend {
  readonly name: string;
  /** the prover this backend runs in this process (none: the queue's workers prove) */
  readonly prover?: ProverName;
  /** prove every task; resolves when each has been passed to `ctx.onProof` */
  prove(tasks: readonly ProofTask[], ctx: BackendContext): Promise<void>;
  /** checks what the backend needs (a queue's address and credentials) before anything is written */
  preflight?(): Promise<void>;
}

/** Two lists of public signals are the same, entry by entry. */
export const sameSignals = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Why a proof made elsewhere (the native prover, a queue worker) must not be stored, or undefined
 * when it carries exactly the public signals the coordinator derived for the task and verifies
 * against the coordinator's verification key with them (src/util/batchverify.ts).
 */
export async function proofProblem(
  vkey: unknown,
  task: ProofTask,
  out: { proof: Groth16Proof; publicSignals: readonly string[] },
): Promise<string | undefined> {
  if (!sameSignals(out.publicSignals, task.publicSignals))
    return "its public signals differ from the ones the coordinator derived";
  const ok = await proofVerifies(vkey, task.publicSignals, out.proof);
  return ok ? undefined : "the proof does not verify against the coordinator's verification key";
}

/** snarkjs on the worker-thread pool of this process. */
export function localBackend(opts: { workers?: number; singleThread?: boolean } = {}): ProofBackend {
  return {
    name: "local",
    prover: "snarkjs",
    async prove(tasks, ctx) {
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const reqs: LazyProveRequest[] = tasks.map((t) => ({
        id: t.id,
        input: t.input,
        wasm: ctx.keys[t.circuit].wasm,
        zkey: ctx.keys[t.circuit].zkey,
      }));
      await proveMany(reqs, {
        workers: opts.workers,
        singleThread: opts.singleThread,
        onProof: async (req: LazyProveRequest, res: ProveOutput) => {
          const t = byId.get(req.id);
          if (!t) throw new Error(`unexpected proof ${req.id}`);
          await ctx.onProof(t, { ...res, prover: "snarkjs" });
          ctx.progress.tick(1, `${req.id}, snarkjs`);
        },
      });
    },
  };
}
