/**
 * `bulkhead snapshot govern POSITIONS --rpc URL --registry ADDR -o FILE`: the snapshot to prove for
 * a governed registry: the positions and epoch of POSITIONS; assets, segments, prices (the feeds),
 * collateral factors, margins, stress scenarios and custody caps read from the chain.
 */
import type { Command } from "commander";
import { governedSnapshotFromRegistry } from "../chain/governed.js";
import { registryAt } from "../chain/registry.js";
import { connectRpc } from "../chain/signer.js";
import { atomicWriteJson } from "../util/fsutil.js";
import { nonNegativeInt, printJson, readJsonObject, reporterFor, resolveRegistry } from "./common.js";

export interface GovernSnapshotCliOptions {
  rpc: string;
  registry: string;
  out: string;
  epoch?: number;
  json?: boolean;
  quiet?: boolean;
}

/** Writes the governed snapshot of `positions` to `opts.out`. */
export async function governSnapshot(positions: string, opts: GovernSnapshotCliOptions): Promise<void> {
  const reporter = reporterFor(opts);
  const raw = await readJsonObject(positions);
  if (opts.epoch !== undefined) raw.epoch = opts.epoch;
  const provider = await connectRpc(opts.rpc);
  try {
    const registry = registryAt(await resolveRegistry(opts.registry, provider, opts.rpc), provider);
    const { snapshot: snap, governed: ge } = await governedSnapshotFromRegistry(registry, raw);
    await atomicWriteJson(opts.out, snap);
    reporter.info(
      `governed snapshot written to ${opts.out} (${ge.segments.length} segment(s), ${ge.assets.length} asset(s))`,
    );
    if (opts.json)
      printJson({
        out: opts.out,
        segments: ge.segments.length,
        assets: ge.assets.length,
        prices: ge.prices.map(String),
      });
    else process.stdout.write(`${opts.out}\n`);
  } finally {
    provider.destroy();
  }
}

export function register(program: Command): void {
  program
    .command("snapshot")
    .description("snapshots for a governed registry")
    .command("govern")
    .description(
      "write the snapshot to prove for a governed registry: the positions and epoch of <positions>; assets, segments, prices (the feeds), collateral factors, margins, stress scenarios, custody modes and custody caps (balanceOf; own caps default to an equal share of their account, never to a segment's total) read from the chain",
    )
    .argument("<positions>", "a snapshot file (JSON) whose collateral, liabilities and epoch are used")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .requiredOption("--registry <address|file>", "the governed registry: address or deployment file")
    .requiredOption("-o, --out <file>", "the governed snapshot (written atomically)")
    .option("--epoch <n>", "the epoch number (default: the positions file's)", (v: string) =>
      nonNegativeInt(v, "--epoch"),
    )
    .option("--json", "JSON on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(governSnapshot);
}
