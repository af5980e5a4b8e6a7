/**
 * One error path for every command: with `--json`, a failing command prints one
 * JSON error object `{ ok: false, command, code, error, ... }` on stdout (and nothing else there),
 * exits non-zero, and says the reason on stderr as a JSON line; without `--json`, an "error: ..."
 * line on stderr and nothing on stdout. Every case fails before any proving or network work.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type CliRun, runCli } from "../helpers/cli.js";

interface JsonError {
  ok: boolean;
  command: string | null;
  code: string;
  error: string;
  problems?: string[];
  path?: string;
}

function jsonError(r: CliRun): JsonError {
  assert.notEqual(r.code, 0, `must fail: ${r.stdout}${r.stderr}`);
  let e: JsonError;
  try {
    e = JSON.parse(r.stdout) as JsonError;
  } catch {
    throw new Error(`stdout is not one JSON object:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
  }
  assert.equal(e.ok, false);
  assert.equal(typeof e.error, "string");
  assert.ok(e.error.length > 0);
  assert.equal(typeof e.code, "string");
  return e;
}

describe("CLI: a JSON error object on stdout for every command (--json)", function () {
  this.timeout(120_000);
  let tmp: string;
  const dead = "http://127.0.0.1:9"; // nothing listens on the discard port
  const addr = "0x000000000000000000000000000000000000dEaD";

  after(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  const cases: { name: string; args: () => string[]; code?: RegExp | string; error: RegExp }[] = [
    { name: "build", args: () => ["build", "--profile", "nope", "--json"], error: /unknown profile "nope"/ },
    {
      name: "setup init",
      args: () => ["setup", "init", "--profile", "nope", "--json"],
      error: /unknown profile "nope"/,
    },
    {
      name: "setup info",
      args: () => ["setup", "info", "--circuits", "nope", "--json"],
      error: /unknown circuit "nope"/,
    },
    {
      name: "setup contribute",
      args: () => ["setup", "contribute", "--profile", "nope", "--json"],
      error: /nope|required/,
    },
    {
      name: "setup verify",
      args: () => ["setup", "verify", "--json"],
      code: "USAGE",
      error: /unknown option|required/,
    },
    { name: "setup ptau", args: () => ["setup", "ptau", "--json"], error: /./ },
    {
      name: "prove (usage: no --snapshot)",
      args: () => ["prove", "--out", path.join(tmp, "o"), "--json"],
      code: "USAGE",
      error: /--snapshot/,
    },
    {
      name: "prove",
      args: () => ["prove", "-s", path.join(tmp, "missing.json"), "-o", path.join(tmp, "o"), "--json"],
      error: /missing\.json/,
    },
    {
      name: "prove (an unknown --prover)",
      args: () => [
        "prove",
        "-s",
        path.join(tmp, "bad.json"),
        "-o",
        path.join(tmp, "o"),
        "--prover",
        "nope",
        "--json",
      ],
      error: /^--prover: "nope" is not a prover \(expected native or snarkjs\)$/,
    },
    {
      name: "prove (--prover with --queue)",
      args: () => [
        "prove",
        "-s",
        path.join(tmp, "bad.json"),
        "-o",
        path.join(tmp, "o"),
        "--prover",
        "native",
        "--queue",
        "redis://127.0.0.1:9",
        "--json",
      ],
      error: /^--prover: with --queue the workers prove; choose there \(bulkhead worker --prover\)$/,
    },
    {
      name: "worker (an unknown --prover)",
      args: () => ["worker", "--queue", "redis://127.0.0.1:9", "--prover", "rapid", "--json"],
      error: /^--prover: "rapid" is not a prover \(expected native or snarkjs\)$/,
    },
    {
      name: "check",
      args: () => ["check", "-s", path.join(tmp, "bad.json"), "--json"],
      code: "INVALID_SNAPSHOT",
      error: /invalid snapshot/,
    },
    {
      name: "receipt verify",
      args: () => ["receipt", "verify", path.join(tmp, "r.json"), "--bundle", tmp, "--json"],
      code: "ENOBUNDLE",
      error: /not a bundle directory/,
    },
    {
      name: "audit",
      args: () => ["audit", tmp, "--json"],
      code: "ENOBUNDLE",
      error: /not a bundle directory/,
    },
    {
      name: "audit (a file that is not a bundle)",
      args: () => ["audit", path.join(tmp, "bad.json"), "--json"],
      code: "INVALID_BUNDLE",
      error: /bundle/,
    },
    {
      name: "deploy",
      args: () => ["deploy", "--rpc", dead, "--json"],
      error: /cannot reach the JSON-RPC node at http:\/\/127\.0\.0\.1:9/,
    },
    {
      name: "publish",
      args: () => ["publish", path.join(tmp, "nothing"), "--rpc", dead, "--registry", addr, "--json"],
      error: /nothing/,
    },
    {
      name: "status",
      args: () => ["status", "--rpc", dead, "--registry", addr, "--json"],
      error: /cannot reach the JSON-RPC node/,
    },
  ];

  // all commands at once (each is a process start; they do not interfere)
  const runs = new Map<string, Promise<CliRun>>();
  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-cli-errors-"));
    await fs.writeFile(path.join(tmp, "bad.json"), JSON.stringify({ epoch: -1 }));
    for (const c of cases) runs.set(c.name, runCli(c.args()));
  });

  for (const c of cases) {
    it(`${c.name}`, async () => {
      const r = await (runs.get(c.name) as Promise<CliRun>);
      const e = jsonError(r);
      assert.equal(e.command, c.name.replace(/ \(.*\)$/, ""));
      if (typeof c.code === "string") assert.equal(e.code, c.code);
      assert.match(e.error, c.error);
      if (e.code === "INVALID_SNAPSHOT") assert.ok((e.problems ?? []).length > 0);
      // stderr: JSON lines only
      for (const line of r.stderr.split("\n").filter((l) => l.trim() && !l.startsWith("npm warn"))) {
        if (!line.startsWith("{")) continue; // commander's own usage text
        JSON.parse(line);
      }
    });
  }

  it("without --json: the reason on stderr, nothing on stdout", async () => {
    const r = await runCli(["audit", tmp]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: .* is not a bundle directory/);
  });

  it("without --json: a bad --prover is named on stderr, nothing on stdout", async () => {
    const r = await runCli(["worker", "--queue", "redis://127.0.0.1:9", "--prover", "gpu"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, 'error: --prover: "gpu" is not a prover (expected native or snarkjs)\n');
  });
});
