/**
 * bulkhead CLI entry. Thin layer over the library: every command lives in src/cli/<command>.ts
 * with its typed options and action function, and exports `register(program)`; add yours to
 * COMMANDS below. Any failure exits 1 (or the
 * CliError's code) with a one-line "error: ..." on stderr and, with `--json`, a JSON error object on
 * stdout; results go to stdout, progress and warnings to stderr.
 */
import { realpathSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { terminateCurves } from "../util/curve.js";
import { releaseHeldLocksSync } from "../util/fsutil.js";
import { BUILD_DIR_ENV, bulkheadVersion } from "../util/paths.js";
import * as auditCmd from "./audit.js";
import * as buildCmd from "./build.js";
import * as checkCmd from "./check.js";
import {
  abortMessage,
  CliError,
  errorObject,
  errorText,
  oneLine,
  printJson,
  takeStopRequest,
} from "./common.js";
import * as deployCmd from "./deploy.js";
import * as proveCmd from "./prove.js";
import * as publishCmd from "./publish.js";
import * as receiptCmd from "./receipt.js";
import * as receiptChainCmd from "./receipt-chain.js";
import * as serveCmd from "./serve.js";
import * as setupCmd from "./setup.js";
import * as snapshotGovernCmd from "./snapshot-govern.js";
import * as statusCmd from "./status.js";
import * as workerCmd from "./worker.js";

export interface CommandModule {
  register(program: Command): void;
}

/** Commands, in help order (receiptChainCmd adds the --rpc mode to receiptCmd's `receipt verify`). */
export const COMMANDS: CommandModule[] = [
  buildCmd,
  setupCmd,
  proveCmd,
  checkCmd,
  workerCmd,
  receiptCmd,
  deployCmd,
  snapshotGovernCmd,
  publishCmd,
  statusCmd,
  receiptChainCmd,
  auditCmd,
  serveCmd,
];

export function createProgram(): Command {
  const program = new Command();
  program
    .name("bulkhead")
    .description("zero-knowledge per-segment solvency proofs with no shared collateral")
    .version(bulkheadVersion())
    .showHelpAfterError(false)
    .exitOverride();
  for (const m of COMMANDS) m.register(program);
  return program;
}

export { oneLine } from "./common.js";

/** "receipt verify" for the subcommand verify of receipt. */
function commandPath(cmd: Command | undefined): string | undefined {
  const names: string[] = [];
  for (let c = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.length > 0 ? names.join(" ") : undefined;
}

/** The subcommand named by argv (before its action ran, e.g. on a usage error). */
function commandFromArgv(program: Command, argv: string[]): Command | undefined {
  let cmd: Command | undefined;
  let scope = program;
  for (const a of argv.slice(2)) {
    if (a.startsWith("-")) break;
    const sub = scope.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    cmd = scope = sub;
  }
  return cmd;
}

/**
 * SIGINT/SIGTERM while a command runs: say that it stopped and that a re-run resumes (or what the
 * command said an abort leaves: onStopRequest), release the locks this process holds (so the re-run
 * does not wait), and exit 130 (143 for SIGTERM). Every output is written atomically, so nothing
 * half-written is left behind.
 */
function onSignals(ctx: { json: () => boolean; command: () => string | undefined }): () => void {
  const handler = (sig: NodeJS.Signals) => {
    const graceful = takeStopRequest();
    if (graceful) {
      process.once(sig, handler); // the next signal ends the process
      graceful(sig);
      return;
    }
    const released = releaseHeldLocksSync();
    const what =
      abortMessage() ??
      "nothing half-written was kept; run the same command again to resume where it stopped";
    const msg = `stopped (${sig}): ${what}${released.length > 0 ? ` (released the lock ${released.join(", ")})` : ""}`;
    if (ctx.json()) {
      printJson(errorObject(new CliError(msg, "INTERRUPTED", { signal: sig }), ctx.command()));
      process.stderr.write(`${JSON.stringify({ type: "error", message: msg })}\n`);
    } else process.stderr.write(`${msg}\n`);
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/** Commander's own exits that are not failures to report (help, version, a command's verdict). */
function alreadyReported(err: CommanderError): boolean {
  return (
    err.code === "bulkhead.exit" ||
    err.code === "commander.helpDisplayed" ||
    err.code === "commander.help" ||
    err.code === "commander.version" ||
    err.exitCode === 0
  );
}

/**
 * Runs the CLI; returns the exit code. The one place where failures are reported: text on stderr
 * ("error: ..."), and with `--json` also the JSON error object of common.ts on stdout (and a JSON
 * line on stderr), whatever the command.
 */
export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  let active: Command | undefined;
  program.hook("preAction", (_p, cmd) => {
    active = cmd;
    // one build directory for the whole run: every library default reads it (src/util/paths.ts)
    const dir = (cmd.opts() as { buildDir?: string }).buildDir;
    if (dir) process.env[BUILD_DIR_ENV] = path.resolve(dir);
  });
  const command = () => commandPath(active ?? commandFromArgv(program, argv));
  const json = () => (active ? !!(active.opts() as { json?: boolean }).json : argv.includes("--json"));
  const offSignals = onSignals({ json, command });
  let code = 0;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode; // commander (or a command, e.g. receipt verify: 2) already printed its message
      if (!alreadyReported(err) && json())
        printJson(
          errorObject(new CliError(oneLine(err.message.replace(/^error: /, "")), "USAGE"), command()),
        );
    } else {
      code = err instanceof CliError ? err.exitCode : 1;
      if (json()) {
        printJson(errorObject(err, command()));
        process.stderr.write(`${JSON.stringify({ type: "error", message: oneLine(err) })}\n`);
      } else process.stderr.write(`${errorText(err)}\n`);
      if (process.env.BULKHEAD_DEBUG && err instanceof Error && err.stack)
        process.stderr.write(`${err.stack}\n`);
    }
  } finally {
    offSignals();
  }
  await terminateCurves().catch(() => undefined);
  return code;
}

function isEntry(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) {
  main().then((code) => process.exit(code));
}
