/**
 * Offline audit of a published epoch bundle (docs/SPEC.md "Verifier checks"), trusting nothing
 * but verification keys anchored outside the bundle (anchor.ts; no anchor: refused):
 *
 *  1. bundle shape; verification keys match their recorded sha256, are anchored (registry
 *     verifiers, pinned hashes or keys, or the checkout's own build), are Groth16/bn128 with the
 *     expected number of public signals, and are not development keys (recognised from the key);
 *  2. the profile is the named one; published asset slots: circuitPrice = price * 10^8 *
 *     10^(D - decimals), slot words = packSegmentSlots(price, cf, global asset, cap), each slot's
 *     asset equals globalAssets[g]; stress words well formed; pooled-cap words =
 *     packListCaps(globalAssets[].poolCap); the verifier bound (batches * max(N, M) <= 2^24 per
 *     segment, batches * G <= 2^24 for the list); manifestHash and r recomputed from the manifest;
 *  3. every public signal < p; every derivable public input derived by the auditor: r; prevState
 *     (0 for the first batch, else the previous batch's nextState); meta from the manifest with
 *     first/last by position; slot and stress words; pooled caps; batchRoot / commitment;
 *  4. every proof verified (snarkjs groth16) against the derived public signals;
 *  5. result and fingerprint are 0 on every non-last batch; the last result decodes (health bit,
 *     K stress bits, band 0..4 with health == band >= 1);
 *  6. product of the segments' fingerprints == the global lot list's fingerprint (mod p).
 *
 * An unhealthy segment (or one failing a stress scenario) is not an audit failure: it is a
 * correctly proven result, reported per segment with its stress scenarios, coverage band and
 * custody bounds. The audit fails (ok = false) when anything above does not hold.
 */

import {
  type Bundle,
  type BundleFiles,
  type BundleProof,
  type BundleSegment,
  bundleManifest,
  loadBundle,
  parseBundle,
  readBundleVkey,
} from "../bundle/bundle.js";
import {
  COVERAGE_BANDS,
  decodeListSignals,
  decodeResult,
  decodeSegmentSignals,
  deriveR,
  FIELD_P,
  listSignalCount,
  type Manifest,
  manifestHash,
  manifestProblems,
  PRICE_DECIMALS,
  packListCaps,
  packListMeta,
  packSegmentMeta,
  packSegmentSlots,
  scenarioLabels,
  segmentSignalCount,
  shockOf,
  UNBOUNDED_CAP,
  UNSTRESSED_FACTOR,
  unpackStress,
} from "../spec/encoding.js";
import { type CircuitName, PROFILES, type Profile } from "../spec/profiles.js";
import { circuitPriceOf, formatDecimal, parseDecimal } from "../spec/units.js";
import { developmentKeyOrigin } from "../toolchain/devkeys.js";
import { type Groth16VKey, verifyBatch } from "../util/batchverify.js";
import { withSnarkjs } from "../util/curve.js";
import { sha256Hex } from "../util/hash.js";
import type { Groth16Proof } from "../util/snarkjs.js";
import { formatTable } from "../util/table.js";
import {
  type AnchorCheck,
  type AnchorChecker,
  anchorCheck,
  describeAnchor,
  type KeyAnchor,
  NO_ANCHOR_MESSAGE,
  UNANCHORED_WARNING,
} from "./anchor.js";

export interface AuditOptions {
  /**
   * Where the trusted verification keys come from (see anchor.ts). Without an anchor (and without
   * `expectedVkeys`) the audit refuses: a bundle's own keys are the publisher's word.
   */
  anchor?: KeyAnchor;
  /** sha256 (hex) of trusted verification keys: shorthand for a `trusted` anchor */
  expectedVkeys?: Partial<Record<CircuitName, string>>;
  /** accept keys made from a known development ptau (the demo); the verdict still says so */
  allowDevKeys?: boolean;
  /** progress callback: proofs verified so far */
  onProgress?: (done: number, total: number) => void;
}

export interface SegmentAudit {
  id: number;
  name: string;
  batches: number;
  /** from the last batch; null when the segment's proofs could not be checked */
  healthy: boolean | null;
  /**
   * each named stress scenario: its display name (bundle metadata, not committed), bit k of the
   * proven result, and its price shocks as committed in the manifest's stress words (bps per asset
   * slot, unshocked slots omitted): what the bit is about, whatever the name says
   */
  stress: { name: string; healthy: boolean; shocksBps: Record<string, number> }[] | null;
  /** proven coverage band 0..4 and its label; null when unknown */
  band: number | null;
  bandLabel: string | null;
  /** per asset slot: the proven custody cap in tokens, or null: "not bounded" */
  custody: { asset: string; cap: string | null }[];
  /** every batch of the segment checked out */
  verified: boolean;
  errors: string[];
}
export interface AuditReport {
  ok: boolean;
  /** no key anchor: nothing was checked (every other field is empty; errors holds the refusal) */
  refused?: true;
  /**
   * with a registry (--rpc/--registry): the bundle's manifest and results against the registry's
   * record of the epoch, every differing field named (src/chain/compare.ts)
   */
  chain?: {
    ok: boolean;
    committed: boolean;
    finalized: boolean;
    differences: { field: string; bundle: string; chain: string }[];
    /** governed registry: the committed caps against the custody rule at the commit's block
     *  (null: they pass; absent: not checked) */
    custody?: string | null;
  };
  epoch: string;
  profile: string;
  /** the bundle's own claim (see devKeys for what the keys are) */
  devSetup: boolean;
  /** the development ptau the keys were made from, recognised from the keys themselves; null if none */
  devKeys: string | null;
  /** where the keys were anchored (describeAnchor) */
  anchor: string;
  /** the bundle's own keys were trusted on the publisher's word (--trust-bundle-keys) */
  unanchored: boolean;
  manifestHash: string;
  r: string;
  segments: SegmentAudit[];
  /** per global asset: the pooled custody cap (tokens) the lot list proves, or null: not bounded */
  pooledCustody: { asset: string; cap: string | null }[];
  lotList: { batches: number; verified: boolean; errors: string[] };
  fingerprintOk: boolean;
  proofsVerified: number;
  proofsTotal: number;
  /** every failure reason, prefixed by where it happened */
  errors: string[];
  warnings: string[];
}

/**
 * Verifies every queued proof of one circuit with Groth16 batch verification
 * (src/util/batchverify.ts: one multi-pairing per chunk, random weights drawn after the proofs are fixed;
 * a failing chunk is bisected so that each bad proof is named). A key the batch verifier cannot
 * read fails every proof.
 */
async function verifyQueued(ctx: AuditCtx, circuit: CircuitName): Promise<void> {
  const items = ctx.pending.filter((x) => x.circuit === circuit);
  const vk = ctx.vkeys[circuit];
  const CHUNK = 256;
  for (let at = 0; at < items.length; at += CHUNK) {
    const chunk = items.slice(at, at + CHUNK);
    let bad: Set<number>;
    try {
      const res = await verifyBatch(
        vk as Groth16VKey,
        chunk.map((x) => ({ proof: x.bp.proof as Groth16Proof, publicSignals: x.derived.map(String) })),
      );
      bad = new Set(res.bad);
    } catch {
      bad = new Set(chunk.map((_, k) => k));
    }
    for (const [k, x] of chunk.entries()) {
      if (bad.has(k)) x.errs.push(`${x.where}: proof does not verify`);
      else ctx.proofsVerified++;
      ctx.tick();
    }
  }
}

/** The anchor the options name, or undefined (refuse). */
export function anchorOf(opts: AuditOptions): KeyAnchor | undefined {
  if (opts.anchor) return opts.anchor;
  const pins = opts.expectedVkeys ?? {};
  if (Object.keys(pins).length === 0) return undefined;
  const keys = Object.fromEntries(Object.entries(pins).map(([c, h]) => [c, { sha256: h as string }]));
  return { kind: "trusted", keys, source: "--vkey-hash" };
}

/**
 * Audits the bundle in `files` (bundle.json and its keys). Never throws for a bad bundle: returns
 * ok=false. `checker` checks keys against the anchor: the default knows the anchors that need no
 * toolchain (anchor.ts); Node's audit (node.ts) passes every anchor's. Leaves nothing running:
 * snarkjs's curve workers end with the call (withSnarkjs).
 */
export function auditFiles(
  files: BundleFiles,
  opts: AuditOptions = {},
  checker: AnchorChecker = anchorCheck,
): Promise<AuditReport> {
  return withSnarkjs(async () => {
    let bundle: Bundle;
    try {
      bundle = await loadBundle(files);
    } catch (err) {
      return emptyReport([(err as Error).message], opts);
    }
    return auditParsed(bundle, files, opts, checker);
  });
}

/** The report of an audit that could not start (unreadable bundle, no key anchor): not ok. */
export function emptyReport(errors: string[], opts: AuditOptions = {}): AuditReport {
  const anchor = anchorOf(opts);
  return {
    ok: false,
    epoch: "?",
    profile: "?",
    devSetup: false,
    devKeys: null,
    anchor: describeAnchor(anchor),
    unanchored: anchor?.kind === "bundle",
    manifestHash: "?",
    r: "?",
    segments: [],
    pooledCustody: [],
    lotList: { batches: 0, verified: false, errors: [] },
    fingerprintOk: false,
    proofsVerified: 0,
    proofsTotal: 0,
    errors,
    warnings: [],
  };
}

/** What the steps of an audit share. */
interface AuditCtx {
  bundle: Bundle;
  manifest: Manifest;
  profile: Profile;
  A: number;
  epoch: bigint;
  /** -1 when the manifest could not be hashed */
  r: bigint;
  vkeys: Partial<Record<CircuitName, unknown>>;
  errors: string[];
  tick: () => void;
  proofsVerified: number;
  /** proofs whose derived signals are known, verified together at the end (verifyQueued) */
  pending: { circuit: CircuitName; where: string; derived: bigint[]; bp: BundleProof; errs: string[] }[];
}

// Long by nature: the audit's steps 1-6 in order over one shared context (each step is its own
// function) and the report they fill.
async function auditParsed(
  raw: Bundle,
  files: BundleFiles,
  opts: AuditOptions,
  checker: AnchorChecker,
): Promise<AuditReport> {
  let bundle: Bundle;
  try {
    bundle = parseBundle(raw);
  } catch (err) {
    return emptyReport([(err as Error).message], opts);
  }
  const anchor = anchorOf(opts);
  if (!anchor) return { ...emptyReport([NO_ANCHOR_MESSAGE], opts), refused: true };
  const errors: string[] = [];
  const warnings: string[] = [];
  if (bundle.devSetup) warnings.push(bundle.warning ?? "development (insecure) trusted setup");
  const keys = await checkVkeys(bundle, files, checker(anchor, bundle.profile.name), anchor, errors);
  if (keys.devKeys) devKeyFindings(bundle, keys.devKeys, !!opts.allowDevKeys, errors, warnings);
  const profile = checkProfile(bundle, errors);
  const manifest = bundleManifest(bundle);
  const paramsOk = checkPublishedParams(bundle, errors);
  for (const e of manifestProblems(manifest, profile)) errors.push(e);
  const r = checkManifestHash(bundle, manifest, errors);
  const proofsTotal =
    bundle.proofs.segments.reduce((n, s) => n + s.batches.length, 0) + bundle.proofs.lotList.length;
  let done = 0;
  const ctx: AuditCtx = {
    bundle,
    manifest,
    profile,
    A: bundle.profile.assetsPerSegment,
    epoch: BigInt(bundle.epoch),
    r,
    vkeys: keys.vkeys,
    errors,
    tick: () => opts.onProgress?.(++done, proofsTotal),
    proofsVerified: 0,
    pending: [],
  };
  const segments: SegmentAudit[] = [];
  const segFingerprints: bigint[] = [];
  for (const i of bundle.manifest.segments.keys()) {
    const res = await auditSegment(ctx, i, paramsOk[i] ?? false);
    segments.push(res.audit);
    if (res.fingerprint !== null) segFingerprints.push(res.fingerprint);
  }
  const list = await auditLotList(ctx);
  await verifyQueued(ctx, "segment");
  await verifyQueued(ctx, "lotlist");
  for (const [i, a] of segments.entries()) {
    if (a.errors.length > 0) withdrawResult(a);
    for (const e of a.errors) errors.push(`segment ${bundle.manifest.segments[i]?.id} ${e}`);
  }
  for (const e of list.errors) errors.push(`lot list ${e}`);
  const fingerprintOk = checkFingerprints(ctx, segFingerprints, list.fingerprint);
  if (!fingerprintOk) {
    for (const s of segments) {
      s.verified = false;
      s.healthy = null;
      s.stress = null;
      s.band = null;
      s.bandLabel = null;
    }
  }
  return {
    ok: errors.length === 0,
    epoch: bundle.epoch,
    profile: bundle.profile.name,
    devSetup: bundle.devSetup,
    devKeys: keys.devKeys,
    anchor: describeAnchor(anchor),
    unanchored: anchor.kind === "bundle",
    manifestHash: bundle.manifestHash,
    r: bundle.r,
    segments,
    pooledCustody: bundle.manifest.globalAssets.map((a) => ({
      asset: a.symbol,
      cap: capText(a.poolCap, a.decimals),
    })),
    lotList: {
      batches: bundle.proofs.lotList.length,
      verified: list.errors.length === 0,
      errors: list.errors,
    },
    fingerprintOk,
    proofsVerified: ctx.proofsVerified,
    proofsTotal,
    errors,
    warnings,
  };
}

/**
 * Step 1: each verification key matches the bundle's recorded sha256, is anchored, is a
 * Groth16/bn128 key with the profile's number of public signals; and whether it is a development key.
 */
async function checkVkeys(
  bundle: Bundle,
  files: BundleFiles,
  check: AnchorCheck,
  anchor: KeyAnchor,
  errors: string[],
): Promise<{ vkeys: Partial<Record<CircuitName, unknown>>; devKeys: string | null }> {
  const vkeys: Partial<Record<CircuitName, unknown>> = {};
  const dev = new Set<string>();
  const expectedPublic: Record<CircuitName, number> = {
    segment: segmentSignalCount(bundle.profile),
    lotlist: listSignalCount(bundle.profile),
  };
  for (const c of ["segment", "lotlist"] as const) {
    try {
      const { text, vkey } = await readBundleVkey(bundle, files, c);
      const h = sha256Hex(text);
      const v = vkey as Record<string, unknown>;
      const origin = developmentKeyOrigin(vkey);
      if (origin) dev.add(origin);
      let why: string | null = null;
      if (h !== bundle.vkeys[c].sha256) why = `sha256 ${h} differs from the bundle's record`;
      else if (v.protocol !== "groth16" || v.curve !== "bn128") why = "not a groth16/bn128 key";
      else if (v.nPublic !== expectedPublic[c])
        why = `${String(v.nPublic)} public signals, expected ${expectedPublic[c]} for this profile`;
      else {
        const a = await check({ circuit: c, text, vkey });
        if (a) why = `${a} (not anchored to ${describeAnchor(anchor)})`;
      }
      if (why) errors.push(`vkeys.${c}: ${why}`);
      else vkeys[c] = vkey;
    } catch (err) {
      errors.push(`vkeys.${c}: cannot read or anchor: ${(err as Error).message}`);
    }
  }
  return { vkeys, devKeys: dev.size > 0 ? [...dev].join(", ") : null };
}

/** Development keys are untrusted whatever the bundle claims; an error unless explicitly allowed. */
function devKeyFindings(
  bundle: Bundle,
  devKeys: string,
  allowed: boolean,
  errors: string[],
  warnings: string[],
): void {
  if (!bundle.devSetup)
    warnings.push("the bundle's devSetup flag says false, but its keys are development keys");
  if (allowed) return;
  errors.push(
    `vkeys: NOT TRUSTWORTHY: development keys (from the ${devKeys}): anyone can forge proofs under them (pass --allow-dev-keys / allowDevKeys for a demo)`,
  );
}

/** Scenario k's shocks per asset slot from the committed stress words (factor - 10000, non-zero only). */
function committedShocks(
  s: BundleSegment,
  words: readonly bigint[],
  k: number,
  p: Profile,
): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    const row = unpackStress(words, p.stressScenarios, p.assetsPerSegment)[k] ?? [];
    s.assets.forEach((a, j) => {
      const f = row[j];
      if (f !== undefined && f !== UNSTRESSED_FACTOR) out[a.symbol] = shockOf(f);
    });
  } catch {
    // malformed words are reported by the manifest checks
  }
  return out;
}

/** A cap in tokens for display, or null when it is UNBOUNDED_CAP ("not bounded"). */
function capText(cap: string, decimals: number): string | null {
  const v = BigInt(cap);
  return v === UNBOUNDED_CAP ? null : formatDecimal(v, decimals);
}

/**
 * Step 2a: the bundle's profile must be the named one (its sizes fix the verifier bound and the
 * signal layout the keys were anchored for); an unknown name is taken as given, with a warning-free
 * error only when its fields are out of range (parseBundle).
 */
function checkProfile(bundle: Bundle, errors: string[]): Profile {
  const named = PROFILES[bundle.profile.name];
  if (!named) return bundle.profile;
  for (const k of Object.keys(named) as (keyof Profile)[]) {
    if (bundle.profile[k] !== named[k]) {
      errors.push(
        `profile: ${k} is ${String(bundle.profile[k])}, profile "${named.name}" has ${String(named[k])}`,
      );
    }
  }
  return named;
}

/**
 * Step 2b: circuitPrice = price * 10^8 * 10^(D - decimals) per slot; slot words = packSegmentSlots
 * of (circuitPrice, cfBps, global asset, cap); the slot's asset (symbol, decimals, token) is the
 * asset table's entry g; pooled-cap words = packListCaps of the table's pooled caps.
 */
function checkPublishedParams(bundle: Bundle, errors: string[]): boolean[] {
  const D = bundle.units.maxAssetDecimals;
  const A = bundle.profile.assetsPerSegment;
  const table = bundle.manifest.globalAssets;
  try {
    const words = packListCaps(
      table.map((a) => BigInt(a.poolCap)),
      bundle.profile.globalAssets,
    );
    if (
      words.length !== bundle.manifest.poolCaps.length ||
      words.some((w, q) => String(w) !== bundle.manifest.poolCaps[q])
    )
      errors.push("manifest: poolCaps do not match the asset table's pooled caps");
  } catch (err) {
    errors.push(`manifest: pooled caps: ${(err as Error).message}`);
  }
  return bundle.manifest.segments.map((s) => {
    const p = `segment ${s.id}`;
    const before = errors.length;
    const symbols = new Set<string>();
    for (const a of s.assets) {
      if (symbols.has(a.symbol)) errors.push(`${p}: asset ${a.symbol} published twice`);
      symbols.add(a.symbol);
      const pr = parseDecimal(a.price, PRICE_DECIMALS, "exact");
      if (!pr.ok || a.decimals > D) errors.push(`${p}: asset ${a.symbol}: invalid price or decimals`);
      else if (circuitPriceOf(pr.value, a.decimals, D) !== BigInt(a.circuitPrice)) {
        errors.push(
          `${p}: asset ${a.symbol}: circuitPrice does not match price ${a.price} (decimals ${a.decimals}, D ${D})`,
        );
      }
      const g = table[a.asset];
      if (!g) errors.push(`${p} slot ${a.slot}: global asset ${a.asset} is not in the asset table`);
      else if (
        g.symbol !== a.symbol ||
        g.decimals !== a.decimals ||
        g.token.toLowerCase() !== (a.token ?? "").toLowerCase()
      )
        errors.push(
          `${p} slot ${a.slot}: asset ${a.symbol} is not the asset table's entry ${a.asset} (${g.symbol})`,
        );
    }
    try {
      const packed = packSegmentSlots(
        s.assets.map((a) => ({
          price: BigInt(a.circuitPrice),
          cfBps: BigInt(a.cfBps),
          asset: BigInt(a.asset),
          cap: BigInt(a.cap),
          pooled: a.pooled,
        })),
        A,
      );
      if (packed.some((w, k) => String(w) !== s.slots[k]))
        errors.push(`${p}: slot words do not match the published asset slots`);
    } catch (err) {
      errors.push(`${p}: ${(err as Error).message}`);
    }
    if (s.scenarios.length > bundle.profile.stressScenarios)
      errors.push(
        `${p}: ${s.scenarios.length} scenario names for ${bundle.profile.stressScenarios} stress bits`,
      );
    if (s.marginBps > 50000) errors.push(`${p}: marginBps ${s.marginBps} above the policy maximum 50000`);
    return errors.length === before;
  });
}

/** Step 2c: manifestHash (which commits the asset slots too) and r recomputed; returns r or -1. */
function checkManifestHash(bundle: Bundle, manifest: Manifest, errors: string[]): bigint {
  try {
    const mh = manifestHash(manifest);
    if (mh !== bundle.manifestHash)
      errors.push(`manifestHash: recomputed ${mh}, bundle says ${bundle.manifestHash}`);
    const r = deriveR(BigInt(bundle.epoch), mh);
    if (String(r) !== bundle.r) errors.push(`r: recomputed ${r}, bundle says ${bundle.r}`);
    return r;
  } catch (err) {
    errors.push(`manifest: ${(err as Error).message}`);
    return -1n;
  }
}

/** Compares the published signals with the derived ones, naming each that differs. */
function compareSignals(
  where: string,
  published: readonly string[],
  derived: bigint[],
  names: string[],
): string[] {
  const out: string[] = [];
  derived.forEach((v, k) => {
    if (BigInt(published[k] ?? "-1") !== v)
      out.push(`${where}: public signal ${names[k] ?? `#${k}`} is not the derived value`);
  });
  return out;
}

/**
 * Queues one proof for verification against its derived signals (a failure lands in `errs`), or
 * records at once why it cannot be verified.
 */
function verifyDerived(
  ctx: AuditCtx,
  circuit: CircuitName,
  where: string,
  derived: bigint[],
  bp: BundleProof,
  errs: string[],
): void {
  const vk = ctx.vkeys[circuit];
  const label = circuit === "segment" ? "segment" : "lot-list";
  if (!vk) errs.push(`${where}: not verified (no valid ${label} verification key)`);
  else if (ctx.r < 0n) errs.push(`${where}: not verified (r unknown)`);
  else return void ctx.pending.push({ circuit, where, derived, bp, errs });
  ctx.tick();
}

/** A segment whose audit found a problem states no result. */
function withdrawResult(a: SegmentAudit): void {
  a.verified = false;
  a.healthy = null;
  a.stress = null;
  a.band = null;
  a.bandLabel = null;
}

/** Steps 3-5 for one segment: derived inputs, proofs, chaining, results only on the last batch. */
// Long by nature: per batch, every public signal derived and named in the circuit's order.
async function auditSegment(
  ctx: AuditCtx,
  i: number,
  paramsOk: boolean,
): Promise<{ audit: SegmentAudit; fingerprint: bigint | null }> {
  const s = ctx.bundle.manifest.segments[i] as BundleSegment;
  const segErrors: string[] = [];
  const batches = ctx.bundle.proofs.segments[i]?.batches ?? [];
  let prevNext = 0n;
  let outcome: ReturnType<typeof decodeResult> | null = null;
  let fp: bigint | null = null;
  const K = ctx.profile.stressScenarios;
  for (const [b, bp] of batches.entries()) {
    const where = `batch ${b}`;
    const isLast = b === batches.length - 1;
    let sig: ReturnType<typeof decodeSegmentSignals>;
    try {
      sig = decodeSegmentSignals(bp.publicSignals, ctx.profile);
    } catch (err) {
      segErrors.push(`${where}: ${(err as Error).message}`);
      ctx.tick();
      continue;
    }
    const meta = packSegmentMeta({
      segmentId: BigInt(s.id),
      marginBps: BigInt(s.marginBps),
      isFirst: b === 0,
      isLast,
      epoch: ctx.epoch,
    });
    const ms = ctx.manifest.segments[i];
    const slots = ms?.slots ?? [];
    const stress = ms?.stress ?? [];
    const root = BigInt(s.batchRoots[b] as string);
    const derived = [
      sig.nextState,
      root,
      sig.result,
      sig.fingerprint,
      ctx.r,
      prevNext,
      meta,
      ...slots,
      ...stress,
    ];
    const names = [
      "nextState",
      "batchRoot",
      "result",
      "fingerprint",
      "r",
      "prevState",
      "meta",
      ...slots.map((_, k) => `slots[${k}]`),
      ...stress.map((_, k) => `stress[${k}]`),
    ];
    segErrors.push(...compareSignals(where, bp.publicSignals, derived, names));
    if (!isLast && (sig.result !== 0n || sig.fingerprint !== 0n)) {
      segErrors.push(`${where}: result/fingerprint must be 0 on a non-last batch`);
    }
    if (isLast) {
      try {
        outcome = decodeResult(sig.result, K);
      } catch (err) {
        segErrors.push(`${where}: ${(err as Error).message}`);
      }
      fp = sig.fingerprint;
    }
    verifyDerived(ctx, "segment", where, derived, bp, segErrors);
    prevNext = sig.nextState;
  }
  if (!paramsOk) segErrors.push("published parameters are inconsistent");
  const ok = segErrors.length === 0 && outcome !== null;
  const committedStress = ctx.manifest.segments[i]?.stress ?? [];
  const audit: SegmentAudit = {
    id: s.id,
    name: s.name,
    batches: batches.length,
    healthy: ok && outcome ? outcome.healthy : null,
    stress:
      ok && outcome
        ? scenarioLabels(s.scenarios, committedStress, K, ctx.profile.assetsPerSegment).map((name, k) => ({
            name,
            healthy: outcome?.stress[k] === true,
            shocksBps: committedShocks(s, committedStress, k, ctx.profile),
          }))
        : null,
    band: ok && outcome ? outcome.band : null,
    bandLabel: ok && outcome ? (COVERAGE_BANDS[outcome.band] ?? null) : null,
    custody: s.assets.map((a) => ({ asset: a.symbol, cap: capText(a.cap, a.decimals) })),
    verified: segErrors.length === 0,
    errors: segErrors,
  };
  return { audit, fingerprint: fp };
}

/** Steps 3-5 for the global lot list. */
async function auditLotList(ctx: AuditCtx): Promise<{ errors: string[]; fingerprint: bigint | null }> {
  const listErrors: string[] = [];
  let fingerprint: bigint | null = null;
  let prevNext = 0n;
  const batches = ctx.bundle.proofs.lotList;
  for (const [b, bp] of batches.entries()) {
    const where = `batch ${b}`;
    const isLast = b === batches.length - 1;
    let sig: ReturnType<typeof decodeListSignals>;
    try {
      sig = decodeListSignals(bp.publicSignals, ctx.profile);
    } catch (err) {
      listErrors.push(`${where}: ${(err as Error).message}`);
      ctx.tick();
      continue;
    }
    const meta = packListMeta({ isFirst: b === 0, isLast, epoch: ctx.epoch });
    const commitment = BigInt(ctx.bundle.manifest.globalCommitments[b] as string);
    const caps = ctx.manifest.poolCaps;
    const derived = [sig.nextState, commitment, sig.fingerprint, ctx.r, prevNext, meta, ...caps];
    const names = [
      "nextState",
      "commitment",
      "fingerprint",
      "r",
      "prevState",
      "meta",
      ...caps.map((_, q) => `caps[${q}]`),
    ];
    listErrors.push(...compareSignals(where, bp.publicSignals, derived, names));
    if (!isLast && sig.fingerprint !== 0n)
      listErrors.push(`${where}: fingerprint must be 0 on a non-last batch`);
    verifyDerived(ctx, "lotlist", where, derived, bp, listErrors);
    if (isLast) fingerprint = sig.fingerprint;
    prevNext = sig.nextState;
  }
  return { errors: listErrors, fingerprint };
}

/** Step 6: product of the segments' fingerprints == the global lot list's (mod p). */
function checkFingerprints(ctx: AuditCtx, segFps: bigint[], listFp: bigint | null): boolean {
  if (listFp === null || segFps.length !== ctx.bundle.manifest.segments.length) {
    ctx.errors.push("fingerprints: not every fingerprint is available");
    return false;
  }
  const prod = segFps.reduce((a, f) => (a * f) % FIELD_P, 1n);
  if (prod === listFp) return true;
  ctx.errors.push(
    "fingerprints: the product of the segments' fingerprints differs from the global lot list's (a lot is shared, missing or invented)",
  );
  return false;
}

/** The verdict lines: development keys first, then pass/fail. */
function verdictLines(rep: AuditReport): string[] {
  const lines: string[] = [];
  if (rep.devKeys) {
    lines.push(
      `NOT TRUSTWORTHY: development keys (from the ${rep.devKeys}): anyone can forge proofs under them`,
    );
  }
  if (rep.ok) {
    const bad = rep.segments.filter((s) => s.healthy === false).map((s) => s.id);
    const stressed = rep.segments
      .filter((s) => s.healthy === true && (s.stress ?? []).some((x) => !x.healthy))
      .map((s) => s.id);
    lines.push(
      `AUDIT PASSED${bad.length ? `: epoch valid; unhealthy segment${bad.length > 1 ? "s" : ""}: ${bad.join(", ")}` : ": epoch valid, every segment healthy"}${stressed.length ? `; healthy now but failing a stress scenario: segment${stressed.length > 1 ? "s" : ""} ${stressed.join(", ")}` : ""}`,
    );
  } else {
    lines.push(`AUDIT FAILED (${rep.errors.length} problem${rep.errors.length === 1 ? "" : "s"}):`);
    for (const e of rep.errors.slice(0, 30)) lines.push(`  - ${e}`);
    if (rep.errors.length > 30) lines.push(`  ... ${rep.errors.length - 30} more`);
  }
  return lines;
}

/** "ETH -30%, WBTC -30%" from shocks in bps; "no shock" when empty. */
export function shocksText(shocks: Record<string, number>): string {
  const parts = Object.entries(shocks).map(([a, b]) => `${a} ${b > 0 ? "+" : ""}${b / 100}%`);
  return parts.length ? parts.join(", ") : "no shock";
}

/** "crash: pass, eth-50: FAIL"; "-" without named scenarios; "?" when unknown. */
export function stressCell(s: Pick<SegmentAudit, "stress">): string {
  if (s.stress === null) return "?";
  if (s.stress.length === 0) return "-";
  return s.stress.map((x) => `${x.name}: ${x.healthy ? "pass" : "FAIL"}`).join(", ");
}
/** "ETH <= 10, USDC not bounded" */
export function custodyCell(c: readonly { asset: string; cap: string | null }[]): string {
  if (c.length === 0) return "-";
  if (c.every((x) => x.cap === null)) return "not bounded";
  return c.map((x) => (x.cap === null ? `${x.asset} not bounded` : `${x.asset} <= ${x.cap}`)).join(", ");
}

/** Human-readable per-segment table and verdict; every line warns when the keys were not anchored. */
export function formatAudit(rep: AuditReport): string {
  if (rep.refused) return refusalText(rep);
  const lines: string[] = [];
  lines.push(`epoch ${rep.epoch}  profile ${rep.profile}  manifest ${rep.manifestHash}`);
  lines.push(`keys anchored to: ${rep.anchor}`);
  if (rep.devSetup && !rep.devKeys)
    lines.push("WARNING: development (insecure) trusted setup; proofs are not trustworthy for production");
  const rows = [
    ["segment", "name", "batches", "proofs", "healthy", "stress scenarios", "coverage", "custody"],
  ];
  for (const s of rep.segments) {
    rows.push([
      String(s.id),
      s.name.length > 28 ? `${s.name.slice(0, 27)}…` : s.name,
      String(s.batches),
      s.verified ? "valid" : "INVALID",
      s.healthy === null ? "?" : s.healthy ? "yes" : "NO (insolvent)",
      stressCell(s),
      s.bandLabel ?? "?",
      custodyCell(s.custody),
    ]);
  }
  rows.push([
    "lot list",
    "(global)",
    String(rep.lotList.batches),
    rep.lotList.verified ? "valid" : "INVALID",
    "-",
    "-",
    "-",
    `pooled: ${custodyCell(rep.pooledCustody)}`,
  ]);
  lines.push(...formatTable(rows, { rule: true }));
  for (const s of rep.segments) {
    const defs = (s.stress ?? []).map((x) => `"${x.name}" = ${shocksText(x.shocksBps)}`);
    if (defs.length > 0) lines.push(`segment ${s.id} scenarios (committed shocks): ${defs.join("; ")}`);
  }
  for (const s of rep.segments) {
    const failing = (s.stress ?? []).filter((x) => !x.healthy).map((x) => x.name);
    if (s.healthy === true && failing.length > 0) {
      lines.push(
        `segment ${s.id} is healthy now but FAILS stress scenario${failing.length > 1 ? "s" : ""}: ${failing.join(", ")}`,
      );
    }
  }
  lines.push(`fingerprints (no shared collateral): ${rep.fingerprintOk ? "match" : "MISMATCH"}`);
  lines.push(`proofs verified: ${rep.proofsVerified}/${rep.proofsTotal}`);
  lines.push(...verdictLines(rep));
  return (rep.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}

/** The verdict only (`audit -q`): the lines that say whether to trust the epoch, with its problems. */
export function formatAuditVerdict(rep: AuditReport): string {
  if (rep.refused) return refusalText(rep);
  const lines = verdictLines(rep);
  return (rep.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}

/** A refusal says only that nothing was checked, and why. */
function refusalText(rep: AuditReport): string {
  return `NOT AUDITED: ${rep.errors[0] ?? NO_ANCHOR_MESSAGE}`;
}
