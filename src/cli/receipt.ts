/**
 * `bulkhead receipt verify FILE --bundle DIR/public`: a user checks, offline, that their position
 * is included in the published epoch and that the epoch verifies.
 * Exit codes: 0 included, verified and healthy; 1 not included or not verified;
 * 2 included and verified, but the segment is unhealthy (insolvent).
 */
import type { Command } from "commander";
import { verifyReceipt } from "../receipts/receipts.js";
import { parseVkeyHashes } from "./audit.js";
import { checkBundlePath, printJson } from "./common.js";
import { exitWith } from "./prove.js";

export function register(program: Command): void {
  const receipt = program.command("receipt").description("user receipts");
  receipt
    .command("verify")
    .description("check a receipt against a published bundle: inclusion, segment health, full audit")
    .argument("<file>", "receipt JSON (a lot or an account receipt)")
    .requiredOption("-b, --bundle <dir>", "the published bundle directory (DIR/public)")
    .option("--vkey-hash <circuit=sha256...>", "pin a trusted verification key hash (repeatable)")
    .option("--json", "JSON verdict on stdout")
    .action(async (file: string, opts: { bundle: string; vkeyHash?: string[]; json?: boolean }) => {
      await checkBundlePath(opts.bundle);
      const v = await verifyReceipt(file, opts.bundle, { expectedVkeys: parseVkeyHashes(opts.vkeyHash) });
      if (opts.json) {
        const { audit, ...rest } = v;
        printJson({
          ...rest,
          audit: audit ? { ok: audit.ok, errors: audit.errors, segments: audit.segments } : undefined,
        });
      } else {
        const lines = [v.verdict];
        for (const p of v.positions) {
          lines.push(
            `  segment ${p.segment} batch ${p.batch}: ${p.amount} ${p.asset}: ${p.included ? "included" : "NOT included"}${p.healthy === null ? "" : p.healthy ? ", segment healthy" : ", segment UNHEALTHY"}${p.reason ? ` (${p.reason})` : ""}`,
          );
        }
        for (const r of v.reasons.filter((r) => !v.positions.some((p) => p.reason && r.endsWith(p.reason))))
          lines.push(`  - ${r}`);
        if (v.audit?.devSetup)
          lines.push("  warning: the bundle uses a development (insecure) trusted setup");
        process.stdout.write(`${lines.join("\n")}\n`);
      }
      if (!v.ok) exitWith(1);
      if (!v.healthy) exitWith(2);
    });
}
