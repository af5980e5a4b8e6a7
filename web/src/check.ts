/**
 * The page's check: hold the bundle's files in memory and call the library's `verifyReceiptFiles`
 * (inclusion core + full epoch audit) on them, the same code the CLI runs on disk. No receipt or
 * audit logic lives here; this file only gets bytes in and picks the key anchor.
 */
import { getAddress, isAddress, JsonRpcProvider } from "ethers";
import { type ReceiptVerdict, verifyReceiptFiles } from "../../src/audit/receipt.js";
import { memoryFiles } from "../../src/bundle/bundle.js";
import { type ChainReceiptVerdict, verifyReceiptOnChain } from "../../src/chain/receipt.js";
import { readLatestEpoch, registryAt } from "../../src/chain/registry.js";
import { type Anchor, type AnchorChoice, auditOptionsFor, chooseAnchor } from "./anchor.js";

/** How the bundle's files are named in messages. */
export const BUNDLE_ROOT = "/bundle";
const VKEY_FILE = /^vkeys\/[A-Za-z0-9_.-]+\.json$/;

export interface BundleSource {
  /** relative path inside public/ -> text */
  files: Record<string, string>;
  /** when the bundle file was published (HTTP Last-Modified or the file's date), if known */
  date?: Date;
  /** where it came from, for the page */
  origin: string;
}

/** The vkey files a bundle.json names (only plain vkeys/<name>.json paths: nothing outside public/). */
export function vkeyFilesOf(bundleText: string): string[] {
  try {
    const raw = JSON.parse(bundleText) as { vkeys?: Record<string, { file?: unknown }> };
    return ["segment", "lotlist"]
      .map((c) => raw.vkeys?.[c]?.file)
      .filter((f): f is string => typeof f === "string" && VKEY_FILE.test(f));
  } catch {
    return [];
  }
}

/** Fetches bundle.json and the keys it names from a published public/ directory. */
export async function bundleFromUrl(base: string): Promise<BundleSource> {
  const root = new URL(base.endsWith("/") ? base : `${base}/`, location.href);
  const get = async (rel: string) => {
    const res = await fetch(new URL(rel, root), {
      credentials: "omit",
      cache: "no-cache",
      referrerPolicy: "no-referrer",
    });
    if (!res.ok) throw new Error(`cannot fetch ${new URL(rel, root).href}: HTTP ${res.status}`);
    return res;
  };
  const first = await get("bundle.json");
  const files: Record<string, string> = { "bundle.json": await first.text() };
  for (const f of vkeyFilesOf(files["bundle.json"] as string)) files[f] = await (await get(f)).text();
  const lm = first.headers.get("last-modified");
  return { files, date: lm ? new Date(lm) : undefined, origin: root.href };
}

/** The bundle from files the user picked: bundle.json plus the key files, matched by name. */
/** The bundle given as files lacks some: nothing was checked. */
export class MissingFilesError extends Error {
  override readonly name = "MissingFilesError";
}

export async function bundleFromFiles(list: File[]): Promise<BundleSource> {
  const main = list.find((f) => f.name === "bundle.json");
  if (!main) throw new Error("pick bundle.json (and the files in its vkeys/ folder)");
  const files: Record<string, string> = { "bundle.json": await main.text() };
  const missing: string[] = [];
  for (const rel of vkeyFilesOf(files["bundle.json"] as string)) {
    const base = rel.slice(rel.lastIndexOf("/") + 1);
    const f = list.find((x) => x.name === base);
    if (f) files[rel] = await f.text();
    else missing.push(rel);
  }
  // a missing input is not a verdict: say which files to add, check nothing
  if (missing.length > 0)
    throw new MissingFilesError(
      `add ${missing.length === 1 ? "this file" : "these files"} of the bundle's folder, next to bundle.json: ${missing.join(", ")}`,
    );
  return { files, date: new Date(main.lastModified), origin: "files you picked" };
}

export interface PageCheck {
  verdict: ReceiptVerdict;
  anchor: AnchorChoice;
  /** the check ran without a trusted anchor, on the bundle's own keys (the user ticked it) */
  trustedBundleKeys: boolean;
  /** no anchor and not ticked: the library refused to verify */
  refused: boolean;
  /** the page was built with --allow-dev-keys */
  allowDevKeys: boolean;
  /** the parsed bundle.json (for the facts the audit report does not carry) */
  raw: Record<string, unknown> | null;
  ms: number;
}

/**
 * Verifies a receipt (already parsed) against a bundle source under the page's key anchor. With no
 * anchor for the bundle's profile the library gets none (and refuses) unless `trustBundleKeys`.
 */
export async function checkReceipt(
  receipt: unknown,
  src: BundleSource,
  anchor: Anchor,
  trustBundleKeys: boolean,
  onProgress?: (done: number, total: number) => void,
): Promise<PageCheck> {
  const t0 = performance.now();
  let raw: Record<string, unknown> | null = null;
  try {
    raw = JSON.parse(src.files["bundle.json"] ?? "null");
  } catch {
    raw = null;
  }
  const profile = String((raw?.profile as { name?: unknown } | undefined)?.name ?? "?");
  const choice = chooseAnchor(anchor, profile);
  const opts = auditOptionsFor(choice, anchor, trustBundleKeys);
  const files = memoryFiles(src.files, BUNDLE_ROOT);
  const verdict = await verifyReceiptFiles(receipt, files, { ...opts, onProgress });
  return {
    verdict,
    anchor: choice,
    trustedBundleKeys: opts.anchor?.kind === "bundle",
    refused: opts.anchor === undefined,
    allowDevKeys: anchor.allowDevKeys,
    raw,
    ms: performance.now() - t0,
  };
}

export interface PageChainCheck {
  verdict: ChainReceiptVerdict;
  /** the latest finalized epoch's time on chain (unix seconds), for the page's "age" */
  latestFinalizedAt: number | null;
  rpc: string;
  /** the page was built with --allow-dev-keys */
  allowDevKeys: boolean;
  ms: number;
}

/**
 * Chain mode: the library's on-chain receipt check through ethers in the page. The node is asked for
 * the whole latest finalized epoch, the registry's asset slots and its verifiers' code (to recognise
 * development keys): nothing that depends on the receipt; only a receipt for an older epoch makes
 * the page read that epoch, also as a whole. Development verifiers pass only if the page was built
 * with --allow-dev-keys.
 */
export async function checkReceiptOnChain(
  receipt: unknown,
  rpc: string,
  address: string,
  allowDevKeys: boolean,
): Promise<PageChainCheck> {
  const t0 = performance.now();
  if (!isAddress(address)) throw new Error(`registry address ${address} is not an address`);
  const url = new URL(rpc); // throws a clear "Invalid URL" for anything else
  const provider = new JsonRpcProvider(url.href, undefined, { staticNetwork: true, batchMaxCount: 1 });
  try {
    const registry = registryAt(getAddress(address), provider);
    const latest = await readLatestEpoch(registry);
    const verdict = await verifyReceiptOnChain(receipt, registry, { allowDevKeys });
    return {
      verdict,
      latestFinalizedAt: latest?.finalizedAt ?? null,
      rpc: url.href,
      allowDevKeys,
      ms: performance.now() - t0,
    };
  } finally {
    provider.destroy();
  }
}
