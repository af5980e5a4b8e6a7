/**
 * `bulkhead audit DIR --html FILE`: the audit report as one self-contained HTML file (inline CSS and
 * SVG, no script, no network), and the same sections as a fragment for the receipt page.
 *
 * Everything taken from a bundle (names, symbols, error texts) is escaped: a bundle is untrusted
 * input and must not be able to inject markup into the report.
 */
import { UNANCHORED_WARNING } from "./anchor.js";
import { type AuditReport, type SegmentAudit, shocksText } from "./audit.js";

export interface AuditHtmlContext {
  /** sha256 of each verification key, as recorded in the bundle */
  vkeys?: Record<string, string>;
  /** where the bundle was read from */
  source?: string;
  /** ISO time of the audit */
  generatedAt?: string;
}

export const esc = (s: unknown): string =>
  String(s).replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );

export const AUDIT_CSS = `
.bh-audit{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24}
.bh-audit h2{font-size:18px;margin:18px 0 8px}
.bh-audit table{border-collapse:collapse;width:100%;margin:6px 0 12px}
.bh-audit th,.bh-audit td{border-bottom:1px solid #d8dee4;padding:5px 8px;text-align:left;vertical-align:top}
.bh-audit th{background:#f3f5f7;font-weight:600}
.bh-audit code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.bh-audit .ok{color:#116329;font-weight:600}.bh-audit .bad{color:#b3261e;font-weight:700}
.bh-audit .unk{color:#6e7781}
.bh-audit .verdict{font-size:20px;font-weight:700;padding:10px 14px;border-radius:6px;margin:8px 0}
.bh-audit .verdict.pass{background:#dafbe1;color:#116329}.bh-audit .verdict.fail{background:#ffebe9;color:#b3261e}
.bh-audit .untrusted{background:#ffebe9;border:3px solid #b3261e;color:#b3261e;font-size:17px;font-weight:800;padding:10px 14px;border-radius:6px;margin:8px 0}
.bh-audit .warn{background:#fff1b8;border:2px solid #d4a72c;color:#6a4b00;padding:8px 12px;border-radius:6px;margin:6px 0;font-weight:600}
.bh-audit ul.errors li{color:#b3261e}
`;

function healthCell(s: SegmentAudit): string {
  if (s.healthy === null) return `<span class="unk">unknown</span>`;
  return s.healthy ? `<span class="ok">healthy</span>` : `<span class="bad">INSOLVENT</span>`;
}

/** Each named scenario with pass/FAIL; a healthy segment failing one is flagged. */
function stressHtml(s: SegmentAudit): string {
  if (s.stress === null) return `<span class="unk">unknown</span>`;
  if (s.stress.length === 0) return `<span class="unk">no scenario</span>`;
  const items = s.stress
    .map(
      (x) =>
        `${esc(x.name)} <span class="unk">(${esc(shocksText(x.shocksBps))})</span>: ${x.healthy ? `<span class="ok">pass</span>` : `<span class="bad">FAIL</span>`}`,
    )
    .join("<br>");
  const flag =
    s.healthy === true && s.stress.some((x) => !x.healthy)
      ? `<br><span class="bad">healthy now, fails under stress</span>`
      : "";
  return items + flag;
}

function custodyHtml(c: readonly { asset: string; cap: string | null }[]): string {
  if (c.length === 0) return "-";
  return c
    .map((x) =>
      x.cap === null
        ? `${esc(x.asset)} <span class="unk">not bounded</span>`
        : `${esc(x.asset)} &le; ${esc(x.cap)}`,
    )
    .join("<br>");
}

/** Horizontal bars, one per segment (length = batches, colour = health) and one for the lot list. */
export function auditChartSvg(rep: AuditReport): string {
  const rows = [
    ...rep.segments.map((s) => ({
      label: `segment ${s.id} ${s.name}`,
      batches: s.batches,
      color: s.healthy === null ? "#8c959f" : s.healthy ? "#2da44e" : "#cf222e",
      note: `${s.batches} batch${s.batches === 1 ? "" : "es"}, ${s.healthy === null ? "health unknown" : s.healthy ? "healthy" : "insolvent"}${s.verified ? "" : ", proofs INVALID"}`,
    })),
    {
      label: "lot list (global)",
      batches: rep.lotList.batches,
      color: rep.lotList.verified ? "#0969da" : "#8c959f",
      note: `${rep.lotList.batches} batch${rep.lotList.batches === 1 ? "" : "es"}${rep.lotList.verified ? "" : ", proofs INVALID"}`,
    },
  ];
  const max = Math.max(1, ...rows.map((r) => r.batches));
  const rowH = 26;
  const labelW = 230;
  const barW = 300;
  const h = rows.length * rowH + 24;
  const bars = rows
    .map((r, i) => {
      const y = i * rowH + 6;
      const w = Math.max(2, Math.round((r.batches / max) * barW));
      const label = r.label.length > 34 ? `${r.label.slice(0, 33)}…` : r.label;
      return (
        `<text x="0" y="${y + 14}" font-size="12">${esc(label)}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w}" height="18" rx="3" fill="${r.color}"><title>${esc(r.note)}</title></rect>` +
        `<text x="${labelW + w + 6}" y="${y + 14}" font-size="12">${esc(r.note)}</text>`
      );
    })
    .join("");
  const axis = `<text x="${labelW}" y="${h - 4}" font-size="11" fill="#57606a">bar length: batches (max ${max}); green healthy, red insolvent, grey unknown, blue lot list</text>`;
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="segments: health and batches" width="${labelW + barW + 320}" height="${h}" viewBox="0 0 ${labelW + barW + 320} ${h}" font-family="system-ui,sans-serif">${bars}${axis}</svg>`;
}

function segmentTable(rep: AuditReport): string {
  const rows = rep.segments
    .map(
      (s) =>
        `<tr data-segment="${s.id}"><td>${s.id}</td><td>${esc(s.name)}</td><td>${s.batches}</td>` +
        `<td>${s.verified ? `<span class="ok">all valid</span>` : `<span class="bad">INVALID</span>`}</td>` +
        `<td>${healthCell(s)}</td><td class="stress">${stressHtml(s)}</td>` +
        `<td class="band">${s.bandLabel === null ? `<span class="unk">unknown</span>` : esc(s.bandLabel)}</td>` +
        `<td class="custody">${custodyHtml(s.custody)}</td>` +
        `<td>${s.errors.map((e) => esc(e)).join("<br>")}</td></tr>`,
    )
    .join("");
  const list =
    `<tr data-segment="lotlist"><td>lot list</td><td>(global)</td><td>${rep.lotList.batches}</td>` +
    `<td>${rep.lotList.verified ? `<span class="ok">all valid</span>` : `<span class="bad">INVALID</span>`}</td>` +
    `<td>-</td><td>-</td><td>-</td><td class="custody">pooled:<br>${custodyHtml(rep.pooledCustody)}</td>` +
    `<td>${rep.lotList.errors.map((e) => esc(e)).join("<br>")}</td></tr>`;
  return (
    `<table class="segments"><thead><tr><th>segment</th><th>name</th><th>batches</th><th>proofs</th>` +
    `<th>health</th><th>stress scenarios</th><th>coverage band</th><th>custody</th><th>problems</th></tr></thead>` +
    `<tbody>${rows}${list}</tbody></table>`
  );
}

/**
 * The findings that say whether to trust the epoch at all, above the verdict: development keys
 * (recognised from the keys themselves; the audit passes only with allowDevKeys, and still says so)
 * and keys trusted without an anchor.
 */
function trustBanners(rep: AuditReport): string {
  const out: string[] = [];
  if (rep.devKeys) {
    out.push(
      `<div class="untrusted" id="dev-keys">NOT TRUSTWORTHY: development keys (from the ${esc(rep.devKeys)}): anyone can forge proofs under them.${rep.ok ? " The audit passed only because development keys were explicitly allowed (--allow-dev-keys)." : ""}</div>`,
    );
  }
  if (rep.unanchored) {
    out.push(
      `<div class="untrusted" id="unanchored">${esc(UNANCHORED_WARNING)}: the bundle's own keys were trusted (--trust-bundle-keys); a publisher can make a key of their own and prove anything under it.</div>`,
    );
  }
  return out.join("");
}

/** The report's sections (no <html> wrapper), for the CLI's file and the receipt page. */
export function renderAuditSection(rep: AuditReport, ctx: AuditHtmlContext = {}): string {
  // a refusal checked nothing: no table, no chart, only the refusal
  if (rep.refused)
    return `<section class="bh-audit"><div class="verdict fail">NOT AUDITED: no trusted verification keys</div><ul class="errors">${rep.errors.map((e) => `<li>${esc(e)}</li>`).join("")}</ul></section>`;
  const bad = rep.segments.filter((s) => s.healthy === false).map((s) => s.id);
  const stressed = rep.segments
    .filter((s) => s.healthy === true && (s.stress ?? []).some((x) => !x.healthy))
    .map((s) => s.id);
  const stressNote = stressed.length
    ? `; healthy now but failing a stress scenario: segment${stressed.length > 1 ? "s" : ""} ${stressed.join(", ")}`
    : "";
  const verdict = rep.ok
    ? `<div class="verdict pass">AUDIT PASSED: every proof verified${bad.length ? `; insolvent segment${bad.length > 1 ? "s" : ""}: ${bad.join(", ")}` : "; every segment healthy"}${stressNote}</div>`
    : `<div class="verdict fail">AUDIT FAILED (${rep.errors.length} problem${rep.errors.length === 1 ? "" : "s"})</div>`;
  const warnings = rep.warnings.map((w) => `<div class="warn">WARNING: ${esc(w)}</div>`).join("");
  const vk = Object.entries(ctx.vkeys ?? {})
    .map(([c, h]) => `<tr><th>vkey ${esc(c)} (sha256)</th><td><code>${esc(h)}</code></td></tr>`)
    .join("");
  const meta =
    `<table class="meta"><tbody>` +
    `<tr><th>epoch</th><td>${esc(rep.epoch)}</td></tr>` +
    `<tr><th>circuit profile</th><td>${esc(rep.profile)}</td></tr>` +
    `<tr><th>keys anchored to</th><td>${rep.unanchored || rep.anchor === "none" ? `<span class="bad">${esc(rep.anchor)}</span>` : esc(rep.anchor)}</td></tr>` +
    `<tr><th>development keys</th><td>${rep.devKeys ? `<span class="bad">YES: from the ${esc(rep.devKeys)} (NOT TRUSTWORTHY)</span>` : "none recognised"}</td></tr>` +
    `<tr><th>bundle's devSetup flag</th><td>${rep.devSetup ? `<span class="bad">development (insecure)</span>` : "production"}</td></tr>` +
    `<tr><th>manifest hash</th><td><code>${esc(rep.manifestHash)}</code></td></tr>` +
    `<tr><th>r</th><td><code>${esc(rep.r)}</code></td></tr>${vk}` +
    `<tr><th>proofs verified</th><td>${rep.proofsVerified} / ${rep.proofsTotal}</td></tr>` +
    `<tr><th>fingerprints (no shared collateral)</th><td>${rep.fingerprintOk ? `<span class="ok">match</span>` : `<span class="bad">MISMATCH or unavailable</span>`}</td></tr>` +
    (ctx.source ? `<tr><th>bundle</th><td><code>${esc(ctx.source)}</code></td></tr>` : "") +
    (ctx.generatedAt ? `<tr><th>audited at</th><td>${esc(ctx.generatedAt)}</td></tr>` : "") +
    `</tbody></table>`;
  const errors = rep.ok
    ? ""
    : `<h2>Why the audit failed</h2><ul class="errors">${rep.errors.map((e) => `<li>${esc(e)}</li>`).join("")}</ul>`;
  return (
    `<section class="bh-audit">${trustBanners(rep)}${verdict}${warnings}<h2>Epoch</h2>${meta}` +
    `<h2>Segments</h2>${segmentTable(rep)}<h2>Chart</h2>${auditChartSvg(rep)}${errors}</section>`
  );
}

/** One self-contained HTML document: inline CSS and SVG, no script, no external resource. */
export function renderAuditHtml(rep: AuditReport, ctx: AuditHtmlContext = {}): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>bulkhead audit: epoch ${esc(rep.epoch)} ${rep.ok ? "passed" : "FAILED"}${rep.devKeys ? " (NOT TRUSTWORTHY: development keys)" : ""}</title>
<style>body{margin:24px auto;max-width:1100px;padding:0 16px}h1{font:600 22px system-ui,sans-serif}${AUDIT_CSS}</style>
</head><body><h1>bulkhead audit report: epoch ${esc(rep.epoch)}</h1>
${renderAuditSection(rep, ctx)}
</body></html>
`;
}
