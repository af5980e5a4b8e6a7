/**
 * A proven example epoch shared by the pipeline, audit and receipt tests: examples/snapshot.json
 * proven once per mocha process (test profile, fixed secret) into a temporary directory.
 * Tests must not modify it: copy what they tamper with (`copyPublic`).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const EXAMPLE = path.join(REPO, "examples", "snapshot.json");
export const SECRET_HEX = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

const root = mkdtempSync(path.join(os.tmpdir(), "bulkhead-test-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true }));

/** A fresh temporary directory (removed when the process exits). */
export function tmpDir(label: string): string {
  return mkdtempSync(path.join(root, `${label}-`));
}

/** The shared secret file. */
export function secretFile(): string {
  const f = path.join(root, "secret.hex");
  writeFileSync(f, `${SECRET_HEX}\n`);
  return f;
}

let example: Promise<ProveSummary> | undefined;

/** examples/snapshot.json proven once (test profile). */
export function provenExample(): Promise<ProveSummary> {
  example ??= proveSnapshot({
    snapshot: EXAMPLE,
    out: path.join(root, "example"),
    profile: "test",
    secretFile: secretFile(),
  });
  return example;
}

/** A private copy of the example's public directory, for tampering. */
export async function copyPublic(label: string): Promise<string> {
  const s = await provenExample();
  const dest = path.join(tmpDir(label), "public");
  cpSync(s.publicDir, dest, { recursive: true });
  return dest;
}
