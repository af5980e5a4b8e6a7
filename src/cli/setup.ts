/**
 * `bulkhead setup ...`: the trusted-setup command group. Each subcommand is its own file with its
 * typed options and action: setup-init.ts (production phase 2 or a dev setup), setup-contribute.ts,
 * setup-verify.ts, setup-info.ts, setup-ptau.ts (a dev ptau).
 */
import type { Command } from "commander";
import { registerContribute } from "./setup-contribute.js";
import { registerInfo } from "./setup-info.js";
import { registerInit } from "./setup-init.js";
import { registerPtau } from "./setup-ptau.js";
import { registerVerify } from "./setup-verify.js";

export function register(program: Command): void {
  const setup = program
    .command("setup")
    .description("trusted setup: production phase 2 from a ceremony ptau, contributions, verification");
  registerInit(setup);
  registerContribute(setup);
  registerVerify(setup);
  registerInfo(setup);
  registerPtau(setup);
}
