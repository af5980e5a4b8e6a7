/**
 * One default profile: every CLI command's --profile defaults to the library's DEFAULT_PROFILE
 * (deploy excepted: without --profile it takes the profile of the verifiers built in build/contracts).
 */
import assert from "node:assert/strict";
import type { Command } from "commander";
import { createProgram } from "../../src/cli/index.js";
import { DEFAULT_PROFILE } from "../../src/spec/profiles.js";

function* commands(c: Command): Generator<Command> {
  yield c;
  for (const sub of c.commands) yield* commands(sub);
}

describe("defaults", () => {
  it("every --profile option defaults to DEFAULT_PROFILE, which is the test profile", () => {
    assert.equal(DEFAULT_PROFILE, "test");
    let seen = 0;
    for (const c of commands(createProgram())) {
      const opt = c.options.find((o) => o.long === "--profile");
      if (!opt || c.name() === "deploy") continue;
      seen++;
      assert.equal(opt.defaultValue, DEFAULT_PROFILE, `${c.name()} --profile`);
    }
    assert.ok(seen >= 5, `commands with --profile: ${seen}`);
  });
});
