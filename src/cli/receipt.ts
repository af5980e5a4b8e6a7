/**
 * `bulkhead receipt verify FILE --bundle DIR/public <anchor>`: a user checks, offline, that their
 * position is included in the published epoch and that the epoch verifies against anchored keys.
 * Exit codes: 0 included, verified and healthy; 1 not included, not verified, no anchor, or
 * development keys (without --allow-dev-keys); 2 included and verified, but the segment is
 * unhealthy (insolvent).
 */
import type { Command } from "commander";
import { formatReceiptVerdict, verifyReceipt } from "../receipts/receipts.js";
import { type AnchorCliOptions, addAnchorOptions, anchorFromOptions } from "./audit.js";
import { checkBundlePath, printJson } from "./common.js";
import { exitWith } from "./prove.js";

export function register(program: Command): void {
  const receipt = program.command("receipt").description("user receipts");
  const verify = receipt
    .command("verify")
    .description("check a receipt against a published bundle: inclusion, segment health, full audit")
    .argument("<file>", "receipt JSON (a lot or an account receipt)")
    .requiredOption("-b, --bundle <dir>", "the published bundle directory (DIR/public)");
  addAnchorOptions(verify)
    .option("--json", "JSON verdict on stdout")
    .action(async (file: string, opts: AnchorCliOptions & { bundle: string; json?: boolean }) => {
      await checkBundlePath(opts.bundle);
      const anchor = await anchorFromOptions(opts);
      const v = await verifyReceipt(file, opts.bundle, { anchor, allowDevKeys: opts.allowDevKeys });
      if (opts.json) {
        const { audit, ...rest } = v;
        printJson({
          ...rest,
          audit: audit ? { ok: audit.ok, errors: audit.errors, segments: audit.segments } : undefined,
        });
      } else process.stdout.write(`${formatReceiptVerdict(v)}\n`);
      if (!v.ok) exitWith(1);
      if (!v.healthy) exitWith(2);
    });
}
