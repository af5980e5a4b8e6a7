/**
 * bulkhead CLI entry. Thin layer over the library: every command group lives in src/cli/<group>.ts
 * and exports `register(program)`; add yours to COMMANDS below. Any failure exits 1 with a
 * one-line "error: ..." on stderr.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { terminateCurves } from "../util/curve.js";
import { bulkheadVersion } from "../util/paths.js";
import * as auditCmd from "./audit.js";
import * as buildCmd from "./build.js";
import * as chainCmd from "./chain.js";
import * as proveCmd from "./prove.js";
import * as receiptCmd from "./receipt.js";
import * as setupCmd from "./setup.js";
import * as workerCmd from "./worker.js";

export interface CommandModule {
  register(program: Command): void;
}

/** Command groups, in help order. */
export const COMMANDS: CommandModule[] = [
  buildCmd,
  setupCmd,
  proveCmd,
  workerCmd,
  receiptCmd,
  chainCmd,
  auditCmd,
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

/** One line, no stack: what the user sees on failure. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = createProgram();
  let code = 0;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      code = err.exitCode; // commander (or a command, e.g. receipt verify: 2) already printed its message
    } else {
      process.stderr.write(`error: ${oneLine(err)}\n`);
      if (process.env.BULKHEAD_DEBUG && err instanceof Error && err.stack)
        process.stderr.write(`${err.stack}\n`);
      code = 1;
    }
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
