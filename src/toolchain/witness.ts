/**
 * The native witness generator of a circuit: circom's `--c` output (through the shared compile
 * cache, src/toolchain/compile.ts) built with `make` into a program that reads a circuit input
 * (JSON) and writes a `.wtns` file. It is an artifact like the others:
 *
 *   build/witness/<circuit>-<profile>-<key16>/main, main.dat
 *
 * keyed by the circuit's C compile key (sources, circom and circomlib versions, parameters,
 * flags) and the C++ toolchain (`g++ --version`, `nasm --version`, platform), built in a
 * temporary sibling and renamed into place (complete or absent), under the build directory's
 * lock for that circuit so that concurrent runs build it once.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { CircuitName } from "../spec/profiles.js";
import { acquireLock, exists, replaceDir, withTmpDir } from "../util/fsutil.js";
import { hashJson } from "../util/hash.js";
import { buildDir as defaultBuildDir } from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { circuitSpec, compileCircuit } from "./compile.js";
import { nativeToolchainMissing } from "./native.js";

export interface NativeWitness {
  /** the program: `<bin> <input.json> <out.wtns>` (reads `<bin>.dat` next to it) */
  bin: string;
  dir: string;
  /** true when this call built it (false: cache hit) */
  built: boolean;
  ms: number;
}

const has = (cmd: string): boolean => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

/**
 * What the native witness generator lacks on this machine (undefined: nothing): the native
 * prover's toolchain (g++, nasm, GMP, nlohmann/json, x86-64: src/toolchain/native.ts) and make,
 * with the command that installs them.
 */
export function nativeWitnessMissing(): string | undefined {
  const base = nativeToolchainMissing();
  const make = has("make")
    ? undefined
    : `the native witness generator needs make: install with \`apt-get install -y make\``;
  return base && make ? `${base}; ${make}` : (base ?? make);
}

let compilerId: string | undefined;
/** The C++ toolchain that builds the program (part of its cache key). */
function compilerIdentity(): string {
  compilerId ??= JSON.stringify({
    gxx: firstLine("g++", ["--version"]),
    nasm: firstLine("nasm", ["--version"]),
    platform: `${process.platform}-${process.arch}`,
  });
  return compilerId;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  return (r.stdout || r.stderr || "").split("\n")[0]?.trim() ?? "";
}

/** The witness program of `circuit` at `profile`: from the cache, or compiled and built now. */
export async function ensureNativeWitness(
  circuit: CircuitName,
  profile: string,
  opts: { buildDir?: string; reporter?: Reporter } = {},
): Promise<NativeWitness> {
  const missing = nativeWitnessMissing();
  if (missing) throw new Error(missing);
  const t = Date.now();
  const root = opts.buildDir ?? defaultBuildDir();
  const spec = circuitSpec(circuit, profile);
  const compiled = await compileCircuit(spec, { target: "c", buildDir: root });
  const key = hashJson({ compileKey: compiled.key, compiler: compilerIdentity() });
  const dir = path.join(root, "witness", `${spec.id}-${key.slice(0, 16)}`);
  const bin = path.join(dir, "main");
  if (await exists(`${bin}.dat`)) return { bin, dir, built: false, ms: Date.now() - t };
  const release = await acquireLock(path.join(root, ".locks", `witness-${spec.id}.lock`));
  try {
    if (await exists(`${bin}.dat`)) return { bin, dir, built: false, ms: Date.now() - t };
    (opts.reporter ?? silentReporter).info(`${spec.id}: building the native witness generator (make)`);
    await withTmpDir(
      path.dirname(dir),
      async (tmp) => {
        const src = path.join(tmp, "src");
        await fs.cp(path.join(compiled.dir, "main_cpp"), src, { recursive: true });
        const program = await make(src, spec.id);
        await fs.mkdir(path.join(tmp, "out"));
        await fs.copyFile(program, path.join(tmp, "out", "main"));
        await fs.copyFile(`${program}.dat`, path.join(tmp, "out", "main.dat"));
        await replaceDir(path.join(tmp, "out"), dir);
      },
      spec.id,
    );
    return { bin, dir, built: true, ms: Date.now() - t };
  } finally {
    await release();
  }
}

/** `make` in circom's main_cpp/: returns the program (circom names it main, or main_c). */
async function make(dir: string, id: string): Promise<string> {
  const { code, output } = await run("make", ["-j2"], dir);
  const program = ["main", "main_c"].map((n) => path.join(dir, n)).find((p) => existsSync(p));
  if (code !== 0 || !program)
    throw new Error(`${id}: building the native witness generator failed: ${output.trim().slice(-400)}`);
  return program;
}

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const add = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
