/**
 * Circuit artifacts: compile (circom2), Groth16 setup (snarkjs), content-hash caching.
 *
 * Every circuit instance `<circuit>-<profile>` lives in `build/<circuit>-<profile>/` with fixed
 * names: main.circom, main.r1cs, main.wasm, main.sym, circuit.zkey, vkey.json, meta.json.
 * The directory is always built in a temporary sibling and renamed into place as a whole, so
 * it is either complete or absent, never half-written.
 *
 * Cache keys:
 *  - compileKey = H(all circuit sources, main file, circomlib + circom2 versions, params, flags)
 *  - setupKey   = H(compileKey, ptau sha256, phase-2 contributions)
 * A build with an unchanged compileKey and a complete directory does no work. A production
 * setup (`--ptau`) is kept by later builds without `--ptau` as long as the circuit is unchanged.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type CircuitName, DEFAULT_PROFILE } from "../spec/profiles.js";
import { withSnarkjs } from "../util/curve.js";
import {
  acquireLock,
  atomicWriteJson,
  exists,
  readJsonIfExists,
  replaceDir,
  sha256File,
  withTmpDir,
} from "../util/fsutil.js";
import { hashJson } from "../util/hash.js";
import { buildDir as defaultBuildDir } from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { type Logger as SnarkjsLogger, sj as snarkjs } from "../util/snarkjs.js";
import { readPtauHeader, readR1csHeader } from "./binfile.js";
import { type CircuitSpec, circuitSpec, compileCircuit, compileKey, toolchainVersions } from "./compile.js";
import {
  DEV_LABEL,
  type PtauChoice,
  type PtauOptions,
  ptauSha256,
  requiredPower,
  resolvePtau,
} from "./ptau.js";

export const ARTIFACT_FORMAT = "bulkhead-artifact/1";
export const DEV_ZKEY_CONTRIBUTION = "bulkhead dev contribution, insecure, development only";
export const PENDING_LABEL = "pending phase-2 contribution (run: bulkhead setup contribute)";

export interface Contribution {
  name: string;
  kind: "dev-beacon" | "contribution" | "beacon";
  /** Contribution hash as printed by snarkjs (hex). */
  hash: string;
  at: string;
}

export interface ArtifactMeta {
  format: typeof ARTIFACT_FORMAT;
  id: string;
  circuit: string;
  profile: string;
  params: Record<string, number>;
  /** The input hash: compile cache key. */
  compileKey: string;
  setupKey: string;
  constraints: number;
  nPublic: number;
  nOutputs: number;
  nPublicInputs: number;
  nPrivateInputs: number;
  wires: number;
  toolchain: ReturnType<typeof toolchainVersions>;
  ptau: {
    path: string;
    power: number;
    sha256: string;
    source: string;
    secure: boolean;
    hashVerified: boolean;
  };
  powerNeeded: number;
  contributions: Contribution[];
  /** True unless the ptau is a production file and at least one phase-2 contribution was made. */
  insecure: boolean;
  /** "production", DEV_LABEL ("insecure, development only"), or PENDING_LABEL. */
  security: string;
  r1csSha256: string;
  zkeySha256: string;
  vkeySha256: string;
  files: Record<string, { name: string; size: number }>;
  timings: { compileMs?: number; setupMs?: number; contributeMs?: number };
  createdAt: string;
  updatedAt: string;
}

export interface Artifacts {
  dir: string;
  r1cs: string;
  wasm: string;
  zkey: string;
  sym: string;
  vkeyPath: string;
  /** Parsed verification key (snarkjs JSON format). */
  vkey: Record<string, unknown>;
  meta: ArtifactMeta;
}

export interface BuildOptions extends PtauOptions {
  /** Root of generated artifacts (default `<repo>/build`). */
  buildDir?: string;
  reporter?: Reporter;
  /** Rebuild even when the cache says up to date. */
  force?: boolean;
}

export interface EnsureResult extends Artifacts {
  /** "hit": nothing done; "setup": compile reused, setup redone; "compile": everything rebuilt. */
  work: "hit" | "setup" | "compile";
}

const FILES = {
  main: "main.circom",
  r1cs: "main.r1cs",
  wasm: "main.wasm",
  sym: "main.sym",
  zkey: "circuit.zkey",
  vkey: "vkey.json",
  meta: "meta.json",
} as const;

export function artifactDir(id: string, buildDir = defaultBuildDir()): string {
  return path.join(buildDir, id);
}

function setupKeyOf(ck: string, ptauSha: string, contributions: Contribution[]): string {
  return hashJson({ compileKey: ck, ptau: ptauSha, contributions: contributions.map((c) => c.hash) });
}

// ---------------------------------------------------------------------------------------------
// Setup

function captureLogger(): SnarkjsLogger & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    info: () => undefined,
    debug: () => undefined,
    warn: () => undefined,
    error: (m: string) => {
      errors.push(m);
    },
  };
}

function toHex(h: unknown): string {
  if (h instanceof Uint8Array) return Buffer.from(h).toString("hex");
  return typeof h === "string" ? h : "";
}

async function fileInfo(dir: string): Promise<ArtifactMeta["files"]> {
  const files: ArtifactMeta["files"] = {};
  for (const [k, name] of Object.entries(FILES)) {
    if (k === "meta") continue;
    const st = await fs.stat(path.join(dir, name));
    files[k] = { name, size: st.size };
  }
  return files;
}

/** `zkey new` (phase 2 start); it prints nothing for minutes on large circuits, so a heartbeat does. */
async function newZkey(
  spec: CircuitSpec,
  r1cs: string,
  ptau: PtauChoice,
  z0: string,
  progress: ReturnType<Reporter["progress"]>,
  log: ReturnType<typeof captureLogger>,
): Promise<void> {
  const heartbeat = setInterval(() => progress.update(0, "zkey new running"), 15_000);
  heartbeat.unref();
  let res: unknown;
  try {
    res = await snarkjs.zKey.newZKey(r1cs, ptau.path, z0, log);
  } finally {
    clearInterval(heartbeat);
  }
  if (res === -1) throw new Error(`${spec.id}: zkey new failed: ${log.errors[0] ?? "unknown error"}`);
}

/** The labelled, deterministic development contribution (a beacon anyone can recompute). */
async function devContribution(
  spec: CircuitSpec,
  z0: string,
  zkey: string,
  log: ReturnType<typeof captureLogger>,
): Promise<Contribution> {
  const beaconHash = createHash("sha256").update(`${DEV_ZKEY_CONTRIBUTION}/${spec.id}`).digest("hex");
  const h = await snarkjs.zKey.beacon(z0, zkey, DEV_ZKEY_CONTRIBUTION, beaconHash, 10, log);
  if (h === false)
    throw new Error(`${spec.id}: dev contribution failed: ${log.errors[0] ?? "unknown error"}`);
  await fs.rm(z0);
  return { name: DEV_ZKEY_CONTRIBUTION, kind: "dev-beacon", hash: toHex(h), at: new Date().toISOString() };
}

/** newZKey + (dev) labelled deterministic beacon contribution + vkey export, inside `dir`. */
async function setupInto(
  spec: CircuitSpec,
  dir: string,
  ck: string,
  ptau: PtauChoice,
  powerNeeded: number,
  compileMs: number | undefined,
  reporter: Reporter,
): Promise<ArtifactMeta> {
  const t0 = Date.now();
  const r1cs = path.join(dir, FILES.r1cs);
  const z0 = path.join(dir, "circuit_0.zkey");
  const zkey = path.join(dir, FILES.zkey);
  // Weights: zkey new dominates (8), dev contribution 1, vkey export 1.
  const progress = reporter.progress(`${spec.id} setup`, ptau.secure ? 9 : 10);
  const log = captureLogger();
  await newZkey(spec, r1cs, ptau, z0, progress, log);
  progress.tick(8, "zkey new");
  const contributions: Contribution[] = [];
  if (!ptau.secure) {
    contributions.push(await devContribution(spec, z0, zkey, log));
    progress.tick(1, "dev contribution");
  } else {
    await fs.rename(z0, zkey);
  }
  const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
  await fs.writeFile(path.join(dir, FILES.vkey), `${JSON.stringify(vkey, null, 2)}\n`);
  progress.finish("vkey");
  const meta = await setupMeta(spec, dir, ck, ptau, powerNeeded, contributions);
  meta.timings = { compileMs, setupMs: Date.now() - t0 };
  await atomicWriteJson(path.join(dir, FILES.meta), meta);
  return meta;
}

/** meta.json of a freshly set-up artifact directory (hashes read from the files written). */
async function setupMeta(
  spec: CircuitSpec,
  dir: string,
  ck: string,
  ptau: PtauChoice,
  powerNeeded: number,
  contributions: Contribution[],
): Promise<ArtifactMeta> {
  const r1cs = path.join(dir, FILES.r1cs);
  const hdr = await readR1csHeader(r1cs);
  const now = new Date().toISOString();
  return {
    format: ARTIFACT_FORMAT,
    id: spec.id,
    circuit: spec.circuit,
    profile: spec.profile,
    params: spec.params,
    compileKey: ck,
    setupKey: setupKeyOf(ck, ptau.sha256, contributions),
    constraints: hdr.nConstraints,
    nPublic: hdr.nPublic,
    nOutputs: hdr.nPubOut,
    nPublicInputs: hdr.nPubIn,
    nPrivateInputs: hdr.nPrvIn,
    wires: hdr.nWires,
    toolchain: toolchainVersions(),
    ptau: {
      path: ptau.path,
      power: ptau.power,
      sha256: ptau.sha256,
      source: ptau.source,
      secure: ptau.secure,
      hashVerified: ptau.hashVerified,
    },
    powerNeeded,
    contributions,
    insecure: true,
    security: ptau.secure ? PENDING_LABEL : DEV_LABEL,
    r1csSha256: await sha256File(r1cs),
    zkeySha256: await sha256File(path.join(dir, FILES.zkey)),
    vkeySha256: await sha256File(path.join(dir, FILES.vkey)),
    files: await fileInfo(dir),
    timings: {},
    createdAt: now,
    updatedAt: now,
  };
}

// ---------------------------------------------------------------------------------------------
// Public API

async function readMeta(dir: string): Promise<ArtifactMeta | undefined> {
  try {
    const meta = await readJsonIfExists<ArtifactMeta>(path.join(dir, FILES.meta));
    return meta?.format === ARTIFACT_FORMAT ? meta : undefined;
  } catch {
    return undefined;
  }
}

async function filesIntact(dir: string, meta: ArtifactMeta): Promise<boolean> {
  for (const [, f] of Object.entries(meta.files ?? {})) {
    try {
      if ((await fs.stat(path.join(dir, f.name))).size !== f.size) return false;
    } catch {
      return false;
    }
  }
  return Object.keys(meta.files ?? {}).length > 0;
}

async function toArtifacts(dir: string, meta: ArtifactMeta): Promise<Artifacts> {
  const vkeyPath = path.join(dir, FILES.vkey);
  return {
    dir,
    r1cs: path.join(dir, FILES.r1cs),
    wasm: path.join(dir, FILES.wasm),
    sym: path.join(dir, FILES.sym),
    zkey: path.join(dir, FILES.zkey),
    vkeyPath,
    vkey: JSON.parse(await fs.readFile(vkeyPath, "utf8")) as Record<string, unknown>,
    meta,
  };
}

/** The meta of `spec`'s artifacts in `dir` when they are complete and built from today's sources. */
async function currentMeta(spec: CircuitSpec, dir: string): Promise<ArtifactMeta | undefined> {
  const old = await readMeta(dir);
  if (!old || old.compileKey !== (await compileKey(spec)) || !(await filesIntact(dir, old))) return undefined;
  return old;
}

/** The build lock of one artifact; a build directory that cannot be written is named with a hint. */
async function buildLock(id: string, buildDir: string): Promise<() => Promise<void>> {
  try {
    return await acquireLock(path.join(buildDir, ".locks", `${id}.lock`));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EROFS" && code !== "EPERM") throw err;
    throw new Error(
      `${id}: not built (or not current) in ${buildDir}, and that directory cannot be written (${code}): build it where the build directory is writable (bulkhead build --circuits ${id.split("-")[0]} --profile ${id.split("-").slice(1).join("-")} --build-dir DIR), then use that DIR, read-only if you like`,
    );
  }
}

/**
 * Make sure the artifacts of `spec` are built and current (compile + setup as needed), and
 * return them. Idempotent and cached; concurrent callers are serialized by a lock file.
 */
export async function ensureArtifact(spec: CircuitSpec, opts: BuildOptions = {}): Promise<EnsureResult> {
  return withSnarkjs(() => ensureArtifactInner(spec, opts));
}

async function ensureArtifactInner(spec: CircuitSpec, opts: BuildOptions): Promise<EnsureResult> {
  const reporter = opts.reporter ?? silentReporter;
  const buildDir = opts.buildDir ?? defaultBuildDir();
  const dir = artifactDir(spec.id, buildDir);
  // built and current: read without a lock (a build replaces the directory whole), so a read-only
  // build directory of prebuilt artifacts serves as is
  const current = !opts.force && !opts.ptauFile ? await currentMeta(spec, dir) : undefined;
  if (current) {
    reporter.info(`${spec.id}: up to date (cache hit)`, { id: spec.id, work: "hit" });
    if (current.insecure) reporter.warn(`${spec.id}: keys are ${current.security}`);
    return { ...(await toArtifacts(dir, current)), work: "hit" };
  }
  const release = await buildLock(spec.id, buildDir);
  try {
    const ck = await compileKey(spec);
    const old = await readMeta(dir);
    const compileOk = !opts.force && old?.compileKey === ck && (await filesIntact(dir, old));
    let setupOk = compileOk;
    if (compileOk && old && opts.ptauFile) {
      // An explicit ptau must be the one the current keys come from.
      const file = path.resolve(opts.ptauFile);
      await readPtauHeader(file); // one-line error for a missing or garbled file
      setupOk = old.ptau.secure && old.ptau.sha256 === (await ptauSha256(file, opts.cacheDir));
    }
    if (compileOk && setupOk && old) {
      reporter.info(`${spec.id}: up to date (cache hit)`, { id: spec.id, work: "hit" });
      if (old.insecure) reporter.warn(`${spec.id}: keys are ${old.security}`);
      return { ...(await toArtifacts(dir, old)), work: "hit" };
    }
    if (!compileOk && old?.ptau.secure && !opts.ptauFile) {
      reporter.warn(
        `${spec.id}: circuit changed; the previous production setup is replaced by a dev setup (pass --ptau)`,
      );
    }
    const meta = await withTmpDir(
      buildDir,
      async (tmp) => {
        let compileMs: number | undefined;
        if (compileOk && old) {
          for (const f of [FILES.main, FILES.r1cs, FILES.wasm, FILES.sym]) {
            await fs.copyFile(path.join(dir, f), path.join(tmp, f));
          }
          compileMs = old.timings.compileMs;
          reporter.info(`${spec.id}: compile up to date; redoing setup`);
        } else {
          reporter.info(`${spec.id}: compiling (circom2 --O2)`);
          const c = await compileCircuit(spec, { buildDir, force: opts.force });
          for (const f of [FILES.main, FILES.r1cs, FILES.wasm, FILES.sym]) {
            await fs.copyFile(path.join(c.dir, f), path.join(tmp, f));
          }
          compileMs = c.ms;
        }
        const hdr = await readR1csHeader(path.join(tmp, FILES.r1cs));
        const power = requiredPower(hdr.nConstraints, hdr.nPublic);
        reporter.info(
          `${spec.id}: ${hdr.nConstraints} constraints, ${hdr.nPublic} public signals, needs ptau 2^${power}`,
        );
        const ptau = await resolvePtau(power, { ...opts, reporter });
        const m = await setupInto(spec, tmp, ck, ptau, power, compileMs, reporter);
        await replaceDir(tmp, dir);
        return m;
      },
      spec.id,
    );
    reporter.info(
      `${spec.id}: built (${meta.constraints} constraints, compile ${Math.round((meta.timings.compileMs ?? 0) / 1000)}s, setup ${Math.round((meta.timings.setupMs ?? 0) / 1000)}s)`,
      { id: spec.id, work: compileOk ? "setup" : "compile" },
    );
    if (meta.insecure) reporter.warn(`${spec.id}: keys are ${meta.security}`);
    return { ...(await toArtifacts(dir, meta)), work: compileOk ? "setup" : "compile" };
  } finally {
    await release();
  }
}

/** `ensureArtifact` for a bulkhead circuit and profile: build/<circuit>-<profile>/. */
export async function ensureCircuit(
  circuit: CircuitName,
  profile: string,
  opts: BuildOptions = {},
): Promise<EnsureResult> {
  return ensureArtifact(circuitSpec(circuit, profile), opts);
}

/** Read already-built artifacts (no building). Throws a clear error when missing or incomplete. */
export async function loadArtifactsById(id: string, buildDir = defaultBuildDir()): Promise<Artifacts> {
  const dir = artifactDir(id, buildDir);
  const meta = await readMeta(dir);
  if (!meta || !(await filesIntact(dir, meta))) {
    const [circuit, profile] = id.split(/-(.*)/s);
    throw new Error(
      `${id}: artifacts not built in ${buildDir} (run: bulkhead build --profile ${profile ?? DEFAULT_PROFILE} --circuits ${circuit ?? id}, or pass the --build-dir that holds them)`,
    );
  }
  return toArtifacts(dir, meta);
}

export async function loadArtifacts(
  circuit: CircuitName,
  profile: string,
  buildDir = defaultBuildDir(),
): Promise<Artifacts> {
  return loadArtifactsById(`${circuit}-${profile}`, buildDir);
}

export interface ContributeOptions {
  /** Entropy for the contribution (snarkjs mixes in its own random bytes too). */
  entropy?: string;
  /** Contributor name, recorded in the zkey and meta.json. */
  name?: string;
  /** The ptau the keys were made from (default: the path recorded in meta.json). */
  ptauFile?: string;
  buildDir?: string;
  reporter?: Reporter;
  cacheDir?: string;
}

/**
 * Production phase 2: add one contribution to the circuit's zkey, verify the result against
 * the r1cs and ptau (`zkey verify`), re-export the vkey and record everything in meta.json.
 */
export async function contributeArtifact(id: string, opts: ContributeOptions = {}): Promise<Artifacts> {
  return withSnarkjs(() => contributeInner(id, opts));
}

async function contributeInner(id: string, opts: ContributeOptions): Promise<Artifacts> {
  const reporter = opts.reporter ?? silentReporter;
  const buildDir = opts.buildDir ?? defaultBuildDir();
  const release = await acquireLock(path.join(buildDir, ".locks", `${id}.lock`));
  try {
    const cur = await loadArtifactsById(id, buildDir);
    const meta = cur.meta;
    if (!meta.ptau.secure) {
      throw new Error(
        `${id}: keys come from a development ptau; run "bulkhead setup init --ptau FILE" first`,
      );
    }
    const ptauPath = path.resolve(opts.ptauFile ?? meta.ptau.path);
    if (!(await exists(ptauPath))) throw new Error(`${id}: ptau ${ptauPath} not found (pass --ptau FILE)`);
    if ((await ptauSha256(ptauPath, opts.cacheDir)) !== meta.ptau.sha256) {
      throw new Error(`${id}: ${ptauPath} is not the ptau these keys were made from`);
    }
    const entropy =
      opts.entropy ||
      createHash("sha512")
        .update(crypto.getRandomValues(new Uint8Array(64)))
        .digest("hex");
    const name = opts.name ?? "anonymous contributor";
    const t0 = Date.now();
    const next = await withTmpDir(
      buildDir,
      async (tmp) => {
        for (const f of [FILES.main, FILES.r1cs, FILES.wasm, FILES.sym]) {
          await fs.copyFile(path.join(cur.dir, f), path.join(tmp, f));
        }
        const progress = reporter.progress(`${id} contribute`, 2);
        const zkey = path.join(tmp, FILES.zkey);
        const h = await snarkjs.zKey.contribute(cur.zkey, zkey, name, entropy);
        progress.tick(1, "contributed; verifying (zkey verify)");
        const ok = await snarkjs.zKey.verifyFromR1cs(path.join(tmp, FILES.r1cs), ptauPath, zkey);
        if (!ok) throw new Error(`${id}: zkey verify failed after the contribution`);
        progress.finish("verified");
        const vkey = await snarkjs.zKey.exportVerificationKey(zkey);
        await fs.writeFile(path.join(tmp, FILES.vkey), `${JSON.stringify(vkey, null, 2)}\n`);
        const contributions: Contribution[] = [
          ...meta.contributions,
          { name, kind: "contribution", hash: toHex(h), at: new Date().toISOString() },
        ];
        const m: ArtifactMeta = {
          ...meta,
          contributions,
          setupKey: setupKeyOf(meta.compileKey, meta.ptau.sha256, contributions),
          insecure: false,
          security: "production",
          zkeySha256: await sha256File(zkey),
          vkeySha256: await sha256File(path.join(tmp, FILES.vkey)),
          files: await fileInfo(tmp),
          timings: { ...meta.timings, contributeMs: Date.now() - t0 },
          updatedAt: new Date().toISOString(),
        };
        await atomicWriteJson(path.join(tmp, FILES.meta), m);
        await replaceDir(tmp, cur.dir);
        return m;
      },
      id,
    );
    reporter.info(
      `${id}: contribution #${next.contributions.length} by "${name}" verified; vkey ${next.vkeySha256}`,
    );
    return toArtifacts(cur.dir, next);
  } finally {
    await release();
  }
}

/** `zkey verify` of built artifacts against their r1cs and ptau. Returns true when valid. */
export async function verifyArtifact(
  id: string,
  opts: { ptauFile?: string; buildDir?: string } = {},
): Promise<boolean> {
  const a = await loadArtifactsById(id, opts.buildDir);
  const ptau = path.resolve(opts.ptauFile ?? a.meta.ptau.path);
  if (!(await exists(ptau))) throw new Error(`${id}: ptau ${ptau} not found (pass --ptau FILE)`);
  return withSnarkjs(() => snarkjs.zKey.verifyFromR1cs(a.r1cs, ptau, a.zkey));
}
