/**
 * `bulkhead setup`: the group's subcommands, each registered from its own file, keep their
 * names, order, options (flags, defaults, required) and help; the CLI's output is the library
 * function's (`setupInfoOf`), and a bad `--power` is refused by name.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { Command } from "commander";
import { createProgram } from "../../src/cli/index.js";
import { setupInfoOf } from "../../src/cli/setup-info.js";
import { setupPtau } from "../../src/cli/setup-ptau.js";
import { DEFAULT_PROFILE } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { userCacheDir } from "../../src/util/paths.js";
import { runCli } from "../helpers/cli.js";

const BUILD = "--build-dir <dir>";
const PROFILE_DEFAULT = `-p, --profile <name>=${DEFAULT_PROFILE}`;

/** Each subcommand's options as `flags[=default][ (required)]`, in declaration order. */
const EXPECTED: Record<string, string[]> = {
  init: [
    PROFILE_DEFAULT,
    BUILD,
    "-c, --circuits <names...>",
    "--ptau <file>",
    "--ptau-hash <hex>",
    "--force",
    "--json",
  ],
  contribute: [
    "--circuit <name> (required)",
    PROFILE_DEFAULT,
    BUILD,
    "--entropy <text>",
    "--name <name>",
    "--ptau <file>",
    "--json",
  ],
  verify: ["--circuit <name> (required)", PROFILE_DEFAULT, BUILD, "--ptau <file>"],
  info: [PROFILE_DEFAULT, BUILD, "-c, --circuits <names...>", "--json"],
  ptau: ["--power <n> (required)", `--out <dir>=${path.join(userCacheDir(), "ptau")}`, "--json"],
};

function setupGroup(): Command {
  const setup = createProgram().commands.find((c) => c.name() === "setup");
  assert.ok(setup, "no setup command");
  return setup;
}

const optionsOf = (cmd: Command): string[] =>
  cmd.options.map(
    (o) =>
      `${o.flags}${o.defaultValue === undefined ? "" : `=${String(o.defaultValue)}`}${o.mandatory ? " (required)" : ""}`,
  );

describe("CLI: setup's subcommands, one file each", function () {
  this.timeout(300_000);

  it("the group has init, contribute, verify, info, ptau in that order, with their options", () => {
    const subs = setupGroup().commands;
    assert.deepEqual(
      subs.map((c) => c.name()),
      Object.keys(EXPECTED),
    );
    for (const c of subs) assert.deepEqual(optionsOf(c), EXPECTED[c.name()], c.name());
  });

  it("`setup --help` lists each subcommand with its description", async () => {
    const r = await runCli(["setup", "--help"]);
    assert.equal(r.code, 0, r.stderr);
    for (const c of setupGroup().commands)
      assert.match(
        r.stdout,
        new RegExp(
          `\\n  ${c.name()} \\[options\\] +${c
            .description()
            .slice(0, 30)
            .replace(/[()|.]/g, "\\$&")}`,
        ),
      );
  });

  it("`setup info --json` prints what setupInfoOf returns", async () => {
    await ensureCircuit("segment", "test");
    await ensureCircuit("lotlist", "test");
    const r = await runCli(["setup", "info", "--profile", "test", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lib = await setupInfoOf({ profile: "test" });
    assert.deepEqual(
      lib.map((m) => m.id),
      ["segment-test", "lotlist-test"],
    );
    assert.deepEqual(JSON.parse(r.stdout), JSON.parse(JSON.stringify(lib)));
  });

  it("setupPtau refuses a power outside 1..28, naming the option", async () => {
    await assert.rejects(setupPtau({ power: "0", out: "unused" }), /invalid --power 0/);
    await assert.rejects(setupPtau({ power: "x", out: "unused" }), /invalid --power x/);
  });
});
