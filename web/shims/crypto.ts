/** Browser stand-in for node:crypto's createHash("sha256") (synchronous, via ethers' sha256). */
import { sha256, toUtf8Bytes } from "ethers";

export function createHash(alg: string) {
  if (alg !== "sha256") throw new Error(`hash ${alg} is not available in the browser`);
  const chunks: Uint8Array[] = [];
  const h = {
    update(data: string | Uint8Array) {
      chunks.push(typeof data === "string" ? toUtf8Bytes(data) : data);
      return h;
    },
    digest(enc: "hex") {
      if (enc !== "hex") throw new Error("only hex digests are available in the browser");
      const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.length;
      }
      return sha256(all).slice(2);
    },
  };
  return h;
}
export default { createHash, randomBytes };

/** Only the CLI's file writer uses this (never reached in the page); Web Crypto fills it anyway. */
export function randomBytes(n: number): { toString(enc: "hex"): string } {
  const b = crypto.getRandomValues(new Uint8Array(n));
  return { toString: () => [...b].map((x) => x.toString(16).padStart(2, "0")).join("") };
}
