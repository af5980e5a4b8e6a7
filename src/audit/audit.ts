/**
 * Offline audit of a published epoch bundle (docs/SPEC.md "Verifier checks"), trusting nothing
 * but the bundle's verification keys (optionally pinned by the caller):
 *
 *  1. bundle shape; verification keys match their recorded sha256 (and `expectedVkeys` when given),
 *     are Groth16/bn128 with the expected number of public signals;
 *  2. published asset slots: circuitPrice = price * 10^8 * 10^(D - decimals), packed params =
 *     packSegmentParams(slots); manifestHash and r recomputed from the manifest;
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
  manifestHash,
  PRICE_DECIMALS,
  packListMeta,
  packSegmentMeta,
  packSegmentParams,
  segmentSignalCount,
} from "../spec/encoding.js";
import type { CircuitName } from "../spec/profiles.js";
import { withSnarkjs } from "../util/curve.js";
import { sj } from "../util/snarkjs.js";

export interface AuditOptions {
  /** sha256 (hex) of trusted verification keys; checked in addition to the bundle's own record */
  expectedVkeys?: Partial<Record<CircuitName, string>>;
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
  devSetup: boolean;
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
    return emptyReport((err as Error).message);
  }
  return auditParsedNow(bundle, dir, opts);
}

function emptyReport(error: string): AuditReport {
  return {
    ok: false,
    epoch: "?",
    profile: "?",
    devSetup: false,
    manifestHash: "?",
    r: "?",
    segments: [],
    lotList: { batches: 0, verified: false, errors: [] },
    fingerprintOk: false,
    proofsVerified: 0,
    proofsTotal: 0,
    errors: [error],
    warnings: [],
  };
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
    return emptyReport((err as Error).message);
  }
  const errors: string[] = [];
  const warnings: string[] = [];
  const A = bundle.profile.assetsPerSegment;
  const epoch = BigInt(bundle.epoch);
  if (bundle.devSetup) warnings.push(bundle.warning ?? "development (insecure) trusted setup");

  // 1. verification keys
  const vkeys: Partial<Record<CircuitName, unknown>> = {};
  const expectedPublic: Record<CircuitName, number> = {
    segment: segmentSignalCount(A),
    lotlist: LIST_SIGNAL_COUNT,
  };
  for (const c of ["segment", "lotlist"] as const) {
    try {
      const { text, vkey } = await readBundleVkey(bundle, dir, c);
      const h = sha256(text);
      if (h !== bundle.vkeys[c].sha256)
        errors.push(`vkeys.${c}: sha256 ${h} differs from the bundle's record`);
      else if (opts.expectedVkeys?.[c] && opts.expectedVkeys[c] !== h) {
        errors.push(`vkeys.${c}: sha256 ${h} is not the trusted key ${opts.expectedVkeys[c]}`);
      } else {
        const v = vkey as Record<string, unknown>;
        if (v.protocol !== "groth16" || v.curve !== "bn128")
          errors.push(`vkeys.${c}: not a groth16/bn128 key`);
        else if (v.nPublic !== expectedPublic[c]) {
          errors.push(
            `vkeys.${c}: ${String(v.nPublic)} public signals, expected ${expectedPublic[c]} for this profile`,
          );
        } else vkeys[c] = vkey;
      }
    } catch (err) {
      errors.push(`vkeys.${c}: cannot read: ${(err as Error).message}`);
    }
  }

  // 2. published parameters, manifestHash, r
  const D = bundle.units.maxAssetDecimals;
  const paramsOk: boolean[] = bundle.manifest.segments.map((s) => {
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
  const manifest = bundleManifest(bundle);
  let r = -1n;
  try {
    const mh = manifestHash(manifest);
    if (mh !== bundle.manifestHash)
      errors.push(`manifestHash: recomputed ${mh}, bundle says ${bundle.manifestHash}`);
    r = deriveR(epoch, mh);
    if (String(r) !== bundle.r) errors.push(`r: recomputed ${r}, bundle says ${bundle.r}`);
  } catch (err) {
    errors.push(`manifest: ${(err as Error).message}`);
  }

  const proofsTotal =
    bundle.proofs.segments.reduce((n, s) => n + s.batches.length, 0) + bundle.proofs.lotList.length;
  let proofsVerified = 0;
  let done = 0;
  const tick = () => opts.onProgress?.(++done, proofsTotal);

  // 3-5. segments
  const segments: SegmentAudit[] = [];
  const segFingerprints: bigint[] = [];
  for (const [i, s] of bundle.manifest.segments.entries()) {
    const segErrors: string[] = [];
    const batches = bundle.proofs.segments[i]?.batches ?? [];
    let prevNext = 0n;
    let healthy: boolean | null = null;
    let fp: bigint | null = null;
    for (const [b, bp] of batches.entries()) {
      const where = `batch ${b}`;
      const isLast = b === batches.length - 1;
      let sig: ReturnType<typeof decodeSegmentSignals>;
      try {
        sig = decodeSegmentSignals(bp.publicSignals, A);
      } catch (err) {
        segErrors.push(`${where}: ${(err as Error).message}`);
        tick();
        continue;
      }
      const meta = packSegmentMeta({
        segmentId: BigInt(s.id),
        marginBps: BigInt(s.marginBps),
        isFirst: b === 0,
        isLast,
        epoch,
      });
      const params = manifest.segments[i]?.params ?? [];
      const root = BigInt(s.batchRoots[b] as string);
      const derived = [sig.nextState, root, sig.healthy, sig.fingerprint, r, prevNext, meta, ...params];
      const names = ["nextState", "batchRoot", "healthy", "fingerprint", "r", "prevState", "meta"];
      const published = bp.publicSignals.map((x) => BigInt(x));
      derived.forEach((v, k) => {
        if (published[k] !== v)
          segErrors.push(
            `${where}: public signal ${names[k] ?? `params[${k - 7}]`} is not the derived value`,
          );
      });
      if (sig.healthy > 1n) segErrors.push(`${where}: healthy is not 0/1`);
      if (!isLast && (sig.healthy !== 0n || sig.fingerprint !== 0n)) {
        segErrors.push(`${where}: healthy/fingerprint must be 0 on a non-last batch`);
      }
      const vk = vkeys.segment;
      if (!vk) segErrors.push(`${where}: not verified (no valid segment verification key)`);
      else if (r < 0n) segErrors.push(`${where}: not verified (r unknown)`);
      else if (await verifyProof(vk, derived, bp)) proofsVerified++;
      else segErrors.push(`${where}: proof does not verify`);
      tick();
      if (isLast) {
        healthy = sig.healthy === 1n;
        fp = sig.fingerprint;
      }
      prevNext = sig.nextState;
    }
    if (!paramsOk[i]) segErrors.push("published parameters are inconsistent");
    if (fp !== null) segFingerprints.push(fp);
    segments.push({
      id: s.id,
      name: s.name,
      batches: batches.length,
      healthy: segErrors.length === 0 ? healthy : null,
      verified: segErrors.length === 0,
      errors: segErrors,
    });
    for (const e of segErrors) errors.push(`segment ${s.id} ${e}`);
  }

  // lot list
  const listErrors: string[] = [];
  let listFp: bigint | null = null;
  {
    let prevNext = 0n;
    const batches = bundle.proofs.lotList;
    for (const [b, bp] of batches.entries()) {
      const where = `batch ${b}`;
      const isLast = b === batches.length - 1;
      let sig: ReturnType<typeof decodeListSignals>;
      try {
        sig = decodeListSignals(bp.publicSignals);
      } catch (err) {
        listErrors.push(`${where}: ${(err as Error).message}`);
        tick();
        continue;
      }
      const meta = packListMeta({ isFirst: b === 0, isLast, epoch });
      const commitment = BigInt(bundle.manifest.globalCommitments[b] as string);
      const derived = [sig.nextState, commitment, sig.fingerprint, r, prevNext, meta];
      const names = ["nextState", "commitment", "fingerprint", "r", "prevState", "meta"];
      const published = bp.publicSignals.map((x) => BigInt(x));
      derived.forEach((v, k) => {
        if (published[k] !== v)
          listErrors.push(`${where}: public signal ${names[k]} is not the derived value`);
      });
      if (!isLast && sig.fingerprint !== 0n)
        listErrors.push(`${where}: fingerprint must be 0 on a non-last batch`);
      const vk = vkeys.lotlist;
      if (!vk) listErrors.push(`${where}: not verified (no valid lot-list verification key)`);
      else if (r < 0n) listErrors.push(`${where}: not verified (r unknown)`);
      else if (await verifyProof(vk, derived, bp)) proofsVerified++;
      else listErrors.push(`${where}: proof does not verify`);
      tick();
      if (isLast) listFp = sig.fingerprint;
      prevNext = sig.nextState;
    }
    for (const e of listErrors) errors.push(`lot list ${e}`);
  }

  // 6. fingerprints
  let fingerprintOk = false;
  if (listFp !== null && segFingerprints.length === bundle.manifest.segments.length) {
    const prod = segFingerprints.reduce((a, f) => (a * f) % FIELD_P, 1n);
    fingerprintOk = prod === listFp;
    if (!fingerprintOk) {
      errors.push(
        "fingerprints: the product of the segments' fingerprints differs from the global lot list's (a lot is shared, missing or invented)",
      );
    }
  } else {
    errors.push("fingerprints: not every fingerprint is available");
  }
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
    manifestHash: bundle.manifestHash,
    r: bundle.r,
    segments,
    lotList: { batches: bundle.proofs.lotList.length, verified: listErrors.length === 0, errors: listErrors },
    fingerprintOk,
    proofsVerified,
    proofsTotal,
    errors,
    warnings,
  };
}

/** Human-readable per-segment table and verdict. */
export function formatAudit(rep: AuditReport): string {
  const lines: string[] = [];
  lines.push(`epoch ${rep.epoch}  profile ${rep.profile}  manifest ${rep.manifestHash}`);
  if (rep.devSetup)
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
  const widths = rows[0]?.map((_, k) => Math.max(...rows.map((r) => (r[k] ?? "").length))) ?? [];
  for (const [n, r] of rows.entries()) {
    lines.push(
      r
        .map((c, k) => c.padEnd(widths[k] ?? 0))
        .join("  ")
        .trimEnd(),
    );
    if (n === 0) lines.push(widths.map((w) => "-".repeat(w)).join("  "));
  }
  lines.push(`fingerprints (no shared collateral): ${rep.fingerprintOk ? "match" : "MISMATCH"}`);
  lines.push(`proofs verified: ${rep.proofsVerified}/${rep.proofsTotal}`);
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
  return lines.join("\n");
}
