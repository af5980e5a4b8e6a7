/**
 * A user's receipt against a published bundle, the user's whole check: inclusion of every
 * position (receipts/receipts.ts), then the full offline audit of the epoch (every proof,
 * chaining, fingerprints) against anchored keys, with the segment's health, stress scenarios and
 * coverage band. Runs unchanged in Node and the browser; node.ts reads receipts and bundles from
 * disk.
 */
import { BUNDLE_FORMAT, type Bundle, type BundleFiles, loadBundle } from "../bundle/bundle.js";
import {
  checkReceiptInclusion,
  type PositionCheck,
  RECEIPT_FORMAT,
  type ReceiptInclusion,
} from "../receipts/receipts.js";
import { type AnchorChecker, anchorCheck, NO_ANCHOR_MESSAGE, UNANCHORED_WARNING } from "./anchor.js";
import { type AuditOptions, type AuditReport, anchorOf, auditFiles } from "./audit.js";

/** The inclusion check's findings, and what the audit of the epoch adds. */
export interface ReceiptVerdict extends ReceiptInclusion {
  /** included, and the epoch audit passed */
  ok: boolean;
  /** the full epoch audit passed */
  verified: boolean;
  verdict: string;
  /** development keys recognised from the epoch's keys (null: none) */
  devKeys: string | null;
  /** the bundle's keys were trusted on the publisher's word (--trust-bundle-keys) */
  unanchored: boolean;
  /** development keys were accepted (allowDevKeys, the CLI's --allow-dev-keys) */
  allowDevKeys: boolean;
  /** the file is no receipt, or a receipt of another epoch or bundle: nothing else was checked */
  mismatch?: ReceiptMismatch;
  audit?: AuditReport;
}

export type ReceiptMismatch = "not-a-receipt" | "wrong-epoch" | "wrong-bundle";

/** Why this receipt cannot be checked against this bundle at all (undefined: it can). */
function mismatchOf(
  receipt: unknown,
  bundle: Bundle,
): { kind: ReceiptMismatch; verdict: string } | undefined {
  const r = receipt as Record<string, unknown> | null;
  if (typeof r !== "object" || r === null || r.format !== RECEIPT_FORMAT) {
    const what =
      r?.format === BUNDLE_FORMAT
        ? "this file is an epoch bundle (bundle.json), not a receipt: give the receipt file you were handed"
        : `this file is not a bulkhead receipt (a receipt says "format": "${RECEIPT_FORMAT}")`;
    return { kind: "not-a-receipt", verdict: `NOT A RECEIPT: ${what}` };
  }
  if (r.epoch !== bundle.epoch)
    return {
      kind: "wrong-epoch",
      verdict: `WRONG EPOCH: the receipt is for epoch ${String(r.epoch)}, the bundle is epoch ${bundle.epoch}: check it against the bundle of epoch ${String(r.epoch)}`,
    };
  if (r.manifestHash !== bundle.manifestHash)
    return {
      kind: "wrong-bundle",
      verdict: `WRONG BUNDLE: the receipt is for another bundle of epoch ${bundle.epoch} (its manifest hash differs): check it against the bundle it was issued with`,
    };
  return undefined;
}

/**
 * Full receipt verification: inclusion, then the full audit of the epoch (every proof, chaining,
 * fingerprints, public-input derivation). `ok` = included and verified; `healthy` tells whether
 * the segment(s) of the position are healthy. `checker` as for auditFiles.
 */
export async function verifyReceiptFiles(
  receipt: unknown,
  files: BundleFiles,
  opts: AuditOptions = {},
  checker: AnchorChecker = anchorCheck,
): Promise<ReceiptVerdict> {
  if (!anchorOf(opts)) return failVerdict(NO_ANCHOR_MESSAGE);
  let bundle: Awaited<ReturnType<typeof loadBundle>>;
  try {
    bundle = await loadBundle(files);
  } catch (err) {
    return failVerdict((err as Error).message);
  }
  // another epoch, another bundle or no receipt at all: say that, and check (and show) nothing else
  const mismatch = mismatchOf(receipt, bundle);
  if (mismatch) {
    const reason = mismatch.verdict.slice(mismatch.verdict.indexOf(": ") + 2);
    return {
      ...failVerdict(reason),
      verdict: mismatch.verdict,
      mismatch: mismatch.kind,
      epoch: bundle.epoch,
    };
  }
  const inc = await checkReceiptInclusion(receipt, bundle);
  const audit = await auditFiles(files, opts, checker);
  const verified = audit.ok;
  const reasons = [...inc.reasons];
  if (!verified) reasons.push(...audit.errors.map((e) => `audit: ${e}`));
  const ok = inc.included && verified;
  const verdict = receiptVerdictLine(inc, audit, bundle.epoch, !!opts.allowDevKeys);
  return {
    ...inc,
    ok,
    verified,
    reasons,
    verdict,
    devKeys: audit.devKeys,
    unanchored: audit.unanchored,
    allowDevKeys: !!opts.allowDevKeys,
    audit,
  };
}

function receiptVerdictLine(
  inc: ReceiptInclusion,
  audit: AuditReport,
  epoch: string,
  allowDevKeys: boolean,
): string {
  // another epoch or bundle is the reason itself: headline it, not "not included"
  const otherEpoch = inc.reasons.find((r) =>
    /^the receipt is for epoch|^the receipt's manifest hash/.test(r),
  );
  if (otherEpoch) return `NOT INCLUDED: ${otherEpoch}`;
  if (!inc.included) return `NOT INCLUDED: ${inc.subject} is not in epoch ${epoch} as stated`;
  if (audit.devKeys && !allowDevKeys) {
    return `NOT TRUSTWORTHY: development keys (from the ${audit.devKeys}): ${inc.subject} is included, but anyone can forge the epoch's proofs`;
  }
  if (!audit.ok) return `NOT VERIFIED: ${inc.subject} is included, but the epoch's proofs do not verify`;
  if (!inc.healthy) {
    const bad = [...new Set(inc.positions.filter((p) => p.healthy !== true).map((p) => p.segment))];
    return `INCLUDED, but segment${bad.length > 1 ? "s" : ""} ${bad.join(", ")} ${bad.length > 1 ? "are" : "is"} UNHEALTHY (insolvent) in epoch ${epoch}`;
  }
  const segs = [...new Set(inc.positions.map((p) => p.segment))];
  const stressed = [
    ...new Set(inc.positions.filter((p) => (p.stress ?? []).some((x) => !x.healthy)).map((p) => p.segment)),
  ];
  return `VERIFIED: ${inc.subject} is included in epoch ${epoch}, segment${segs.length > 1 ? "s" : ""} ${segs.join(", ")} healthy, all proofs valid${stressed.length ? `; segment${stressed.length > 1 ? "s" : ""} ${stressed.join(", ")} healthy now but FAIL${stressed.length > 1 ? "" : "S"} a stress scenario` : ""}`;
}

/** ", stress: crash pass, eth-50 FAIL, coverage 110-150%" for a position line. */
export function outcomeText(p: Pick<PositionCheck, "stress" | "band">): string {
  const parts: string[] = [];
  if (p.stress && p.stress.length > 0)
    parts.push(`stress: ${p.stress.map((x) => `${x.name} ${x.healthy ? "pass" : "FAIL"}`).join(", ")}`);
  if (p.band) parts.push(`coverage ${p.band}`);
  return parts.length ? `, ${parts.join(", ")}` : "";
}

/**
 * The verdict for people: the verdict line, then one line per position with the amount as
 * counted, the reasons, and a NOT TRUSTWORTHY line for development keys (allowed or not). When the
 * bundle's keys were trusted unanchored, every line carries UNANCHORED_WARNING.
 */
export function formatReceiptVerdict(v: ReceiptVerdict): string {
  const lines = verdictLines(v);
  return (v.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
}

/**
 * A receipt verdict's lines, offline or on chain: the verdict, one line per position (amount,
 * health, stress scenarios and coverage band, the amount as counted, why not included), the other
 * reasons, and the development-key line unless the verdict is already NOT TRUSTWORTHY.
 */
export function verdictLines(
  v: Pick<ReceiptVerdict, "verdict" | "positions" | "reasons" | "devKeys" | "allowDevKeys">,
): string[] {
  const lines = [v.verdict];
  for (const p of v.positions) {
    const health = p.healthy === null ? "" : p.healthy ? ", segment healthy" : ", segment UNHEALTHY";
    lines.push(
      `  segment ${p.segment} batch ${p.batch}: ${p.amount} ${p.asset}: ${p.included ? "included" : "NOT included"}${health}${outcomeText(p)}${p.counted ? `; counted as ${p.counted}` : ""}${p.reason ? ` (${p.reason})` : ""}`,
    );
  }
  for (const r of v.reasons.filter((r) => !v.positions.some((p) => p.reason && r.endsWith(p.reason))))
    lines.push(`  - ${r}`);
  if (v.devKeys && !v.verdict.startsWith("NOT TRUSTWORTHY"))
    lines.push(devKeysLine(v.devKeys, v.allowDevKeys));
  return lines;
}

/** The development-key line under a verdict: accepted only when --allow-dev-keys was given. */
export function devKeysLine(devKeys: string, allowed: boolean): string {
  return `NOT TRUSTWORTHY: development keys (from the ${devKeys}); ${allowed ? "allowed by --allow-dev-keys" : "not accepted (no --allow-dev-keys)"}`;
}

export function failVerdict(reason: string): ReceiptVerdict {
  return {
    ok: false,
    included: false,
    verified: false,
    healthy: false,
    kind: "unknown",
    subject: "?",
    epoch: "?",
    positions: [],
    reasons: [reason],
    verdict: `NOT VERIFIED: ${reason}`,
    devKeys: null,
    unanchored: false,
    allowDevKeys: false,
  };
}
