/** `bulkhead worker --queue redis://…`: prove the batch jobs of `bulkhead prove --queue` coordinators. */
import type { Command } from "commander";
import { parseProver } from "../prove/prover.js";
import { startQueueWorker } from "../prove/queue/worker.js";
import { onStopRequest, positiveInt, printJson, reporterFor } from "./common.js";

interface WorkerCliOptions {
  queue: string;
  queueName?: string;
  workers?: string;
  prover?: string;
  singleThread?: boolean;
  buildDir?: string;
  lockMs?: string;
  stalledMs?: string;
  maxJobs?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("worker")
    .description("prove batch jobs from a BullMQ queue on Redis (see bulkhead prove --queue)")
    .requiredOption(
      "--queue <url>",
      "redis://[user:password@]HOST:PORT[/DB] or rediss://… (TLS); or REDIS_PASSWORD",
    )
    .option("--queue-name <name>", "BullMQ queue name (default bulkhead-prove)")
    .option("-w, --workers <n>", "proving threads, i.e. jobs proven at once (default: all cores)")
    .option("--single-thread", "single-threaded curve inside each proving thread (snarkjs)")
    .option(
      "--prover <name>",
      "native or snarkjs (default: native when its toolchain is present, else snarkjs with a warning)",
    )
    .option("--build-dir <dir>", "build directory with the circuit artifacts (default: <repo>/build)")
    .option(
      "--lock-ms <ms>",
      "job lock: a killed worker's job is retaken after about this long (default 30000)",
    )
    .option("--stalled-ms <ms>", "how often to look for jobs of killed workers (default 30000)")
    .option("--max-jobs <n>", "exit after proving this many jobs (default: run until SIGINT/SIGTERM)")
    .option("--json", "JSON lines on stderr, JSON summary on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(async (opts: WorkerCliOptions) => {
      const reporter = reporterFor(opts);
      const prover = opts.prover === undefined ? undefined : parseProver(opts.prover);
      const handle = await startQueueWorker({
        prover,
        url: opts.queue,
        queueName: opts.queueName,
        workers: positiveInt(opts.workers, "--workers"),
        singleThread: opts.singleThread,
        buildDir: opts.buildDir,
        lockMs: positiveInt(opts.lockMs, "--lock-ms"),
        stalledIntervalMs: positiveInt(opts.stalledMs, "--stalled-ms"),
        maxJobs: positiveInt(opts.maxJobs, "--max-jobs"),
        reporter,
      });
      onStopRequest(() => {
        reporter.info("stopping: finishing the jobs in hand (signal again to abort them)");
        void handle.stop();
      }, "the jobs in hand were abandoned; their locks expire and other workers prove them");
      const stats = await handle.done;
      if (opts.json) printJson({ ok: true, ...stats });
      else
        reporter.info(
          `worker stopped after ${stats.proofs} proof(s) (native ${stats.byProver.native}, snarkjs ${stats.byProver.snarkjs}${stats.incidents.length ? `; ${stats.incidents.length} job(s) the native prover failed on, proven again with snarkjs` : ""})`,
        );
    });
}
