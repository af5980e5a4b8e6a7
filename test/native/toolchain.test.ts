/**
 * Without the native toolchain, `bulkhead build` says once what is missing and how to install it,
 * and still builds everything else; `ensureNativeProver` refuses with the same message. Runs
 * anywhere: the toolchain is hidden by a PATH that holds only node.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { NATIVE_INSTALL_COMMAND } from "../../src/toolchain/native.js";
import { runCli } from "../helpers/cli.js";
import { REPO, tmpDir } from "../helpers/epoch.js";

const LINUX_X64 = process.platform === "linux" && process.arch === "x64";

describe("native prover toolchain missing", () => {
  let onlyNode: string;

  before(async () => {
    await ensureCircuit("lotlist", "test");
    onlyNode = path.join(tmpDir("path"), "bin");
    mkdirSync(onlyNode);
    symlinkSync(process.execPath, path.join(onlyNode, "node"));
  });

  it("bulkhead build warns once with the install command and builds the rest", async function () {
    if (!LINUX_X64) this.skip();
    const r = await runCli(["build", "--circuits", "lotlist", "--no-contracts", "--json"], {
      env: { PATH: onlyNode },
    });
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; message: string })
      .filter((l) => l.type === "warn" && /native prover/.test(l.message));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(
      warnings[0]?.message ?? "",
      /needs g\+\+, nasm: install with `apt-get install -y g\+\+ nasm libgmp-dev nlohmann-json3-dev`/,
    );
    const out = JSON.parse(r.stdout) as {
      circuits: { id: string }[];
      native: { missing?: string; bin?: string };
    };
    assert.deepEqual(
      out.circuits.map((c) => c.id),
      ["lotlist-test"],
    );
    assert.equal(out.native.bin, undefined);
    assert.ok(out.native.missing?.includes(NATIVE_INSTALL_COMMAND));
  });

  it("ensureNativeProver refuses with the same message", function () {
    if (!LINUX_X64) this.skip();
    const script = `import("./src/toolchain/native.ts").then((m) => m.ensureNativeProver()).then((b) => console.log("built", b), (e) => console.log("refused:", e.message))`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, PATH: onlyNode },
    });
    assert.match(
      r.stdout,
      /^refused: the native prover needs g\+\+, nasm: install with `apt-get install/,
      r.stderr,
    );
  });
});
