/**
 * Chain commands: `deploy`, `publish`, `status`, and the `--rpc/--registry` mode of
 * `receipt verify` (an option handler on the command of src/cli/receipt.ts, not a second command).
 *
 * Keys never come from a flag: $BULKHEAD_PRIVATE_KEY, or `--keystore FILE` with the password in
 * $BULKHEAD_KEYSTORE_PASSWORD.
 */
import * as path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { readReceiptFile } from "../audit/node.js";
import { readBundle } from "../bundle/disk.js";
import { deployRegistry, loadDeployArtifacts, writeDeployment } from "../chain/deploy.js";
import { loadGovernanceArtifacts } from "../chain/governance.js";
import {
  deployGovernedRegistry,
  governedSnapshotFromRegistry,
  readGovernanceConfig,
} from "../chain/governed.js";
import { publishEpoch } from "../chain/publish.js";
import { formatChainReceiptVerdict, verifyReceiptOnChain } from "../chain/receipt.js";
import { chainEpochFromBundle, registryAt } from "../chain/registry.js";
import { connectRpc, loadSigner } from "../chain/signer.js";
import { formatStatus, readStatus } from "../chain/status.js";
import { getProfile } from "../spec/profiles.js";
import { atomicWriteJson } from "../util/fsutil.js";
import { buildDir } from "../util/paths.js";
import {
  BUILD_DIR_HELP,
  nonNegativeInt,
  positiveInt,
  printJson,
  readJsonObject,
  reporterFor,
  resolveRegistry,
} from "./common.js";
import { exitWith } from "./prove.js";

const jsonBig = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));

// Long by nature: a declarative list of commander subcommands and options; each action is a few
// lines that call the library, so splitting it would only scatter one command table.
export function register(program: Command): void {
  program
    .command("deploy")
    .description("deploy the verifiers of the built profile and a SolvencyRegistry; grant the publisher role")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .option(
      "--keystore <file>",
      "encrypted JSON keystore (password in $BULKHEAD_KEYSTORE_PASSWORD); default key: $BULKHEAD_PRIVATE_KEY",
    )
    .option(
      "-p, --profile <name>",
      "circuit profile of the built verifiers (default: the one in build/contracts)",
    )
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--admin <address>", "admin of the registry (default: the deployer)")
    .option("--publisher <address...>", "publisher addresses (default: the deployer)")
    .option("-o, --out <file>", "deployment file (default: <build-dir>/deployments/chain-<chainId>.json)")
    .option("--allow-dev-keys", "deploy development (insecure) verifiers on a chain other than a local one")
    .option(
      "--governance <file>",
      "governed registry: deploy SegmentGovernance with this genesis configuration (assets, feeds, custody, segments; docs/CHAIN.md) behind a TimelockController",
    )
    .option(
      "--timelock-delay <seconds>",
      "with --governance: the timelock's minimum delay for every later change (default 86400)",
      (v: string) => nonNegativeInt(v, "--timelock-delay"),
    )
    .option("--json", "JSON lines on stderr, the deployment on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(
      async (opts: {
        rpc: string;
        keystore?: string;
        profile?: string;
        buildDir?: string;
        admin?: string;
        publisher?: string[];
        out?: string;
        allowDevKeys?: boolean;
        governance?: string;
        timelockDelay?: number;
        json?: boolean;
        quiet?: boolean;
      }) => {
        const reporter = reporterFor(opts);
        const provider = await connectRpc(opts.rpc);
        try {
          const signer = await loadSigner(provider, { keystore: opts.keystore });
          const arts = await loadDeployArtifacts(buildDir());
          if (opts.profile && arts.profile && opts.profile !== arts.profile) {
            throw new Error(
              `build/contracts holds verifiers of profile "${arts.profile}", not "${opts.profile}" (run: bulkhead build --profile ${opts.profile})`,
            );
          }
          const profile = opts.profile ?? arts.profile;
          if (!profile) throw new Error("unknown profile of the built verifiers (pass --profile)");
          if (opts.timelockDelay !== undefined && !opts.governance)
            throw new Error("--timelock-delay is for a governed registry (--governance FILE)");
          const d = opts.governance
            ? await deployGovernedRegistry(
                signer,
                { ...arts, ...(await loadGovernanceArtifacts(buildDir())) },
                await readGovernanceConfig(opts.governance, getProfile(profile)),
                {
                  profile: getProfile(profile),
                  delaySeconds: opts.timelockDelay ?? 86_400,
                  publishers: opts.publisher,
                  allowDevKeys: opts.allowDevKeys,
                  reporter,
                },
              )
            : await deployRegistry(signer, arts, {
                profile: getProfile(profile),
                admin: opts.admin,
                publishers: opts.publisher,
                allowDevKeys: opts.allowDevKeys,
                reporter,
              });
          const out = opts.out ?? path.join(buildDir(), "deployments", `chain-${d.chainId}.json`);
          await writeDeployment(out, d);
          reporter.info(`deployment written to ${out}`);
          if (opts.json) printJson({ ...d, file: out });
          else process.stdout.write(`${d.registry}\n`);
        } finally {
          provider.destroy();
        }
      },
    );

  program
    .command("snapshot")
    .description("snapshots for a governed registry")
    .command("govern")
    .description(
      "write the snapshot to prove for a governed registry: the positions and epoch of <positions>; assets, segments, prices (the feeds), collateral factors, margins, stress scenarios and custody caps (balanceOf) read from the chain",
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
    .action(
      async (
        positions: string,
        opts: {
          rpc: string;
          registry: string;
          out: string;
          epoch?: number;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
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
      },
    );

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
    .action(
      async (
        dir: string,
        opts: {
          rpc: string;
          registry: string;
          keystore?: string;
          finalize: boolean;
          group?: number;
          json?: boolean;
          quiet?: boolean;
        },
      ) => {
        const reporter = reporterFor(opts);
        const { bundle } = await readBundle(dir);
        if (bundle.devSetup)
          reporter.warn(
            "the bundle's proofs come from a development trusted setup: INSECURE, development only",
          );
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
      },
    );

  program
    .command("status")
    .description("per-segment health of the registry's latest finalized epoch")
    .requiredOption("--rpc <url>", "JSON-RPC endpoint")
    .requiredOption("--registry <address|file>", "registry address or deployment file")
    .option("--json", "JSON on stdout")
    .action(async (opts: { rpc: string; registry: string; json?: boolean }) => {
      const provider = await connectRpc(opts.rpc);
      try {
        const registry = registryAt(await resolveRegistry(opts.registry, provider, opts.rpc), provider);
        const s = await readStatus(registry);
        if (opts.json) printJson(s);
        else process.stdout.write(`${formatStatus(s)}\n`);
      } finally {
        provider.destroy();
      }
    });

  registerReceiptOnChain(program);
}

/**
 * Adds `--rpc URL --registry ADDR` to `receipt verify` (src/cli/receipt.ts). With them, the
 * receipt is checked against the whole latest finalized epoch read from chain (and against the
 * bundle too when `--bundle` is also given); `--bundle` becomes optional.
 */
function registerReceiptOnChain(program: Command): void {
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
    const opts = action.opts() as {
      rpc?: string;
      registry?: string;
      bundle?: string;
      json?: boolean;
      allowDevKeys?: boolean;
    };
    if (!opts.rpc && !opts.registry) {
      if (!opts.bundle) throw new Error("receipt verify: pass --bundle DIR, or --rpc URL --registry ADDR");
      return; // offline mode: the command's own action runs
    }
    if (!opts.rpc || !opts.registry) throw new Error("receipt verify: --rpc and --registry go together");
    const file = action.args[0];
    if (!file) throw new Error("receipt verify: missing receipt file");
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
    if (!v.ok) exitWith(1);
    if (!v.healthy) exitWith(2);
    exitWith(0);
  });
}
