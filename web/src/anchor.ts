/**
 * The page's key anchor: which verification keys a bundle must carry. Two sources, chosen by whoever
 * hosts the page (src/toolchain/page-anchor.ts): the keys of a build directory (local keys, by
 * circuit and profile) and pinned hashes; pinned hashes win over local keys. The anchor is embedded
 * by `npm run build:web`, or, for the page shipped in the package, read from anchor.json next to
 * the page (`bulkhead serve` answers it). Both become the library's `trusted` anchor
 * (src/audit/anchor.ts). Without a key for every circuit of the bundle's profile the page refuses,
 * unless the user ticks "trust the bundle's keys" (the library's `bundle` anchor, every verdict then
 * UNANCHORED). Whether development keys are accepted is also the host's choice, never the page
 * user's.
 *
 * This is the one adapter between the page and the library's audit options.
 */
import type { KeyAnchor } from "../../src/audit/anchor.js";
import type { AuditOptions } from "../../src/audit/audit.js";
import {
  ANCHOR_FILE,
  checkPageAnchor,
  type PageAnchor,
  type PageCircuit,
} from "../../src/toolchain/page-anchor.js";

export type Circuit = PageCircuit;
export type Anchor = PageAnchor;
export interface AnchorChoice {
  /** the library's trusted anchor, or null when a circuit has no key of the page's own */
  keyAnchor: Extract<KeyAnchor, { kind: "trusted" }> | null;
  /** per circuit: where its expected hash comes from */
  sources: Record<Circuit, "pinned" | "local" | "none">;
  /** plain words for the page */
  summary: string;
  anchored: boolean;
  profile: string;
}

declare const __BULKHEAD_ANCHOR__: Anchor;
const NO_ANCHOR: Anchor = { local: [], pinned: {}, allowDevKeys: false };

/**
 * The page's anchor: the one embedded by the build; else anchor.json next to the page (checked);
 * else none (the page refuses to verify, dev keys refused).
 */
export async function loadAnchor(): Promise<Anchor> {
  if (typeof __BULKHEAD_ANCHOR__ !== "undefined") return __BULKHEAD_ANCHOR__;
  try {
    const res = await fetch(ANCHOR_FILE, { cache: "no-store" });
    return res.ok ? checkPageAnchor(await res.json()) : NO_ANCHOR;
  } catch {
    return NO_ANCHOR;
  }
}

/** The trusted key hashes for a bundle of `profile`, and how to describe them. */
export function chooseAnchor(anchor: Anchor, profile: string): AnchorChoice {
  const hashes: Partial<Record<Circuit, string>> = {};
  const sources: Record<Circuit, "pinned" | "local" | "none"> = { segment: "none", lotlist: "none" };
  for (const c of ["segment", "lotlist"] as const) {
    const pin = anchor.pinned[c];
    const local = anchor.local.find((k) => k.circuit === c && k.profile === profile);
    if (pin) {
      hashes[c] = pin;
      sources[c] = "pinned";
    } else if (local) {
      hashes[c] = local.sha256;
      sources[c] = "local";
    }
  }
  const anchored = sources.segment !== "none" && sources.lotlist !== "none";
  const words = (c: Circuit) =>
    sources[c] === "pinned"
      ? `${c}: pinned hash ${short(hashes[c])}`
      : sources[c] === "local"
        ? `${c}: your build's key (${c}-${profile}) ${short(hashes[c])}`
        : `${c}: NO TRUSTED KEY in this page`;
  const keys = Object.fromEntries(Object.entries(hashes).map(([c, h]) => [c, { sha256: h as string }]));
  const keyAnchor = anchored
    ? { kind: "trusted" as const, keys, source: `this page's keys for profile ${profile}` }
    : null;
  return { keyAnchor, sources, anchored, profile, summary: `${words("segment")}; ${words("lotlist")}` };
}

const short = (h: string | undefined) => (h ? `${h.slice(0, 12)}…` : "?");

/**
 * The library's options for a check: the page's trusted anchor; with no anchor, the bundle's own
 * keys only when the user ticked that option, else no anchor at all (the library refuses).
 */
export function auditOptionsFor(
  choice: AnchorChoice,
  anchor: Anchor,
  trustBundleKeys: boolean,
): Pick<AuditOptions, "anchor" | "allowDevKeys"> {
  const keyAnchor: KeyAnchor | undefined =
    choice.keyAnchor ?? (trustBundleKeys ? { kind: "bundle" } : undefined);
  return { anchor: keyAnchor, allowDevKeys: anchor.allowDevKeys };
}

/** How to give the page an anchor, for the refusal. */
export function howToAnchor(profile: string): string {
  return `This page has no trusted verification keys for circuit profile "${profile}", so it refuses to verify: a bundle's own keys are the publisher's word (a publisher can make a key of their own and prove anything under it). Use a copy of this page hosted by someone you trust who gave it the published keys of profile "${profile}", or tick "trust the bundle's keys" to check the bundle against itself (not trustworthy).`;
}
