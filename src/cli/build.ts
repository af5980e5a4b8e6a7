/** `bulkhead build`: circuits (compile + setup) of a profile, then contracts. Cached. */
import type { Command } from "commander";
import { type CircuitName, DEFAULT_PROFILE } from "../spec/profiles.js";
import { ensureCircuit } from "../toolchain/artifacts.js";
import { buildContracts } from "../toolchain/contracts.js";
import { ensureNativeProver, nativeToolchainMissing } from "../toolchain/native.js";
import { ensureNativeWitnesses } from "../toolchain/witness.js";
import type { Reporter } from "../util/progress.js";
import { BUILD_DIR_HELP, checkProfile, parseCircuits, printJson, reporterFor } from "./common.js";

interface BuildCliOptions {
  profile: string;
  circuits?: string[];
  ptau?: string;
  ptauHash?: string;
  contracts: boolean;
  native: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command("build")
    .description(
      "compile the circuits of a profile, run their (dev or production) setup, and compile the contracts",
    )
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("-c, --circuits <names...>", "circuits to build (default: all)")
    .option("--ptau <file>", "production powers-of-tau file (default: a dev ptau, insecure)")
    .option("--ptau-hash <hex>", "expected sha256 or blake2b-512 of --ptau")
    .option("--no-contracts", "skip the contracts")
    .option(
      "--no-native",
      "skip the native prover and witness generators (built when g++, nasm and libgmp-dev are present)",
    )
    .option("--force", "rebuild even when up to date")
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--json", "JSON lines on stderr, JSON summary on stdout")
    .option("-q, --quiet", "only warnings and errors")
    .action(async (opts: BuildCliOptions) => {
      const t0 = Date.now();
      const profile = checkProfile(opts.profile);
      const circuits = parseCircuits(opts.circuits);
      const reporter = reporterFor(opts);
      const results = [];
      for (const circuit of circuits) {
        const r = await ensureCircuit(circuit, profile, {
          reporter,
          ptauFile: opts.ptau,
          ptauHash: opts.ptauHash,
          force: opts.force,
        });
        results.push({
          id: r.meta.id,
          work: r.work,
          dir: r.dir,
          constraints: r.meta.constraints,
          nPublic: r.meta.nPublic,
          ptauPower: r.meta.ptau.power,
          security: r.meta.security,
          vkeySha256: r.meta.vkeySha256,
        });
      }
      let contracts: { work: string; contracts: string[] } | undefined;
      if (opts.contracts) {
        const c = await buildContracts({ profile, reporter, force: opts.force });
        contracts = { work: c.work, contracts: c.contracts };
      }
      const native = opts.native ? await buildNative(reporter, circuits, profile) : undefined;
      const elapsedMs = Date.now() - t0;
      if (opts.json) printJson({ profile, circuits: results, contracts, native, elapsedMs });
      else process.stdout.write(`build (${profile}): done in ${(elapsedMs / 1000).toFixed(1)}s\n`);
    });
}

/**
 * The native prover and the circuits' native witness generators when the toolchain is present;
 * otherwise (or when a build fails) one warning with the reason: proving then uses snarkjs.
 */
async function buildNative(
  reporter: Reporter,
  circuits: CircuitName[],
  profile: string,
): Promise<{ bin?: string; witness?: Record<string, string>; missing?: string }> {
  const missing = nativeToolchainMissing();
  if (missing) {
    reporter.warn(`${missing}; until then proofs use snarkjs`);
    return { missing };
  }
  try {
    const bin = await ensureNativeProver({ log: (line) => reporter.info(line) });
    const witness: Record<string, string> = await ensureNativeWitnesses(circuits, profile, { reporter });
    return { bin, witness };
  } catch (err) {
    const message = (err as Error).message;
    reporter.warn(`${message}\nproofs use snarkjs`);
    return { missing: message };
  }
}
