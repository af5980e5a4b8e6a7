/** `bulkhead setup info`: the setup state (ptau, contributions, security, vkey hash) of built circuits. */
import type { Command } from "commander";
import { DEFAULT_PROFILE } from "../spec/profiles.js";
import { type ArtifactMeta, type Contribution, loadArtifacts } from "../toolchain/artifacts.js";
import { BUILD_DIR_HELP, checkProfile, parseCircuits, printJson } from "./common.js";

export interface SetupInfoCliOptions {
  profile: string;
  circuits?: string[];
  json?: boolean;
}

/** The setup state of one built circuit. */
export type SetupInfo = Pick<
  ArtifactMeta,
  "id" | "constraints" | "nPublic" | "ptau" | "security" | "vkeySha256"
> & {
  contributions: Pick<Contribution, "name" | "kind" | "at">[];
};

/** The setup state of each circuit's built artifacts (throws when one is not built). */
export async function setupInfoOf(opts: SetupInfoCliOptions): Promise<SetupInfo[]> {
  const out: SetupInfo[] = [];
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
  return out;
}

/** Prints one line per circuit, or the JSON array. */
export async function setupInfo(opts: SetupInfoCliOptions): Promise<void> {
  const out = await setupInfoOf(opts);
  if (opts.json) printJson(out);
  else {
    for (const m of out) {
      process.stdout.write(
        `${m.id}: ${m.constraints} constraints, ptau 2^${m.ptau.power} (${m.ptau.source}${m.ptau.hashVerified ? ", hash checked" : ""}), ` +
          `${m.contributions.length} contribution(s), ${m.security}, vkey sha256 ${m.vkeySha256}\n`,
      );
    }
  }
}

/** Adds `info` to the `setup` command group. */
export function registerInfo(setup: Command): void {
  setup
    .command("info")
    .description("show the setup state (ptau, contributions, security, vkey hash) of built circuits")
    .option("-p, --profile <name>", "circuit size profile", DEFAULT_PROFILE)
    .option("--build-dir <dir>", BUILD_DIR_HELP)
    .option("-c, --circuits <names...>", "circuits (default: all)")
    .option("--json", "JSON output")
    .action(setupInfo);
}
