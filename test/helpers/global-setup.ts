/**
 * Mocha global setup (.mocharc.json): where the native toolchain is present, the native prover
 * and the test profile's native witness generators are built before any test runs (minutes the
 * first time, cached in the build directory), since proving defaults to native there and a test
 * must not spend its timeout on that build. Without the toolchain nothing is done here: proving
 * falls back to snarkjs, and test/native says so (or fails under CI=true).
 */
import { ensureNativeProver, nativeToolchainMissing } from "../../src/toolchain/native.js";
import { ensureNativeWitnesses } from "../../src/toolchain/witness.js";
import { createReporter } from "../../src/util/progress.js";

export async function mochaGlobalSetup(): Promise<void> {
  if (nativeToolchainMissing()) return;
  const log = (l: string) => process.stdout.write(`  [native setup] ${l}\n`);
  await ensureNativeProver({ log });
  const reporter = createReporter({
    stream: { write: (l: string) => process.stdout.write(`  [native setup] ${l}`) },
  });
  await ensureNativeWitnesses(["segment", "lotlist"], "test", { reporter });
}
