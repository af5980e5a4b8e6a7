/**
 * `bulkhead setup init`: (re)do the Groth16 setup of a profile's circuits; production phase 2 from
 * a ceremony ptau with --ptau, else a development (insecure) setup.
 */
import type { Command } from "commander";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { ensureCircuit } from "../toolchain/artifacts.js";
import { BUILD_DIR_HELP, checkProfile, parseCircuits, printJson, reporterFor } from "./common.js";

export interface SetupInitCliOptions {
  profile: string;
  circuits?: string[];
  ptau?: string;
  ptauHash?: string;
  force?: boolean;
  json?: boolean;
}

/** Sets up each circuit (cached when up to date); --json: id, work done, security, vkey hash of each. */
export async function setupInit(opts: SetupInitCliOptions): Promise<void> {
  const reporter = reporterFor(opts);
  if (!opts.ptau) reporter.warn("no --ptau: development setup, insecure, development only");
  const out = [];
  for (const c of parseCircuits(opts.circuits)) {
    const r = await ensureCircuit(c, checkProfile(opts.profile), {
      reporter,
      ptauFile: opts.ptau,
      ptauHash: opts.ptauHash,
      force: opts.force,
    });
    out.push({ id: r.meta.id, work: r.work, security: r.meta.security, vkeySha256: r.meta.vkeySha256 });
    if (opts.ptau && r.meta.contributions.length === 0) {
      reporter.info(
        `${r.meta.id}: now add contributions: bulkhead setup contribute --circuit ${c} --profile ${opts.profile}`,
      );
    }
  }
  if (opts.json) printJson(out);
}

/** Adds `init` to the `setup` command group. */
export function registerInit(setup: Command): void {
  setup
    .command("init")
    .description(
      "(re)do the Groth16 setup of a profile's circuits; with --ptau: production, else dev (insecure)",
    )
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("-c, --circuits <names...>", "circuits (default: all)")
    .option("--ptau <file>", "production powers-of-tau file (e.g. a Hermez / Perpetual Powers of Tau file)")
    .option("--ptau-hash <hex>", "its published sha256 or blake2b-512")
    .option("--force", "redo even when up to date")
    .option("--json", "JSON output")
    .action(setupInit);
}
