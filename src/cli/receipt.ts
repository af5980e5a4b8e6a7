/**
 * `bulkhead receipt verify FILE --bundle DIR/public <anchor>`: a user checks, offline, that their
 * position is included in the published epoch and that the epoch verifies against anchored keys.
 * `--out DIR --lot ID | --account NAME` selects the receipt from prove's output instead of FILE.
 * Exit codes: 0 included, verified and healthy; 1 not included, not verified, no anchor, or
 * development keys (without --allow-dev-keys); 2 included and verified, but the segment is
 * unhealthy (insolvent).
 * `receipt find` is receipt-find.ts; the `--rpc/--registry` mode of `receipt verify` is
 * receipt-chain.ts.
 */
import type { Command } from "commander";
import { verifyReceipt } from "../audit/node.js";
import { formatReceiptVerdict } from "../audit/receipt.js";
import { findReceipt } from "../receipts/store.js";
import { type AnchorCliOptions, addAnchorOptions, anchorFromOptions } from "./audit.js";
import { CliError, checkBundlePath, exitWith, printJson } from "./common.js";
import { queryOf, registerFind, type SelectOptions } from "./receipt-find.js";

export type ReceiptVerifyCliOptions = AnchorCliOptions & { bundle: string; json?: boolean };

/**
 * Verifies the receipt in `file` against the bundle and exits non-zero unless it is included,
 * verified and healthy (exit codes above).
 */
export async function receiptVerify(file: string, opts: ReceiptVerifyCliOptions): Promise<void> {
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
}

export function register(program: Command): void {
  const receipt = program.command("receipt").description("user receipts");
  registerFind(receipt);
  const verify = receipt
    .command("verify")
    .description("check a receipt against a published bundle: inclusion, segment health, full audit")
    .argument(
      "[file]",
      "receipt JSON (a lot or an account receipt); or select one with --out and --lot/--account",
    )
    .requiredOption("-b, --bundle <dir>", "the published bundle directory (DIR/public)")
    .option("--out <dir>", "prove's output directory: take the receipt of --lot or --account from it")
    .option("--lot <id>", "with --out: the receipt of this lot id (decimal or 0x-hex)")
    .option("--account <name>", "with --out: the receipt of this account");
  // before any other preAction hook (the on-chain form, receipt-chain.ts, reads the file argument)
  verify.hook("preAction", async (_hooked, action) => {
    const file = await selectedFile(action.args[0], action.opts() as SelectOptions);
    action.args[0] = file;
    action.processedArgs[0] = file;
  });
  addAnchorOptions(verify).option("--json", "JSON verdict on stdout").action(receiptVerify);
}

/** The receipt file: the argument, or the one --out/--lot/--account select (not both). */
async function selectedFile(arg: string | undefined, opts: SelectOptions): Promise<string> {
  const selecting = opts.out !== undefined || opts.lot !== undefined || opts.account !== undefined;
  if (!selecting) {
    if (arg === undefined)
      throw new CliError(
        "receipt verify: pass a receipt FILE, or --out DIR with --lot ID or --account NAME",
        "USAGE",
      );
    return arg;
  }
  if (arg !== undefined)
    throw new CliError(
      "receipt verify: pass a receipt FILE or --out with --lot/--account, not both",
      "USAGE",
    );
  if (opts.out === undefined)
    throw new CliError("receipt verify: --lot and --account need --out DIR", "USAGE");
  return (await findReceipt(opts.out, queryOf(opts))).file;
}
