/** Helpers shared by the CLI command modules (src/cli/*.ts). */
import { CIRCUITS, type CircuitName, PROFILES } from "../spec/profiles.js";
import { createReporter, type Reporter } from "../util/progress.js";

/** Options every command may take. */
export interface CommonOptions {
  json?: boolean;
  quiet?: boolean;
}

/** Reporter on stderr: text, or JSON lines with `--json`. */
export function reporterFor(opts: CommonOptions): Reporter {
  return createReporter({ json: !!opts.json, quiet: !!opts.quiet });
}

/** Parse `--circuits a b` / `--circuits a,b` (default: all circuits). */
export function parseCircuits(values: string[] | string | undefined): CircuitName[] {
  if (!values || (Array.isArray(values) && values.length === 0)) return [...CIRCUITS];
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const c of list) {
    if (!(CIRCUITS as readonly string[]).includes(c)) {
      throw new Error(`unknown circuit "${c}" (known: ${CIRCUITS.join(", ")})`);
    }
  }
  return [...new Set(list)] as CircuitName[];
}

export function parseCircuit(value: string): CircuitName {
  const [c] = parseCircuits([value]);
  return c as CircuitName;
}

export function checkProfile(name: string): string {
  if (!PROFILES[name])
    throw new Error(`unknown profile "${name}" (known: ${Object.keys(PROFILES).join(", ")})`);
  return name;
}

/** Print a machine-readable result on stdout (used with --json). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
