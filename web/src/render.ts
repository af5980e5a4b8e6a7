/** Turns a page check into plain words: one verdict at a glance, then the facts behind it. */
import { UNANCHORED_WARNING } from "../../src/audit/anchor.js";
import { shocksText } from "../../src/audit/audit.js";
import { esc } from "../../src/audit/html.js";
import { howToAnchor } from "./anchor.js";
import type { BundleSource, PageChainCheck, PageCheck } from "./check.js";

export type PageState =
  | "verified"
  | "unhealthy"
  | "not-included"
  | "failed"
  | "refused"
  | "untrusted"
  | "unanchored"
  | "superseded"
  | "not-a-receipt"
  | "wrong-epoch"
  | "wrong-bundle";

const MISMATCH_TITLES: Record<NonNullable<PageCheck["verdict"]["mismatch"]>, string> = {
  "not-a-receipt": "NOT A RECEIPT",
  "wrong-epoch": "WRONG EPOCH: this bundle is not your receipt's epoch",
  "wrong-bundle": "WRONG BUNDLE: this bundle is not the one your receipt was issued with",
};

/** The headline, in the library verdict's order: inclusion, development keys, proofs, health. */
function headline(res: PageCheck): { state: PageState; title: string } {
  const v = res.verdict;
  if (res.refused) return { state: "refused", title: "NOT VERIFIED: NO TRUSTED KEYS IN THIS PAGE" };
  if (v.mismatch) return { state: v.mismatch, title: MISMATCH_TITLES[v.mismatch] };
  if (!v.audit) return { state: "failed", title: "NOT VERIFIED: the bundle cannot be read" };
  if (!v.included) return { state: "not-included", title: "NOT INCLUDED" };
  if (v.devKeys && !res.allowDevKeys)
    return { state: "untrusted", title: "NOT TRUSTWORTHY: development keys" };
  if (!v.verified) return { state: "failed", title: "NOT VERIFIED: the epoch's proofs fail" };
  if (!v.healthy) return { state: "unhealthy", title: "INCLUDED, BUT YOUR SEGMENT IS INSOLVENT" };
  if (v.unanchored)
    return { state: "unanchored", title: "UNANCHORED: consistent with the bundle's own keys only" };
  return { state: "verified", title: "VERIFIED" };
}

/** The loud development-key banner (keys recognised by the library from the key itself). */
export function devBanner(devKeys: string, allowed: boolean, where: string): string {
  return `<div id="dev-warning" class="devwarn">NOT TRUSTWORTHY: development keys. ${esc(where)} made from the ${esc(devKeys)}, whose randomness is public: anyone can forge every proof of this epoch. ${allowed ? "This page accepts development keys (its host set it up as a demo), so the checks below ran anyway; they prove nothing until the keys come from a real ceremony." : "This page does not accept development keys."}</div>`;
}

const yes = (t: string) => `<span class="yes">${esc(t)}</span>`;
const no = (t: string) => `<span class="no">${esc(t)}</span>`;
const unk = (t: string) => `<span class="unk">${esc(t)}</span>`;

function age(date: Date | undefined): string {
  if (!date || Number.isNaN(date.getTime())) return "publication date unknown";
  const h = (Date.now() - date.getTime()) / 3_600_000;
  const ago =
    h < 1
      ? `${Math.max(0, Math.round(h * 60))} min`
      : h < 48
        ? `${h.toFixed(1)} h`
        : `${(h / 24).toFixed(1)} days`;
  return `bundle dated ${date.toISOString().replace("T", " ").slice(0, 16)} UTC (${ago} ago)`;
}

type SegmentFacts = NonNullable<PageCheck["verdict"]["audit"]>["segments"][number];

/** The segment's proven stress results (each named scenario: pass / FAIL). */
function stressFact(s: SegmentFacts | undefined): string {
  if (!s || s.stress === null) return unk("unknown (its proofs did not check out)");
  if (s.stress.length === 0) return unk("no stress scenario in this epoch");
  const items = s.stress
    .map(
      (x) =>
        `${esc(x.name)} <span class="mute">(${esc(shocksText(x.shocksBps))})</span>: ${x.healthy ? yes("pass") : no("FAIL")}`,
    )
    .join(", ");
  const warn =
    s.healthy === true && s.stress.some((x) => !x.healthy)
      ? `<br>${no("healthy now, but NOT under every stress scenario")}`
      : "";
  return items + warn;
}

/** The segment's proven coverage band (haircut collateral / required), the only figure disclosed. */
function bandFact(s: SegmentFacts | undefined): string {
  if (!s || s.bandLabel === null) return unk("unknown");
  return `${esc(s.bandLabel)} <span class="mute">(haircut collateral / required, a coarse band)</span>`;
}

/** Per asset: the custody cap the proofs bound the segment's collateral by, or "not bounded". */
function custodyFact(s: SegmentFacts | undefined): string {
  if (!s || s.custody.length === 0) return unk("-");
  return s.custody
    .map((c) =>
      c.cap === null ? `${esc(c.asset)}: ${unk("not bounded")}` : `${esc(c.asset)} &le; ${esc(c.cap)}`,
    )
    .join(", ");
}

function rows(res: PageCheck, src: BundleSource): string[] {
  const v = res.verdict;
  const a = v.audit;
  const out: string[] = [];
  const row = (k: string, html: string, id = "") =>
    out.push(`<tr${id ? ` id="${id}"` : ""}><th>${esc(k)}</th><td>${html}</td></tr>`);
  row("Receipt", esc(v.subject));
  for (const p of v.positions) {
    row(
      `Position in segment ${p.segment}`,
      `${esc(p.amount)} ${esc(p.asset)}, batch ${p.batch}: ${p.included ? yes("included") : no(`not included: ${p.reason ?? "?"}`)}${p.counted ? `<br><span class="mute">counted as ${esc(p.counted)}</span>` : ""}`,
    );
  }
  const segIds = [...new Set(v.positions.map((p) => p.segment))];
  for (const id of segIds) {
    const s = a?.segments.find((x) => x.id === id);
    const name = s ? ` (${s.name})` : "";
    row(
      `Segment ${id}${name} health`,
      !s || s.healthy === null
        ? unk("unknown (its proofs did not check out)")
        : s.healthy
          ? yes("healthy: its collateral covers its liabilities")
          : no("INSOLVENT: its collateral does not cover its liabilities"),
      `health-${id}`,
    );
    row(`Segment ${id} stress scenarios`, stressFact(s), `stress-${id}`);
    row(`Segment ${id} coverage band`, bandFact(s), `band-${id}`);
    row(`Segment ${id} custody`, custodyFact(s), `custody-${id}`);
    row(
      `Segment ${id} proofs`,
      s
        ? s.verified
          ? yes(`all ${s.batches} valid`)
          : no(`INVALID: ${s.errors.join("; ")}`)
        : unk("not checked"),
    );
  }
  if (a) {
    row("Lot list proofs", a.lotList.verified ? yes(`all ${a.lotList.batches} valid`) : no("INVALID"));
    row(
      "No collateral shared between segments",
      a.fingerprintOk ? yes("checked (fingerprints match)") : no("NOT shown (fingerprints do not match)"),
    );
    row("Proofs verified", `${a.proofsVerified} of ${a.proofsTotal}`);
  }
  row("Epoch", `${esc(v.epoch)}${a ? `, circuit profile ${esc(a.profile)}` : ""}; ${esc(age(src.date))}`);
  row("Bundle from", `<code>${esc(src.origin)}</code>`);
  row(
    "Key anchor",
    res.anchor.anchored
      ? esc(res.anchor.summary)
      : no(`${res.anchor.summary}${res.trustedBundleKeys ? " (you chose to trust the bundle's keys)" : ""}`),
    "anchor-row",
  );
  row(
    "Development keys",
    v.devKeys
      ? no(`YES: made from the ${v.devKeys} (not trustworthy)`)
      : a
        ? yes("no: not made from a known development ptau")
        : unk("not checked"),
    "devkeys-row",
  );
  row(
    "Checked in",
    `<span id="check-time" data-ms="${Math.round(res.ms)}">${(res.ms / 1000).toFixed(1)} s</span>, in this browser`,
  );
  return out;
}

/**
 * The library's verdict line under the headline: marked like formatReceiptVerdict marks an
 * unanchored check; for a refusal only its first sentence (the rest names CLI flags; the page's
 * own how-to follows in the banner).
 */
function smallLine(res: PageCheck): string {
  const v = res.verdict;
  if (res.refused) return `${v.verdict.split(". ")[0]}.`;
  return v.unanchored ? `${UNANCHORED_WARNING} ${v.verdict}` : v.verdict;
}

function banners(res: PageCheck): string[] {
  const v = res.verdict;
  const parts: string[] = [];
  if (res.refused) {
    parts.push(`<div id="no-anchor" class="devwarn">${esc(howToAnchor(res.anchor.profile))}</div>`);
  }
  if (v.unanchored) {
    parts.push(
      `<div id="unanchored-warning" class="devwarn">${esc(UNANCHORED_WARNING)} This page has no trusted keys for profile ${esc(res.anchor.profile)}; you chose to check the bundle against its own keys. A publisher can make a key of their own and prove anything under it: this result is not trustworthy.</div>`,
    );
  }
  if (v.devKeys) parts.push(devBanner(v.devKeys, res.allowDevKeys, "The epoch's verification keys were"));
  for (const w of v.audit?.warnings ?? [])
    parts.push(`<div class="devwarn" style="font-weight:600">${esc(w)}</div>`);
  return parts;
}

/** Fills the result card; returns the page state (also set as data-state for tests and styling). */
export function renderResult(out: HTMLElement, res: PageCheck, src: BundleSource): PageState {
  const v = res.verdict;
  const { state, title } = headline(res);
  const verdictDiv = `<div id="verdict" class="verdict state-${state}">${esc(title)}<small>${esc(smallLine(res))}</small></div>`;
  // not this receipt's bundle, or no receipt: nothing was checked, so nothing else is shown
  if (v.mismatch && !res.refused) {
    out.innerHTML = verdictDiv;
    return state;
  }
  const parts: string[] = [verdictDiv, ...banners(res)];
  if (v.reasons.length > 0 && !res.refused) {
    parts.push(
      `<h2>Why</h2><ul id="reasons" class="reasons">${v.reasons
        .slice(0, 30)
        .map((r) => `<li>${esc(r)}</li>`)
        .join("")}</ul>`,
    );
  }
  parts.push(`<table class="facts"><tbody>${rows(res, src).join("")}</tbody></table>`);
  out.innerHTML = parts.join("");
  return state;
}

function chainHeadline(res: PageChainCheck): { state: PageState; title: string } {
  const v = res.verdict;
  if (!v.included) return { state: "not-included", title: "NOT INCLUDED" };
  if (v.devKeys && !res.allowDevKeys)
    return { state: "untrusted", title: "NOT TRUSTWORTHY: development keys" };
  if (!v.healthy) return { state: "unhealthy", title: "INCLUDED, BUT YOUR SEGMENT IS INSOLVENT" };
  if (!v.latest)
    return { state: "superseded", title: "VERIFIED IN AN OLD EPOCH: a newer epoch is published" };
  return { state: "verified", title: "VERIFIED ON CHAIN" };
}

function chainRows(res: PageChainCheck): string[] {
  const v = res.verdict;
  const rows: string[] = [];
  const row = (k: string, html: string, id = "") =>
    rows.push(`<tr${id ? ` id="${id}"` : ""}><th>${esc(k)}</th><td>${html}</td></tr>`);
  row("Receipt", esc(v.subject));
  for (const p of v.positions) {
    row(
      `Position in segment ${p.segment}`,
      `${esc(p.asset)}, batch ${p.batch}: ${p.included ? yes("included") : no(`not included: ${p.reason ?? "?"}`)}${p.counted ? `<br><span class="mute">counted as ${esc(p.counted)} (the asset and decimals committed on chain for this slot)</span>` : ""}`,
    );
    row(
      `Segment ${p.segment} health`,
      p.healthy === null
        ? unk("unknown")
        : p.healthy
          ? yes("healthy: its collateral covers its liabilities")
          : no("INSOLVENT: its collateral does not cover its liabilities"),
    );
  }
  row(
    "Proofs",
    v.included
      ? yes("every proof of the epoch was verified by the registry contract (epoch finalized)")
      : unk("-"),
  );
  row("Stress scenarios / coverage band", unk("not published on chain"));
  const at = res.latestFinalizedAt ? new Date(res.latestFinalizedAt * 1000) : undefined;
  row(
    "Epoch",
    `${esc(v.epoch)}${v.latest ? " (the latest finalized epoch)" : `; latest finalized: ${esc(v.latestEpoch ?? "none")}`}; ${esc(age(at).replace("bundle dated", "finalized"))}`,
  );
  row("Registry", `<code>${esc(v.registry)}</code> via <code>${esc(res.rpc)}</code>`);
  row(
    "Development keys",
    v.devKeys
      ? no(`YES: the registry's verifiers hold keys made from the ${v.devKeys} (not trustworthy)`)
      : yes("no: the registry's verifiers are not made from a known development ptau"),
    "devkeys-row",
  );
  row(
    "Checked in",
    `<span id="check-time" data-ms="${Math.round(res.ms)}">${(res.ms / 1000).toFixed(1)} s</span>, in this browser`,
  );
  return rows;
}

/** The chain-mode result card. */
export function renderChainResult(out: HTMLElement, res: PageChainCheck): PageState {
  const v = res.verdict;
  const { state, title } = chainHeadline(res);
  const dev = v.devKeys ? devBanner(v.devKeys, res.allowDevKeys, "The registry's verifiers were") : "";
  const reasons = v.reasons.length
    ? `<h2>Why</h2><ul id="reasons" class="reasons">${v.reasons.map((r) => `<li>${esc(r)}</li>`).join("")}</ul>`
    : "";
  out.innerHTML = `<div id="verdict" class="verdict state-${state}">${esc(title)}<small>${esc(v.verdict)}</small></div>${dev}${reasons}<table class="facts"><tbody>${chainRows(res).join("")}</tbody></table>`;
  return state;
}
