/**
 * The native prover for tests: built once per build directory (cached like the other artifacts).
 * Without its toolchain the suite is skipped with the install command, except under CI=true,
 * where that is an error (.ci/run installs it).
 */
import { ensureNativeProver, nativeToolchainMissing } from "../../src/toolchain/native.js";
import { ensureNativeWitnesses } from "../../src/toolchain/witness.js";
import { createReporter } from "../../src/util/progress.js";

/** For `before` hooks: the binary's path, or the suite skipped (outside CI) without a toolchain. */
export async function requireNativeProver(ctx: Mocha.Context): Promise<string> {
  const missing = nativeToolchainMissing();
  if (missing) {
    if (process.env.CI === "true") throw new Error(`${missing}; CI must provide it (.ci/run installs it)`);
    console.log(`      skipping the native prover tests: ${missing}`);
    ctx.skip();
  }
  ctx.timeout(15 * 60_000);
  return ensureNativeProver({ log: (line) => console.log(`      ${line}`) });
}

/** As `requireNativeProver`, and the native witness programs of `profile` built (minutes, once). */
export async function requireNativeWitness(ctx: Mocha.Context, profile: string): Promise<string> {
  const bin = await requireNativeProver(ctx);
  const reporter = createReporter({ stream: { write: (l: string) => process.stdout.write(`      ${l}`) } });
  await ensureNativeWitnesses(["segment", "lotlist"], profile, { reporter });
  return bin;
}
