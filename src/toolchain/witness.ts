/**
 * The native witness generator of a circuit: circom's `--c` output (through the shared compile
 * cache, src/toolchain/compile.ts) compiled with g++ and nasm (the steps of circom's Makefile)
 * into a program that reads a circuit input (JSON) and writes a `.wtns` file. It is an artifact
 * like the others:
 *
 *   build/witness/<circuit>-<profile>-<key16>/main, main.dat
 *
 * keyed by the circuit's C compile key (sources, circom and circomlib versions, parameters,
 * flags), the C++ toolchain (`g++ --version`, `nasm --version`, platform) and flags, built in a
 * temporary sibling and renamed into place (complete or absent), under the build directory's
 * lock for that circuit so that concurrent runs build it once.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { CircuitName } from "../spec/profiles.js";
import { acquireLock, exists, replaceDir, withTmpDir } from "../util/fsutil.js";
import { hashJson } from "../util/hash.js";
import { buildDir as defaultBuildDir } from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { circuitSpec, compileCircuit, compileKey } from "./compile.js";
import { nativeToolchainMissing } from "./native.js";

export interface NativeWitness {
  /** the program: `<bin> <input.json> <out.wtns>` (reads `<bin>.dat` next to it) */
  bin: string;
  dir: string;
  /** true when this call built it (false: cache hit) */
  built: boolean;
  ms: number;
}

/**
 * What the native witness generator lacks on this machine (undefined: nothing): it builds with the
 * native prover's toolchain (g++, nasm, GMP, nlohmann/json, x86-64: src/toolchain/native.ts).
 */
export function nativeWitnessMissing(): string | undefined {
  return nativeToolchainMissing();
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
  // the key is known without compiling: a built program needs nothing else (read-only build dirs)
  const ck = await compileKey(spec, "c");
  const key = hashJson({ compileKey: ck, compiler: compilerIdentity(), flags: CXX_FLAGS });
  const dir = path.join(root, "witness", `${spec.id}-${key.slice(0, 16)}`);
  const bin = path.join(dir, "main");
  if (await exists(`${bin}.dat`)) return { bin, dir, built: false, ms: Date.now() - t };
  const release = await acquireLock(path.join(root, ".locks", `witness-${spec.id}.lock`));
  try {
    if (await exists(`${bin}.dat`)) return { bin, dir, built: false, ms: Date.now() - t };
    (opts.reporter ?? silentReporter).info(
      `${spec.id}: building the native witness generator (g++ -O3, minutes)`,
    );
    await withTmpDir(
      path.dirname(dir),
      async (tmp) => {
        const compiled = await compileCircuit(spec, { target: "c", buildDir: root });
        const src = path.join(tmp, "src");
        await fs.cp(path.join(compiled.dir, "main_cpp"), src, { recursive: true });
        const program = await compileProgram(src, spec.id);
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

/** circom's Makefile, run directly (no make): the C++ units and the field assembly, then the link. */
const CXX_FLAGS = ["-std=c++11", "-O3", "-I."];
const UNITS = ["main", "calcwit", "fr", "main_c"];

/** Compiles circom's main_cpp/ sources in `dir`: returns the program (`main_c`, data `main_c.dat`). */
async function compileProgram(dir: string, id: string): Promise<string> {
  const steps = [
    ...UNITS.map((u) => () => run("g++", ["-c", `${u}.cpp`, ...CXX_FLAGS, "-o", `${u}.o`], dir)),
    () => run("nasm", ["-felf64", "fr.asm", "-o", "fr_asm.o"], dir),
  ];
  // main_c.cpp (the circuit) is by far the largest unit: start it first
  const order = [steps[3], steps[0], steps[1], steps[2], steps[4]] as (() => Promise<Run>)[];
  let next = 0;
  const lane = async (): Promise<Run | undefined> => {
    while (next < order.length) {
      const r = await (order[next++] as () => Promise<Run>)();
      if (r.code !== 0) return r;
    }
    return undefined;
  };
  const lanes = Math.max(1, Math.min(order.length, os.availableParallelism()));
  let failed = (await Promise.all(Array.from({ length: lanes }, lane))).find((r) => r !== undefined);
  if (!failed) {
    const link = await run("g++", ["-o", "main_c", ...UNITS.map((u) => `${u}.o`), "fr_asm.o", "-lgmp"], dir);
    if (link.code !== 0) failed = link;
  }
  if (failed)
    throw new Error(
      `${id}: building the native witness generator failed: ${failed.output.trim().slice(-400)}`,
    );
  return path.join(dir, "main_c");
}

interface Run {
  code: number;
  output: string;
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const add = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    child.on("error", (err) => resolve({ code: 127, output: `cannot run ${cmd}: ${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}
