/**
 * The coordinator side of `bulkhead prove --queue redis://…`: a proof backend that puts the
 * batch jobs on a BullMQ queue and collects the proofs of `bulkhead worker` processes.
 *
 * Bounded memory (here and in Redis): only a window of jobs is in Redis at a time. The next job's
 * input is built (`task.input()`) and queued when one leaves the window (its proof stored, or
 * reported). The window is `window` jobs when given, else it adapts to the workers: at least
 * MIN_WINDOW, and twice the jobs active on workers (so idle proving threads are noticed and the
 * window grows until every thread has a job and as many wait). Jobs found in Redis (a restarted
 * coordinator's) are adopted into the window even beyond its size.
 *
 * Trust: none in the workers. Every returned proof must carry exactly the public signals the
 * coordinator derived and verify against the coordinator's own verification key before it is
 * stored (src/util/batchverify.ts; the workers do not check their own proofs). A rejected proof is
 * re-queued, and after `maxBadProofs` rejections the job is reported by id. A rejected native proof
 * is also an incident, reported by job id and worker, and its job goes back marked `prover:
 * "snarkjs"` so that a worker proves it with snarkjs. A job that fails in BullMQ (its attempts used
 * up) is reported by id too.
 *
 * Robustness: job ids are work-cache keys, so a restarted coordinator re-adds nothing that still
 * exists and takes the proofs of jobs that completed while it was down from the queue. A periodic
 * reconcile (besides BullMQ's event stream) picks up completions it missed, and re-adds jobs that
 * vanished, e.g. with a Redis restarted without persistence. Each job (with its private input) is
 * removed from Redis as soon as its proof is stored.
 */
import { Queue, QueueEvents } from "bullmq";
import { type BackendContext, type ProofBackend, type ProofTask, proofProblem } from "../backend.js";
import {
  connect,
  DEFAULT_QUEUE_NAME,
  JOB_FORMAT,
  outageLimitMs,
  parseJobResult,
  parseQueueUrl,
  preflight,
  type QueueJobData,
  type QueueJobResult,
  settleWithin,
  watchOutage,
} from "./protocol.js";

export interface QueueBackendOptions {
  /** redis://… or rediss://… */
  url: string;
  queueName?: string;
  /** BullMQ attempts per job when a worker fails or stalls (default 3) */
  attempts?: number;
  /** rejected proofs per job before it is reported (default 3) */
  maxBadProofs?: number;
  /** how often to reconcile with the queue's state (ms, default 5000) */
  reconcileMs?: number;
  /**
   * jobs in Redis at once (default: adaptive, see the header). A fixed window smaller than the
   * workers' proving threads leaves threads idle.
   */
  window?: number;
  /** how long a lost Redis connection is retried before the run fails (ms; see outageLimitMs) */
  outageMs?: number;
}

/** The smallest adaptive window (jobs in Redis at once). */
export const MIN_WINDOW = 64;

const PENDING_STATES = ["wait", "active", "delayed", "prioritized", "waiting-children"] as const;
const NO_WORKER_WARN_MS = 30_000;

export class QueueBackend implements ProofBackend {
  readonly name = "queue";
  constructor(readonly opts: QueueBackendOptions) {
    parseQueueUrl(opts.url); // fail on a bad URL before any work
    const w = opts.window;
    if (w !== undefined && (!Number.isInteger(w) || w < 1))
      throw new Error(`queue window: ${w} is not a positive integer`);
  }

  /** Reaches Redis once (address, credentials, TLS) before the pipeline writes anything. */
  async preflight(): Promise<void> {
    outageLimitMs(this.opts.outageMs);
    await preflight(parseQueueUrl(this.opts.url));
  }

  async prove(tasks: readonly ProofTask[], ctx: BackendContext): Promise<void> {
    const target = parseQueueUrl(this.opts.url);
    const name = this.opts.queueName ?? DEFAULT_QUEUE_NAME;
    await preflight(target);
    const qconn = connect(target);
    const econn = connect(target);
    const queue = new Queue(name, { connection: qconn });
    const events = new QueueEvents(name, { connection: econn });
    // connection trouble (wrong password, Redis down) is retried forever: say so once per cause
    const seen = new Set<string>();
    const warn = (err: Error) => {
      if (seen.has(err.message)) return;
      seen.add(err.message);
      ctx.reporter.warn(`queue ${target.display}: ${err.message} (retrying)`);
    };
    queue.on("error", warn);
    events.on("error", warn);
    ctx.reporter.info(`connecting to queue "${name}" on ${target.display}`);
    const run = new CoordinatorRun(queue, tasks, ctx, this.opts);
    let gaveUp = false;
    const unwatch = watchOutage([qconn, econn], target, outageLimitMs(this.opts.outageMs), (msg) => {
      gaveUp = true;
      run.abort(new Error(`${msg}; the proofs stored so far are kept: run the same command again to resume`));
    });
    try {
      // every wait also ends when the run is aborted (Redis gone past the outage limit)
      await Promise.race([Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), run.finished]);
      ctx.reporter.info(`queue "${name}": ${tasks.length} job(s) for the workers`);
      events.on("completed", ({ jobId }) => run.onCompleted(jobId));
      events.on("failed", ({ jobId }) => run.onFailed(jobId));
      await Promise.race([run.start(), run.finished]);
      await run.finished;
    } finally {
      unwatch();
      run.stop();
      // with Redis gone, closing gracefully never ends: drop the connections first
      if (gaveUp) for (const c of [qconn, econn]) c.disconnect();
      await settleWithin(events.close(), 5000);
      await settleWithin(queue.close(), 5000);
      for (const c of [qconn, econn]) await c.quit().catch(() => c.disconnect());
    }
  }
}

/** The state of one coordinator run: outstanding jobs, the window in Redis, rejected proofs, failures. */
class CoordinatorRun {
  /** every job without a stored proof or a report yet, in job order */
  private readonly outstanding: Map<string, ProofTask>;
  /** outstanding jobs in Redis (queued by this run or adopted from an earlier one): the window */
  private readonly queued = new Set<string>();
  /** outstanding jobs not queued yet, in job order, from `nextIndex` on */
  private readonly order: readonly ProofTask[];
  private nextIndex = 0;
  private filling = false;
  private refill = false;
  private readonly handling = new Set<string>();
  private readonly badProofs = new Map<string, number>();
  /** jobs whose native proof was rejected: queued again for snarkjs */
  private readonly snarkjsOnly = new Set<string>();
  private readonly failures: string[] = [];
  private readonly vkeys: Record<string, unknown>;
  private readonly totalCount: number;
  private timer: NodeJS.Timeout | undefined;
  private reconciling = false;
  /**
   * Adds to Redis: each key's latest add (a sequence number) and the keys whose add is in flight.
   * Reconcile re-adds a key missing from Redis only if its add had settled before it read Redis:
   * a job being added is not missing (re-adding it would build its input twice).
   */
  private addSeq = 0;
  private readonly addedAt = new Map<string, number>();
  private readonly adding = new Set<string>();
  private redisDown = false;
  private workers = 0;
  private active = 0;
  private noWorkerSince = Date.now();
  private warnedNoWorker = false;
  private resolve!: () => void;
  private reject!: (err: Error) => void;
  readonly finished: Promise<void>;

  constructor(
    private readonly queue: Queue,
    tasks: readonly ProofTask[],
    private readonly ctx: BackendContext,
    private readonly opts: QueueBackendOptions,
  ) {
    this.outstanding = new Map(tasks.map((t) => [t.key, t]));
    this.order = [...this.outstanding.values()];
    this.totalCount = this.outstanding.size;
    this.vkeys = {
      segment: JSON.parse(ctx.keys.segment.vkeyText),
      lotlist: JSON.parse(ctx.keys.lotlist.vkeyText),
    };
    this.finished = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.finished.catch(() => undefined);
  }

  async start(): Promise<void> {
    await this.dropReused();
    await this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.opts.reconcileMs ?? 5000);
    if (this.outstanding.size === 0) this.finish();
  }

  /** Jobs allowed in Redis at once (see the header). */
  private window(): number {
    return this.opts.window ?? Math.max(MIN_WINDOW, 2 * this.active);
  }

  /**
   * Queue the next jobs (inputs built now) until the window is full. One fill at a time; a call
   * during a fill makes it look again before it ends (both flags change only synchronously).
   */
  private async topUp(): Promise<void> {
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    try {
      do {
        this.refill = false;
        const batch: ProofTask[] = [];
        while (this.queued.size + batch.length < this.window() && this.nextIndex < this.order.length) {
          const t = this.order[this.nextIndex++] as ProofTask;
          if (this.outstanding.has(t.key) && !this.queued.has(t.key)) batch.push(t);
        }
        if (batch.length === 0) break;
        for (const t of batch) this.queued.add(t.key);
        // if Redis is down, the jobs stay in the window and reconcile re-adds them
        await this.add(batch).catch(() => undefined);
      } while (this.refill || (this.queued.size < this.window() && this.nextIndex < this.order.length));
    } finally {
      this.filling = false;
    }
  }

  /** A job left the window (proof stored or reported): make room for the next one. */
  private leave(key: string): void {
    this.queued.delete(key);
    if (this.outstanding.size > 0) void this.topUp();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Jobs left in Redis by an earlier run whose proofs are already in the work cache. */
  private async dropReused(): Promise<void> {
    for (let i = 0; i < this.ctx.reusedKeys.length; i += 200) {
      const chunk = this.ctx.reusedKeys.slice(i, i + 200);
      await Promise.all(
        chunk.map(async (k) => (await this.queue.getJob(k))?.remove().catch(() => undefined)),
      );
    }
  }

  /** The job of a task, its input built now; a failing input builder ends the run (not Redis trouble). */
  private jobOf(task: ProofTask) {
    let input: QueueJobData["input"];
    try {
      input = task.input();
    } catch (err) {
      const e = new Error(`${task.id}: building its circuit input failed: ${(err as Error).message}`);
      this.reject(e);
      throw e;
    }
    const data: QueueJobData = {
      format: JOB_FORMAT,
      job: task.id,
      circuit: task.circuit,
      profile: this.ctx.profile,
      vkeySha256: this.ctx.keys[task.circuit].vkeySha256,
      input,
      ...(this.snarkjsOnly.has(task.key) ? { prover: "snarkjs" as const } : {}),
    };
    return {
      name: task.id,
      data,
      opts: {
        jobId: task.key,
        attempts: this.opts.attempts ?? 3,
        backoff: { type: "fixed", delay: 1000 },
        removeOnComplete: false,
        removeOnFail: false,
      },
    };
  }

  private async add(tasks: readonly ProofTask[]): Promise<void> {
    const seq = ++this.addSeq;
    for (const t of tasks) {
      this.addedAt.set(t.key, seq);
      this.adding.add(t.key);
    }
    try {
      // chunks of 1, 2, 4, … 500 jobs: the workers start on the first job while the next
      // chunk's inputs are built, instead of waiting for the whole window's
      for (let i = 0, n = 1; i < tasks.length; i += n, n = Math.min(2 * n, 500)) {
        await this.queue.addBulk(tasks.slice(i, i + n).map((t) => this.jobOf(t)));
      }
    } finally {
      for (const t of tasks) this.adding.delete(t.key);
    }
  }

  /**
   * Compare the window with the queue: take finished jobs, adopt jobs of an earlier run, re-add
   * vanished ones; then fill the window.
   */
  private async reconcile(): Promise<void> {
    if (this.reconciling || this.outstanding.size === 0) return;
    this.reconciling = true;
    try {
      // adds settled before these reads show in them; later or in-flight ones may not
      const seq0 = this.addSeq;
      const flying = new Set(this.adding);
      const settled = (key: string) => !flying.has(key) && (this.addedAt.get(key) ?? 0) <= seq0;
      const pending = new Set(await this.queue.getRanges([...PENDING_STATES], 0, -1));
      const completed = new Set(await this.queue.getRanges(["completed"], 0, -1));
      const failed = new Set(await this.queue.getRanges(["failed"], 0, -1));
      const missing: ProofTask[] = [];
      for (const [key, task] of this.outstanding) {
        const inRedis = pending.has(key) || completed.has(key) || failed.has(key);
        if (inRedis) this.queued.add(key); // adopt a restarted coordinator's jobs
        if (completed.has(key)) void this.onCompleted(key);
        else if (failed.has(key)) void this.onFailed(key);
        else if (!inRedis && this.queued.has(key) && !this.handling.has(key) && settled(key))
          missing.push(task);
      }
      if (missing.length > 0) await this.add(missing);
      await this.countWorkers();
      if (this.redisDown) this.ctx.reporter.info("queue: Redis reachable again");
      this.redisDown = false;
    } catch (err) {
      if (!this.redisDown)
        this.ctx.reporter.warn(`queue: Redis unreachable (${(err as Error).message}); retrying`);
      this.redisDown = true;
    } finally {
      this.reconciling = false;
    }
    if (!this.redisDown) await this.topUp();
  }

  private async countWorkers(): Promise<void> {
    this.workers = await this.queue.getWorkersCount().catch(() => this.workers);
    this.active = (await this.queue.getJobCounts("active")).active ?? 0;
    if (this.workers > 0) this.noWorkerSince = Date.now();
    else if (!this.warnedNoWorker && Date.now() - this.noWorkerSince > NO_WORKER_WARN_MS) {
      this.warnedNoWorker = true;
      this.ctx.reporter.warn(
        `queue: no worker connected for ${NO_WORKER_WARN_MS / 1000}s (start: bulkhead worker --queue …)`,
      );
    }
    this.ctx.progress.update(this.done(), this.note());
  }

  private done(): number {
    return this.totalCount - this.outstanding.size - this.failures.length;
  }
  private note(id?: string): string {
    return `${id ? `${id}, ` : ""}${this.workers} worker(s), ${this.active} job(s) active`;
  }

  /** A job completed: check its proof, store it or re-queue it. */
  onCompleted(key: string): void {
    const task = this.outstanding.get(key);
    if (!task || this.handling.has(key)) return;
    this.handling.add(key);
    void this.takeProof(task).finally(() => this.handling.delete(key));
  }

  private async takeProof(task: ProofTask): Promise<void> {
    let job: Awaited<ReturnType<Queue["getJob"]>>;
    try {
      job = await this.queue.getJob(task.key);
    } catch {
      return; // Redis trouble: the next reconcile retries
    }
    if (!job) return; // vanished: the next reconcile re-adds it
    let res: QueueJobResult | undefined;
    let problem: string | undefined;
    try {
      res = parseJobResult(job.returnvalue);
      problem = await proofProblem(this.vkeys[task.circuit], task, res);
    } catch (err) {
      problem = (err as Error).message;
    }
    if (problem === undefined && res) {
      try {
        if (res.incident)
          this.reportIncident(task, res.worker, res.incident, "it proved the job again with snarkjs");
        await this.ctx.onProof(task, {
          proof: res.proof,
          publicSignals: task.publicSignals,
          prover: res.prover ?? "snarkjs",
        });
      } catch (err) {
        this.reject(err as Error);
        return;
      }
      this.outstanding.delete(task.key);
      await job.remove().catch(() => undefined); // the private input leaves Redis with the job
      this.ctx.progress.update(this.done(), this.note(`${task.id} (${res.prover ?? "snarkjs"})`));
      if (this.outstanding.size === 0) this.finish();
      else this.leave(task.key);
      return;
    }
    await this.rejectProof(task, problem ?? "no proof", res, job);
  }

  /** A native proof was not used: the worker's prover failed, or this coordinator rejected its proof. */
  private reportIncident(task: ProofTask, worker: string, reason: string, then: string): void {
    this.ctx.onIncident({ job: task.id, key: task.key, reason, reprovedWith: "snarkjs", worker });
    this.ctx.reporter.warn(`job ${task.id}: worker ${worker}: ${reason}; ${then}`, {
      job: task.id,
      incident: reason,
      worker,
    });
  }

  private async rejectProof(
    task: ProofTask,
    problem: string,
    res: QueueJobResult | undefined,
    job: NonNullable<Awaited<ReturnType<Queue["getJob"]>>>,
  ): Promise<void> {
    const bad = (this.badProofs.get(task.key) ?? 0) + 1;
    this.badProofs.set(task.key, bad);
    const max = this.opts.maxBadProofs ?? 3;
    const worker = res?.worker ?? "?";
    this.ctx.reporter.warn(
      `job ${task.id}: rejected the proof of worker ${worker}: ${problem} (${bad}/${max})`,
    );
    await job.remove().catch(() => undefined);
    if (bad < max && res?.prover === "native" && !this.snarkjsOnly.has(task.key)) {
      this.snarkjsOnly.add(task.key);
      this.reportIncident(
        task,
        worker,
        `its native proof was rejected: ${problem}`,
        "queued again for snarkjs",
      );
    }
    if (bad >= max) this.fail(task, `${bad} rejected proofs, the last one: ${problem}`);
    else await this.add([task]).catch(() => undefined); // if Redis is down, reconcile re-adds it
  }

  /** A job failed for good in BullMQ (attempts used up): report it by id. */
  onFailed(key: string): void {
    const task = this.outstanding.get(key);
    if (!task || this.handling.has(key)) return;
    this.handling.add(key);
    void (async () => {
      const job = await this.queue.getJob(key);
      if (!job || !(await job.isFailed())) return;
      await job.remove().catch(() => undefined);
      this.fail(task, `failed on the workers after ${job.attemptsMade} attempt(s): ${job.failedReason}`);
    })()
      .catch(() => undefined)
      .finally(() => this.handling.delete(key));
  }

  private fail(task: ProofTask, reason: string): void {
    if (!this.outstanding.delete(task.key)) return;
    this.failures.push(`${task.id} (job ${task.key}): ${reason}`);
    if (this.outstanding.size === 0) this.finish();
    else this.leave(task.key);
  }

  /** Ends the run with `err` (the queue is gone): nothing more is queued or awaited. */
  abort(err: Error): void {
    this.stop();
    this.reject(err);
  }

  private finish(): void {
    this.stop();
    if (this.failures.length === 0) this.resolve();
    else
      this.reject(
        new Error(`${this.failures.length} job(s) have no valid proof: ${this.failures.join("; ")}`),
      );
  }
}
