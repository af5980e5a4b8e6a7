/**
 * Which Groth16 prover computes the proofs of this process: `native` (the C++ `bulkhead-prover`
 * with the circuits' native witness programs, src/prove/native.ts) or `snarkjs` (WASM, in
 * worker threads, src/prove/pool.ts).
 *
 * Asked for nothing, a run uses native when it is built or buildable (`ensureNativeProver`,
 * `ensureNativeWitness`); when the native toolchain is missing it says so once per process,
 * with the command that installs it, and uses snarkjs. Asked for `native` explicitly, a missing
 * toolchain or a failed build is an error.
 */
import { constants } from "node:fs";
import * as fs from "node:fs/promises";
import { CIRCUITS, type CircuitName } from "../spec/profiles.js";
import { ensureNativeProver } from "../toolchain/native.js";
import { ensureNativeWitness, ensureNativeWitnesses, nativeWitnessMissing } from "../toolchain/witness.js";
import type { Reporter } from "../util/progress.js";

export const PROVERS = ["native", "snarkjs"] as const;
export type ProverName = (typeof PROVERS)[number];

/** `--prover <name>`: native or snarkjs; the error names the flag. */
export function parseProver(value: string, flag = "--prover"): ProverName {
  if ((PROVERS as readonly string[]).includes(value)) return value as ProverName;
  throw new Error(`${flag}: "${value}" is not a prover (expected ${PROVERS.join(" or ")})`);
}

/** What the native prover needs for one profile: the prover binary and a witness program per circuit. */
export interface NativeSetup {
  bin: string;
  witness: Record<CircuitName, string>;
}

/** The prover a run uses, and why it is not native when native was the default. */
export interface ProverChoice {
  name: ProverName;
  native?: NativeSetup;
  /** set when native was the default and could not be used (the message said once) */
  fallback?: string;
}

export interface ResolveProverOptions {
  buildDir?: string;
  reporter: Reporter;
  /** a prebuilt bulkhead-prover binary (default: built with ensureNativeProver) */
  nativeBin?: string;
}

/** Native toolchain problems already reported by this process (each said once). */
const reported = new Set<string>();

/** What is missing for native proving on this machine (undefined: nothing). */
export function nativeMissing(): string | undefined {
  return nativeWitnessMissing();
}

/** The prover to use for `profile`: `requested`, or native when possible (see the header). */
export function resolveProver(
  requested: ProverName | undefined,
  profile: string,
  opts: ResolveProverOptions,
): Promise<ProverChoice> {
  return choose(requested, opts, async () => nativeSetup(profile, opts));
}

/**
 * The same choice before the profile is known (a queue worker): the prover binary only; the
 * witness programs come per job from `nativeWitnessFor`.
 */
export function resolveProverBinary(
  requested: ProverName | undefined,
  opts: ResolveProverOptions,
): Promise<{ name: ProverName; bin?: string; fallback?: string }> {
  return choose(requested, opts, () => proverBinary(opts)).then((c) => ({
    name: c.name,
    bin: c.native,
    fallback: c.fallback,
  }));
}

/** The native witness program of a circuit (cached; built when missing). */
export async function nativeWitnessFor(
  circuit: CircuitName,
  profile: string,
  opts: { buildDir?: string; reporter: Reporter },
): Promise<string> {
  return (await ensureNativeWitness(circuit, profile, opts)).bin;
}

async function choose<T>(
  requested: ProverName | undefined,
  opts: ResolveProverOptions,
  setup: () => Promise<T>,
): Promise<{ name: ProverName; native?: T; fallback?: string }> {
  if (requested === "snarkjs") return { name: "snarkjs" };
  try {
    return { name: "native", native: await setup() };
  } catch (err) {
    const why = (err as Error).message;
    if (requested === "native") throw new Error(`--prover native: ${why}`);
    if (!reported.has(why)) {
      reported.add(why);
      opts.reporter.warn(`native prover unavailable, using snarkjs: ${why}`);
    }
    return { name: "snarkjs", fallback: why };
  }
}

async function nativeSetup(profile: string, opts: ResolveProverOptions): Promise<NativeSetup> {
  const bin = await proverBinary(opts);
  const w = { buildDir: opts.buildDir, reporter: opts.reporter };
  return { bin, witness: await ensureNativeWitnesses(CIRCUITS, profile, w) };
}

/** The bulkhead-prover binary: `nativeBin` when given (it must be executable), else built. */
async function proverBinary(opts: ResolveProverOptions): Promise<string> {
  if (!opts.nativeBin) {
    const missing = nativeMissing();
    if (missing) throw new Error(missing);
  }
  if (opts.nativeBin)
    await fs.access(opts.nativeBin, constants.X_OK).catch((err: NodeJS.ErrnoException) => {
      throw new Error(`the native prover binary ${opts.nativeBin} cannot be run (${err.code})`);
    });
  const log = (l: string) => opts.reporter.info(l);
  return opts.nativeBin ?? (await ensureNativeProver({ buildDir: opts.buildDir, log }));
}
