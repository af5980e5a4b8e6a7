/**
 * The native witness generator of a circuit: circom's `--c` output (through the shared compile
 * cache, src/toolchain/compile.ts) compiled with g++ and nasm (the steps of circom's Makefile)
 * into a program that reads a circuit input (JSON) and writes a `.wtns` file. It is an artifact
 * like the others:
 *
 *   build/witness/<circuit>-<profile>-<key16>/main, main.dat
 *
 * keyed by the circuit's C compile key (sources, circom and circomlib versions, parameters,
 * flags), the C++ toolchain (`g++ --version`, `nasm --version`, platform), flags and the inline
 * Fr_copy put into circom's fr.hpp (below), built in a
 * temporary sibling and renamed into place (complete or absent), under the build directory's
 * lock for that circuit so that concurrent runs build it once.
 */
import { spawnSync } from "node:child_process";
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
import { inParallel, runTool } from "./tools.js";

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
  const key = hashJson({
    compileKey: ck,
    compiler: compilerIdentity(),
    flags: CXX_FLAGS,
    frCopy: FR_COPY_INLINE,
  });
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
        await inlineFrCopy(src, spec.id);
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

/**
 * The witness programs of `circuits` at `profile` (paths by circuit), built side by side when
 * missing (each compile is mostly one long g++ run). A failure is thrown once every build ended,
 * so that no compiler is left writing into a temporary directory.
 */
export async function ensureNativeWitnesses<C extends CircuitName>(
  circuits: readonly C[],
  profile: string,
  opts: { buildDir?: string; reporter?: Reporter } = {},
): Promise<Record<C, string>> {
  const runs = await Promise.allSettled(circuits.map((c) => ensureNativeWitness(c, profile, opts)));
  const failed = runs.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  const bins = runs.map((r) => (r as PromiseFulfilledResult<NativeWitness>).value.bin);
  return Object.fromEntries(circuits.map((c, i) => [c, bins[i]])) as Record<C, string>;
}

/**
 * circom's fr.hpp declares Fr_copy (a copy of one 40-byte field element) as an assembly function.
 * The generated code calls it about 300,000 times per circuit, and a witness spends about 40% of
 * its time in those calls. Defined inline (the same copy), it is folded into the callers: a
 * default-profile segment witness takes 42 ms instead of 58, for a compile about twice as long.
 */
const FR_COPY_DECL = 'extern "C" void Fr_copy(PFrElement r, PFrElement a);';
const FR_COPY_INLINE = `${FR_COPY_DECL}
static inline void Fr_copy_inline(PFrElement r, PFrElement a) { *r = *a; }
#define Fr_copy(r, a) Fr_copy_inline((r), (a))`;

/** Replaces the assembly Fr_copy by the inline one in circom's fr.hpp (in `dir`). */
async function inlineFrCopy(dir: string, id: string): Promise<void> {
  const file = path.join(dir, "fr.hpp");
  const text = await fs.readFile(file, "utf8");
  if (!text.includes(FR_COPY_DECL))
    throw new Error(
      `${id}: building the native witness generator failed: circom's fr.hpp has no \`${FR_COPY_DECL}\` (a circom version this build does not know)`,
    );
  await fs.writeFile(file, text.replace(FR_COPY_DECL, FR_COPY_INLINE));
}

/** circom's Makefile, run directly (no make): the C++ units and the field assembly, then the link. */
const CXX_FLAGS = ["-std=c++11", "-O3", "-I."];
const UNITS = ["main", "calcwit", "fr", "main_c"];

/** Compiles circom's main_cpp/ sources in `dir`: returns the program (`main_c`, data `main_c.dat`). */
async function compileProgram(dir: string, id: string): Promise<string> {
  const step = (cmd: string, args: string[]) => async () => {
    const r = await runTool(cmd, args, dir);
    if (r.code !== 0)
      throw new Error(`${id}: building the native witness generator failed: ${r.output.trim().slice(-400)}`);
  };
  const compile = (u: string) => step("g++", ["-c", `${u}.cpp`, ...CXX_FLAGS, "-o", `${u}.o`]);
  // main_c.cpp (the circuit) is by far the largest unit: start it first
  await inParallel(
    [
      compile("main_c"),
      ...UNITS.filter((u) => u !== "main_c").map(compile),
      step("nasm", ["-felf64", "fr.asm", "-o", "fr_asm.o"]),
    ],
    os.availableParallelism(),
  );
  await step("g++", ["-o", "main_c", ...UNITS.map((u) => `${u}.o`), "fr_asm.o", "-lgmp"])();
  return path.join(dir, "main_c");
}
