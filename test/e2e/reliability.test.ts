/**
 * What `prove` leaves on disk under kills, other epochs, interrupts, held locks and a full disk,
 * each through the CLI as a user runs it:
 *  - kill -9 at every step of switching to a new epoch's outputs: the set on disk is always one of
 *    the states of the documented order (receipts, totals, then the bundle), never a bundle with
 *    older receipts, and a re-run finishes the switch and removes the leftovers;
 *  - an output directory holding another epoch is not replaced without --force;
 *  - private files and directories are owner-only at every one of those instants;
 *  - SIGINT stops with a message, releases the lock, exits 130; a held lock makes a second run give
 *    up after --lock-timeout naming the holder; a full disk names the path.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { ProveSummary } from "../../src/pipeline.js";
import { findReceipt } from "../../src/receipts/store.js";
import { acquireLock } from "../../src/util/fsutil.js";
import { runCli } from "../helpers/cli.js";
import { EXAMPLE, provenExample, secretFile, tmpDir } from "../helpers/epoch.js";

interface Rec {
  epoch: string;
  manifestHash: string;
}
const readJson = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;
const mode = (p: string) => statSync(p).mode & 0o777;

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? [p, ...walk(p)] : [p];
  });
}

/** (public, totals, receipts) manifests; every file parses; private files owner-only. */
function stateOf(out: string): [string, string, string] {
  const pub = readJson<Rec>(path.join(out, "public", "bundle.json")).manifestHash;
  const totals = readJson<Rec>(path.join(out, "private", "totals.json")).manifestHash;
  const index = readJson<Rec>(path.join(out, "private", "receipts", "index.json"));
  for (const f of walk(path.join(out, "private", "receipts"))) {
    if (statSync(f).isDirectory()) assert.equal(mode(f), 0o700, f);
    else {
      assert.equal(mode(f), 0o600, f);
      if (f.endsWith(".json") && !f.endsWith("index.json"))
        assert.equal(readJson<Rec>(f).manifestHash, index.manifestHash, f);
    }
  }
  assert.equal(mode(path.join(out, "private")), 0o700);
  assert.equal(mode(path.join(out, "private", "totals.json")), 0o600);
  return [pub, totals, index.manifestHash];
}

const leftovers = (out: string) =>
  [out, path.join(out, "private"), path.join(out, "private", "work")].flatMap((d) =>
    readdirSync(d).filter((n) => n.startsWith(".bulkhead-tmp")),
  );

/**
 * Makes the entries of `dir` unremovable, for the superuser too (chattr +i; the CI container runs
 * as root), else by its mode (0555). Returns the undo, for every entry below `top` (a run that
 * failed may have moved `dir`).
 */
function lockEntries(dir: string, top: string): () => void {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o555);
    return () => execFileSync("chmod", ["-R", "u+w", top]);
  }
  execFileSync("chattr", ["+i", dir]);
  return () => execFileSync("chattr", ["-R", "-i", top]);
}

/** The inodes of the outputs a run replaces: a replaced output gets a new one. */
const outputInodes = (out: string) =>
  ["public", "public/vkeys", "private/receipts", "private/totals.json"].map(
    (p) => statSync(path.join(out, p)).ino,
  );

describe("prove: outputs as a set under kills, other epochs, signals, locks, full disks", function () {
  this.timeout(900_000);
  let a: ProveSummary;
  let out: string;
  let snapB: string;
  let oldReceipt: string;
  const proveB = (extra: string[] = []) => [
    "prove",
    "-s",
    snapB,
    "-o",
    out,
    "--profile",
    "test",
    "--secret",
    secretFile(),
    "--no-self-audit",
    ...extra,
  ];

  before(async () => {
    a = await provenExample();
    const dir = tmpDir("reliability");
    out = path.join(dir, "out");
    cpSync(a.out, out, { recursive: true });
    const snap = readJson<{ epoch: number }>(EXAMPLE);
    snap.epoch = 8;
    snapB = path.join(dir, "epoch8.json");
    writeFileSync(snapB, JSON.stringify(snap));
    oldReceipt = path.join(dir, "epoch7-receipt.json");
    cpSync((await findReceipt(out, { lot: "0x9f3c0a11d2e4b7015c3a" })).file, oldReceipt);
  });

  it("refuses to prove epoch 8 into a directory holding epoch 7, naming both", async () => {
    const r = await runCli(proveB(["--json"]));
    assert.equal(r.code, 1, r.stderr);
    const e = JSON.parse(r.stdout) as { code: string; error: string };
    assert.equal(e.code, "EEPOCH");
    assert.match(
      e.error,
      new RegExp(`holds epoch 7 \\(manifest ${a.manifestHash}\\); this snapshot is epoch 8`),
    );
    assert.match(e.error, /--force/);
    assert.equal(readJson<Rec>(path.join(out, "public", "bundle.json")).epoch, "7", "nothing replaced");
  });

  it("a kill at each step of the switch leaves a consistent set; a re-run finishes it", async () => {
    const A = a.manifestHash;
    const allowed = (b: string) => [
      [A, A, A].join(),
      [A, A, b].join(), // receipts switched
      [A, b, b].join(), // receipts and totals switched
      [b, b, b].join(), // all switched
    ];
    let B = "";
    const steps = [
      "prove:receipts-written",
      "prove:totals-written",
      "prove:public-staged",
      "prove:public-written",
    ];
    let staged = false;
    for (const [i, point] of steps.entries()) {
      const r = await runCli(proveB(i === 0 ? ["--force"] : []), { env: { BULKHEAD_FAULT: point } });
      if (staged) assert.match(r.stderr, /removed \d+ leftover temporary file/, "the next run cleans up");
      staged = point === "prove:public-staged";
      assert.equal(r.signal, "SIGKILL", `${point}: ${r.stdout}${r.stderr}`);
      const state = stateOf(out);
      B ||= state[2];
      assert.notEqual(B, A);
      assert.ok(allowed(B).includes(state.join()), `${point}: inconsistent set ${state.join()}`);
      if (point === "prove:public-staged")
        assert.ok(leftovers(out).length > 0, "the staged public/ is left over");
    }
    const done = await runCli(proveB(["--json"]));
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(stateOf(out), [B, B, B]);
    assert.deepEqual(leftovers(out), []);
    assert.equal(existsSync(path.join(out, "private", ".lock")), false, "lock released");
    const res = JSON.parse(done.stdout) as { epoch: string; proofs: { proven: number } };
    assert.equal(res.epoch, "8");
    assert.equal(res.proofs.proven, 0, "every proof of the killed runs reused");
  });

  it("a receipt of another epoch headlines the wrong epoch, not 'not included'", async () => {
    const r = await runCli([
      "receipt",
      "verify",
      oldReceipt,
      "--bundle",
      path.join(out, "public"),
      "--local-keys",
      "--allow-dev-keys",
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stdout.split("\n")[0] ?? "",
      /^WRONG EPOCH: the receipt is for epoch 7, the bundle is epoch 8/,
    );
  });

  it("audit of the prove output directory gives the reason first and suggests public/", async () => {
    const r = await runCli(["audit", out]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "", "no table before the reason");
    assert.ok(
      r.stderr.startsWith(
        `error: ${out} is not a bundle directory (no bundle.json in it): it is a prove output directory: pass ${path.join(out, "public")}`,
      ),
      r.stderr,
    );
  });

  it("a second run on a locked directory gives up after --lock-timeout, naming the holder", async () => {
    const release = await acquireLock(path.join(out, "private", ".lock"));
    try {
      const t0 = Date.now();
      const r = await runCli(proveB(["--lock-timeout", "1", "--json"]));
      assert.equal(r.code, 1, r.stderr);
      const e = JSON.parse(r.stdout) as { code: string; error: string; holder: { pid: number } };
      assert.equal(e.code, "ELOCKED");
      assert.equal(e.holder.pid, process.pid);
      assert.match(e.error, new RegExp(`locked by process ${process.pid} on .* since `));
      assert.match(r.stderr, /waiting up to 1 s for the lock/);
      assert.ok(Date.now() - t0 < 120_000);
    } finally {
      await release();
    }
  });

  it("SIGINT: says it stopped and that a re-run resumes, releases the lock, exits 130", async () => {
    const fresh = path.join(tmpDir("sigint"), "out");
    const r = await runCli(
      ["prove", "-s", EXAMPLE, "-o", fresh, "--profile", "test", "--secret", secretFile(), "--workers", "1"],
      {
        onStderr: (text, child) => {
          if (/batch proof\(s\)/.test(text)) child.kill("SIGINT");
        },
      },
    );
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /stopped \(SIGINT\): .*run the same command again to resume/);
    assert.match(r.stderr, /released the lock/);
    assert.equal(existsSync(path.join(fresh, "private", ".lock")), false);
    assert.equal(existsSync(path.join(fresh, "private", ".lock.owner.json")), false);
  });

  /** A re-run over `out` that must be refused before proving, naming `entry`, with nothing moved. */
  async function refusedUnwritable(entry: string, code: string, what: string): Promise<void> {
    const before = outputInodes(out);
    const r = await runCli(proveB(["--json"]));
    assert.equal(r.code, 1, r.stderr);
    const e = JSON.parse(r.stdout) as { code: string; error: string; path: string };
    assert.equal(e.code, code, e.error);
    assert.equal(e.path, entry);
    assert.ok(e.error.startsWith(`cannot replace ${path.join(out, "public")}: ${entry} ${what}`), e.error);
    assert.doesNotMatch(r.stderr, /batch proof\(s\)/, "refused before the epoch was built");
    assert.deepEqual(outputInodes(out), before, "nothing replaced");
    assert.deepEqual(leftovers(out), [], "no temporary directory left");
  }

  it("a public/ whose files cannot be removed: refused before proving, nothing replaced", async () => {
    const vkeys = path.join(out, "public", "vkeys");
    const undo = lockEntries(vkeys, out);
    try {
      const root = process.getuid?.() === 0;
      await refusedUnwritable(vkeys, root ? "EPERM" : "EACCES", "cannot be emptied");
    } finally {
      undo();
    }
  });

  it("a read-only mount at public/: refused before proving, nothing replaced", async function () {
    const pub = path.join(out, "public");
    try {
      execFileSync("mount", ["--bind", pub, pub], { stdio: "ignore" });
    } catch {
      this.skip(); // needs root (mount); the CI container runs as root
    }
    try {
      execFileSync("mount", ["-o", "remount,bind,ro", pub], { stdio: "ignore" });
      await refusedUnwritable(pub, "EROFS", "cannot be emptied: read-only file system");
    } finally {
      execFileSync("umount", [pub]);
    }
  });

  it("a full disk: the error names the path (ENOSPC)", async function () {
    const mnt = path.join(tmpDir("enospc"), "mnt");
    try {
      execFileSync("mkdir", ["-p", mnt]);
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt], { stdio: "ignore" });
    } catch {
      this.skip(); // needs root (mount); the CI container runs as root
    }
    try {
      try {
        writeFileSync(path.join(mnt, "fill"), Buffer.alloc(1 << 20));
      } catch {
        // full now
      }
      const r = await runCli([
        "prove",
        "-s",
        EXAMPLE,
        "-o",
        path.join(mnt, "out"),
        "--profile",
        "test",
        "--json",
      ]);
      assert.equal(r.code, 1, r.stderr);
      const e = JSON.parse(r.stdout) as { code: string; error: string; path: string };
      assert.equal(e.code, "ENOSPC");
      assert.ok(e.path.startsWith(mnt), e.path);
      assert.match(e.error, new RegExp(`cannot write ${mnt}/out/\\S+: no space left on device`));
    } finally {
      execFileSync("umount", [mnt]);
    }
  });
});
