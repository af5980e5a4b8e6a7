/**
 * The "before" half of a before/after benchmark, measured in the same run as the "after": the
 * bench of an earlier revision (default: the last commit with the v1 circuits) is checked out in a
 * detached git worktree under build/bench-baseline/<rev>, run there on the same machine with the
 * same options, and its results are returned for the report to print side by side.
 *
 * Why a worktree and not just the old circuit files: proving time needs the old witness builder
 * too (the circuits' inputs changed), so the whole old tree runs, with this checkout's
 * node_modules linked in (the dependencies did not change between the two revisions; circomlib is
 * copied, see linkNodeModules).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { BUILD_DIR, PACKAGE_ROOT } from "../src/util/paths.js";

/** The last commit whose circuits are v1 (before circuits v2). */
export const V1_REVISION = "867071f";

export interface BaselineOptions {
  rev: string;
  /** profiles to measure, as the bench's --profiles value (e.g. "default" or "default,large:constraints") */
  profiles: string;
  runs: number;
  noGas: boolean;
  log: (m: string) => void;
}

function git(args: string[], cwd = PACKAGE_ROOT): string {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return r.stdout.trim();
}

/** A detached worktree of `rev` with this checkout's node_modules linked in (created once). */
async function baselineTree(rev: string): Promise<string> {
  const full = git(["rev-parse", "--verify", `${rev}^{commit}`]);
  const dir = path.join(BUILD_DIR, "bench-baseline", full.slice(0, 12));
  if (!existsSync(path.join(dir, "package.json"))) {
    await fs.mkdir(path.dirname(dir), { recursive: true });
    git(["worktree", "prune"]);
    git(["worktree", "add", "--detach", "--force", dir, full]);
  }
  await linkNodeModules(path.join(dir, "node_modules"));
  return dir;
}

/**
 * The worktree's node_modules: a directory of links to this checkout's packages, except circomlib,
 * copied. circom2 runs under WASI, which sees only the directory it runs in: an include of
 * circomlib through a link that leaves the worktree cannot be opened.
 */
async function linkNodeModules(nm: string): Promise<void> {
  const src = path.join(PACKAGE_ROOT, "node_modules");
  const st = await fs.lstat(nm).catch(() => undefined);
  if (st?.isSymbolicLink()) await fs.rm(nm);
  if (existsSync(path.join(nm, "circomlib", "circuits"))) return;
  await fs.mkdir(nm, { recursive: true });
  for (const name of await fs.readdir(src)) {
    const to = path.join(nm, name);
    if (existsSync(to)) continue;
    if (name === "circomlib") await fs.cp(path.join(src, name), to, { recursive: true });
    else await fs.symlink(path.join(src, name), to, "dir");
  }
}

/** Runs the baseline revision's bench and returns its results.json (profiles, machine, targets). */
export async function benchBaseline(o: BaselineOptions): Promise<Record<string, unknown>> {
  const dir = await baselineTree(o.rev);
  const out = path.join(dir, "build", "bench-out");
  const args = ["tsx", "scripts/bench.ts", "--profiles", o.profiles, "--runs", String(o.runs), "--out", out];
  args.push("--cpp", "none");
  if (o.noGas) args.push("--no-gas");
  const shared = path.resolve(PACKAGE_ROOT, "..", "shared", "ptau");
  // keys and compiles are cached by content hash, so a build dir holding the old revision's keys
  // (BULKHEAD_BASELINE_BUILD_DIR) may be shared; by default the worktree's own build/
  const buildDir = process.env.BULKHEAD_BASELINE_BUILD_DIR ?? path.join(dir, "build");
  const env: NodeJS.ProcessEnv = { ...process.env, BULKHEAD_BUILD_DIR: buildDir };
  if (existsSync(shared) && !env.BULKHEAD_PTAU_DIR) env.BULKHEAD_PTAU_DIR = shared;
  o.log(`baseline ${o.rev}: running its bench in ${path.relative(PACKAGE_ROOT, dir)} (${o.profiles})`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("npx", args, { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr.on("data", (d: Buffer) => {
      for (const line of d.toString().split("\n").filter(Boolean)) o.log(`baseline: ${line}`);
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`baseline bench exited ${code}`))));
  });
  const results = JSON.parse(await fs.readFile(path.join(out, "results.json"), "utf8")) as Record<
    string,
    unknown
  >;
  return { rev: git(["rev-parse", "--short=12", o.rev]), ...results };
}
