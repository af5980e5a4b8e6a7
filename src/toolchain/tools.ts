/**
 * Running the C++ toolchain (g++, nasm, node scripts) for the native builds: one command with its
 * output kept, and a set of commands a few at a time.
 */
import { spawn } from "node:child_process";

/** A finished command: its exit code and the tail of its output; `error`: it could not start. */
export interface ToolRun {
  code: number;
  output: string;
  error?: string;
}

/** Runs `cmd` in `cwd`, keeping the last 20,000 characters of its stdout and stderr together. */
export function runTool(cmd: string, args: string[], cwd: string): Promise<ToolRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const add = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    child.on("error", (err) =>
      resolve({ code: 127, output: `cannot run ${cmd}: ${err.message}`, error: err.message }),
    );
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/**
 * Runs the tasks in order with at most `limit` at a time. After a failure no new task starts; the
 * running ones finish, then the first failure is thrown.
 */
export async function inParallel(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failed = false;
  let failure: unknown;
  const lane = async () => {
    while (!failed && next < tasks.length) {
      const task = tasks[next++] as () => Promise<void>;
      try {
        await task();
      } catch (err) {
        if (!failed) failure = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, lane));
  if (failed) throw failure;
}
