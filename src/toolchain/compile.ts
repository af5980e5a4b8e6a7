/**
 * The one circom invocation of bulkhead and its cache. Every compile (artifact builds, circuit
 * tests, benchmarks, the C++ witness generator) goes through `compileCircuit`, which keeps each
 * distinct compile once under `build/compiled/<id>-<key>/`, keyed by the hash of everything the
 * output depends on (`compileKey`). A compile is written into a temporary sibling and renamed
 * into place, so a cache entry is complete or absent.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { circuitDef, circuitParams, mainSource } from "../spec/circuits.js";
import { type CircuitName, getProfile, type Profile } from "../spec/profiles.js";
import { exists, replaceDir, sha256File, withTmpDir } from "../util/fsutil.js";
import { hashJson } from "../util/hash.js";
import { buildDir, CIRCUITS_DIR, packageDir, packageVersion } from "../util/paths.js";

/** What to compile: one instantiation of a circuit template. */
export interface CircuitSpec {
  /** Directory name under build/, e.g. "segment-test". */
  id: string;
  circuit: string;
  profile: string;
  /** File in `circuitsDir` that defines the template (checked to exist before compiling). */
  entry: string;
  /** Full text of main.circom. */
  mainSource: string;
  /** Include directory holding the circuit sources; every *.circom in it is part of the cache key. */
  circuitsDir: string;
  params: Record<string, number>;
}

/**
 * "wasm": main.r1cs, main.wasm, main.sym (proving, witness tests, constraint counts);
 * "c": main.r1cs and circom's C++ witness generator sources in main_cpp/ (the program is named
 * main_c; src/toolchain/witness.ts builds it).
 */
export type CompileTarget = "wasm" | "c";
const FLAGS: Record<CompileTarget, readonly string[]> = {
  wasm: ["--r1cs", "--wasm", "--sym", "--O2"],
  c: ["--r1cs", "--c", "--O2"],
};

/** The bulkhead circuits' main files for a profile, from the registry (circuits/circuits.json). */
export function circuitSpec(circuit: CircuitName, profile: string | Profile): CircuitSpec {
  const p = typeof profile === "string" ? getProfile(profile) : profile;
  const params = circuitParams(circuit, p);
  return {
    id: `${circuit}-${p.name}`,
    circuit,
    profile: p.name,
    entry: circuitDef(circuit).file,
    mainSource: mainSource(circuit, params),
    circuitsDir: CIRCUITS_DIR,
    params,
  };
}

// ---------------------------------------------------------------------------------------------
// Cache keys

async function listCircom(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith(".circom")) out.push(p);
    }
  };
  await walk(dir);
  return out.sort();
}

let toolchainCache: { circom2: string; circomlib: string; snarkjs: string } | undefined;
export function toolchainVersions(): { circom2: string; circomlib: string; snarkjs: string } {
  toolchainCache ??= {
    circom2: packageVersion("circom2"),
    circomlib: packageVersion("circomlib"),
    snarkjs: packageVersion("snarkjs"),
  };
  return toolchainCache;
}

/** Hash of everything the compile output depends on (for "wasm", the artifacts' compile key). */
export async function compileKey(spec: CircuitSpec, target: CompileTarget = "wasm"): Promise<string> {
  const files = await listCircom(spec.circuitsDir);
  const sources: [string, string][] = [];
  for (const f of files) sources.push([path.relative(spec.circuitsDir, f), await sha256File(f)]);
  const { circom2, circomlib } = toolchainVersions();
  return hashJson({
    main: spec.mainSource,
    sources,
    circom2,
    circomlib,
    params: spec.params,
    flags: FLAGS[target],
  });
}

// ---------------------------------------------------------------------------------------------
// circom

function commonAncestor(paths: string[]): string {
  const split = paths.map((p) => path.resolve(p).split(path.sep));
  const first = split[0] ?? [];
  let n = first.length;
  for (const parts of split) {
    let i = 0;
    while (i < n && parts[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join(path.sep) || path.sep;
}

function stripAnsi(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

/** First error of circom's output, as one line. */
export function circomErrorLine(output: string): string {
  const lines = stripAnsi(output)
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const idx = lines.findIndex((l) => /^error(\[\w+\])?:/.test(l));
  if (idx < 0) return lines[lines.length - 1] ?? "circom failed without output";
  let msg = lines[idx] as string;
  const loc = lines.slice(idx + 1, idx + 4).find((l) => /^┌─/.test(l));
  if (loc) msg += ` at ${loc.replace(/^┌─\s*/, "").replace(/"/g, "")}`;
  return msg.length > 300 ? `${msg.slice(0, 300)}…` : msg;
}

function runCircom(cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const cli = path.join(packageDir("circom2"), "cli.js");
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** Compile `spec` into `outDir` (which must exist): main.circom, main.r1cs and the target's files. */
async function compileInto(spec: CircuitSpec, outDir: string, target: CompileTarget): Promise<void> {
  const entry = path.join(spec.circuitsDir, spec.entry);
  if (!(await exists(entry))) {
    throw new Error(`${spec.id}: circuit source ${path.relative(process.cwd(), entry) || entry} not found`);
  }
  const mainFile = path.join(outDir, "main.circom");
  await fs.writeFile(mainFile, spec.mainSource);
  const circomlib = path.join(packageDir("circomlib"), "circuits");
  // circom2 (WASI) only sees paths below its working directory: run it from the common ancestor
  // of every path involved, with relative paths.
  const cwd = commonAncestor([outDir, spec.circuitsDir, circomlib]);
  const rel = (p: string) => path.relative(cwd, p) || ".";
  const args = [
    rel(mainFile),
    ...FLAGS[target],
    "-o",
    rel(outDir),
    "-l",
    rel(spec.circuitsDir),
    "-l",
    rel(circomlib),
  ];
  const { code, output } = await runCircom(cwd, args);
  // with --c, circom names its outputs main_c (main_c.r1cs, main_c_cpp/) so that the program's
  // main_c.cpp does not clash with main.cpp
  const base = target === "c" ? "main_c" : "main";
  const produced =
    target === "wasm" ? path.join(outDir, "main_js", "main.wasm") : path.join(outDir, `${base}_cpp`);
  const r1cs = path.join(outDir, `${base}.r1cs`);
  if (code !== 0 || !(await exists(r1cs)) || !(await exists(produced))) {
    throw new Error(`${spec.id}: circom compile failed: ${circomErrorLine(output)}`);
  }
  if (target === "wasm") {
    await fs.rename(produced, path.join(outDir, "main.wasm"));
    await fs.rm(path.join(outDir, "main_js"), { recursive: true, force: true });
  } else {
    await fs.rename(r1cs, path.join(outDir, "main.r1cs"));
    await fs.rename(produced, path.join(outDir, "main_cpp"));
  }
}

/**
 * The compile of `spec` for `target`, from the cache or compiled now: returns its directory
 * (`main.r1cs`, and `main.wasm` + `main.sym` or `main_cpp/`). `force` recompiles.
 */
export async function compileCircuit(
  spec: CircuitSpec,
  opts: { target?: CompileTarget; buildDir?: string; force?: boolean } = {},
): Promise<{ dir: string; key: string; compiled: boolean; ms: number }> {
  const target = opts.target ?? "wasm";
  const key = await compileKey(spec, target);
  const root = path.join(opts.buildDir ?? buildDir(), "compiled");
  const dir = path.join(root, `${spec.id}-${target}-${key.slice(0, 16)}`);
  if (!opts.force && (await exists(path.join(dir, "main.r1cs")))) return { dir, key, compiled: false, ms: 0 };
  const t = Date.now();
  await fs.mkdir(root, { recursive: true });
  await withTmpDir(
    root,
    async (tmp) => {
      await compileInto(spec, tmp, target);
      await replaceDir(tmp, dir);
    },
    spec.id,
  );
  return { dir, key, compiled: true, ms: Date.now() - t };
}
