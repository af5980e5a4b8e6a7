/** The receipt page's key anchor from a build directory (Node only; see page-anchor.ts). */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { PageAnchor, PageCircuit } from "./page-anchor.js";

/** Every build/<circuit>-<profile>/vkey.json found: the page's local keys. */
export function localKeys(buildDir: string): PageAnchor["local"] {
  const out: PageAnchor["local"] = [];
  if (!existsSync(buildDir)) return out;
  for (const name of readdirSync(buildDir).sort()) {
    const m = /^(segment|lotlist)-([A-Za-z0-9_]+)$/.exec(name);
    const file = path.join(buildDir, name, "vkey.json");
    if (!m || !existsSync(file)) continue;
    out.push({
      circuit: m[1] as PageCircuit,
      profile: m[2] as string,
      sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
    });
  }
  return out;
}

/** The anchor of a build directory, pins and the dev-key choice. */
export function pageAnchor(opts: {
  buildDir: string;
  pinned?: PageAnchor["pinned"];
  allowDevKeys?: boolean;
}): PageAnchor {
  return {
    local: localKeys(opts.buildDir),
    pinned: opts.pinned ?? {},
    allowDevKeys: opts.allowDevKeys ?? false,
  };
}
