/** `bulkhead setup ptau --power N`: generate a development ptau (insecure) into the user cache. */
import * as path from "node:path";
import type { Command } from "commander";
import { generateDevPtau } from "../toolchain/ptau.js";
import { userCacheDir } from "../util/paths.js";
import { reporterFor } from "./common.js";

export interface SetupPtauCliOptions {
  power: string;
  out: string;
  json?: boolean;
}

/** Generates the ptau of 2^power and prints its file. */
export async function setupPtau(opts: SetupPtauCliOptions): Promise<void> {
  const power = Number.parseInt(opts.power, 10);
  if (!Number.isInteger(power) || power < 1 || power > 28) throw new Error(`invalid --power ${opts.power}`);
  const file = await generateDevPtau(power, path.resolve(opts.out), reporterFor(opts));
  process.stdout.write(`${file}\n`);
}

/** Adds `ptau` to the `setup` command group. */
export function registerPtau(setup: Command): void {
  setup
    .command("ptau")
    .description("generate a development ptau (insecure) into the user cache")
    .requiredOption("--power <n>", "power of two (8..20 practical)")
    .option("--out <dir>", "output directory", path.join(userCacheDir(), "ptau"))
    .option("--json", "JSON lines progress")
    .action(setupPtau);
}
