/**
 * The receipt page's key anchor: which verification keys a bundle must carry for the page to check
 * it. Two sources: the keys of a build directory (build/<circuit>-<profile>/vkey.json, hashed as
 * files, like the CLI's --local-keys) and sha256 hashes pinned by whoever hosts the page; pins win.
 * `npm run build:web` embeds one into app.js; the page shipped with the package embeds none and
 * reads `anchor.json` next to itself, which `bulkhead serve` answers from the serving machine's
 * build directory and flags. This module is the page's too (no Node built-ins); the build directory's
 * keys are read by page-keys.ts.
 */
export type PageCircuit = "segment" | "lotlist";
export interface PageAnchor {
  local: { circuit: PageCircuit; profile: string; sha256: string }[];
  pinned: Partial<Record<PageCircuit, string>>;
  /** development keys pass (the page still says NOT TRUSTWORTHY) */
  allowDevKeys: boolean;
}

/** Where a page without an embedded anchor reads one (relative to the page). */
export const ANCHOR_FILE = "anchor.json";

/** `--vkey-hash circuit=<sha256>` values -> pins (the flag named on a bad value). */
export function parseVkeyPins(values: readonly string[]): PageAnchor["pinned"] {
  const pinned: PageAnchor["pinned"] = {};
  for (const v of values) {
    const m = /^(segment|lotlist)=([0-9a-f]{64})$/.exec(v);
    if (!m) throw new Error(`--vkey-hash ${v}: expected segment=<sha256 hex> or lotlist=<sha256 hex>`);
    pinned[m[1] as PageCircuit] = m[2] as string;
  }
  return pinned;
}

/** Checks the shape of an anchor read from a file (the page trusts nothing it has not checked). */
export function checkPageAnchor(v: unknown): PageAnchor {
  const a = v as PageAnchor;
  const hex = (s: unknown) => typeof s === "string" && /^[0-9a-f]{64}$/.test(s);
  const ok =
    typeof a === "object" &&
    a !== null &&
    Array.isArray(a.local) &&
    a.local.every(
      (k) =>
        (k.circuit === "segment" || k.circuit === "lotlist") &&
        typeof k.profile === "string" &&
        hex(k.sha256),
    ) &&
    typeof a.pinned === "object" &&
    a.pinned !== null &&
    Object.entries(a.pinned).every(([c, h]) => (c === "segment" || c === "lotlist") && hex(h)) &&
    typeof a.allowDevKeys === "boolean";
  if (!ok) throw new Error(`${ANCHOR_FILE}: not a key anchor (local, pinned, allowDevKeys)`);
  return { local: a.local, pinned: a.pinned, allowDevKeys: a.allowDevKeys };
}
