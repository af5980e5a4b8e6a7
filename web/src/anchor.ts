/**
 * The page's key anchor: which verification keys a bundle must carry. Two sources, fixed at build
 * time (web/build.ts): the keys of the user's own build (local keys, by circuit and profile) and
 * hashes pinned by whoever built the page. Pinned hashes win over local keys. With neither, the
 * page still verifies but says loudly that the keys are only the bundle's own.
 *
 * This is the one adapter between the page and the library's audit options: when the audit gains
 * its own anchor options, only `auditOptionsFor` changes.
 */
import type { AuditOptions } from "../../src/audit/audit.js";

export type Circuit = "segment" | "lotlist";
export interface Anchor {
  local: { circuit: Circuit; profile: string; sha256: string }[];
  pinned: Partial<Record<Circuit, string>>;
}
export interface AnchorChoice {
  expectedVkeys: Partial<Record<Circuit, string>>;
  /** per circuit: where its expected hash comes from */
  sources: Record<Circuit, "pinned" | "local" | "none">;
  /** plain words for the page */
  summary: string;
  anchored: boolean;
}

declare const __BULKHEAD_ANCHOR__: Anchor;
/** The anchor embedded by the build (empty when the page was bundled without one). */
export const EMBEDDED_ANCHOR: Anchor =
  typeof __BULKHEAD_ANCHOR__ === "undefined" ? { local: [], pinned: {} } : __BULKHEAD_ANCHOR__;

/** The expected key hashes for a bundle of `profile`, and how to describe them. */
export function chooseAnchor(anchor: Anchor, profile: string): AnchorChoice {
  const expectedVkeys: Partial<Record<Circuit, string>> = {};
  const sources: Record<Circuit, "pinned" | "local" | "none"> = { segment: "none", lotlist: "none" };
  for (const c of ["segment", "lotlist"] as const) {
    const pin = anchor.pinned[c];
    const local = anchor.local.find((k) => k.circuit === c && k.profile === profile);
    if (pin) {
      expectedVkeys[c] = pin;
      sources[c] = "pinned";
    } else if (local) {
      expectedVkeys[c] = local.sha256;
      sources[c] = "local";
    }
  }
  const anchored = sources.segment !== "none" && sources.lotlist !== "none";
  const words = (c: Circuit) =>
    sources[c] === "pinned"
      ? `${c}: pinned hash ${short(expectedVkeys[c])}`
      : sources[c] === "local"
        ? `${c}: your build's key (${c}-${profile}) ${short(expectedVkeys[c])}`
        : `${c}: NOT ANCHORED (only the bundle's own key)`;
  return { expectedVkeys, sources, anchored, summary: `${words("segment")}; ${words("lotlist")}` };
}

const short = (h: string | undefined) => (h ? `${h.slice(0, 12)}…` : "?");

export function auditOptionsFor(choice: AnchorChoice): Pick<AuditOptions, "expectedVkeys"> {
  return { expectedVkeys: choice.expectedVkeys };
}
