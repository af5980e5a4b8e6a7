/** `bulkhead status --rpc URL --registry ADDR`: per-segment health of the latest finalized epoch. */
import type { Command } from "commander";
import { registryAt } from "../chain/registry.js";
import { connectRpc } from "../chain/signer.js";
import { formatStatus, readStatus } from "../chain/status.js";
import { printJson, resolveRegistry } from "./common.js";

export interface StatusCliOptions {
  rpc: string;
  registry: string;
  json?: boolean;
}

/** Prints the registry's status (or it as JSON). */
export async function status(opts: StatusCliOptions): Promise<void> {
  const provider = await connectRpc(opts.rpc);
  try {
    const registry = registryAt(await resolveRegistry(opts.registry, provider, opts.rpc), provider);
    const s = await readStatus(registry);
    if (opts.json) printJson(s);
    else process.stdout.write(`${formatStatus(s)}\n`);
  } finally {
    provider.destroy();
  }
}

export function register(program: Command): void {
  program
    .command("status")
    .description("per-segment health of the registry's latest finalized epoch")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .requiredOption("--registry <address|file>", "registry address or deployment file")
    .option("--json", "JSON on stdout")
    .action(status);
}
