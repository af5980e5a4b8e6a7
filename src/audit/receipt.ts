/**
 * A user's receipt against a published bundle, the user's whole check: inclusion of every
 * position (receipts/receipts.ts), then the full offline audit of the epoch (every proof,
 * chaining, fingerprints) against anchored keys, with the segment's health, stress scenarios and
 * coverage band. Runs unchanged in Node and the browser; node.ts reads receipts and bundles from
 * disk.
 */
import { type BundleFiles, loadBundle } from "../bundle/bundle.js";
import { checkReceiptInclusion, type PositionCheck, type ReceiptInclusion } from "../receipts/receipts.js";
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
  audit?: AuditReport;
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
    lines.push(`NOT TRUSTWORTHY: development keys (from the ${v.devKeys}); allowed by --allow-dev-keys`);
  return (v.unanchored ? lines.map((l) => `${UNANCHORED_WARNING} ${l}`) : lines).join("\n");
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
  };
}
