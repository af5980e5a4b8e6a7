/**
 * checkReplaceable (src/util/fsutil.ts), which `prove` runs on its outputs before proving and
 * replaceDir before moving anything: each way an output can resist replacement is named with the
 * entry and its errno, for the superuser too (a read-only mount, an immutable file, the mount point
 * of another file system); a file's own read-only mode does not count (removing it needs only its
 * directory). The mounts and chattr need root (the CI container runs as root); else skipped.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { checkReplaceable, NotWritableError } from "../../src/util/fsutil.js";

const isRoot = process.getuid?.() === 0;

/** Rejects with a NotWritableError of `code` naming `entry`, with a message matching `msg`. */
async function refused(target: string, code: string, entry: string, msg: RegExp): Promise<void> {
  await assert.rejects(checkReplaceable(target), (e: unknown) => {
    assert.ok(e instanceof NotWritableError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.path, entry);
    assert.match(e.message, msg);
    return true;
  });
}

describe("checkReplaceable: outputs that cannot be replaced are named before anything moves", () => {
  let dir: string;
  let out: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "bulkhead-replaceable-"));
    out = path.join(dir, "public");
    mkdirSync(path.join(out, "vkeys"), { recursive: true });
    writeFileSync(path.join(out, "bundle.json"), "{}");
    writeFileSync(path.join(out, "vkeys", "segment.json"), "{}");
  });
  afterEach(() => {
    if (isRoot) execFileSync("chattr", ["-R", "-i", dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("an ordinary tree, a missing target, and a read-only file (mode 0444) pass", async () => {
    chmodSync(path.join(out, "bundle.json"), 0o444);
    await checkReplaceable(out);
    await checkReplaceable(path.join(dir, "new", "public"));
  });

  it("an immutable file inside is named (EPERM)", async function () {
    if (!isRoot) this.skip(); // chattr needs root
    const f = path.join(out, "vkeys", "segment.json");
    execFileSync("chattr", ["+i", f]);
    await refused(
      out,
      "EPERM",
      f,
      new RegExp(`^cannot replace ${out}: ${f} cannot be removed: .*\\(EPERM\\)$`),
    );
  });

  it("a read-only mount: an existing target (cannot replace) and a new one (cannot write) (EROFS)", async function () {
    if (!isRoot) this.skip(); // mount needs root
    const mnt = path.join(dir, "ro");
    mkdirSync(path.join(mnt, "old"), { recursive: true });
    execFileSync("mount", ["--bind", mnt, mnt]);
    try {
      execFileSync("mount", ["-o", "remount,bind,ro", mnt]);
      const old = path.join(mnt, "old");
      await refused(old, "EROFS", mnt, new RegExp(`^cannot replace ${old}: ${mnt} is not writable`));
      const fresh = path.join(mnt, "new", "public");
      await refused(fresh, "EROFS", mnt, new RegExp(`^cannot write ${fresh}: ${mnt} is not writable`));
    } finally {
      execFileSync("umount", [mnt]);
    }
  });

  it("the mount point of another file system inside is named (EBUSY)", async function () {
    if (!isRoot) this.skip(); // mount needs root
    const mnt = path.join(out, "vkeys");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
    try {
      await refused(out, "EBUSY", mnt, /the mount point of another file system/);
    } finally {
      execFileSync("umount", [mnt]);
    }
  });
});
