/**
 * `bulkhead publish DIR/public --rpc URL --registry ADDR`: commit an epoch's manifest, submit every
 * batch proof in order, finalize (resumable: what is already on chain is skipped). Keys never come
 * from a flag: $BULKHEAD_PRIVATE_KEY, or `--keystore FILE` with the password in
 * $BULKHEAD_KEYSTORE_PASSWORD.
 */
import type { Command } from "commander";
import { readBundle } from "../bundle/disk.js";
import { publishEpoch } from "../chain/publish.js";
import { chainEpochFromBundle, registryAt } from "../chain/registry.js";
import { connectRpc, loadSigner } from "../chain/signer.js";
import { positiveInt, printJson, reporterFor, resolveRegistry } from "./common.js";

export interface PublishCliOptions {
  rpc: string;
  registry: string;
  keystore?: string;
  finalize: boolean;
  group?: number;
  json?: boolean;
  quiet?: boolean;
}

const jsonBig = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));

/** Publishes the bundle in `dir` and prints what was sent (or the result, --json). */
export async function publish(dir: string, opts: PublishCliOptions): Promise<void> {
  const reporter = reporterFor(opts);
  const { bundle } = await readBundle(dir);
  if (bundle.devSetup)
    reporter.warn("the bundle's proofs come from a development trusted setup: INSECURE, development only");
  const epoch = chainEpochFromBundle(bundle);
  const provider = await connectRpc(opts.rpc);
  try {
    const signer = await loadSigner(provider, { keystore: opts.keystore });
    const registry = registryAt(await resolveRegistry(opts.registry, provider, opts.rpc), signer);
    const res = await publishEpoch(registry, epoch, {
      reporter,
      noFinalize: !opts.finalize,
      group: opts.group,
    });
    if (opts.json) printJson(jsonBig(res));
    else {
      const lines = [
        `epoch ${res.epoch}: commit ${res.committed}, ${res.batchesSent} batch(es) sent, ${res.batchesSkipped} already on chain, finalize ${opts.finalize ? res.finalized : "skipped"}`,
      ];
      for (const h of res.healthy)
        lines.push(`  segment ${h.segmentId}: ${h.healthy ? "healthy" : "UNHEALTHY"}`);
      process.stdout.write(`${lines.join("\n")}\n`);
    }
  } finally {
    provider.destroy();
  }
}

export function register(program: Command): void {
  program
    .command("publish")
    .description("commit an epoch's manifest, submit every batch proof in order, finalize (resumable)")
    .argument("<dir>", "the epoch bundle directory (DIR/public)")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .requiredOption("--registry <address|file>", "registry address or deployment file")
    .option(
      "--keystore <file>",
      "encrypted JSON keystore (password in $BULKHEAD_KEYSTORE_PASSWORD); default key: $BULKHEAD_PRIVATE_KEY",
    )
    .option("--no-finalize", "commit and submit only")
    .option(
      "--group <n>",
      "batch proofs per submission transaction (one batch verification each; 1: one transaction per batch)",
      (v: string) => positiveInt(v, "--group") as number,
    )
    .option("--json", "JSON lines on stderr, JSON result on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(publish);
}
