/**
 * `bulkhead deploy --rpc URL`: deploy the verifiers of the built profile and a SolvencyRegistry
 * (plain, or governed behind a timelock with `--governance FILE`); grant the publisher role.
 * Keys never come from a flag: $BULKHEAD_PRIVATE_KEY, or `--keystore FILE` with the password in
 * $BULKHEAD_KEYSTORE_PASSWORD.
 */
import * as path from "node:path";
import type { Command } from "commander";
import { deployRegistry, loadDeployArtifacts, writeDeployment } from "../chain/deploy.js";
import { loadGovernanceArtifacts } from "../chain/governance.js";
import { deployGovernedRegistry, type ProgressStore, readGovernanceConfig } from "../chain/governed.js";
import { connectRpc, loadSigner } from "../chain/signer.js";
import { getProfile } from "../spec/profiles.js";
import { atomicWriteJson, readJsonIfExists } from "../util/fsutil.js";
import { buildDir } from "../util/paths.js";
import { BUILD_DIR_HELP, nonNegativeInt, printJson, reporterFor } from "./common.js";

export interface DeployCliOptions {
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
}

/** Deploys, writes the deployment file, prints the registry address (or the deployment, --json). */
export async function deploy(opts: DeployCliOptions): Promise<void> {
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
    const { chainId } = await provider.getNetwork();
    const out = opts.out ?? path.join(buildDir(), "deployments", `chain-${chainId}.json`);
    // a governed deployment is written as it goes: a re-run of the same configuration resumes
    const progress: ProgressStore = {
      load: () => readJsonIfExists(out).catch(() => undefined),
      save: (p) => atomicWriteJson(out, p),
    };
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
            progress,
          },
        )
      : await deployRegistry(signer, arts, {
          profile: getProfile(profile),
          admin: opts.admin,
          publishers: opts.publisher,
          allowDevKeys: opts.allowDevKeys,
          reporter,
        });
    await writeDeployment(out, d);
    reporter.info(`deployment written to ${out}`);
    if (opts.json) printJson({ ...d, file: out });
    else process.stdout.write(`${d.registry}\n`);
  } finally {
    provider.destroy();
  }
}

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
    .action(deploy);
}
