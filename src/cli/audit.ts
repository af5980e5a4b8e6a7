/** `bulkhead audit DIR/public`: verify a whole epoch offline from the bundle. */
import type { Command } from "commander";
import { type AuditOptions, auditBundle, formatAudit } from "../audit/audit.js";
import type { CircuitName } from "../spec/profiles.js";
import { createProgress } from "../util/progress.js";
import { CliError, checkBundlePath, printJson } from "./common.js";
import { exitWith } from "./prove.js";

/** `--vkey-hash segment=<sha256>` (repeatable) -> expected vkey hashes. */
export function parseVkeyHashes(values: string[] | undefined): AuditOptions["expectedVkeys"] {
  const out: Partial<Record<CircuitName, string>> = {};
  for (const v of values ?? []) {
    const m = /^(segment|lotlist)=([0-9a-f]{64})$/.exec(v.trim());
    if (!m) throw new Error(`--vkey-hash ${v}: expected segment=<sha256 hex> or lotlist=<sha256 hex>`);
    out[m[1] as CircuitName] = m[2] as string;
  }
  return out;
}

export function register(program: Command): void {
  program
    .command("audit")
    .description("verify an epoch offline: every proof, r, chaining, first/last, parameters, fingerprints")
    .argument("<bundle>", "the public directory (or its bundle.json)")
    .option("--vkey-hash <circuit=sha256...>", "pin a trusted verification key hash (repeatable)")
    .option("--json", "JSON report on stdout")
    .option("-q, --quiet", "only the verdict")
    .action(async (dir: string, opts: { vkeyHash?: string[]; json?: boolean; quiet?: boolean }) => {
      await checkBundlePath(dir);
      let progress: ReturnType<typeof createProgress> | undefined;
      const rep = await auditBundle(dir, {
        expectedVkeys: parseVkeyHashes(opts.vkeyHash),
        onProgress: (done, total) => {
          if (opts.quiet) return;
          progress ??= createProgress({ label: "verifying", total, json: opts.json });
          progress.update(done);
        },
      });
      // an unreadable bundle: the reason itself, not an empty table
      if (!rep.ok && rep.epoch === "?")
        throw new CliError(rep.errors[0] ?? "unreadable bundle", "INVALID_BUNDLE");
      if (opts.json) printJson(rep);
      else {
        const text = formatAudit(rep);
        process.stdout.write(
          `${opts.quiet ? (text.split("\n").find((l) => l.startsWith("AUDIT")) ?? text) : text}\n`,
        );
      }
      if (!rep.ok) exitWith(1);
    });
}
