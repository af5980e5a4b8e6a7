/** `bulkhead setup verify`: verify a circuit's zkey against its r1cs and ptau (snarkjs zkey verify). */
import type { Command } from "commander";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { verifyArtifact } from "../toolchain/artifacts.js";
import { BUILD_DIR_HELP, checkProfile, parseCircuit } from "./common.js";

export interface SetupVerifyCliOptions {
  circuit: string;
  profile: string;
  ptau?: string;
}

/** Prints `<id>: zkey verify OK`, or throws when the zkey does not verify. */
export async function setupVerify(opts: SetupVerifyCliOptions): Promise<void> {
  const id = `${parseCircuit(opts.circuit)}-${checkProfile(opts.profile)}`;
  const ok = await verifyArtifact(id, { ptauFile: opts.ptau });
  if (!ok) throw new Error(`${id}: zkey verify FAILED`);
  process.stdout.write(`${id}: zkey verify OK\n`);
}

/** Adds `verify` to the `setup` command group. */
export function registerVerify(setup: Command): void {
  setup
    .command("verify")
    .description("verify a circuit's zkey against its r1cs and ptau (snarkjs zkey verify)")
    .requiredOption("--circuit <name>", "segment | lotlist")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--ptau <file>", "ptau to verify against (default: recorded path)")
    .action(setupVerify);
}
