/** `bulkhead prove` (snapshot -> epoch bundle + receipts) and `bulkhead check` (validation only). */
import type { Command } from "commander";
import { MAX_MIN_BATCHES } from "../epoch/plan.js";
import { type ProveSummary, proveSnapshot } from "../pipeline.js";
import { parseProver } from "../prove/prover.js";
import { QueueBackend } from "../prove/queue/coordinator.js";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { formatDuration } from "../util/progress.js";
import { formatTable } from "../util/table.js";
import { BUILD_DIR_HELP, checkProfile, printJson, reporterFor } from "./common.js";

interface ProveCliOptions {
  snapshot: string;
  out: string;
  profile: string;
  secret?: string;
  round?: boolean;
  workers?: string;
  prover?: string;
  singleThread?: boolean;
  selfAudit: boolean;
  force?: boolean;
  lockTimeout: string;
  minBatches: string;
  queue?: string;
  queueName?: string;
  queueWindow?: string;
  json?: boolean;
  quiet?: boolean;
}

/** `--lock-timeout <seconds>` -> ms. */
export function parseLockTimeout(value: string): number {
  const s = Number(value);
  if (!Number.isFinite(s) || s < 0)
    throw new Error(`--lock-timeout ${value}: expected a number of seconds >= 0`);
  return Math.round(s * 1000);
}

/** `--min-batches <n>`: an integer in [1, MAX_MIN_BATCHES]. */
export function parseMinBatches(value: string): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_MIN_BATCHES)
    throw new Error(`--min-batches ${value}: expected an integer from 1 to ${MAX_MIN_BATCHES}`);
  return n;
}

/** "crash: pass, eth-50: FAIL" (or "-" when the segment has no named scenario). */
export function stressText(g: { stress: { name: string; healthy: boolean }[] }): string {
  if (g.stress.length === 0) return "-";
  return g.stress.map((x) => `${x.name}: ${x.healthy ? "pass" : "FAIL"}`).join(", ");
}

/** "prover: native (6 proofs), snarkjs (1 proof): 1 native proof rejected" and the like. */
export function proverLine(p: ProveSummary["prover"]): string {
  const counts = (["native", "snarkjs"] as const)
    .filter((n) => p.proofs[n] > 0)
    .map((n) => `${n} ${p.proofs[n]}`)
    .join(", ");
  const who = p.used === "queue" ? "queue workers" : p.used === "none" ? "none (every proof reused)" : p.used;
  const fallback = p.fallback ? ` (native unavailable: ${p.fallback})` : "";
  const incidents = p.incidents.length
    ? `; ${p.incidents.length} native proof(s) rejected, proven again with snarkjs`
    : "";
  return `prover: ${who}${counts ? `, proofs: ${counts}` : ""}${fallback}${incidents}`;
}

export function formatProveSummary(s: ProveSummary): string {
  const lines: string[] = [];
  lines.push(
    `epoch ${s.epoch} (profile ${s.profile}): ${s.proofs.total} proofs (${s.proofs.proven} proven, ${s.proofs.reused} reused)${s.minBatches > 1 ? `, segments padded to >= ${s.minBatches} batches` : ""}`,
  );
  const rows = [["segment", "name", "lots", "liabilities", "batches", "healthy", "stress", "coverage"]];
  for (const g of s.segments) {
    rows.push([
      String(g.id),
      g.name,
      String(g.lots),
      String(g.liabilities),
      String(g.batches),
      g.empty ? "yes (empty segment: dummy entries only)" : g.healthy ? "yes" : "NO (insolvent)",
      stressText(g),
      g.bandLabel,
    ]);
  }
  rows.push([
    "lot list",
    "(global)",
    String(s.segments.reduce((n, g) => n + g.lots, 0)),
    "-",
    String(s.lotListBatches),
    "-",
    "-",
    "-",
  ]);
  lines.push(...formatTable(rows, { rule: true, indent: "  " }));
  for (const g of s.segments) {
    const failing = g.stress.filter((x) => !x.healthy).map((x) => x.name);
    if (g.healthy && failing.length > 0) {
      lines.push(
        `  segment ${g.id} is healthy now but FAILS stress scenario${failing.length > 1 ? "s" : ""}: ${failing.join(", ")}`,
      );
    }
  }
  const bounded = s.segments.flatMap((g) =>
    g.custody.filter((c) => c.cap !== null).map((c) => `segment ${g.id} ${c.asset} <= ${c.cap}`),
  );
  lines.push(`custody caps proven: ${bounded.length ? bounded.join(", ") : "none (not bounded)"}`);
  lines.push(`manifest ${s.manifestHash}`);
  lines.push(`public  (publish): ${s.publicDir}`);
  lines.push(`private (keep):    ${s.privateDir}  (${s.receipts} receipts, totals.json, secret)`);
  lines.push(proverLine(s.prover));
  for (const i of s.prover.incidents)
    lines.push(
      `  job ${i.job}: ${i.reason}${i.worker ? ` (worker ${i.worker})` : ""}; proven again with snarkjs`,
    );
  const t = s.timings;
  lines.push(
    `time: ${formatDuration(t.totalMs)} (artifacts ${formatDuration(t.artifactsMs)}, witnesses ${formatDuration(t.witnessMs)}, proving ${formatDuration(t.proveMs)}, writing ${formatDuration(t.writeMs)})`,
  );
  if (s.devSetup) lines.push("WARNING: development trusted setup: INSECURE, development only");
  return lines.join("\n");
}

export function register(program: Command): void {
  program
    .command("prove")
    .description(
      "prove an epoch: snapshot -> DIR/public (bundle to publish) + DIR/private (receipts, totals)",
    )
    .requiredOption("-s, --snapshot <file>", "snapshot JSON (see docs)")
    .requiredOption("-o, --out <dir>", "output directory (re-run on the same directory to resume)")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--secret <file>", "publisher secret for salts (default: DIR/private/secret, generated once)")
    .option("--round", "round too-precise amounts: collateral down, liabilities up (default: reject)")
    .option("-w, --workers <n>", "proving worker threads (default: all cores)")
    .option("--single-thread", "single-threaded curve inside each worker")
    .option(
      "--prover <name>",
      "native or snarkjs (default: native when its toolchain is present, else snarkjs with a warning)",
    )
    .option("--no-self-audit", "skip the audit of the written bundle")
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--force", "replace an output directory that holds another epoch (default: refuse)")
    .option("--lock-timeout <seconds>", "wait at most this long for another run on the same directory", "30")
    .option(
      "--min-batches <n>",
      "pad every segment to at least n batches with salted dummy entries (hides position counts below n batches)",
      "1",
    )
    .option("--queue <url>", "prove on bulkhead workers through BullMQ: redis://HOST:PORT[/DB] or rediss://…")
    .option("--queue-name <name>", "BullMQ queue name (default bulkhead-prove)")
    .option(
      "--queue-window <n>",
      "jobs (with their private inputs) in Redis at once (default: adapts to the workers, at least 64)",
    )
    .option("--json", "JSON lines on stderr, JSON summary on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(async (opts: ProveCliOptions) => {
      checkProfile(opts.profile);
      const reporter = reporterFor(opts);
      const workers = opts.workers === undefined ? undefined : Number.parseInt(opts.workers, 10);
      if (workers !== undefined && !(workers >= 1)) throw new Error("--workers must be a positive integer");
      const prover = opts.prover === undefined ? undefined : parseProver(opts.prover);
      if (prover && opts.queue)
        throw new Error("--prover: with --queue the workers prove; choose there (bulkhead worker --prover)");
      const window = opts.queueWindow === undefined ? undefined : Number(opts.queueWindow);
      if (window !== undefined && !(Number.isInteger(window) && window >= 1))
        throw new Error(`--queue-window must be a positive integer, got "${opts.queueWindow}"`);
      const summary: ProveSummary = await proveSnapshot({
        snapshot: opts.snapshot,
        out: opts.out,
        profile: opts.profile,
        secretFile: opts.secret,
        round: opts.round,
        workers,
        prover,
        singleThread: opts.singleThread,
        selfAudit: opts.selfAudit,
        force: opts.force,
        lockTimeoutMs: parseLockTimeout(opts.lockTimeout),
        minBatches: parseMinBatches(opts.minBatches),
        backend: opts.queue
          ? new QueueBackend({ url: opts.queue, queueName: opts.queueName, window })
          : undefined,
        reporter,
      });
      if (opts.json) printJson({ ok: true, ...summary });
      else if (!opts.quiet) process.stdout.write(`${formatProveSummary(summary)}\n`);
    });
}
