/**
 * Contracts build: generated Groth16 verifiers + contracts/*.sol compiled with solcjs.
 *
 * Output, replaced as a whole directory (never half-written): build/contracts/
 *   <Name>Verifier.sol   generated from each built circuit's zkey (SegmentVerifier, LotListVerifier)
 *   <Contract>.json      { contractName, sourceName, abi, bytecode, deployedBytecode }
 *   manifest.json        cache key, solc version and settings, profile, verifier vkey hashes
 * Source unit names are repo-relative ("contracts/X.sol", "build/contracts/SegmentVerifier.sol");
 * `@openzeppelin/...` imports resolve from node_modules.
 */
import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { render } from "ejs";
import { CIRCUITS, type CircuitName, DEFAULT_PROFILE } from "../spec/profiles.js";
import { withSnarkjs } from "../util/curve.js";
import { atomicWriteJson, exists, readJsonIfExists, replaceDir, withTmpDir } from "../util/fsutil.js";
import { hashJson, sha256Hex } from "../util/hash.js";
import {
  CONTRACTS_DIR,
  buildDir as defaultBuildDir,
  PACKAGE_ROOT,
  packageDir,
  packageVersion,
} from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { sj as snarkjs } from "../util/snarkjs.js";
import { type Artifacts, loadArtifactsById } from "./artifacts.js";
import { addBatchVerifier } from "./batch-verifier.js";

export const CONTRACTS_FORMAT = "bulkhead-contracts/1";

/** Solidity contract name of each circuit's generated verifier. */
export const VERIFIER_NAMES: Readonly<Record<CircuitName, string>> = {
  segment: "SegmentVerifier",
  lotlist: "LotListVerifier",
};

export const SOLC_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
} as const;

export interface CompiledContract {
  contractName: string;
  sourceName: string;
  abi: unknown[];
  bytecode: string;
  deployedBytecode: string;
}

export interface ContractsManifest {
  format: typeof CONTRACTS_FORMAT;
  key: string;
  solc: string;
  settings: typeof SOLC_SETTINGS;
  profile: string;
  verifiers: Record<string, { artifactId: string; vkeySha256: string; insecure: boolean; security: string }>;
  contracts: string[];
  builtAt: string;
}

export interface ContractsBuildOptions {
  /** Profile whose circuits provide the verifiers (default DEFAULT_PROFILE). */
  profile?: string;
  buildDir?: string;
  contractsDir?: string;
  /** Circuits to generate verifiers for (default: every circuit with built artifacts). */
  circuits?: readonly CircuitName[];
  reporter?: Reporter;
  force?: boolean;
}

export interface ContractsBuildResult {
  dir: string;
  work: "hit" | "compile";
  contracts: string[];
  manifest: ContractsManifest;
}

/**
 * The project's Groth16 verifier for a verification key: snarkjs's Solidity verifier (its
 * `verifyProof(uint[2],uint[2][2],uint[2],uint[K])`, unchanged) renamed to `contractName`, plus
 * bulkhead's `verifyBatch(uint256[],uint256[])` (toolchain/batch-verifier.ts). Deterministic: the
 * one place verifier source is made (deploy, tests, and the trust anchor's comparison with a
 * deployed verifier's code all use it).
 */
export async function verifierSourceFromVkey(vkey: unknown, contractName: string): Promise<string> {
  const template = await fs.readFile(
    path.join(packageDir("snarkjs"), "templates", "verifier_groth16.sol.ejs"),
    "utf8",
  );
  const k = vkey as { nPublic?: unknown; IC?: unknown[] };
  const nPublic = Number(k.nPublic);
  if (!Number.isInteger(nPublic) || !Array.isArray(k.IC) || k.IC.length !== nPublic + 1)
    throw new Error("verification key: nPublic and IC do not match");
  const src = render(template, vkey as Record<string, unknown>);
  if (!/contract Groth16Verifier\b/.test(src))
    throw new Error("unexpected snarkjs verifier template (no Groth16Verifier)");
  return addBatchVerifier(src.replace(/contract Groth16Verifier\b/, `contract ${contractName}`), nPublic);
}

/** `verifierSourceFromVkey` for the key of a zkey (exactly the key snarkjs would render). */
export async function generateVerifierSource(zkey: string, contractName: string): Promise<string> {
  const vkey = await withSnarkjs(() => snarkjs.zKey.exportVerificationKey(zkey));
  return verifierSourceFromVkey(vkey, contractName);
}

function contractsOutDir(buildDir: string): string {
  return path.join(buildDir, "contracts");
}

async function readSolSources(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let names: string[] = [];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith(".sol")).sort();
  } catch {
    return out;
  }
  for (const n of names) {
    const file = path.join(dir, n);
    out[path.relative(PACKAGE_ROOT, file).split(path.sep).join("/")] = await fs.readFile(file, "utf8");
  }
  return out;
}

/**
 * Import callback (synchronous, as solc requires): a dependency's file (e.g. @openzeppelin/...,
 * found the way Node finds the package) or a package-relative file; never outside those roots.
 */
function findImport(p: string): { contents: string } | { error: string } {
  const parts = p.split("/");
  const nameParts = parts[0]?.startsWith("@") ? 2 : 1;
  const candidates: { file: string; root: string }[] = [];
  try {
    const dir = packageDir(parts.slice(0, nameParts).join("/"));
    candidates.push({ file: path.join(dir, ...parts.slice(nameParts)), root: dir });
  } catch {
    // not a dependency
  }
  candidates.push({ file: path.join(PACKAGE_ROOT, p), root: PACKAGE_ROOT });
  for (const c of candidates) {
    const norm = path.resolve(c.file);
    if (!norm.startsWith(c.root + path.sep)) continue;
    if (existsSync(norm)) return { contents: readFileSync(norm, "utf8") };
  }
  return { error: `import not found: ${p}` };
}

interface SolcOutput {
  errors?: {
    severity: string;
    formattedMessage?: string;
    message: string;
    sourceLocation?: { file: string };
  }[];
  contracts?: Record<
    string,
    Record<
      string,
      { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }
    >
  >;
}

/** Compile Solidity sources (standard JSON). Throws a one-line error on the first compile error. */
export async function compileSolidity(
  sources: Record<string, string>,
): Promise<Record<string, CompiledContract>> {
  const solc = (await import("solc")).default as { compile(input: string, cb: unknown): string };
  const input = {
    language: "Solidity",
    sources: Object.fromEntries(Object.entries(sources).map(([k, content]) => [k, { content }])),
    settings: SOLC_SETTINGS,
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) {
    const e = errors[0];
    const first = (e?.formattedMessage ?? e?.message ?? "unknown error").split("\n").filter(Boolean);
    const where = first.find((l) => /-->/.test(l))?.trim() ?? "";
    throw new Error(`solc: ${first[0]}${where ? ` (${where.replace(/^-->\s*/, "")})` : ""}`);
  }
  const result: Record<string, CompiledContract> = {};
  for (const [sourceName, contracts] of Object.entries(out.contracts ?? {})) {
    if (!(sourceName in sources)) continue; // imported library code (e.g. OpenZeppelin)
    for (const [contractName, c] of Object.entries(contracts)) {
      if (result[contractName]) {
        throw new Error(
          `solc: contract name ${contractName} defined in both ${result[contractName].sourceName} and ${sourceName}`,
        );
      }
      result[contractName] = {
        contractName,
        sourceName,
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
      };
    }
  }
  return result;
}

/**
 * Compile contracts/*.sol together with verifiers generated from the given zkeys, in memory and
 * uncached: for tests and benchmarks that need one profile's contracts whatever build/contracts
 * holds.
 */
export async function compileRegistryWith(
  zkeys: Readonly<Record<CircuitName, string>>,
  contractsDir = CONTRACTS_DIR,
): Promise<Record<string, CompiledContract>> {
  const sources = await readSolSources(contractsDir);
  for (const c of CIRCUITS) {
    const name = VERIFIER_NAMES[c];
    sources[`build/contracts/${name}.sol`] = await generateVerifierSource(zkeys[c], name);
  }
  return compileSolidity(sources);
}

type VerifierArtifact = { circuit: CircuitName; name: string; art: Artifacts };

/** The built circuit artifacts to make verifiers from (all circuits: the missing ones are skipped). */
async function verifierArtifacts(
  opts: ContractsBuildOptions,
  profile: string,
  buildDir: string,
  reporter: Reporter,
): Promise<VerifierArtifact[]> {
  const arts: VerifierArtifact[] = [];
  for (const circuit of opts.circuits ?? CIRCUITS) {
    try {
      const art = await loadArtifactsById(`${circuit}-${profile}`, buildDir);
      arts.push({ circuit, name: VERIFIER_NAMES[circuit], art });
    } catch (err) {
      if (opts.circuits) throw err;
      reporter.warn(`contracts: no ${VERIFIER_NAMES[circuit]} (${(err as Error).message})`);
    }
  }
  return arts;
}

/** Verifier sources: the previous file is reused when its key is unchanged. */
async function verifierSourcesOf(
  arts: VerifierArtifact[],
  old: ContractsManifest | undefined,
  outDir: string,
  force: boolean,
  reporter: Reporter,
): Promise<{ sources: Record<string, string>; verifiers: ContractsManifest["verifiers"] }> {
  const sources: Record<string, string> = {};
  const verifiers: ContractsManifest["verifiers"] = {};
  for (const { name, art } of arts) {
    const key = `build/contracts/${name}.sol`;
    const prevFile = path.join(outDir, `${name}.sol`);
    const prev = old?.verifiers[name];
    const same = prev?.vkeySha256 === art.meta.vkeySha256 && prev.artifactId === art.meta.id;
    if (!force && same && (await exists(prevFile))) {
      sources[key] = await fs.readFile(prevFile, "utf8");
    } else {
      reporter.info(`contracts: generating ${name} from ${art.meta.id}`);
      sources[key] = await generateVerifierSource(art.zkey, name);
    }
    const { id, vkeySha256, insecure, security } = art.meta;
    verifiers[name] = { artifactId: id, vkeySha256, insecure, security };
  }
  return { sources, verifiers };
}

/** A cached build whose key matches and whose every contract file is still there. */
async function cachedContracts(
  old: ContractsManifest | undefined,
  key: string,
  outDir: string,
): Promise<ContractsManifest | undefined> {
  if (old?.format !== CONTRACTS_FORMAT || old.key !== key) return undefined;
  for (const c of old.contracts) if (!(await exists(path.join(outDir, `${c}.json`)))) return undefined;
  return old;
}

/** Write verifier sources, compiled contracts and the manifest, then switch the directory in. */
async function writeContracts(
  buildDir: string,
  outDir: string,
  verifierSources: Record<string, string>,
  compiled: Record<string, CompiledContract>,
  manifest: ContractsManifest,
): Promise<void> {
  await withTmpDir(
    buildDir,
    async (tmp) => {
      for (const [k, src] of Object.entries(verifierSources))
        await fs.writeFile(path.join(tmp, path.basename(k)), src);
      for (const c of Object.values(compiled))
        await atomicWriteJson(path.join(tmp, `${c.contractName}.json`), c);
      await atomicWriteJson(path.join(tmp, "manifest.json"), manifest);
      await replaceDir(tmp, outDir);
    },
    "contracts",
  );
}

/**
 * Generate the verifiers of the built circuits of `profile` and compile them with contracts/*.sol
 * into build/contracts/. Cached: nothing is regenerated or compiled when no input changed.
 */
export async function buildContracts(opts: ContractsBuildOptions = {}): Promise<ContractsBuildResult> {
  const reporter = opts.reporter ?? silentReporter;
  const buildDir = opts.buildDir ?? defaultBuildDir();
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const outDir = contractsOutDir(buildDir);
  const old = await readJsonIfExists<ContractsManifest>(path.join(outDir, "manifest.json")).catch(
    () => undefined,
  );
  const arts = await verifierArtifacts(opts, profile, buildDir, reporter);
  const { sources: verifierSources, verifiers } = await verifierSourcesOf(
    arts,
    old,
    outDir,
    !!opts.force,
    reporter,
  );
  const sources = { ...(await readSolSources(opts.contractsDir ?? CONTRACTS_DIR)), ...verifierSources };
  if (Object.keys(sources).length === 0)
    throw new Error("contracts: nothing to compile (no contracts/*.sol, no built circuits)");
  const solcVersion = packageVersion("solc");
  const key = hashJson({
    sources: Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, sha256Hex(v)])),
    solc: solcVersion,
    openzeppelin: packageVersion("@openzeppelin/contracts"),
    settings: SOLC_SETTINGS,
  });
  const hit = opts.force ? undefined : await cachedContracts(old, key, outDir);
  if (hit) {
    reporter.info("contracts: up to date (cache hit)");
    return { dir: outDir, work: "hit", contracts: hit.contracts, manifest: hit };
  }
  reporter.info(`contracts: compiling ${Object.keys(sources).length} source(s) with solc ${solcVersion}`);
  const t0 = Date.now();
  const compiled = await compileSolidity(sources);
  const contracts = Object.keys(compiled).sort();
  const manifest: ContractsManifest = {
    format: CONTRACTS_FORMAT,
    key,
    solc: solcVersion,
    settings: SOLC_SETTINGS,
    profile,
    verifiers,
    contracts,
    builtAt: new Date().toISOString(),
  };
  await writeContracts(buildDir, outDir, verifierSources, compiled, manifest);
  reporter.info(`contracts: built ${contracts.join(", ")} in ${Math.round((Date.now() - t0) / 1000)}s`);
  return { dir: outDir, work: "compile", contracts, manifest };
}

/** Read a compiled contract from build/contracts/<name>.json (clear error when not built). */
export async function loadContract(name: string, buildDir = defaultBuildDir()): Promise<CompiledContract> {
  const file = path.join(contractsOutDir(buildDir), `${name}.json`);
  const c = await readJsonIfExists<CompiledContract>(file);
  if (!c) throw new Error(`contract ${name} not built (run: bulkhead build)`);
  return c;
}
