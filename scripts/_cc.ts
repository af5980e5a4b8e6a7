import { circuitSpec, compileCircuit } from "../src/toolchain/compile.js";
import { readR1cs } from "../test/helpers/witness.js";

const prof = process.argv[2] ?? "test";
for (const c of ["segment", "lotlist"] as const) {
  const t0 = Date.now();
  const out = await compileCircuit(circuitSpec(c, prof));
  const r = readR1cs(`${out.dir}/main.r1cs`);
  console.log(prof, c, r.nConstraints, "pub", r.nPubInputs, "out", r.nOutputs, `${Date.now() - t0}ms`);
}
