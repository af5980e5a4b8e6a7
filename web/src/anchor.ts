/**
 * The page's key anchor: which verification keys a bundle must carry. Two sources, fixed at build
 * time (web/build.ts): the keys of the builder's own checkout (local keys, by circuit and profile)
 * and hashes pinned with `--vkey-hash`. Pinned hashes win over local keys. Both become the library's
 * `trusted` anchor (src/audit/anchor.ts). Without a key for every circuit of the bundle's profile
 * the page refuses, unless the user ticks "trust the bundle's keys" (the library's `bundle` anchor,
 * every verdict then UNANCHORED). Whether development keys are accepted is also the builder's choice
 * (`--allow-dev-keys`), never the page user's.
 *
 * This is the one adapter between the page and the library's audit options.
 */
import type { KeyAnchor } from "../../src/audit/anchor.js";
import type { AuditOptions } from "../../src/audit/audit.js";

export type Circuit = "segment" | "lotlist";
export interface Anchor {
  local: { circuit: Circuit; profile: string; sha256: string }[];
  pinned: Partial<Record<Circuit, string>>;
  /** built with --allow-dev-keys: development keys pass (the page still says NOT TRUSTWORTHY) */
  allowDevKeys: boolean;
}
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
/** The anchor embedded by the build (empty, dev keys refused, when bundled without one). */
export const EMBEDDED_ANCHOR: Anchor =
  typeof __BULKHEAD_ANCHOR__ === "undefined"
    ? { local: [], pinned: {}, allowDevKeys: false }
    : __BULKHEAD_ANCHOR__;

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
    ? { kind: "trusted" as const, keys, source: `built into this page for profile ${profile}` }
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
  return `This page has no trusted verification keys for circuit profile "${profile}", so it refuses to verify: a bundle's own keys are the publisher's word (a publisher can make a key of their own and prove anything under it). To anchor the keys, rebuild the page from your own checkout after building the circuits (npx bulkhead build --profile ${profile}, then npm run build:web: the page embeds build/<circuit>-${profile}/vkey.json), or pin the published key hashes: npm run build:web -- --vkey-hash segment=<sha256> --vkey-hash lotlist=<sha256>. Or tick "trust the bundle's keys" to check the bundle against itself (not trustworthy).`;
}
