/**
 * The audit on disk (Node): a bundle directory (or its bundle.json) audited with every key anchor,
 * including those that build or compile (anchor.node.ts), and receipts read from files.
 */
import * as fs from "node:fs/promises";
import { bundleFiles } from "../bundle/disk.js";
import { nodeAnchorCheck } from "./anchor.node.js";
import { type AuditOptions, type AuditReport, auditFiles, emptyReport } from "./audit.js";
import { failVerdict, type ReceiptVerdict, verifyReceiptFiles } from "./receipt.js";

/**
 * Audits a bundle directory (or bundle.json path). Never throws for a bad bundle: returns ok=false.
 * Leaves nothing running: snarkjs's curve workers end with the call.
 */
export async function auditBundle(dirOrFile: string, opts: AuditOptions = {}): Promise<AuditReport> {
  let files: Awaited<ReturnType<typeof bundleFiles>>["files"];
  try {
    ({ files } = await bundleFiles(dirOrFile));
  } catch (err) {
    return emptyReport([(err as Error).message], opts);
  }
  return auditFiles(files, opts, nodeAnchorCheck);
}

/** A receipt file's parsed JSON; the error names the file. */
export async function readReceiptFile(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`cannot read receipt ${file}: ${(err as Error).message}`);
  }
}

/** verifyReceiptFiles on disk: the receipt (object or file path) against the bundle in `bundleDir`. */
export async function verifyReceipt(
  receiptOrFile: unknown,
  bundleDir: string,
  opts: AuditOptions = {},
): Promise<ReceiptVerdict> {
  let receipt = receiptOrFile;
  let files: Awaited<ReturnType<typeof bundleFiles>>["files"];
  try {
    if (typeof receiptOrFile === "string") receipt = await readReceiptFile(receiptOrFile);
    ({ files } = await bundleFiles(bundleDir));
  } catch (err) {
    return failVerdict((err as Error).message);
  }
  return verifyReceiptFiles(receipt, files, opts, nodeAnchorCheck);
}
