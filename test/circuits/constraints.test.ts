/**
 * Circuit soundness: pinned constraint counts. For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import { initPoseidon } from "../../src/spec/encoding.js";
import { PROFILES } from "../../src/spec/profiles.js";
import { circuitSpec } from "../../src/toolchain/compile.js";
import { compileTestCircuit } from "../helpers/witness.js";

describe("circuits (v2)", () => {
  // Poseidon for the TS side of the checks (the circuits are compiled where a test needs them)
  before(async () => {
    await initPoseidon();
  });

  // =============================================================================================
  describe("constraint counts (pinned: a change in cost must be seen)", () => {
    // profile -> [segment, lotlist] constraints with circom --O2
    const PINNED: Record<string, [number, number]> = {
      test: [7773, 4204],
      default: [61929, 33900],
      large: [115953, 64242],
    };
    for (const [name, [segWant, listWant]] of Object.entries(PINNED)) {
      it(`profile ${name}`, async () => {
        const p = PROFILES[name];
        assert.ok(p);
        const s = await compileTestCircuit(circuitSpec("segment", p));
        const l = await compileTestCircuit(circuitSpec("lotlist", p));
        assert.deepEqual([s.r1cs.nConstraints, l.r1cs.nConstraints], [segWant, listWant]);
      });
    }
  });
});
