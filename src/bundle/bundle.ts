/**
 * The epoch bundle: everything a publisher may publish about one epoch, self-describing and
 * versioned. Lives in `DIR/public/`:
 *
 *   bundle.json            this format (BUNDLE_FORMAT, BUNDLE_VERSION)
 *   vkeys/<circuit>.json   the verification keys, sha256 recorded in bundle.json
 *
 * bundle.json holds: epoch, circuit profile, dev-setup flag (+ warning), the manifest (the epoch's
 * asset table with each asset's pooled custody cap and the packed pooled-cap words; per segment:
 * id, name, marginBps, published asset slots with symbol, decimals, token, price, cfBps, global
 * asset index and custody cap, the packed slot words and stress words, batch roots; the global
 * lot-list commitments), manifestHash, r, and per batch the public signals and Groth16 proof.
 * Display metadata that no check depends on: each segment's stress-scenario names (scenario k is
 * bit k of the result; its factors are in the stress words) and the coverage band labels.
 * All big integers are decimal strings. Nothing in it is private: no amount, lot id, account,
 * salt, leaf or total.
 */
import {
  capWordCount,
  FIELD_P,
  type Manifest,
  manifestAssets,
  PRICE_DECIMALS,
  stressWordCount,
} from "../spec/encoding.js";
import type { CircuitName, Profile } from "../spec/profiles.js";
import type { Groth16Proof } from "../util/snarkjs.js";

export const BUNDLE_FORMAT = "bulkhead-epoch-bundle";
/**
 * 2: the manifest hash commits each segment's asset slots (symbol, decimals, token).
 * 3: circuits v2: asset table and pooled caps, slot words (price, cf, global asset, cap), stress
 *    words, packed result (health, stress bits, coverage band); scenario names and band labels.
 */
export const BUNDLE_VERSION = 3;
export const BUNDLE_FILE = "bundle.json";
export const DEV_SETUP_WARNING =
  "INSECURE, DEVELOPMENT ONLY: the proving keys come from a development trusted setup; anyone holding its randomness can forge proofs.";

export interface BundleAsset {
  slot: number;
  symbol: string;
  decimals: number;
  /** the token's address, when known (committed in the manifest; zero address when absent) */
  token?: string;
  /** quote units per whole token (decimal string, at most PRICE_DECIMALS fractional digits) */
  price: string;
  /** price in circuit units: price * 10^priceDecimals * 10^(maxAssetDecimals - decimals) */
  circuitPrice: string;
  cfBps: number;
  /** global asset index g: position of this asset in manifest.globalAssets */
  asset: number;
  /** custody cap of the segment for this asset, base units (UNBOUNDED_CAP: no bound given) */
  cap: string;
  /** held by the pooled custody account: the slot's lots count against the pooled caps */
  pooled: boolean;
}
export interface BundleSegment {
  id: number;
  name: string;
  marginBps: number;
  assets: BundleAsset[];
  /** A packed slot words (packSegmentSlots) */
  slots: string[];
  /** ceil(K*A/16) packed stress words (packStress) */
  stress: string[];
  /** display names of the segment's stress scenarios (at most K; scenario k = result bit k) */
  scenarios: string[];
  batchRoots: string[];
}
/** One asset of the epoch's asset table (index g = position). */
export interface BundleGlobalAsset {
  symbol: string;
  decimals: number;
  token: string;
  /** pooled custody cap, base units (UNBOUNDED_CAP: no bound given) */
  poolCap: string;
}
export interface BundleProof {
  publicSignals: string[];
  proof: Groth16Proof;
}
export interface BundleVkey {
  /** relative to the bundle directory */
  file: string;
  sha256: string;
}
export interface Bundle {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  epoch: string;
  profile: Omit<Profile, "name"> & { name: string };
  devSetup: boolean;
  warning?: string;
  units: {
    priceDecimals: number;
    /** D: the largest decimals among the snapshot's assets */
    maxAssetDecimals: number;
  };
  manifest: {
    globalAssets: BundleGlobalAsset[];
    /** ceil(GA/2) packed pooled-cap words (packListCaps) */
    poolCaps: string[];
    segments: BundleSegment[];
    globalCommitments: string[];
  };
  /** display labels of the coverage bands 0..4 (COVERAGE_BANDS) */
  bandLabels: string[];
  manifestHash: string;
  r: string;
  proofs: {
    /** same order as manifest.segments */
    segments: { id: number; batches: BundleProof[] }[];
    lotList: BundleProof[];
  };
  vkeys: Record<CircuitName, BundleVkey>;
}

/** The manifest in encoding.ts form (bigints). */
export function bundleManifest(b: Bundle): Manifest {
  return {
    epoch: BigInt(b.epoch),
    globalAssets: manifestAssets(b.manifest.globalAssets),
    poolCaps: b.manifest.poolCaps.map((x) => BigInt(x)),
    segments: b.manifest.segments.map((s) => ({
      id: BigInt(s.id),
      marginBps: BigInt(s.marginBps),
      slots: s.slots.map((x) => BigInt(x)),
      stress: s.stress.map((x) => BigInt(x)),
      batchRoots: s.batchRoots.map((x) => BigInt(x)),
      assets: manifestAssets(s.assets),
    })),
    globalCommitments: b.manifest.globalCommitments.map((x) => BigInt(x)),
  };
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BundleError";
  }
}

// ---------------------------------------------------------------- structural validation

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const DEC = /^(0|[1-9]\d*)$/;

/** Collects path-precise problems; the checks below add to it. */
class Problems {
  readonly list: string[] = [];
  bad(p: string, m: string): void {
    this.list.push(`${p}: ${m}`);
  }
  field(p: string, v: unknown): void {
    if (typeof v !== "string" || !DEC.test(v)) this.bad(p, "not a decimal integer string");
    else if (BigInt(v) >= FIELD_P) this.bad(p, "not below the field modulus");
  }
  int(p: string, v: unknown, max: number): void {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max)
      this.bad(p, `not an integer in [0, ${max}]`);
  }
  fieldList(p: string, v: unknown, len?: number): void {
    if (!Array.isArray(v)) {
      this.bad(p, "not an array");
      return;
    }
    if (len !== undefined && v.length !== len) this.bad(p, `expected ${len} entries, got ${v.length}`);
    for (const [i, x] of v.entries()) this.field(`${p}[${i}]`, x);
  }
  coords(q: string, x: unknown, n: number): void {
    if (!Array.isArray(x) || x.length !== n || !x.every((c) => typeof c === "string" && DEC.test(c)))
      this.bad(q, `expected ${n} decimal coordinates`);
  }
  proof(p: string, v: unknown): void {
    if (!isObj(v)) {
      this.bad(p, "not an object");
      return;
    }
    this.fieldList(`${p}.publicSignals`, v.publicSignals);
    const pr = v.proof;
    if (!isObj(pr)) {
      this.bad(`${p}.proof`, "not an object");
      return;
    }
    this.coords(`${p}.proof.pi_a`, pr.pi_a, 3);
    this.coords(`${p}.proof.pi_c`, pr.pi_c, 3);
    if (!Array.isArray(pr.pi_b) || pr.pi_b.length !== 3) this.bad(`${p}.proof.pi_b`, "expected 3 pairs");
    else for (const [i, x] of (pr.pi_b as unknown[]).entries()) this.coords(`${p}.proof.pi_b[${i}]`, x, 2);
    if (pr.protocol !== "groth16") this.bad(`${p}.proof.protocol`, "not groth16");
    if (pr.curve !== "bn128") this.bad(`${p}.proof.curve`, "not bn128");
  }
}

/**
 * Checks the shape of a parsed bundle.json (types, field elements below p, array lengths that
 * must agree) and returns it typed. Cryptographic checks are the audit's job.
 */
export function parseBundle(raw: unknown): Bundle {
  if (!isObj(raw)) throw new BundleError("bundle: not a JSON object");
  if (raw.format !== BUNDLE_FORMAT) throw new BundleError(`bundle: format is not "${BUNDLE_FORMAT}"`);
  if (raw.version !== BUNDLE_VERSION) {
    throw new BundleError(
      `bundle: unsupported version ${String(raw.version)} (this tool reads version ${BUNDLE_VERSION})`,
    );
  }
  const pr = new Problems();
  const dims = checkHead(pr, raw);
  const shape = checkManifestShape(pr, raw.manifest, dims);
  if (!Array.isArray(raw.bandLabels) || !raw.bandLabels.every((l) => typeof l === "string"))
    pr.bad("bandLabels", "not an array of strings");
  if (typeof raw.manifestHash !== "string" || !/^0x[0-9a-f]{64}$/.test(raw.manifestHash))
    pr.bad("manifestHash", "not a 0x-prefixed 32-byte hex string");
  pr.field("r", raw.r);
  checkProofsShape(pr, raw.proofs, shape);
  checkVkeysShape(pr, raw.vkeys);
  if (pr.list.length > 0) {
    throw new BundleError(
      `bundle: malformed (${pr.list.length} problem${pr.list.length === 1 ? "" : "s"}):\n${pr.list
        .slice(0, 20)
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
  }
  return raw as unknown as Bundle;
}

/** The profile's dimensions the shape depends on (0 when unknown). */
interface Dims {
  A: number;
  K: number;
  GA: number;
}

/** epoch, profile, devSetup, units; returns the profile's A, K, GA (0 when unknown). */
function checkHead(pr: Problems, raw: Record<string, unknown>): Dims {
  if (typeof raw.epoch !== "string" || !DEC.test(raw.epoch) || BigInt(raw.epoch) >= 1n << 64n)
    pr.bad("epoch", "not a uint64 string");
  const prof = raw.profile;
  const dims: Dims = { A: 0, K: 0, GA: 0 };
  if (!isObj(prof)) pr.bad("profile", "not an object");
  else {
    if (typeof prof.name !== "string") pr.bad("profile.name", "not a string");
    for (const k of ["lotsPerBatch", "liabsPerBatch", "lotsPerGlobalBatch"]) {
      pr.int(`profile.${k}`, prof[k], 1 << 24);
      if (prof[k] === 0) pr.bad(`profile.${k}`, "must be at least 1");
    }
    const dim = (k: string, key: keyof Dims): void => {
      const v = prof[k];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 16)
        pr.bad(`profile.${k}`, "not in [1, 16]");
      else dims[key] = v;
    };
    dim("assetsPerSegment", "A");
    dim("stressScenarios", "K");
    dim("globalAssets", "GA");
  }
  if (typeof raw.devSetup !== "boolean") pr.bad("devSetup", "not a boolean");
  const units = raw.units;
  if (!isObj(units)) pr.bad("units", "not an object");
  else {
    if (units.priceDecimals !== PRICE_DECIMALS) pr.bad("units.priceDecimals", `must be ${PRICE_DECIMALS}`);
    pr.int("units.maxAssetDecimals", units.maxAssetDecimals, 30);
  }
  return dims;
}

/** What the proofs must line up with: segment ids, batch counts, global batch count. */
interface ManifestShape {
  segIds: unknown[];
  batchCounts: number[];
  globalBatches: number;
}

const checkSymbol = (pr: Problems, q: string, v: unknown): void => {
  if (typeof v !== "string" || v.length === 0 || new TextEncoder().encode(v).length > 32)
    pr.bad(q, "not a string of 1..32 bytes");
};
const isAddress = (v: unknown): boolean => typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v);
const CAP_MAX = (1n << 120n) - 1n;
const checkCap = (pr: Problems, q: string, v: unknown): void => {
  if (typeof v !== "string" || !DEC.test(v) || BigInt(v) > CAP_MAX) pr.bad(q, "not a cap in [0, 2^120 - 1]");
};

function checkManifestShape(pr: Problems, man: unknown, dims: Dims): ManifestShape {
  const shape: ManifestShape = { segIds: [], batchCounts: [], globalBatches: -1 };
  if (!isObj(man)) {
    pr.bad("manifest", "not an object");
    return shape;
  }
  if (!Array.isArray(man.globalAssets)) pr.bad("manifest.globalAssets", "not an array");
  else {
    if (dims.GA && man.globalAssets.length > dims.GA)
      pr.bad("manifest.globalAssets", `more than ${dims.GA} assets`);
    man.globalAssets.forEach((a: unknown, g: number) => {
      const q = `manifest.globalAssets[${g}]`;
      if (!isObj(a)) {
        pr.bad(q, "not an object");
        return;
      }
      checkSymbol(pr, `${q}.symbol`, a.symbol);
      pr.int(`${q}.decimals`, a.decimals, 30);
      if (!isAddress(a.token)) pr.bad(`${q}.token`, "not an address");
      checkCap(pr, `${q}.poolCap`, a.poolCap);
    });
  }
  pr.fieldList("manifest.poolCaps", man.poolCaps, dims.GA ? capWordCount(dims.GA) : undefined);
  if (!Array.isArray(man.segments) || man.segments.length === 0)
    pr.bad("manifest.segments", "not a non-empty array");
  else {
    shape.segIds = man.segments.map((s: unknown) => (isObj(s) ? s.id : undefined));
    shape.batchCounts = man.segments.map((s: unknown) =>
      isObj(s) && Array.isArray(s.batchRoots) ? s.batchRoots.length : -1,
    );
    for (const [i, s] of (man.segments as unknown[]).entries())
      checkSegmentShape(pr, `manifest.segments[${i}]`, s, dims);
  }
  pr.fieldList("manifest.globalCommitments", man.globalCommitments);
  if (Array.isArray(man.globalCommitments)) {
    if (man.globalCommitments.length === 0) pr.bad("manifest.globalCommitments", "empty");
    shape.globalBatches = man.globalCommitments.length;
  }
  return shape;
}

function checkSegmentShape(pr: Problems, p: string, s: unknown, dims: Dims): void {
  if (!isObj(s)) {
    pr.bad(p, "not an object");
    return;
  }
  const { A, K } = dims;
  pr.int(`${p}.id`, s.id, 2 ** 32 - 1);
  if (typeof s.name !== "string") pr.bad(`${p}.name`, "not a string");
  pr.int(`${p}.marginBps`, s.marginBps, 65535);
  pr.fieldList(`${p}.slots`, s.slots, A || undefined);
  pr.fieldList(`${p}.stress`, s.stress, A && K ? stressWordCount(K, A) : undefined);
  if (!Array.isArray(s.scenarios) || !s.scenarios.every((n) => typeof n === "string"))
    pr.bad(`${p}.scenarios`, "not an array of names");
  else if (K && s.scenarios.length > K) pr.bad(`${p}.scenarios`, `more than ${K} scenarios`);
  pr.fieldList(`${p}.batchRoots`, s.batchRoots);
  if (Array.isArray(s.batchRoots) && s.batchRoots.length === 0) pr.bad(`${p}.batchRoots`, "empty");
  if (!Array.isArray(s.assets)) {
    pr.bad(`${p}.assets`, "not an array");
    return;
  }
  if (s.assets.length > A) pr.bad(`${p}.assets`, `more than ${A} slots`);
  s.assets.forEach((a: unknown, j: number) => {
    const q = `${p}.assets[${j}]`;
    if (!isObj(a)) {
      pr.bad(q, "not an object");
      return;
    }
    if (a.slot !== j) pr.bad(`${q}.slot`, `must be ${j}`);
    checkSymbol(pr, `${q}.symbol`, a.symbol);
    pr.int(`${q}.decimals`, a.decimals, 30);
    if (a.token !== undefined && !isAddress(a.token)) pr.bad(`${q}.token`, "not an address");
    pr.int(`${q}.asset`, a.asset, 15);
    checkCap(pr, `${q}.cap`, a.cap);
    if (typeof a.pooled !== "boolean") pr.bad(`${q}.pooled`, "not a boolean");
    if (typeof a.price !== "string" || !/^\d+(\.\d+)?$/.test(a.price))
      pr.bad(`${q}.price`, "not a decimal string");
    pr.field(`${q}.circuitPrice`, a.circuitPrice);
    pr.int(`${q}.cfBps`, a.cfBps, 10000);
  });
}

function checkProofsShape(pr: Problems, proofs: unknown, shape: ManifestShape): void {
  if (!isObj(proofs)) {
    pr.bad("proofs", "not an object");
    return;
  }
  if (!Array.isArray(proofs.segments) || proofs.segments.length !== shape.segIds.length) {
    pr.bad("proofs.segments", "must have one entry per manifest segment");
  } else {
    proofs.segments.forEach((s: unknown, i: number) => {
      const p = `proofs.segments[${i}]`;
      if (!isObj(s)) {
        pr.bad(p, "not an object");
        return;
      }
      if (s.id !== shape.segIds[i]) pr.bad(`${p}.id`, "does not match manifest.segments order");
      if (!Array.isArray(s.batches) || s.batches.length !== shape.batchCounts[i]) {
        pr.bad(`${p}.batches`, "must have one proof per manifest batch root");
      } else for (const [j, b] of (s.batches as unknown[]).entries()) pr.proof(`${p}.batches[${j}]`, b);
    });
  }
  if (!Array.isArray(proofs.lotList) || proofs.lotList.length !== shape.globalBatches) {
    pr.bad("proofs.lotList", "must have one proof per global commitment");
  } else for (const [j, b] of (proofs.lotList as unknown[]).entries()) pr.proof(`proofs.lotList[${j}]`, b);
}

function checkVkeysShape(pr: Problems, vk: unknown): void {
  if (!isObj(vk)) {
    pr.bad("vkeys", "not an object");
    return;
  }
  for (const c of ["segment", "lotlist"]) {
    const e = vk[c];
    if (!isObj(e)) {
      pr.bad(`vkeys.${c}`, "missing");
      continue;
    }
    if (typeof e.file !== "string" || !/^vkeys\/[A-Za-z0-9_.-]+\.json$/.test(e.file))
      pr.bad(`vkeys.${c}.file`, "must be vkeys/<name>.json");
    if (typeof e.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(e.sha256))
      pr.bad(`vkeys.${c}.sha256`, "not a sha256 hex string");
  }
}

// ---------------------------------------------------------------- reading

/**
 * Where a bundle's files come from: bundle.json and the key files it names, by path relative to
 * the bundle directory. Node reads a directory (disk.ts `dirFiles`); the page holds fetched or
 * picked files in memory (`memoryFiles`).
 */
export interface BundleFiles {
  /** the file's name for messages */
  path(rel: string): string;
  /** the file's text; throws when it cannot be read */
  read(rel: string): Promise<string>;
}

/** Files held in memory: relative path -> text; `root` names them in messages. */
export function memoryFiles(files: Readonly<Record<string, string>>, root: string): BundleFiles {
  const name = (rel: string) => `${root}/${rel}`;
  return {
    path: name,
    read: async (rel) => {
      const text = Object.hasOwn(files, rel) ? files[rel] : undefined;
      if (text === undefined) throw new Error(`no such file ${name(rel)}`);
      return text;
    },
  };
}

/** Reads and checks bundle.json (parseBundle): a BundleError says what is wrong. */
export async function loadBundle(files: BundleFiles): Promise<Bundle> {
  const file = files.path(BUNDLE_FILE);
  let text: string;
  try {
    text = await files.read(BUNDLE_FILE);
  } catch (err) {
    throw new BundleError(`bundle: cannot read ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BundleError(`bundle: ${file} is not valid JSON: ${(err as Error).message}`);
  }
  return parseBundle(raw);
}

/** Reads one verification key of the bundle (parseBundle allows only vkeys/<name>.json paths). */
export async function readBundleVkey(
  b: Bundle,
  files: BundleFiles,
  circuit: CircuitName,
): Promise<{ text: string; vkey: unknown }> {
  const text = await files.read(b.vkeys[circuit].file);
  return { text, vkey: JSON.parse(text) };
}
