/**
 * Powers-of-tau resolution for Groth16 setup.
 *
 * Search order for a prepared (phase-2 ready) ptau whose power fits the circuit:
 *   1. `--ptau FILE` (production; checked against `--ptau-hash` when given),
 *   2. `$BULKHEAD_PTAU_DIR` (e.g. a directory of development ptaus shared by several checkouts),
 *   3. the user cache (`$XDG_CACHE_HOME/bulkhead/ptau` or `~/.cache/bulkhead/ptau`).
 * When none fits, the smallest fitting development ptau is generated into the user cache.
 * Only a `--ptau` file counts as secure; everything else is **insecure, development only**.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { withSnarkjs } from "../util/curve.js";
import {
  atomicWrite,
  atomicWriteJson,
  exists,
  readJsonIfExists,
  sha256File,
  withTmpDir,
} from "../util/fsutil.js";
import { userCacheDir } from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { type Logger as SnarkjsLogger, sj as snarkjs } from "../util/snarkjs.js";
import { readPtauHeader } from "./binfile.js";

export const MIN_POWER = 8;
export const MAX_POWER = 28;
export const DEV_LABEL = "insecure, development only";
export const DEV_PTAU_CONTRIBUTION = "bulkhead dev ptau contribution, insecure, development only";

export type PtauSource = "flag" | "env" | "cache" | "generated" | "dir";

export interface PtauChoice {
  path: string;
  power: number;
  sha256: string;
  source: PtauSource;
  /** True only for a file given explicitly (`--ptau`), i.e. a production ceremony file. */
  secure: boolean;
  /** True when the file's hash was checked against an expected value (`--ptau-hash` or a `.sha256` file). */
  hashVerified: boolean;
}

export interface PtauOptions {
  /** Explicit ptau file (production). */
  ptauFile?: string;
  /** Expected hash of `ptauFile`: sha256 (64 hex) or blake2b-512 (128 hex, as Hermez publishes). */
  ptauHash?: string;
  /** Override the search directories (tests). Default: $BULKHEAD_PTAU_DIR, then the cache. */
  dirs?: { dir: string; source: PtauSource }[];
  /** User cache directory root (default `userCacheDir()`); dev ptaus are generated in `<cacheDir>/ptau`. */
  cacheDir?: string;
  /** Generate a dev ptau when none fits (default true). */
  generate?: boolean;
  reporter?: Reporter;
}

/**
 * Power of tau a Groth16 setup needs: snarkjs requires 2^power >= constraints + nPublic + 1.
 * Never below MIN_POWER (8).
 */
export function requiredPower(constraints: number, nPublic: number): number {
  const n = constraints + nPublic + 1;
  let p = 0;
  while (2 ** p < n) p++;
  const power = Math.max(MIN_POWER, p);
  if (power > MAX_POWER)
    throw new Error(`circuit too large: needs 2^${power} > 2^${MAX_POWER} powers of tau`);
  return power;
}

export function defaultPtauDirs(cacheDir = userCacheDir()): { dir: string; source: PtauSource }[] {
  const dirs: { dir: string; source: PtauSource }[] = [];
  const env = process.env.BULKHEAD_PTAU_DIR;
  if (env) dirs.push({ dir: path.resolve(env), source: "env" });
  dirs.push({ dir: path.join(cacheDir, "ptau"), source: "cache" });
  return dirs;
}

// ---------------------------------------------------------------------------------------------
// Hashing with a verification cache keyed by (path, size, mtime).

interface HashCacheEntry {
  size: number;
  mtimeMs: number;
  sha256?: string;
  blake2b?: string;
}

async function fileHashCached(file: string, algo: "sha256" | "blake2b", cacheDir: string): Promise<string> {
  const real = await fs.realpath(file);
  const st = await fs.stat(real);
  const cacheFile = path.join(cacheDir, "ptau-hashes.json");
  const cache =
    (await readJsonIfExists<Record<string, HashCacheEntry>>(cacheFile).catch(() => undefined)) ?? {};
  const hit = cache[real];
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs && hit[algo]) return hit[algo] as string;
  let digest: string;
  if (algo === "sha256") digest = await sha256File(real);
  else {
    const h = createHash("blake2b512");
    for await (const chunk of createReadStream(real, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
    digest = h.digest("hex");
  }
  const entry: HashCacheEntry =
    hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs ? hit : { size: st.size, mtimeMs: st.mtimeMs };
  entry[algo] = digest;
  // Re-read to merge with concurrent writers, then write atomically. Best effort.
  try {
    const latest =
      (await readJsonIfExists<Record<string, HashCacheEntry>>(cacheFile).catch(() => undefined)) ?? {};
    latest[real] = entry;
    await atomicWriteJson(cacheFile, latest);
  } catch {
    // cache dir not writable: just don't cache
  }
  return digest;
}

/** sha256 of a ptau file, cached by path + size + mtime under the user cache. */
export async function ptauSha256(file: string, cacheDir = userCacheDir()): Promise<string> {
  return fileHashCached(file, "sha256", cacheDir);
}

/** Check `file` against an expected sha256 (64 hex) or blake2b-512 (128 hex). Throws on mismatch. */
export async function checkPtauHash(
  file: string,
  expected: string,
  cacheDir = userCacheDir(),
): Promise<void> {
  const want = expected.trim().toLowerCase().replace(/^0x/, "");
  let algo: "sha256" | "blake2b";
  if (/^[0-9a-f]{64}$/.test(want)) algo = "sha256";
  else if (/^[0-9a-f]{128}$/.test(want)) algo = "blake2b";
  else
    throw new Error(
      `ptau hash "${expected}" is neither a sha256 (64 hex) nor a blake2b-512 (128 hex) digest`,
    );
  const got = await fileHashCached(file, algo, cacheDir);
  if (got !== want) {
    throw new Error(
      `${file}: ${algo} mismatch (expected ${want.slice(0, 16)}…, got ${got.slice(0, 16)}…): wrong or corrupt ptau`,
    );
  }
}

async function readSha256File(file: string): Promise<string | undefined> {
  const side = `${file}.sha256`;
  if (!(await exists(side))) return undefined;
  const text = (await fs.readFile(side, "utf8")).trim();
  const m = /^([0-9a-fA-F]{64})\b/.exec(text);
  if (!m?.[1]) throw new Error(`${side}: not a sha256 checksum file`);
  return m[1].toLowerCase();
}

// ---------------------------------------------------------------------------------------------

/** Check an explicit ptau file (header, power, hash). */
async function useExplicit(power: number, opts: PtauOptions, cacheDir: string): Promise<PtauChoice> {
  const file = path.resolve(opts.ptauFile as string);
  const header = await readPtauHeader(file);
  if (!header.prepared) {
    throw new Error(
      `${file}: ptau is not prepared for phase 2 (run snarkjs powersoftau prepare phase2, or use a *_final.ptau)`,
    );
  }
  if (header.power < power) {
    throw new Error(`${file}: ptau has power ${header.power}, circuit needs ${power}`);
  }
  let hashVerified = false;
  if (opts.ptauHash) {
    await checkPtauHash(file, opts.ptauHash, cacheDir);
    hashVerified = true;
  } else {
    const side = await readSha256File(file);
    if (side) {
      await checkPtauHash(file, side, cacheDir);
      hashVerified = true;
    }
    opts.reporter?.warn(`${file}: no --ptau-hash given; the ptau is not checked against a published hash`);
  }
  const sha256 = await ptauSha256(file, cacheDir);
  return { path: file, power: header.power, sha256, source: "flag", secure: true, hashVerified };
}

/** Resolve a prepared ptau of at least `power` (see module comment for the search order). */
export async function resolvePtau(power: number, opts: PtauOptions = {}): Promise<PtauChoice> {
  const reporter = opts.reporter ?? silentReporter;
  const cacheDir = opts.cacheDir ?? userCacheDir();
  if (opts.ptauFile) return useExplicit(power, opts, cacheDir);

  const dirs = opts.dirs ?? defaultPtauDirs(cacheDir);
  let best: { path: string; power: number; source: PtauSource } | undefined;
  for (const { dir, source } of dirs) {
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!name.endsWith(".ptau") || name.startsWith(".")) continue;
      const file = path.join(dir, name);
      let header: Awaited<ReturnType<typeof readPtauHeader>>;
      try {
        header = await readPtauHeader(file);
      } catch (err) {
        reporter.warn(`skipping ${(err as Error).message}`);
        continue;
      }
      if (!header.prepared || header.power < power) continue;
      if (!best || header.power < best.power) best = { path: file, power: header.power, source };
    }
    // Earlier directories take precedence: stop at the first directory with a fitting file.
    if (best) break;
  }

  if (best) {
    const side = await readSha256File(best.path);
    if (side) await checkPtauHash(best.path, side, cacheDir);
    const sha256 = await ptauSha256(best.path, cacheDir);
    reporter.info(`ptau: using ${best.path} (2^${best.power}, ${DEV_LABEL})`);
    return {
      path: best.path,
      power: best.power,
      sha256,
      source: best.source,
      secure: false,
      hashVerified: !!side,
    };
  }

  if (opts.generate === false) {
    throw new Error(
      `no prepared ptau of power >= ${power} found (searched ${dirs.map((d) => d.dir).join(", ")})`,
    );
  }
  const file = await generateDevPtau(power, path.join(cacheDir, "ptau"), reporter);
  const sha256 = await ptauSha256(file, cacheDir);
  return { path: file, power, sha256, source: "generated", secure: false, hashVerified: true };
}

/** A snarkjs logger that forwards nothing but lets us watch for phase markers. */
function watchLogger(onDebug: (msg: string) => void): SnarkjsLogger {
  return { info: () => undefined, debug: onDebug, warn: () => undefined, error: () => undefined };
}

/**
 * Generate a prepared dev ptau of exactly `power` into `outDir/pot<power>_dev.ptau` (+ .sha256),
 * atomically. Deterministic: one beacon contribution with a fixed, labelled beacon hash.
 * Slow: minutes at 2^12..2^13 (`prepare phase2` dominates); progress goes to the reporter.
 */
export async function generateDevPtau(
  power: number,
  outDir: string,
  reporter: Reporter = silentReporter,
): Promise<string> {
  return withSnarkjs(() => generateDevPtauInner(power, outDir, reporter));
}

async function generateDevPtauInner(power: number, outDir: string, reporter: Reporter): Promise<string> {
  const final = path.join(outDir, `pot${power}_dev.ptau`);
  reporter.warn(
    `generating a development ptau 2^${power} (${DEV_LABEL}) into ${final}; this can take minutes`,
  );
  await fs.mkdir(outDir, { recursive: true });
  // Weights: new, beacon, then the four prepare-phase2 sections (G2 is ~3x a G1 section).
  const steps: [string, number][] = [
    ["new", 1],
    ["beacon", 1],
    ["tauG1", 4],
    ["tauG2", 6],
    ["alphaTauG1", 2],
    ["betaTauG1", 2],
  ];
  const total = steps.reduce((a, [, w]) => a + w, 0);
  const progress = reporter.progress(`ptau 2^${power}`, total);
  let done = 0;
  let current = "new";
  const advance = (name: string) => {
    const idx = steps.findIndex(([n]) => n === current);
    done = steps.slice(0, idx + 1).reduce((a, [, w]) => a + w, 0);
    current = name;
    progress.update(done, `${name}`);
  };
  const heartbeat = setInterval(() => progress.update(done, current), 15_000);
  heartbeat.unref();
  try {
    await withTmpDir(
      outDir,
      async (tmp) => {
        const curve = await snarkjs.curves.getCurveFromName("bn128");
        const p0 = path.join(tmp, "0.ptau");
        const p1 = path.join(tmp, "1.ptau");
        const p2 = path.join(tmp, "final.ptau");
        await snarkjs.powersOfTau.newAccumulator(curve, power, p0);
        advance("beacon");
        const beaconHash = createHash("sha256").update(DEV_PTAU_CONTRIBUTION).digest("hex");
        await snarkjs.powersOfTau.beacon(p0, p1, DEV_PTAU_CONTRIBUTION, beaconHash, 10);
        advance("tauG1");
        await snarkjs.powersOfTau.preparePhase2(
          p1,
          p2,
          watchLogger((msg) => {
            const m = /^Starting section: (\w+)/.exec(msg);
            if (m?.[1] && m[1] !== "tauG1") advance(m[1]);
          }),
        );
        const header = await readPtauHeader(p2);
        if (!header.prepared || header.power !== power)
          throw new Error("generated ptau failed its self-check");
        const sha = await sha256File(p2);
        await atomicWrite(`${final}.sha256`, `${sha}  ${path.basename(final)}\n`);
        await fs.rename(p2, final);
      },
      "ptau",
    );
  } finally {
    clearInterval(heartbeat);
  }
  progress.finish("done");
  return final;
}
