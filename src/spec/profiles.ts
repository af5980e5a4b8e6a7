/**
 * Circuit size profiles. One profile fixes every circuit parameter of an epoch:
 *  - lotsPerBatch (N): collateral lots per segment batch
 *  - liabsPerBatch (M): liabilities per segment batch
 *  - assetsPerSegment (A): asset slots per segment (price, collateral factor, global asset, cap)
 *  - lotsPerGlobalBatch (G): lots per batch of the global lot list
 *  - stressScenarios (K): stress scenarios per segment (one health bit each)
 *  - globalAssets (GA): assets of the epoch's asset table (pooled custody caps per asset)
 *
 * `test` keeps both circuits under 2^13 constraints so a development ptau can be
 * generated in minutes when no prepared one is available.
 */
export interface Profile {
  readonly name: string;
  readonly lotsPerBatch: number;
  readonly liabsPerBatch: number;
  readonly assetsPerSegment: number;
  readonly lotsPerGlobalBatch: number;
  /** K: stress scenarios proven per segment (one health bit each) */
  readonly stressScenarios: number;
  /** GA: global asset indices the lot list totals per asset (pooled custody caps) */
  readonly globalAssets: number;
}

export const PROFILES: Readonly<Record<string, Profile>> = {
  test: {
    name: "test",
    lotsPerBatch: 4,
    liabsPerBatch: 4,
    assetsPerSegment: 4,
    lotsPerGlobalBatch: 8,
    stressScenarios: 2,
    globalAssets: 4,
  },
  default: {
    name: "default",
    lotsPerBatch: 64,
    liabsPerBatch: 64,
    assetsPerSegment: 8,
    lotsPerGlobalBatch: 128,
    stressScenarios: 4,
    globalAssets: 8,
  },
  large: {
    name: "large",
    lotsPerBatch: 128,
    liabsPerBatch: 128,
    assetsPerSegment: 8,
    lotsPerGlobalBatch: 256,
    stressScenarios: 4,
    globalAssets: 8,
  },
};

/**
 * The profile used when none is named, by the CLI and the library alike (`test`: builds in
 * minutes; name `default` or `large` for real epochs).
 */
export const DEFAULT_PROFILE = "test";

export function getProfile(name: string): Profile {
  const p = PROFILES[name];
  if (!p) {
    throw new Error(`profile: unknown profile "${name}" (known: ${Object.keys(PROFILES).join(", ")})`);
  }
  return p;
}

/** The circuits of bulkhead; each is instantiated once per profile. */
export type CircuitName = "segment" | "lotlist";
export const CIRCUITS: readonly CircuitName[] = ["segment", "lotlist"];
