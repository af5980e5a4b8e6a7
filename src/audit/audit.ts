/**
 * Offline audit of a published epoch bundle (docs/SPEC.md "Verifier checks"), trusting nothing
 * but verification keys anchored outside the bundle (anchor.ts; no anchor: refused):
 *
 *  1. bundle shape; verification keys match their recorded sha256, are anchored (registry
 *     verifiers, pinned hashes or keys, or the checkout's own build), are Groth16/bn128 with the
 *     expected number of public signals, and are not development keys (recognised from the key);
 *  2. published asset slots: circuitPrice = price * 10^8 * 10^(D - decimals), packed params =
 *     packSegmentParams(slots); manifestHash (asset slots included) and r recomputed from the manifest;
 *  3. every public signal < p; every derivable public input derived by the auditor: r; prevState
 *     (0 for the first batch, else the previous batch's nextState); meta from the manifest with
 *     first/last by position; params; batchRoot / commitment from the manifest;
 *  4. every proof verified (snarkjs groth16) against the derived public signals;
 *  5. healthy and fingerprint are 0 on every non-last batch, healthy is 0/1;
 *  6. product of the segments' fingerprints == the global lot list's fingerprint (mod p).
 *
 * An unhealthy segment is not an audit failure: it is a correctly proven result, reported per
 * segment. The audit fails (ok = false) when anything above does not hold.
 */

import { createHash } from "node:crypto";
import {
  type Bundle,
  type BundleProof,
  type BundleSegment,
  bundleManifest,
  parseBundle,
  readBundle,
  readBundleVkey,
} from "../bundle/bundle.js";
import { circuitPriceOf, parseDecimal } from "../snapshot/snapshot.js";
import {
  decodeListSignals,
  decodeSegmentSignals,
  deriveR,
  FIELD_P,
  LIST_SIGNAL_COUNT,
  type Manifest,
  manifestHash,
  PRICE_DECIMALS,
  packListMeta,
  packSegmentMeta,
  packSegmentParams,
  segmentSignalCount,
} from "../spec/encoding.js";
import type { CircuitName } from "../spec/profiles.js";
import { developmentKeyOrigin } from "../toolchain/devkeys.js";
import { withSnarkjs } from "../util/curve.js";
import { sj } from "../util/snarkjs.js";
import { formatTable } from "../util/table.js";
import {
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
  /** every batch of the segment checked out */
  verified: boolean;
  errors: string[];
}
export interface AuditReport {
  ok: boolean;
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
  lotList: { batches: number; verified: boolean; errors: string[] };
  fingerprintOk: boolean;
  proofsVerified: number;
  proofsTotal: number;
  /** every failure reason, prefixed by where it happened */
  errors: string[];
  warnings: string[];
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

async function verifyProof(vkey: unknown, signals: bigint[], p: BundleProof): Promise<boolean> {
  try {
    return await sj.groth16.verify(vkey, signals.map(String), p.proof);
  } catch {
    return false;
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
 * Audits a bundle directory (or bundle.json path). Never throws for a bad bundle: returns ok=false.
 * Leaves nothing running: snarkjs's curve workers end with the call (withSnarkjs).
 */
export function auditBundle(dirOrFile: string, opts: AuditOptions = {}): Promise<AuditReport> {
  return withSnarkjs(() => auditBundleNow(dirOrFile, opts));
}

async function auditBundleNow(dirOrFile: string, opts: AuditOptions): Promise<AuditReport> {
  let bundle: Bundle;
  let dir: string;
  try {
    ({ bundle, dir } = await readBundle(dirOrFile));
  } catch (err) {
    return emptyReport([(err as Error).message], opts);
  }
  return auditParsedNow(bundle, dir, opts);
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
  A: number;
  epoch: bigint;
  /** -1 when the manifest could not be hashed */
  r: bigint;
  vkeys: Partial<Record<CircuitName, unknown>>;
  errors: string[];
  tick: () => void;
  proofsVerified: number;
}

/** Audits an already parsed bundle whose files are in `dir`; leaves nothing running. */
export function auditParsedBundle(raw: Bundle, dir: string, opts: AuditOptions = {}): Promise<AuditReport> {
  return withSnarkjs(() => auditParsedNow(raw, dir, opts));
}

async function auditParsedNow(raw: Bundle, dir: string, opts: AuditOptions): Promise<AuditReport> {
  let bundle: Bundle;
  try {
    bundle = parseBundle(raw);
  } catch (err) {
    return emptyReport([(err as Error).message], opts);
  }
  const anchor = anchorOf(opts);
  if (!anchor) return emptyReport([NO_ANCHOR_MESSAGE], opts);
  const errors: string[] = [];
  const warnings: string[] = [];
  if (bundle.devSetup) warnings.push(bundle.warning ?? "development (insecure) trusted setup");
  const keys = await checkVkeys(bundle, dir, anchor, errors);
  if (keys.devKeys) devKeyFindings(bundle, keys.devKeys, !!opts.allowDevKeys, errors, warnings);
  const paramsOk = checkPublishedParams(bundle, errors);
  const manifest = bundleManifest(bundle);
  const r = checkManifestHash(bundle, manifest, errors);
  const proofsTotal =
    bundle.proofs.segments.reduce((n, s) => n + s.batches.length, 0) + bundle.proofs.lotList.length;
  let done = 0;
  const ctx: AuditCtx = {
    bundle,
    manifest,
    A: bundle.profile.assetsPerSegment,
    epoch: BigInt(bundle.epoch),
    r,
    vkeys: keys.vkeys,
    errors,
    tick: () => opts.onProgress?.(++done, proofsTotal),
    proofsVerified: 0,
  };
  const segments: SegmentAudit[] = [];
  const segFingerprints: bigint[] = [];
  for (const [i, s] of bundle.manifest.segments.entries()) {
    const res = await auditSegment(ctx, i, paramsOk[i] ?? false);
    segments.push(res.audit);
    if (res.fingerprint !== null) segFingerprints.push(res.fingerprint);
    for (const e of res.audit.errors) errors.push(`segment ${s.id} ${e}`);
  }
  const list = await auditLotList(ctx);
  for (const e of list.errors) errors.push(`lot list ${e}`);
  const fingerprintOk = checkFingerprints(ctx, segFingerprints, list.fingerprint);
  if (!fingerprintOk) {
    for (const s of segments) {
      s.verified = false;
      s.healthy = null;
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
  dir: string,
  anchor: KeyAnchor,
  errors: string[],
): Promise<{ vkeys: Partial<Record<CircuitName, unknown>>; devKeys: string | null }> {
  const vkeys: Partial<Record<CircuitName, unknown>> = {};
  const dev = new Set<string>();
  const expectedPublic: Record<CircuitName, number> = {
    segment: segmentSignalCount(bundle.profile.assetsPerSegment),
    lotlist: LIST_SIGNAL_COUNT,
  };
  const check = anchorCheck(anchor, bundle.profile.name);
  for (const c of ["segment", "lotlist"] as const) {
    try {
      const { text, vkey } = await readBundleVkey(bundle, dir, c);
      const h = sha256(text);
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

/** Step 2a: circuitPrice = price * 10^8 * 10^(D - decimals) per slot, params = packSegmentParams(slots). */
function checkPublishedParams(bundle: Bundle, errors: string[]): boolean[] {
  const D = bundle.units.maxAssetDecimals;
  const A = bundle.profile.assetsPerSegment;
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
    }
    try {
      const packed = packSegmentParams(
        s.assets.map((a) => ({ price: BigInt(a.circuitPrice), cfBps: BigInt(a.cfBps) })),
        A,
      );
      if (packed.some((w, k) => String(w) !== s.params[k]))
        errors.push(`${p}: params do not match the published asset slots`);
    } catch (err) {
      errors.push(`${p}: ${(err as Error).message}`);
    }
    if (s.marginBps > 50000) errors.push(`${p}: marginBps ${s.marginBps} above the policy maximum 50000`);
    return errors.length === before;
  });
}

/** Step 2b: manifestHash (which commits the asset slots too) and r recomputed; returns r or -1. */
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
      out.push(
        `${where}: public signal ${names[k] ?? `params[${k - names.length}]`} is not the derived value`,
      );
  });
  return out;
}

/** Verifies one proof against derived signals; returns the error or null. */
async function verifyDerived(
  ctx: AuditCtx,
  circuit: CircuitName,
  where: string,
  derived: bigint[],
  bp: BundleProof,
): Promise<string | null> {
  const vk = ctx.vkeys[circuit];
  const label = circuit === "segment" ? "segment" : "lot-list";
  let why: string | null = null;
  if (!vk) why = `${where}: not verified (no valid ${label} verification key)`;
  else if (ctx.r < 0n) why = `${where}: not verified (r unknown)`;
  else if (await verifyProof(vk, derived, bp)) ctx.proofsVerified++;
  else why = `${where}: proof does not verify`;
  ctx.tick();
  return why;
}

/** Steps 3-5 for one segment: derived inputs, proofs, chaining, results only on the last batch. */
async function auditSegment(
  ctx: AuditCtx,
  i: number,
  paramsOk: boolean,
): Promise<{ audit: SegmentAudit; fingerprint: bigint | null }> {
  const s = ctx.bundle.manifest.segments[i] as BundleSegment;
  const segErrors: string[] = [];
  const batches = ctx.bundle.proofs.segments[i]?.batches ?? [];
  let prevNext = 0n;
  let healthy: boolean | null = null;
  let fp: bigint | null = null;
  for (const [b, bp] of batches.entries()) {
    const where = `batch ${b}`;
    const isLast = b === batches.length - 1;
    let sig: ReturnType<typeof decodeSegmentSignals>;
    try {
      sig = decodeSegmentSignals(bp.publicSignals, ctx.A);
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
    const params = ctx.manifest.segments[i]?.params ?? [];
    const root = BigInt(s.batchRoots[b] as string);
    const derived = [sig.nextState, root, sig.healthy, sig.fingerprint, ctx.r, prevNext, meta, ...params];
    const names = ["nextState", "batchRoot", "healthy", "fingerprint", "r", "prevState", "meta"];
    segErrors.push(...compareSignals(where, bp.publicSignals, derived, names));
    if (sig.healthy > 1n) segErrors.push(`${where}: healthy is not 0/1`);
    if (!isLast && (sig.healthy !== 0n || sig.fingerprint !== 0n)) {
      segErrors.push(`${where}: healthy/fingerprint must be 0 on a non-last batch`);
    }
    const why = await verifyDerived(ctx, "segment", where, derived, bp);
    if (why) segErrors.push(why);
    if (isLast) {
      healthy = sig.healthy === 1n;
      fp = sig.fingerprint;
    }
    prevNext = sig.nextState;
  }
  if (!paramsOk) segErrors.push("published parameters are inconsistent");
  const audit: SegmentAudit = {
    id: s.id,
    name: s.name,
    batches: batches.length,
    healthy: segErrors.length === 0 ? healthy : null,
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
      sig = decodeListSignals(bp.publicSignals);
    } catch (err) {
      listErrors.push(`${where}: ${(err as Error).message}`);
      ctx.tick();
      continue;
    }
    const meta = packListMeta({ isFirst: b === 0, isLast, epoch: ctx.epoch });
    const commitment = BigInt(ctx.bundle.manifest.globalCommitments[b] as string);
    const derived = [sig.nextState, commitment, sig.fingerprint, ctx.r, prevNext, meta];
    const names = ["nextState", "commitment", "fingerprint", "r", "prevState", "meta"];
    listErrors.push(...compareSignals(where, bp.publicSignals, derived, names));
    if (!isLast && sig.fingerprint !== 0n)
      listErrors.push(`${where}: fingerprint must be 0 on a non-last batch`);
    const why = await verifyDerived(ctx, "lotlist", where, derived, bp);
    if (why) listErrors.push(why);
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
    lines.push(
      `AUDIT PASSED${bad.length ? `: epoch valid; unhealthy segment${bad.length > 1 ? "s" : ""}: ${bad.join(", ")}` : ": epoch valid, every segment healthy"}`,
    );
  } else {
    lines.push(`AUDIT FAILED (${rep.errors.length} problem${rep.errors.length === 1 ? "" : "s"}):`);
    for (const e of rep.errors.slice(0, 30)) lines.push(`  - ${e}`);
    if (rep.errors.length > 30) lines.push(`  ... ${rep.errors.length - 30} more`);
  }
  return lines;
}

/** Human-readable per-segment table and verdict; every line warns when the keys were not anchored. */
export function formatAudit(rep: AuditReport): string {
  const lines: string[] = [];
  lines.push(`epoch ${rep.epoch}  profile ${rep.profile}  manifest ${rep.manifestHash}`);
  lines.push(`keys anchored to: ${rep.anchor}`);
  if (rep.devSetup && !rep.devKeys)
    lines.push("WARNING: development (insecure) trusted setup; proofs are not trustworthy for production");
  const rows = [["segment", "name", "batches", "proofs", "healthy", "coverage"]];
  for (const s of rep.segments) {
    rows.push([
      String(s.id),
      s.name.length > 28 ? `${s.name.slice(0, 27)}…` : s.name,
      String(s.batches),
      s.verified ? "valid" : "INVALID",
      s.healthy === null ? "?" : s.healthy ? "yes" : "NO (insolvent)",
      "not public",
    ]);
  }
  rows.push([
    "lot list",
    "(global)",
    String(rep.lotList.batches),
    rep.lotList.verified ? "valid" : "INVALID",
    "-",
    "-",
  ]);
  lines.push(...formatTable(rows, { rule: true }));
  lines.push(`fingerprints (no shared collateral): ${rep.fingerprintOk ? "match" : "MISMATCH"}`);
  lines.push(`proofs verified: ${rep.proofsVerified}/${rep.proofsTotal}`);
  lines.push(...verdictLines(rep));
  return (rep.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}

/** The verdict only (`audit -q`): the lines that say whether to trust the epoch. */
export function formatAuditVerdict(rep: AuditReport): string {
  const lines = verdictLines(rep).filter((l) => !l.startsWith("  "));
  return (rep.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}
