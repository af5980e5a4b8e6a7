/** `bulkhead setup contribute`: add a phase-2 contribution to a production setup, then verify it. */
import type { Command } from "commander";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { contributeArtifact } from "../toolchain/artifacts.js";
import { BUILD_DIR_HELP, checkProfile, parseCircuit, printJson, reporterFor } from "./common.js";

export interface SetupContributeCliOptions {
  circuit: string;
  profile: string;
  entropy?: string;
  name?: string;
  ptau?: string;
  json?: boolean;
}

/** Contributes (entropy: --entropy, else BULKHEAD_ENTROPY, else random); --json: the contributions. */
export async function setupContribute(opts: SetupContributeCliOptions): Promise<void> {
  const reporter = reporterFor(opts);
  const id = `${parseCircuit(opts.circuit)}-${checkProfile(opts.profile)}`;
  const a = await contributeArtifact(id, {
    entropy: opts.entropy ?? process.env.BULKHEAD_ENTROPY,
    name: opts.name,
    ptauFile: opts.ptau,
    reporter,
  });
  if (opts.json) {
    printJson({
      id,
      contributions: a.meta.contributions,
      vkeySha256: a.meta.vkeySha256,
      security: a.meta.security,
    });
  }
}

/** Adds `contribute` to the `setup` command group. */
export function registerContribute(setup: Command): void {
  setup
    .command("contribute")
    .description("add a phase-2 contribution to a production setup, then verify it (zkey verify)")
    .requiredOption("--circuit <name>", "segment | lotlist")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--entropy <text>", "your entropy (default: random bytes)")
    .option("--name <name>", "contributor name recorded in the key")
    .option("--ptau <file>", "the ptau the keys were made from (default: recorded path)")
    .option("--json", "JSON output")
    .action(setupContribute);
}
