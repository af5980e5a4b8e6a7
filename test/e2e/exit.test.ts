/**
 * Library callers exit: each public operation runs in a child process that
 * imports bulkhead by name, calls it once, prints its result and does nothing else. The child must
 * exit by itself (no worker thread, timer or handle left running) within a bound; a call that
 * leaves snarkjs's curve workers alive (as auditBundle did) makes the child hang and is killed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { secretFile, tmpDir } from "../helpers/epoch.js";
import { writeTinySnapshot } from "../helpers/tiny.js";

let scripts = 0;
const BOUND_MS = 120_000; // generous: process start with tsx on a busy machine; a hang is forever

/**
 * Runs `body` (an async module body with `b` = the bulkhead module) as a script file of its own
 * (a file, not `node -e`: snarkjs's curve workers inherit `--input-type` and would not start),
 * inside the package so that `import("bulkhead")` resolves, and waits for a voluntary exit.
 */
function runAlone(body: string): Promise<{ code: number | null; out: string; ms: number; hung: boolean }> {
  const dir = path.join(PACKAGE_ROOT, "build", "exit-test");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `op-${process.pid}-${++scripts}.mjs`);
  writeFileSync(file, `const b = await import("bulkhead");\n${body}\n`);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", file], {
      cwd: PACKAGE_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, BOUND_MS);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      rmSync(file, { force: true });
      resolve({ code, out, ms: Date.now() - t0, hung });
    });
  });
}

describe("library: every public operation leaves nothing running (the caller exits)", function () {
  this.timeout(900_000);
  const dir = tmpDir("exit");
  const snap = writeTinySnapshot(path.join(dir, "tiny.json"));
  const out = path.join(dir, "epoch");
  const pub = JSON.stringify(path.join(out, "public"));

  const check = async (name: string, body: string) => {
    const r = await runAlone(body);
    assert.equal(
      r.hung,
      false,
      `${name}: still running after ${BOUND_MS} ms (left something running)\n${r.out}`,
    );
    assert.equal(r.code, 0, `${name}: ${r.out}`);
    assert.match(r.out, /^done /m, `${name}: ${r.out}`);
  };

  it("proveSnapshot", async () => {
    await check(
      "proveSnapshot",
      `const s = await b.proveSnapshot({ snapshot: ${JSON.stringify(snap)}, out: ${JSON.stringify(out)}, profile: "test", secretFile: ${JSON.stringify(secretFile())}, workers: 1 });
       console.log("done", s.proofs.total);`,
    );
  });

  const ops: [string, string][] = [
    ["auditBundle", `const r = await b.auditBundle(${pub}); console.log("done", r.ok);`],
    [
      "verifyReceipt",
      `const { file } = await b.findReceipt(${JSON.stringify(out)}, { lot: "0x01" });
       const v = await b.verifyReceipt(file, ${pub}); console.log("done", v.ok);`,
    ],
    [
      "loadSnapshot + buildEpoch",
      `const s = await b.loadSnapshot(${JSON.stringify(snap)}, { profile: b.getProfile("test") });
       const e = await b.buildEpoch(s, b.getProfile("test"), new Uint8Array(32).fill(7)); console.log("done", e.manifestHash);`,
    ],
    ["readBundle", `const { bundle } = await b.readBundle(${pub}); console.log("done", bundle.epoch);`],
  ];

  for (const [name, body] of ops) {
    it(name, async () => {
      await check(name, body);
    });
  }
});
