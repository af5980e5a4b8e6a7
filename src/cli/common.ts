/** Helpers shared by the CLI command modules (src/cli/*.ts). */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { CommanderError } from "commander";
import { isAddress, type Provider } from "ethers";
import { BUNDLE_FILE } from "../bundle/bundle.js";
import { readDeployment } from "../chain/deploy.js";
import { checkRegistry, type RegistryRef } from "../chain/preflight.js";
import { SnapshotError } from "../snapshot/snapshot.js";
import { CIRCUITS, type CircuitName, PROFILES } from "../spec/profiles.js";
import { exists } from "../util/fsutil.js";
import { createReporter, type Reporter } from "../util/progress.js";

/** `--build-dir`: where artifacts are built and looked up (sets $BULKHEAD_BUILD_DIR for the run). */
export const BUILD_DIR_HELP =
  "build directory of artifacts (default: $BULKHEAD_BUILD_DIR, else build/ of a checkout, else ~/.cache/bulkhead/build)";

/** Options every command may take. */
export interface CommonOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Reporter on stderr: text, or JSON lines with `--json`. */
export function reporterFor(opts: CommonOptions): Reporter {
  return createReporter({ json: !!opts.json, quiet: !!opts.quiet });
}

/** Parse `--circuits a b` / `--circuits a,b` (default: all circuits). */
export function parseCircuits(values: string[] | string | undefined): CircuitName[] {
  if (!values || (Array.isArray(values) && values.length === 0)) return [...CIRCUITS];
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const c of list) {
    if (!(CIRCUITS as readonly string[]).includes(c)) {
      throw new Error(`unknown circuit "${c}" (known: ${CIRCUITS.join(", ")})`);
    }
  }
  return [...new Set(list)] as CircuitName[];
}

export function parseCircuit(value: string): CircuitName {
  const [c] = parseCircuits([value]);
  return c as CircuitName;
}

export function checkProfile(name: string): string {
  if (!PROFILES[name])
    throw new Error(`unknown profile "${name}" (known: ${Object.keys(PROFILES).join(", ")})`);
  return name;
}

/** An integer flag value >= min; the error names the flag. */
function intAtLeast(value: string, flag: string, min: number, what: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min)
    throw new Error(`${flag} must be a ${what} integer, got "${value}"`);
  return n;
}

/** A positive integer flag value (undefined when the flag is absent); the error names the flag. */
export function positiveInt(value: string | undefined, flag: string): number | undefined {
  return value === undefined ? undefined : intAtLeast(value, flag, 1, "positive");
}

/** A non-negative integer flag value; the error names the flag. */
export function nonNegativeInt(value: string, flag: string): number {
  return intAtLeast(value, flag, 0, "non-negative");
}

/** A JSON file holding an object; the error names the file and the reason. */
export async function readJsonObject(file: string): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`${file}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Print a machine-readable result on stdout (used with --json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * An error the CLI reports with a stable machine code (the `code` of the JSON error object) and,
 * optionally, extra fields for that object.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly details: Record<string, unknown> = {},
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** One line, no stack: what the user sees on failure. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, " ").trim() || "unknown error";
}

/** A stable code: a CliError's, INVALID_SNAPSHOT, an error's own code (ELOCKED, EEPOCH, a Node errno such as ENOSPC), CHAIN, ERROR. */
export function errorCode(err: unknown): string {
  if (err instanceof CliError) return err.code;
  if (err instanceof SnapshotError) return "INVALID_SNAPSHOT";
  const e = err as { code?: unknown; name?: unknown } | null;
  if (e && typeof e.code === "string" && /^[A-Z][A-Z0-9_]+$/.test(e.code)) return e.code;
  if (e && e.name === "ChainError") return "CHAIN";
  if (e && e.name === "BundleError") return "INVALID_BUNDLE";
  return "ERROR";
}

/**
 * The JSON error object every command prints on stdout with `--json` when it fails:
 * `{ ok: false, command, code, error, ...details }`; `error` is one line, details depend on the
 * error (a snapshot's `problems`, a lock's `holder`, a file system error's `path`, ...).
 */
export function errorObject(err: unknown, command?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { ok: false, command: command ?? null, code: errorCode(err) };
  if (err instanceof SnapshotError) {
    out.error = err.message.split("\n")[0];
    out.problems = err.problems;
  } else out.error = oneLine(err);
  if (err instanceof CliError) Object.assign(out, err.details);
  const e = err as { path?: unknown; lockPath?: unknown; holder?: unknown; revertName?: unknown } | null;
  if (e && typeof e.path === "string") out.path = e.path;
  if (e && typeof e.lockPath === "string") out.path = e.lockPath;
  if (e?.holder !== undefined) out.holder = e.holder;
  if (e && typeof e.revertName === "string") out.revert = e.revertName;
  return out;
}

/** The text error on stderr: one line (a snapshot error keeps its list of problems). */
export function errorText(err: unknown): string {
  if (err instanceof SnapshotError) return `error: ${err.message}`;
  return `error: ${oneLine(err)}`;
}

/**
 * The reason first when a bundle argument is not a bundle: a directory without bundle.json (with
 * the hint to pass DIR/public when DIR is a prove output directory), or a path that does not exist.
 */
export async function checkBundlePath(p: string): Promise<void> {
  const st = await fs.stat(p).catch(() => undefined);
  if (!st)
    throw new CliError(
      `${p} does not exist (pass the public/ directory written by bulkhead prove)`,
      "ENOENT",
      { path: p },
    );
  if (!st.isDirectory() || (await exists(path.join(p, BUNDLE_FILE)))) return;
  const pub = path.join(p, "public");
  const hint = (await exists(path.join(pub, BUNDLE_FILE)))
    ? `it is a prove output directory: pass ${pub}`
    : "pass the public/ directory written by bulkhead prove (DIR/public)";
  throw new CliError(`${p} is not a bundle directory (no ${BUNDLE_FILE} in it): ${hint}`, "ENOBUNDLE", {
    path: p,
  });
}

/**
 * `--registry` takes an address or a deployment file written by `bulkhead deploy`; checked against
 * the node (chain id, code, that it is a registry) before use.
 */
export async function resolveRegistry(value: string, provider: Provider, rpc: string): Promise<string> {
  let ref: RegistryRef;
  if (isAddress(value)) ref = { address: value };
  else {
    const d = await readDeployment(value).catch((err: Error) => {
      throw new Error(`--registry: not an address, and ${err.message}`);
    });
    ref = { address: d.registry, deployment: { file: value, chainId: d.chainId } };
  }
  await checkRegistry(provider, ref, `the node at ${rpc}`);
  return ref.address;
}

let stopRequest: ((sig: NodeJS.Signals) => void) | undefined;
let abortWords: string | undefined;

/**
 * A command that can stop gracefully (the queue worker finishing the jobs in hand, the server
 * closing) takes the first SIGINT/SIGTERM itself; the CLI's own handler ends the process on the
 * next one, saying `abortMessage` (what an abort leaves behind for this command) when given.
 */
export function onStopRequest(fn: (sig: NodeJS.Signals) => void, abortMessage?: string): void {
  stopRequest = fn;
  abortWords = abortMessage;
}

/** What a command said an abort leaves behind (onStopRequest), if it said anything. */
export function abortMessage(): string | undefined {
  return abortWords;
}

/** The graceful stop a command registered, handed out once. */
export function takeStopRequest(): ((sig: NodeJS.Signals) => void) | undefined {
  const fn = stopRequest;
  stopRequest = undefined;
  return fn;
}

/** Exit with `code` after the command printed its own message. */
export function exitWith(code: number): never {
  throw new CommanderError(code, "bulkhead.exit", "");
}
