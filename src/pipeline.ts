/**
 * `bulkhead prove`: snapshot -> validated epoch -> proofs -> DIR/public (bundle) + DIR/private
 * (receipts, totals, secret, work). One code path for the CLI, the demo, tests and benchmarks.
 *
 * Layout of DIR:
 *   public/bundle.json, public/vkeys/<circuit>.json        publishable
 *   private/secret                                         publisher secret (generated once)
 *   private/work/<key>.json                                finished proofs, keyed by sha256 of
 *                                                          (circuit, profile, vkey, input)
 *   private/receipts/{lots,accounts}/<ss>/*.json, index/, index.json   user receipts (sharded)
 *   private/totals.json                                    per-segment sums (protocol records)
 *
 * Resumable: each proof is written atomically to private/work/ as soon as it is done; a re-run
 * reuses every work file whose public signals equal the expected ones and whose proof verifies,
 * and proves only the rest. public/ and private/receipts/ are assembled in a temporary directory
 * and renamed into place, so they are either the complete old or the complete new version.
 *
 * Outputs as a set: private/receipts/, then private/totals.json, then public/ (the commit point)
 * are switched in that order, so public/ never shows a bundle whose receipts and totals are not
 * in place (a kill in between leaves private/ one manifest ahead, which the next run finishes).
 * Leftover temporary files of a killed run are removed by the next run. An output directory that
 * holds another epoch (or another manifest of this epoch) is not replaced without `force`; one
 * whose outputs cannot be replaced (a read-only mount, an immutable entry) is refused before
 * anything is proven or written.
 *
 * Private files are created owner-only: private/ 0700, the secret, receipts and totals 0600.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { auditBundle } from "./audit/node.js";
import { BUNDLE_FILE, type BundleProof } from "./bundle/bundle.js";
import { makeBundle } from "./bundle/make.js";
import type { CircuitInput } from "./epoch/inputs.js";
import { buildEpoch, checkMinBatches, type EpochBuild, type ProofJob } from "./epoch/plan.js";
import { loadOrCreateSecret } from "./epoch/salts.js";
import {
  localBackend,
  type ProofBackend,
  type ProofTask,
  type ProverIncident,
  sameSignals,
} from "./prove/backend.js";
import { nativeBackend } from "./prove/native-backend.js";
import { type ProverName, resolveProver } from "./prove/prover.js";
import { receiptsOf } from "./receipts/build.js";
import { writeReceiptStore } from "./receipts/store.js";
import { formatDecimal, loadSnapshot, type Snapshot } from "./snapshot/snapshot.js";
import { COVERAGE_BANDS, PRICE_DECIMALS, UNBOUNDED_CAP } from "./spec/encoding.js";
import { type CircuitName, DEFAULT_PROFILE, getProfile, type Profile } from "./spec/profiles.js";
import { ensureCircuit } from "./toolchain/artifacts.js";
import { type Groth16VKey, verifyBatch } from "./util/batchverify.js";
import { terminateCurves, withSnarkjs } from "./util/curve.js";
import { faultPoint } from "./util/fault.js";
import {
  acquireLock,
  atomicWriteJson,
  checkReplaceable,
  readJsonIfExists,
  removeLeftovers,
  replaceDir,
  withTmpDir,
  writeNewFile,
} from "./util/fsutil.js";
import { hashJson, sha256Hex } from "./util/hash.js";
import { type Reporter, silentReporter } from "./util/progress.js";
import type { Groth16Proof } from "./util/snarkjs.js";

export interface CircuitKeys {
  wasm: string;
  zkey: string;
  vkeyPath: string;
  /** true for keys from a development (insecure) setup */
  insecure: boolean;
}

export interface ProveOptions {
  /** snapshot file (JSON) or an already validated snapshot */
  snapshot: string | Snapshot;
  /** output directory DIR */
  out: string;
  /** profile name (default DEFAULT_PROFILE, as the CLI) */
  profile?: string;
  /** publisher secret file; default DIR/private/secret, generated on first use */
  secretFile?: string;
  /** round too-precise amounts (collateral down, liabilities up) */
  round?: boolean;
  /** worker threads (default: all cores) */
  workers?: number;
  singleThread?: boolean;
  reporter?: Reporter;
  /** build directory of artifacts (default <repo>/build) */
  buildDir?: string;
  /** use these keys instead of ensureCircuit (benchmarks, tests) */
  keys?: Record<CircuitName, CircuitKeys>;
  /** audit the written bundle before returning (default true) */
  selfAudit?: boolean;
  /** where proofs are computed (default: this process, with `prover`; see src/prove/backend.ts) */
  backend?: ProofBackend;
  /**
   * the prover of this process (without `backend`): "native" or "snarkjs"; default native when
   * its toolchain is available, else snarkjs with a warning (src/prove/prover.ts)
   */
  prover?: ProverName;
  /** a prebuilt bulkhead-prover binary for the native prover (default: built into the build directory) */
  nativeBin?: string;
  /** testing hook: stop (throw) after this many newly proven batches, as if killed */
  stopAfter?: number;
  /** replace an output directory that holds another epoch or manifest (default: refuse) */
  force?: boolean;
  /** how long to wait for another run's lock on the output directory (default 30 s) */
  lockTimeoutMs?: number;
  /**
   * pad every segment to at least this many batches with salted dummy entries (default 1), so
   * batch counts hide position counts below minBatches·N lots and minBatches·M liabilities
   */
  minBatches?: number;
}

/** The output directory holds another epoch (or another manifest of this epoch). */
export class OutputConflictError extends Error {
  readonly code = "EEPOCH";
  constructor(message: string) {
    super(message);
    this.name = "OutputConflictError";
  }
}

export interface SegmentSummary {
  id: number;
  name: string;
  batches: number;
  lots: number;
  liabilities: number;
  healthy: boolean;
  /** each named stress scenario of the segment and whether the segment stays healthy under it */
  stress: { name: string; healthy: boolean }[];
  /** coverage band 0..4 and its label (COVERAGE_BANDS) */
  band: number;
  bandLabel: string;
  /** per asset slot: the custody cap (tokens) or null when not bounded */
  custody: { asset: string; cap: string | null }[];
  empty: boolean;
}
export interface ProveSummary {
  out: string;
  publicDir: string;
  privateDir: string;
  bundleFile: string;
  epoch: string;
  profile: string;
  /** the padding policy applied (segments have at least this many batches) */
  minBatches: number;
  manifestHash: string;
  r: string;
  devSetup: boolean;
  /** real positions only: dummy entries are never counted */
  segments: SegmentSummary[];
  lotListBatches: number;
  proofs: { total: number; reused: number; proven: number };
  prover: ProverReport;
  receipts: number;
  timings: { artifactsMs: number; witnessMs: number; proveMs: number; writeMs: number; totalMs: number };
  notes: string[];
  secret: { file: string; created: boolean };
}

/** Which prover made this run's proofs, and the native proofs that were not used. */
export interface ProverReport {
  /** the prover of this process; "queue": the workers proved; "none": nothing to prove */
  used: ProverName | "queue" | "none";
  /** why native, the default, was not used (said once as a warning) */
  fallback?: string;
  /** new proofs by the prover that made them (on a queue: as the workers reported) */
  proofs: Record<ProverName, number>;
  /** native proofs rejected (or native failures) and proven again with snarkjs, by job */
  incidents: ProverIncident[];
}

interface WorkFile {
  format: "bulkhead-work-proof";
  key: string;
  job: string;
  circuit: CircuitName;
  publicSignals: string[];
  proof: Groth16Proof;
}

/** Work-cache key of a job: sha256 of (circuit, profile, verification key, circuit input). */
export function jobKey(
  job: { circuit: CircuitName; input: CircuitInput },
  profile: Profile,
  vkeySha256: string,
): string {
  return hashJson({ v: 1, circuit: job.circuit, profile, vkey: vkeySha256, input: job.input });
}

export class StoppedError extends Error {
  constructor(n: number) {
    super(`stopped after ${n} new proofs (stopAfter)`);
    this.name = "StoppedError";
  }
}

/** Verifying-key material of the two circuits, read once per run. */
interface KeySet {
  keys: Record<CircuitName, CircuitKeys>;
  vkeyText: Record<CircuitName, string>;
  vkeySha: Record<CircuitName, string>;
  devSetup: boolean;
}

/** Where a run writes: DIR, DIR/public, DIR/private, DIR/private/work. */
interface OutDirs {
  out: string;
  publicDir: string;
  privateDir: string;
  workDir: string;
}

interface Todo {
  job: ProofJob;
  key: string;
}

/**
 * Proves a snapshot into DIR (see the header). Leaves nothing running when it returns or throws:
 * the worker pool is closed and snarkjs's curve workers end with the call (withSnarkjs).
 */
export function proveSnapshot(opts: ProveOptions): Promise<ProveSummary> {
  return withSnarkjs(() => proveSnapshotNow(opts));
}

// Long by nature: the run's numbered steps in order under one lock, sharing their timings; each
// step is one call.
async function proveSnapshotNow(opts: ProveOptions): Promise<ProveSummary> {
  const t0 = Date.now();
  const reporter = opts.reporter ?? silentReporter;
  const profile = getProfile(opts.profile ?? DEFAULT_PROFILE);
  // 1. validate everything before writing anything
  const minBatches = checkMinBatches(opts.minBatches ?? 1);
  const snapshot =
    typeof opts.snapshot === "string"
      ? await loadSnapshot(opts.snapshot, { profile, round: opts.round })
      : opts.snapshot;
  const notes = [...snapshot.notes];
  for (const n of notes) reporter.info(`note: ${n}`);

  // 2. circuit artifacts (cached; built when missing)
  const tA = Date.now();
  const ks = await loadKeys(profile, opts, reporter);
  const artifactsMs = Date.now() - tA;

  // the proof backend's own needs (a queue's Redis), still before anything is written
  await opts.backend?.preflight?.();

  const dirs = outDirs(opts.out);
  await checkOutputsWritable(dirs);
  await makePrivateDir(dirs.privateDir);
  const release = await acquireLock(path.join(dirs.privateDir, ".lock"), {
    timeoutMs: opts.lockTimeoutMs ?? 30_000,
    onWait: (m) => reporter.info(m),
  });
  try {
    await cleanLeftovers(dirs, reporter);
    // 3. secret, witnesses, manifest
    const secret = await loadOrCreateSecret(opts.secretFile, path.join(dirs.privateDir, "secret"));
    if (secret.created)
      reporter.info(
        `generated a new publisher secret in ${secret.file} (keep it private; reuse it to reproduce)`,
      );
    const tW = Date.now();
    // each input is hashed into its work-cache key while the epoch is chained, then dropped
    const keys = new Map<string, string>();
    const build = await buildEpoch(snapshot, profile, secret.secret, {
      minBatches,
      onInput: (job, input) =>
        keys.set(job.id, jobKey({ circuit: job.circuit, input }, profile, ks.vkeySha[job.circuit])),
    });
    const keyOf = (job: ProofJob): string => keys.get(job.id) as string;
    const witnessMs = Date.now() - tW;
    reporter.info(
      `epoch ${snapshot.epoch}: ${build.segments.length} segment(s), ${build.jobs.length} batch proof(s) (profile ${profile.name}), manifest ${build.manifestHash}`,
    );
    await checkOutputEpoch(dirs, build, opts.force ?? false, reporter);

    // 4. reuse finished proofs, 5. prove the rest on all cores
    const tP = Date.now();
    const { proofs, todo, reused } = await reuseWork(build, keyOf, ks, dirs.workDir);
    if (reused > 0) reporter.info(`resuming: ${reused} finished proof(s) reused, ${todo.length} to prove`);
    const todoKeys = new Set(todo.map((t) => t.key));
    const reusedKeys = build.jobs.map(keyOf).filter((k) => !todoKeys.has(k));
    const tasks: ProofTask[] = todo.map(({ job, key }) => ({
      id: job.id,
      key,
      circuit: job.circuit,
      publicSignals: job.publicSignals,
      input: () => build.inputOf(job),
    }));
    const prover = await proveTodo(tasks, ks, reusedKeys, dirs.workDir, proofs, opts, reporter);
    const proven = prover.proofs.native + prover.proofs.snarkjs;
    const proveMs = Date.now() - tP;

    // 6. write public/ and private/ atomically
    const tO = Date.now();
    const receipts = await writeOutputs(dirs, build, keyOf, proofs, ks);
    const writeMs = Date.now() - tO;

    // 7. self-audit of what was written
    if (opts.selfAudit ?? true) await selfAudit(dirs.publicDir, ks.vkeySha, reporter);

    return {
      out: dirs.out,
      publicDir: dirs.publicDir,
      privateDir: dirs.privateDir,
      bundleFile: path.join(dirs.publicDir, BUNDLE_FILE),
      epoch: String(snapshot.epoch),
      profile: profile.name,
      minBatches,
      manifestHash: build.manifestHash,
      r: String(build.r),
      devSetup: ks.devSetup,
      segments: segmentSummaries(build),
      lotListBatches: build.list.length,
      proofs: { total: build.jobs.length, reused, proven },
      prover,
      receipts,
      timings: { artifactsMs, witnessMs, proveMs, writeMs, totalMs: Date.now() - t0 },
      notes,
      secret: { file: secret.file, created: secret.created },
    };
  } finally {
    await release();
  }
}

/**
 * Every output this run replaces (public/, private/receipts/, private/totals.json, the work files)
 * can be replaced: refused before anything is proven or written, naming the path and the reason.
 */
async function checkOutputsWritable(dirs: OutDirs): Promise<void> {
  await checkReplaceable(dirs.publicDir);
  await checkReplaceable(path.join(dirs.privateDir, "receipts"));
  await checkReplaceable(path.join(dirs.privateDir, "totals.json"));
  await checkReplaceable(dirs.workDir);
}

/** private/ owner-only from its creation (0700); an existing one made by an older version is tightened. */
async function makePrivateDir(privateDir: string): Promise<void> {
  await fs.mkdir(path.dirname(privateDir), { recursive: true });
  await fs.mkdir(privateDir, { mode: 0o700 }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== "EEXIST") throw err;
    await fs.chmod(privateDir, 0o700);
  });
}

/** Temporary files and directories a killed run left in DIR, DIR/private and DIR/private/work. */
async function cleanLeftovers(dirs: OutDirs, reporter: Reporter): Promise<void> {
  const removed = [
    ...(await removeLeftovers(dirs.out)),
    ...(await removeLeftovers(dirs.privateDir)),
    ...(await removeLeftovers(dirs.workDir)),
  ];
  if (removed.length > 0)
    reporter.info(`removed ${removed.length} leftover temporary file(s) of an interrupted run`);
}

interface OutputRecord {
  epoch?: string;
  manifestHash?: string;
}

/**
 * Refuses to replace outputs of another epoch or manifest without `force`. The outputs of this
 * manifest in private/ alone (a run killed before switching public/) are this run's to finish.
 */
async function checkOutputEpoch(dirs: OutDirs, build: EpochBuild, force: boolean, reporter: Reporter) {
  const read = (f: string) => readJsonIfExists<OutputRecord>(f).catch(() => undefined);
  const pub = await read(path.join(dirs.publicDir, BUNDLE_FILE));
  const totals = await read(path.join(dirs.privateDir, "totals.json"));
  const receipts = await read(path.join(dirs.privateDir, "receipts", "index.json"));
  const mine = build.manifestHash;
  const other = [pub, totals, receipts].find((r) => r?.manifestHash && r.manifestHash !== mine);
  // private/ already holding this manifest: an interrupted run of this epoch, to finish
  if (!other || totals?.manifestHash === mine || receipts?.manifestHash === mine) return;
  const epoch = String(build.snapshot.epoch);
  const held =
    other.epoch === epoch
      ? `another manifest of epoch ${epoch} (${other.manifestHash})`
      : `epoch ${other.epoch} (manifest ${other.manifestHash})`;
  const msg = `${dirs.out} holds ${held}; this snapshot is epoch ${epoch} (manifest ${mine})`;
  if (!force)
    throw new OutputConflictError(
      `${msg}. Proving here would replace its bundle and receipts: prove into another directory (e.g. ${path.join(path.dirname(dirs.out), `epoch-${epoch}`)}), or pass --force to replace it`,
    );
  reporter.warn(`${msg}: replacing it (--force)`);
}

function outDirs(outOpt: string): OutDirs {
  const out = path.resolve(outOpt);
  const privateDir = path.join(out, "private");
  return { out, publicDir: path.join(out, "public"), privateDir, workDir: path.join(privateDir, "work") };
}

/** Proving keys (given, or cached artifacts built when missing) and their verifying keys. */
async function loadKeys(profile: Profile, opts: ProveOptions, reporter: Reporter): Promise<KeySet> {
  const keys: Record<CircuitName, CircuitKeys> = opts.keys ?? {
    segment: await keysOf("segment", profile, opts, reporter),
    lotlist: await keysOf("lotlist", profile, opts, reporter),
  };
  const vkeyText: Record<CircuitName, string> = {
    segment: await fs.readFile(keys.segment.vkeyPath, "utf8"),
    lotlist: await fs.readFile(keys.lotlist.vkeyPath, "utf8"),
  };
  const vkeySha: Record<CircuitName, string> = {
    segment: sha256Hex(vkeyText.segment),
    lotlist: sha256Hex(vkeyText.lotlist),
  };
  const devSetup = keys.segment.insecure || keys.lotlist.insecure;
  if (devSetup) reporter.warn("proving keys come from a development setup: INSECURE, development only");
  return { keys, vkeyText, vkeySha, devSetup };
}

/**
 * Split the epoch's jobs into proofs already in the work cache (same key, same public signals,
 * proof verifies: one batch verification per circuit, each bad proof named) and jobs still to
 * prove, in job order.
 */
async function reuseWork(
  build: EpochBuild,
  keyOf: (job: ProofJob) => string,
  ks: KeySet,
  workDir: string,
): Promise<{ proofs: Map<string, BundleProof>; todo: Todo[]; reused: number }> {
  const found: { job: ProofJob; key: string; proof?: Groth16Proof }[] = [];
  for (const job of build.jobs) {
    const key = keyOf(job);
    const w = await readJsonIfExists<WorkFile>(path.join(workDir, `${key}.json`)).catch(() => undefined);
    const usable =
      w?.format === "bulkhead-work-proof" &&
      w.key === key &&
      Array.isArray(w.publicSignals) &&
      sameSignals(w.publicSignals, job.publicSignals);
    found.push({ job, key, ...(usable ? { proof: w.proof } : {}) });
  }
  const rejected = new Set<ProofJob>();
  for (const circuit of ["segment", "lotlist"] as const) {
    const cached = found.filter((f) => f.proof && f.job.circuit === circuit);
    if (cached.length === 0) continue;
    const vkey = JSON.parse(ks.vkeyText[circuit]) as Groth16VKey;
    const items = cached.map((f) => ({ proof: f.proof as Groth16Proof, publicSignals: f.job.publicSignals }));
    const { bad } = await verifyBatch(vkey, items).catch(() => ({ bad: cached.map((_, i) => i) }));
    for (const i of bad) rejected.add((cached[i] as (typeof found)[number]).job);
  }
  const proofs = new Map<string, BundleProof>();
  const todo: Todo[] = [];
  for (const { job, key, proof } of found) {
    if (proof && !rejected.has(job)) proofs.set(job.id, { publicSignals: job.publicSignals, proof });
    else todo.push({ job, key });
  }
  return { proofs, todo, reused: proofs.size };
}

/**
 * Prove the tasks on the proof backend (default: this process's prover, see `chooseBackend`),
 * which builds each input when the task enters its window; each proof goes to the work cache
 * atomically as soon as it is done (that is what makes a run resumable) and into `proofs`.
 * Returns which prover made them.
 */
async function proveTodo(
  tasks: readonly ProofTask[],
  ks: KeySet,
  reusedKeys: readonly string[],
  workDir: string,
  proofs: Map<string, BundleProof>,
  opts: ProveOptions,
  reporter: Reporter,
): Promise<ProverReport> {
  let proven = 0;
  const report: ProverReport = { used: "none", proofs: { native: 0, snarkjs: 0 }, incidents: [] };
  if (tasks.length === 0) return report;
  const { backend, fallback } = await chooseBackend(opts, reporter);
  report.used = backend.prover ?? "queue";
  if (fallback) report.fallback = fallback;
  const progress = reporter.progress(
    backend.prover ? `proving (${backend.prover})` : "proving",
    tasks.length,
  );
  const keyOf = (c: CircuitName) => ({
    wasm: ks.keys[c].wasm,
    zkey: ks.keys[c].zkey,
    vkeyText: ks.vkeyText[c],
    vkeySha256: ks.vkeySha[c],
  });
  await backend.prove(tasks, {
    profile: opts.profile ?? DEFAULT_PROFILE,
    keys: { segment: keyOf("segment"), lotlist: keyOf("lotlist") },
    reusedKeys,
    progress,
    reporter,
    onIncident: (i) => report.incidents.push(i),
    onProof: async (t: ProofTask, res) => {
      if (!sameSignals(res.publicSignals, t.publicSignals)) {
        throw new Error(
          `${t.id}: the circuit's public signals differ from the input builder's (circuit and src/epoch/inputs.ts disagree)`,
        );
      }
      const wf: WorkFile = {
        format: "bulkhead-work-proof",
        key: t.key,
        job: t.id,
        circuit: t.circuit,
        publicSignals: res.publicSignals,
        proof: res.proof,
      };
      await atomicWriteJson(path.join(workDir, `${t.key}.json`), wf);
      proofs.set(t.id, { publicSignals: res.publicSignals, proof: res.proof });
      report.proofs[res.prover]++;
      proven++;
      if (opts.stopAfter !== undefined && proven >= opts.stopAfter) throw new StoppedError(proven);
    },
  });
  progress.finish();
  return report;
}

/** The given backend, or this process's prover: native when possible (src/prove/prover.ts). */
async function chooseBackend(
  opts: ProveOptions,
  reporter: Reporter,
): Promise<{ backend: ProofBackend; fallback?: string }> {
  if (opts.backend) return { backend: opts.backend };
  const choice = await resolveProver(opts.prover, opts.profile ?? DEFAULT_PROFILE, {
    buildDir: opts.buildDir,
    reporter,
    nativeBin: opts.nativeBin,
  });
  const backend = choice.native
    ? nativeBackend({ native: choice.native, workers: opts.workers, singleThread: opts.singleThread })
    : localBackend({ workers: opts.workers, singleThread: opts.singleThread });
  return { backend, fallback: choice.fallback };
}

/**
 * Write private/receipts/ (through a temporary directory renamed into place), private/totals.json,
 * then public/ (bundle, vkeys; the same way), then drop stale work files. Returns the receipt count.
 */
async function writeOutputs(
  dirs: OutDirs,
  build: EpochBuild,
  keyOf: (job: ProofJob) => string,
  proofs: ReadonlyMap<string, BundleProof>,
  ks: KeySet,
): Promise<number> {
  const bundle = makeBundle(build, proofs, ks.vkeySha, ks.devSetup);
  // receipts and totals first, the bundle they belong to last (see the header)
  const receipts = await writeReceipts(dirs.privateDir, build);
  faultPoint("prove:receipts-written");
  await atomicWriteJson(path.join(dirs.privateDir, "totals.json"), totalsOf(build), { mode: 0o600 });
  faultPoint("prove:totals-written");
  await withTmpDir(
    dirs.out,
    async (tmp) => {
      await atomicWriteJson(path.join(tmp, BUNDLE_FILE), bundle);
      await fs.mkdir(path.join(tmp, "vkeys"));
      await writeNewFile(path.join(tmp, "vkeys", "segment.json"), ks.vkeyText.segment);
      await writeNewFile(path.join(tmp, "vkeys", "lotlist.json"), ks.vkeyText.lotlist);
      faultPoint("prove:public-staged");
      await replaceDir(tmp, dirs.publicDir);
      faultPoint("prove:public-written");
    },
    "public",
  );
  // drop work files of other inputs (older runs) so work/ does not grow without bound
  const keep = new Set(build.jobs.map((j) => `${keyOf(j)}.json`));
  for (const f of await fs.readdir(dirs.workDir).catch(() => [] as string[])) {
    if (f.endsWith(".json") && !keep.has(f)) await fs.rm(path.join(dirs.workDir, f), { force: true });
  }
  return receipts;
}

/**
 * private/receipts/ in the sharded layout of src/receipts/store.ts (lots/<ss>/, accounts/<ss>/,
 * index/accounts/<ss>.jsonl, index.json with epoch and manifestHash), replaced as a whole.
 * Receipts are generated and written one at a time. Returns the receipt count.
 */
async function writeReceipts(privateDir: string, build: EpochBuild): Promise<number> {
  return withTmpDir(
    privateDir,
    async (tmp) => {
      // mkdtemp made tmp 0700; everything inside is created owner-only too (store.ts)
      const n = await writeReceiptStore(tmp, receiptsOf(build), {
        epoch: String(build.snapshot.epoch),
        manifestHash: build.manifestHash,
      });
      await replaceDir(tmp, path.join(privateDir, "receipts"), { private: true });
      return n;
    },
    "receipts",
  );
}

async function selfAudit(
  publicDir: string,
  vkeySha: Record<CircuitName, string>,
  reporter: Reporter,
): Promise<void> {
  // anchored to the keys this run proved with; their development status is reported elsewhere
  const rep = await auditBundle(publicDir, { expectedVkeys: vkeySha, allowDevKeys: true });
  await terminateCurves();
  if (!rep.ok)
    throw new Error(`self-audit of the written bundle failed: ${rep.errors.slice(0, 3).join("; ")}`);
  reporter.info(`self-audit passed: ${rep.proofsVerified} proofs verified`);
}

function segmentSummaries(build: EpochBuild): SegmentSummary[] {
  return build.segments.map((s) => ({
    id: Number(s.segment.id),
    name: s.segment.name,
    batches: s.batches.length,
    lots: s.lots.length,
    liabilities: s.liabilities.length,
    healthy: s.healthy,
    stress: s.stress,
    band: s.band,
    bandLabel: COVERAGE_BANDS[s.band] as string,
    custody: s.segment.slots.map((a) => ({
      asset: a.symbol,
      cap: a.cap === UNBOUNDED_CAP ? null : formatDecimal(a.cap, a.decimals),
    })),
    empty: s.lots.length === 0 && s.liabilities.length === 0,
  }));
}

async function keysOf(
  circuit: CircuitName,
  profile: Profile,
  opts: ProveOptions,
  reporter: Reporter,
): Promise<CircuitKeys> {
  const a = await ensureCircuit(circuit, profile.name, { buildDir: opts.buildDir, reporter });
  return { wasm: a.wasm, zkey: a.zkey, vkeyPath: a.vkeyPath, insecure: a.meta.insecure };
}

/**
 * Per-segment totals for the protocol's own records (private). Values are in quote units:
 * collateralValue = Σ amount·price·cf, requiredValue = Σ amount·price·(1 + margin),
 * liabilityValue = Σ amount·price.
 */
export function totalsOf(build: EpochBuild) {
  const D = build.snapshot.maxDecimals;
  const valueDecimals = PRICE_DECIMALS + D + 4; // circuit value units carry a bps factor
  const decimalsOf = new Map(build.snapshot.assets.map((a) => [a.symbol, a.decimals]));
  return {
    format: "bulkhead-totals",
    version: 1,
    epoch: String(build.snapshot.epoch),
    manifestHash: build.manifestHash,
    unit: "quote units",
    segments: build.segments.map((s) => {
      const perAsset: Record<string, { collateral: bigint; liabilities: bigint }> = {};
      let liabPlain = 0n;
      for (const slot of s.segment.slots) perAsset[slot.symbol] = { collateral: 0n, liabilities: 0n };
      for (const l of s.lots) (perAsset[l.lot.asset] as { collateral: bigint }).collateral += l.lot.amount;
      for (const l of s.liabilities) {
        (perAsset[l.liability.asset] as { liabilities: bigint }).liabilities += l.liability.amount;
        liabPlain += l.liability.amount * ((s.segment.slots[l.liability.slot]?.circuitPrice ?? 0n) * 10000n);
      }
      const coverage =
        s.requiredValue === 0n ? null : formatDecimal((s.collateralValue * 10000n) / s.requiredValue, 4);
      return {
        id: Number(s.segment.id),
        name: s.segment.name,
        healthy: s.healthy,
        stress: s.stress,
        band: COVERAGE_BANDS[s.band],
        lots: s.lots.length,
        liabilities: s.liabilities.length,
        collateralValue: formatDecimal(s.collateralValue, valueDecimals),
        requiredValue: formatDecimal(s.requiredValue, valueDecimals),
        liabilityValue: formatDecimal(liabPlain, valueDecimals),
        /** collateralValue / requiredValue (>= 1 iff healthy), rounded down to 4 decimals */
        coverage,
        assets: Object.fromEntries(
          Object.entries(perAsset).map(([sym, v]) => [
            sym,
            {
              collateral: formatDecimal(v.collateral, decimalsOf.get(sym) ?? 0),
              liabilities: formatDecimal(v.liabilities, decimalsOf.get(sym) ?? 0),
            },
          ]),
        ),
      };
    }),
  };
}
