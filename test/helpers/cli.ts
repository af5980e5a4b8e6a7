/**
 * Runs the bulkhead CLI as a separate process, the way a user does (`bin/bulkhead.mjs`), and
 * collects its exit code, signal, stdout and stderr.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/util/paths.js";

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** called with the child once it is spawned (e.g. to send it a signal) */
  onSpawn?: (child: import("node:child_process").ChildProcess) => void;
  /** called with each chunk of stderr */
  onStderr?: (text: string, child: import("node:child_process").ChildProcess) => void;
}

export const BIN = path.join(PACKAGE_ROOT, "bin", "bulkhead.mjs");

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? PACKAGE_ROOT,
      env: { ...process.env, BULKHEAD_PRIVATE_KEY: undefined, BULKHEAD_FAULT: undefined, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      stderr += c.toString();
      opts.onStderr?.(c.toString(), child);
    });
    opts.onSpawn?.(child);
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
