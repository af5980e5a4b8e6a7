/**
 * The native Groth16 prover (`native/prover/`, C++ on ffiasm): toolchain detection and the cached
 * build. The binary lives in `<build dir>/native/prover-<hash>/bulkhead-prover`, where the hash
 * covers the sources, the ffiasm version, the compiler and assembler versions and the flags; it
 * is built once (under a lock, into a temporary directory renamed into place) and never
 * committed. Its command-line and `serve` protocol are described in native/prover/main.cpp.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, exists, replaceDir, withTmpDir } from "../util/fsutil.js";
import { sha256Hex } from "../util/hash.js";
import { buildDir as defaultBuildDir, PACKAGE_ROOT, packageDir, packageVersion } from "../util/paths.js";
import { inParallel, runTool } from "./tools.js";

/** Debian packages the native prover builds with. */
export const NATIVE_PACKAGES = ["g++", "nasm", "libgmp-dev", "nlohmann-json3-dev"] as const;
/** The command that installs them (as root, or prefixed with sudo). */
export const NATIVE_INSTALL_COMMAND = `apt-get install -y ${NATIVE_PACKAGES.join(" ")}`;
/** File name of the binary inside its build directory. */
export const NATIVE_PROVER_BIN = "bulkhead-prover";

export const NATIVE_SOURCE_DIR = path.join(PACKAGE_ROOT, "native", "prover");

/** BN254 base and scalar field primes, for ffiasm's field generator. */
const FQ_PRIME = "21888242871839275222246405745257275088696311157297823662689037894645226208583";
const FR_PRIME = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
/** ffiasm's files compiled next to ours (its templates are included by its headers). */
const FFIASM_UNITS = ["alt_bn128.cpp", "naf.cpp", "splitparstr.cpp", "misc.cpp"];
const CXX_FLAGS = ["-O3", "-std=c++17", "-fopenmp", "-DNDEBUG", "-Wno-deprecated-declarations"];
const NASM_FLAGS = ["-felf64"];
const LINK_FLAGS = ["-fopenmp", "-Wl,-z,noexecstack", "-lgmp"];

export interface NativeProverOptions {
  /** build directory (default: the project's, `BULKHEAD_BUILD_DIR`) */
  buildDir?: string;
  /** progress lines (start, done) */
  log?: (line: string) => void;
}

function commandOutput(cmd: string, args: string[], input?: string): string | undefined {
  const r = spawnSync(cmd, args, { encoding: "utf8", input, stdio: ["pipe", "pipe", "pipe"] });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout}${r.stderr}`;
}

/** The x86-64 field assembly uses mulx/adcx/adox: BMI2 and ADX. */
function cpuMissing(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") {
    return `the native prover needs Linux on x86-64 (this is ${process.platform}-${process.arch})`;
  }
  const flags = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const missing = ["bmi2", "adx"].filter((f) => !new RegExp(`\\b${f}\\b`).test(flags));
  return missing.length ? `the native prover needs a CPU with ${missing.join(" and ")}` : undefined;
}

/** Headers that must compile: GMP, OpenMP and nlohmann/json. */
function headersMissing(): string[] {
  const probe = ["gmp.h", "omp.h", "nlohmann/json.hpp"];
  return probe.filter(
    (h) =>
      commandOutput("g++", ["-fopenmp", "-x", "c++", "-E", "-o", "/dev/null", "-"], `#include <${h}>\n`) ===
      undefined,
  );
}

let toolchainCheck: { missing: string | undefined } | undefined;

/**
 * Why the native prover cannot be built here, naming the missing tools and the install command;
 * undefined when everything is present. Checked once per process.
 */
export function nativeToolchainMissing(): string | undefined {
  toolchainCheck ??= { missing: checkToolchain() };
  return toolchainCheck.missing;
}

function checkToolchain(): string | undefined {
  const cpu = cpuMissing();
  if (cpu) return cpu;
  const missing: string[] = [];
  if (commandOutput("g++", ["--version"]) === undefined) missing.push("g++");
  if (commandOutput("nasm", ["-v"]) === undefined) missing.push("nasm");
  if (!missing.includes("g++")) {
    const headers = headersMissing();
    if (headers.includes("gmp.h")) missing.push("libgmp-dev (gmp.h)");
    if (headers.includes("omp.h")) missing.push("OpenMP (omp.h, part of g++)");
    if (headers.includes("nlohmann/json.hpp")) missing.push("nlohmann-json3-dev (nlohmann/json.hpp)");
  }
  if (!missing.length) return undefined;
  return `the native prover needs ${missing.join(", ")}: install with \`${NATIVE_INSTALL_COMMAND}\` (as root or with sudo)`;
}

async function nativeSources(): Promise<string[]> {
  const names = await fs.readdir(NATIVE_SOURCE_DIR);
  return names.filter((n) => /\.(cpp|hpp)$/.test(n)).sort();
}

/** sha256 over everything the binary depends on. */
async function buildKey(sources: string[]): Promise<string> {
  const parts: string[] = [];
  for (const name of sources) {
    parts.push(name, sha256Hex(await fs.readFile(path.join(NATIVE_SOURCE_DIR, name))));
  }
  parts.push(
    `ffiasm ${packageVersion("ffiasm")}`,
    commandOutput("g++", ["--version"]) ?? "",
    commandOutput("nasm", ["-v"]) ?? "",
    CXX_FLAGS.join(" "),
    NASM_FLAGS.join(" "),
    LINK_FLAGS.join(" "),
    FFIASM_UNITS.join(" "),
  );
  return sha256Hex(parts.join("\n"));
}

/** Runs one build command; a failure names the command and the tail of its output. */
async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  const r = await runTool(cmd, args, cwd);
  if (r.error !== undefined) throw new Error(`native prover build: cannot run ${cmd}: ${r.error}`);
  if (r.code === 0) return;
  const tail = r.output.trim().split("\n").slice(-15).join("\n");
  throw new Error(`native prover build: ${cmd} ${args.join(" ")} failed (exit ${r.code}):\n${tail}`);
}

/** Generates the field code, compiles and links into `dir`. */
async function compileInto(dir: string, sources: string[]): Promise<void> {
  const ffiasm = packageDir("ffiasm");
  const zqfield = path.join(ffiasm, "src", "buildzqfield.js");
  await run(process.execPath, [zqfield, "-q", FQ_PRIME, "-n", "Fq"], dir);
  await run(process.execPath, [zqfield, "-q", FR_PRIME, "-n", "Fr"], dir);
  const include = ["-I", dir, "-I", path.join(ffiasm, "c"), "-I", NATIVE_SOURCE_DIR];
  const units = [
    ...sources.filter((s) => s.endsWith(".cpp")).map((s) => path.join(NATIVE_SOURCE_DIR, s)),
    ...FFIASM_UNITS.map((s) => path.join(ffiasm, "c", s)),
    path.join(dir, "fq.cpp"),
    path.join(dir, "fr.cpp"),
  ];
  const objects: string[] = [];
  const tasks: (() => Promise<void>)[] = [];
  for (const field of ["fq", "fr"]) {
    const obj = path.join(dir, `${field}_asm.o`);
    objects.push(obj);
    tasks.push(() => run("nasm", [...NASM_FLAGS, `${field}.asm`, "-o", obj], dir));
  }
  units.forEach((unit, i) => {
    const obj = path.join(dir, `${i}-${path.basename(unit, ".cpp")}.o`);
    objects.push(obj);
    tasks.push(() => run("g++", ["-c", ...CXX_FLAGS, ...include, unit, "-o", obj], dir));
  });
  await inParallel(tasks, Math.max(1, os.availableParallelism()));
  const out = path.join(dir, "out");
  await fs.mkdir(out);
  await run("g++", [...objects, ...LINK_FLAGS, "-o", path.join(out, NATIVE_PROVER_BIN)], dir);
}

/**
 * The built binary must start, answer a bad command with its usage error (exit 2) and pass its
 * multi-scalar multiplication self-check (exit 0), so a miscompiled prover is never cached.
 */
function smokeTest(bin: string): void {
  const usage = spawnSync(bin, ["--version-check"], { encoding: "utf8" });
  if (usage.status !== 2 || !/^error: /.test(usage.stderr)) {
    throw new Error(`native prover build: the built binary does not run (${exitReason(usage)})`);
  }
  const self = spawnSync(bin, ["selftest"], { encoding: "utf8" });
  if (self.status !== 0) {
    throw new Error(`native prover build: the built binary fails its self-check (${exitReason(self)})`);
  }
}

function exitReason(r: ReturnType<typeof spawnSync>): string {
  return (
    r.error?.message ?? (r.signal ? `killed by ${r.signal}` : `exit ${r.status}: ${String(r.stderr).trim()}`)
  );
}

/** Builds in progress in this process, by binary path (concurrent callers share one build). */
const building = new Map<string, Promise<string>>();

/**
 * Builds the native prover if it is not built yet and returns the path of its binary. Throws the
 * `nativeToolchainMissing()` message when the toolchain is absent, or the failing build step.
 */
export async function ensureNativeProver(opts: NativeProverOptions = {}): Promise<string> {
  const missing = nativeToolchainMissing();
  if (missing) throw new Error(missing);
  const sources = await nativeSources();
  const key = (await buildKey(sources)).slice(0, 16);
  const root = path.join(opts.buildDir ?? defaultBuildDir(), "native");
  const bin = path.join(root, `prover-${key}`, NATIVE_PROVER_BIN);
  if (await exists(bin)) return bin;
  let pending = building.get(bin);
  if (!pending) {
    pending = buildLocked(root, key, sources, opts).finally(() => building.delete(bin));
    building.set(bin, pending);
  }
  return pending;
}

/** Builds `prover-<key>` under `root` unless another process built it while this one waited. */
async function buildLocked(
  root: string,
  key: string,
  sources: string[],
  opts: NativeProverOptions,
): Promise<string> {
  const dir = path.join(root, `prover-${key}`);
  const bin = path.join(dir, NATIVE_PROVER_BIN);
  const release = await acquireLock(path.join(root, `prover-${key}.lock`), {
    onWait: (m) => opts.log?.(m),
  });
  try {
    if (await exists(bin)) return bin;
    opts.log?.(`building the native prover into ${dir} (g++ and nasm, about a minute)`);
    const t0 = Date.now();
    await withTmpDir(
      root,
      async (tmp) => {
        await compileInto(tmp, sources);
        const out = path.join(tmp, "out");
        smokeTest(path.join(out, NATIVE_PROVER_BIN));
        await fs.writeFile(
          path.join(out, "build.json"),
          `${JSON.stringify({ key, sources, ffiasm: packageVersion("ffiasm"), cxxFlags: CXX_FLAGS }, null, 2)}\n`,
        );
        await replaceDir(out, dir);
      },
      "native",
    );
    opts.log?.(`native prover built in ${((Date.now() - t0) / 1000).toFixed(1)}s: ${bin}`);
    return bin;
  } finally {
    await release();
  }
}
