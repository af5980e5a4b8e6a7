/** `bulkhead check -s SNAPSHOT`: validate a snapshot without proving anything (every problem, with its path). */
import type { Command } from "commander";
import { loadSnapshot } from "../snapshot/snapshot.js";
import { DEFAULT_PROFILE, getProfile } from "../spec/profiles.js";
import { checkProfile, printJson } from "./common.js";

export interface CheckCliOptions {
  snapshot: string;
  profile: string;
  round?: boolean;
  json?: boolean;
}

/** Loads and validates the snapshot; prints its counts (and notes) or the summary as JSON. */
export async function check(opts: CheckCliOptions): Promise<void> {
  const profile = getProfile(checkProfile(opts.profile));
  const s = await loadSnapshot(opts.snapshot, { profile, round: opts.round });
  const summary = {
    ok: true,
    epoch: String(s.epoch),
    segments: s.segments.length,
    lots: s.lots.length,
    liabilities: s.liabilities.length,
    notes: s.notes,
  };
  if (opts.json) printJson(summary);
  else {
    process.stdout.write(
      `snapshot OK: epoch ${summary.epoch}, ${summary.segments} segments, ${summary.lots} lots, ${summary.liabilities} liabilities\n`,
    );
    for (const n of s.notes) process.stderr.write(`note: ${n}\n`);
  }
}

export function register(program: Command): void {
  program
    .command("check")
    .description("validate a snapshot without proving anything (every problem, with its path)")
    .requiredOption("-s, --snapshot <file>", "snapshot JSON")
    .option("-p, --profile <name>", "circuit size profile (asset slots)", DEFAULT_PROFILE)
    .option("--round", "round too-precise amounts: collateral down, liabilities up")
    .option("--json", "JSON summary on stdout")
    .action(check);
}
