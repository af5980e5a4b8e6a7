/** Content hashing helpers (sha256, hex) used for cache keys and artifact metadata. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** sha256 of a file, streamed (works for multi-GB ptau files). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) {
    h.update(chunk as Buffer);
  }
  return h.digest("hex");
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
