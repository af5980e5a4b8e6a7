import { circuitSpec, compileCircuit } from "/work/wt-c14/src/toolchain/compile.ts";
import { readR1cs } from "/work/wt-c14/test/helpers/witness.ts";
const prof = process.argv[2] ?? "test";
for (const c of ["segment", "lotlist"] as const) {
  const t0 = Date.now();
  const out = await compileCircuit(circuitSpec(c, prof));
  const r = readR1cs(`${out.dir}/main.r1cs`);
  console.log(prof, c, r.nConstraints, "pub", r.nPubInputs, "out", r.nOutputs, `${Date.now() - t0}ms`);
}
