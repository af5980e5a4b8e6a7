/**
 * `bulkhead receipt verify FILE --rpc URL --registry ADDR [--bundle DIR/public]`: the receipt
 * checked against the whole latest finalized epoch read from chain (and against the bundle too
 * when `--bundle` is given). Options added to the `receipt verify` command of receipt.ts, whose
 * `--bundle` becomes optional; with --rpc/--registry this runs instead of the offline check.
 */
import { type Command, Option } from "commander";
import { readReceiptFile } from "../audit/node.js";
import { readBundle } from "../bundle/disk.js";
import { formatChainReceiptVerdict, verifyReceiptOnChain } from "../chain/receipt.js";
import { registryAt } from "../chain/registry.js";
import { connectRpc } from "../chain/signer.js";
import { exitWith, printJson, resolveRegistry } from "./common.js";

export interface ReceiptOnChainCliOptions {
  rpc: string;
  registry: string;
  bundle?: string;
  json?: boolean;
  allowDevKeys?: boolean;
}

/**
 * Checks the receipt in `file` on chain and exits with chainReceiptExitCode.
 */
export async function verifyReceiptOnChainCli(file: string, opts: ReceiptOnChainCliOptions): Promise<never> {
  const bundle = opts.bundle ? (await readBundle(opts.bundle)).bundle : undefined;
  const provider = await connectRpc(opts.rpc);
  let v: Awaited<ReturnType<typeof verifyReceiptOnChain>>;
  try {
    const registry = registryAt(await resolveRegistry(opts.registry, provider, opts.rpc), provider);
    const receipt = await readReceiptFile(file);
    v = await verifyReceiptOnChain(receipt, registry, { bundle, allowDevKeys: opts.allowDevKeys });
  } finally {
    provider.destroy();
  }
  if (opts.json) printJson(v);
  else process.stdout.write(`${formatChainReceiptVerdict(v)}\n`);
  exitWith(chainReceiptExitCode(v));
}

export function register(program: Command): void {
  const verify = program.commands
    .find((c) => c.name() === "receipt")
    ?.commands.find((c) => c.name() === "verify");
  if (!verify) return;
  const bundleOpt = verify.options.find((o) => o.long === "--bundle");
  if (bundleOpt) bundleOpt.makeOptionMandatory(false);
  verify.addOption(
    new Option("--rpc <url>", "check against a SolvencyRegistry on chain (JSON-RPC endpoint)"),
  );
  verify.addOption(
    new Option("--registry <address|file>", "registry address or deployment file (with --rpc)"),
  );
  verify.hook("preAction", async (_hooked, action) => {
    const opts = action.opts() as Partial<ReceiptOnChainCliOptions>;
    if (!opts.rpc && !opts.registry) {
      if (!opts.bundle) throw new Error("receipt verify: pass --bundle DIR, or --rpc URL --registry ADDR");
      return; // offline mode: the command's own action runs
    }
    if (!opts.rpc || !opts.registry) throw new Error("receipt verify: --rpc and --registry go together");
    const file = action.args[0];
    if (!file) throw new Error("receipt verify: missing receipt file");
    await verifyReceiptOnChainCli(file, opts as ReceiptOnChainCliOptions);
  });
}

/**
 * `receipt verify --rpc` exit codes (README, "User"): 0 included, healthy, in the latest finalized
 * epoch; 1 not included, not verified or not trustworthy; 2 included but the segment is insolvent;
 * 3 included and healthy in a superseded epoch (a newer one is finalized: nothing is said of now).
 */
export function chainReceiptExitCode(v: { ok: boolean; healthy: boolean; latest: boolean }): number {
  if (!v.ok) return 1;
  if (!v.healthy) return 2;
  return v.latest ? 0 : 3;
}
