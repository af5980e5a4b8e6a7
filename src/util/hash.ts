/**
 * Content hashing helpers (sha256, hex) used for cache keys, artifact metadata and the bundle's
 * key records. Runs unchanged in Node and the browser (ethers' sha256: Node's crypto in Node, a
 * pure implementation in the browser); the streamed file hash is in fsutil.ts.
 */
import { sha256, toUtf8Bytes } from "ethers";

export function sha256Hex(data: string | Uint8Array): string {
  return sha256(typeof data === "string" ? toUtf8Bytes(data) : data).slice(2);
}

/** JSON with object keys sorted recursively: a stable serialization for hashing. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      out[k] = sortKeys((v as Record<string, unknown>)[k]);
    }
    return out;
  }
  return v;
}

/** sha256 of the stable JSON serialization of `value`. */
export function hashJson(value: unknown): string {
  return sha256Hex(stableStringify(value));
}
