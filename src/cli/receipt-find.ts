/**
 * `bulkhead receipt find --out DIR (--lot ID | --account NAME) [--json]`: the publisher finds one
 * user's receipt file (reads index.json and at most one index shard, never every receipt).
 */
import * as fs from "node:fs/promises";
import type { Command } from "commander";
import { findReceipt, type ReceiptQuery } from "../receipts/store.js";
import { CliError, printJson } from "./common.js";

/** Selects one receipt of prove's output. */
export interface SelectOptions {
  out?: string;
  lot?: string;
  account?: string;
}

export interface ReceiptFindCliOptions extends SelectOptions {
  out: string;
  json?: boolean;
}

/** Prints the receipt file (or, --json, the file with its epoch, manifest hash and receipt). */
export async function receiptFind(opts: ReceiptFindCliOptions): Promise<void> {
  const found = await findReceipt(opts.out, queryOf(opts));
  if (opts.json) {
    const receipt = JSON.parse(await fs.readFile(found.file, "utf8")) as unknown;
    printJson({
      ok: true,
      file: found.file,
      epoch: found.epoch,
      manifestHash: found.manifestHash,
      receipt,
    });
  } else process.stdout.write(`${found.file}\n`);
}

/** Adds `find` to the `receipt` command group. */
export function registerFind(receipt: Command): void {
  receipt
    .command("find")
    .alias("path")
    .description(
      "print the file of one lot's or account's receipt in prove's output (--json: with the receipt)",
    )
    .requiredOption("--out <dir>", "prove's output directory (DIR, holding private/receipts/)")
    .option("--lot <id>", "lot id (decimal or 0x-hex)")
    .option("--account <name>", "account name")
    .option("--json", "JSON on stdout: file, epoch, manifestHash and the receipt")
    .action(receiptFind);
}

/** Exactly one of --lot and --account. */
export function queryOf(opts: SelectOptions): ReceiptQuery {
  if (opts.lot !== undefined && opts.account !== undefined)
    throw new CliError("--lot and --account: pass one of them, not both", "USAGE");
  if (opts.lot !== undefined) return { lot: opts.lot };
  if (opts.account !== undefined) return { account: opts.account };
  throw new CliError("pass --lot ID or --account NAME to select a receipt", "USAGE");
}
