/**
 * The circuit registry, read from circuits/circuits.json (the one source for what the circuits
 * are): per circuit its file, template, template parameters (each taken from a profile field),
 * public inputs of `component main`, and the names of its public signals in circuit order
 * (outputs, then public inputs; the last name of the segment circuit is an array of A/2 packed
 * slot parameters). Build (src/toolchain), tests and the bench read it through this module.
 */
import registry from "../../circuits/circuits.json" with { type: "json" };
import type { CircuitName, Profile } from "./profiles.js";

type ProfileField =
  | "lotsPerBatch"
  | "liabsPerBatch"
  | "assetsPerSegment"
  | "lotsPerGlobalBatch"
  | "stressScenarios"
  | "globalAssets";

export interface CircuitDef {
  /** file under circuits/ that defines the template */
  file: string;
  template: string;
  /** template parameter name -> the profile field that sets it, in template argument order */
  params: Record<string, ProfileField>;
  /** signals of the template made public by `component main {public [...]}` */
  publicInputs: string[];
  /** names of the public signals, in the order the proof exposes them */
  publicSignals: string[];
}

export const CIRCUIT_DEFS: Readonly<Record<CircuitName, CircuitDef>> = registry as Record<
  CircuitName,
  CircuitDef
>;

export function circuitDef(circuit: CircuitName): CircuitDef {
  const d = CIRCUIT_DEFS[circuit];
  if (!d) {
    throw new Error(
      `unknown circuit "${circuit as string}" (known: ${Object.keys(CIRCUIT_DEFS).join(", ")})`,
    );
  }
  return d;
}

/** The template parameters of `circuit` under `profile`, e.g. { N: 4, M: 4, A: 4 }. */
export function circuitParams(circuit: CircuitName, profile: Profile): Record<string, number> {
  return Object.fromEntries(Object.entries(circuitDef(circuit).params).map(([k, f]) => [k, profile[f]]));
}

/** Text of main.circom instantiating `circuit` with `params`. */
export function mainSource(circuit: CircuitName, params: Record<string, number>): string {
  const d = circuitDef(circuit);
  const args = Object.keys(d.params).map((k) => params[k]);
  return `pragma circom 2.1.6;\n\ninclude "${d.file}";\n\ncomponent main {public [${d.publicInputs.join(", ")}]} = ${d.template}(${args.join(", ")});\n`;
}
