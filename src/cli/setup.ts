/** `bulkhead setup ...`: trusted setup (production phase 2, dev ptau, verification, info). */
import * as path from "node:path";
import type { Command } from "commander";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { contributeArtifact, ensureCircuit, loadArtifacts, verifyArtifact } from "../toolchain/artifacts.js";
import { generateDevPtau } from "../toolchain/ptau.js";
import { userCacheDir } from "../util/paths.js";
import {
  BUILD_DIR_HELP,
  checkProfile,
  parseCircuit,
  parseCircuits,
  printJson,
  reporterFor,
} from "./common.js";

// Long by nature: a declarative list of commander subcommands and options; each action is a few
// lines that call the library, so splitting it would only scatter one command table.
export function register(program: Command): void {
  const setup = program
    .command("setup")
    .description("trusted setup: production phase 2 from a ceremony ptau, contributions, verification");

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
    .action(
      async (opts: {
        profile: string;
        circuits?: string[];
        ptau?: string;
        ptauHash?: string;
        force?: boolean;
        json?: boolean;
      }) => {
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
      },
    );

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
    .action(
      async (opts: {
        circuit: string;
        profile: string;
        entropy?: string;
        name?: string;
        ptau?: string;
        json?: boolean;
      }) => {
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
      },
    );

  setup
    .command("verify")
    .description("verify a circuit's zkey against its r1cs and ptau (snarkjs zkey verify)")
    .requiredOption("--circuit <name>", "segment | lotlist")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("--ptau <file>", "ptau to verify against (default: recorded path)")
    .action(async (opts: { circuit: string; profile: string; ptau?: string }) => {
      const id = `${parseCircuit(opts.circuit)}-${checkProfile(opts.profile)}`;
      const ok = await verifyArtifact(id, { ptauFile: opts.ptau });
      if (!ok) throw new Error(`${id}: zkey verify FAILED`);
      process.stdout.write(`${id}: zkey verify OK\n`);
    });

  setup
    .command("info")
    .description("show the setup state (ptau, contributions, security, vkey hash) of built circuits")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("-c, --circuits <names...>", "circuits (default: all)")
    .option("--json", "JSON output")
    .action(async (opts: { profile: string; circuits?: string[]; json?: boolean }) => {
      const out = [];
      for (const c of parseCircuits(opts.circuits)) {
        const { meta } = await loadArtifacts(c, checkProfile(opts.profile));
        out.push({
          id: meta.id,
          constraints: meta.constraints,
          nPublic: meta.nPublic,
          ptau: meta.ptau,
          contributions: meta.contributions.map((x) => ({ name: x.name, kind: x.kind, at: x.at })),
          security: meta.security,
          vkeySha256: meta.vkeySha256,
        });
      }
      if (opts.json) printJson(out);
      else {
        for (const m of out) {
          process.stdout.write(
            `${m.id}: ${m.constraints} constraints, ptau 2^${m.ptau.power} (${m.ptau.source}${m.ptau.hashVerified ? ", hash checked" : ""}), ` +
              `${m.contributions.length} contribution(s), ${m.security}, vkey sha256 ${m.vkeySha256}\n`,
          );
        }
      }
    });

  setup
    .command("ptau")
    .description("generate a development ptau (insecure) into the user cache")
    .requiredOption("--power <n>", "power of two (8..20 practical)")
    .option("--out <dir>", "output directory", path.join(userCacheDir(), "ptau"))
    .option("--json", "JSON lines progress")
    .action(async (opts: { power: string; out: string; json?: boolean }) => {
      const power = Number.parseInt(opts.power, 10);
      if (!Number.isInteger(power) || power < 1 || power > 28)
        throw new Error(`invalid --power ${opts.power}`);
      const file = await generateDevPtau(power, path.resolve(opts.out), reporterFor(opts));
      process.stdout.write(`${file}\n`);
    });
}
