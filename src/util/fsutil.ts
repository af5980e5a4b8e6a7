/**
 * Crash-safe file system helpers. Everything bulkhead writes goes through these:
 * a file is written to a temporary name in the same directory and renamed into place,
 * so a reader never sees a half-written file and a crash leaves at most a `.bulkhead-tmp*`
 * leftover (git-ignored), never a truncated artifact.
 *
 * Kept hand-written rather than a library (write-file-atomic and the like): a few tested lines
 * that also cover whole directories (`withTmpDir` + `replaceDir`), which those libraries do not,
 * and that name every temporary with one git-ignored prefix.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";

/** Prefix of every temporary file or directory bulkhead creates (see .gitignore). */
export const TMP_PREFIX = ".bulkhead-tmp";

function tmpName(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `${TMP_PREFIX}-${base}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/** Write `data` to `file` atomically (tmp file in the same directory, fsync, rename). */
export async function atomicWrite(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  try {
    const fh = await fs.open(tmp, "wx");
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** `atomicWrite` of `JSON.stringify(value, null, 2)` plus a trailing newline. */
export async function atomicWriteJson(file: string, value: unknown): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Copy `src` to `dest` atomically (copy to a tmp name, then rename). */
export async function atomicCopy(src: string, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const tmp = tmpName(dest);
  try {
    await fs.copyFile(src, tmp, fsConstants.COPYFILE_EXCL);
    await fs.rename(tmp, dest);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Run `fn` with a fresh temporary directory created inside `parent` (same file system, so its
 * contents can be renamed into place). The directory is removed afterwards, whether `fn`
 * succeeds or throws; move what you want to keep out of it (e.g. with `replaceDir`) inside `fn`.
 */
export async function withTmpDir<T>(
  parent: string,
  fn: (dir: string) => Promise<T>,
  label = "dir",
): Promise<T> {
  await fs.mkdir(parent, { recursive: true });
  const dir = await fs.mkdtemp(path.join(parent, `${TMP_PREFIX}-${label}-`));
  try {
    return await fn(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Atomically put directory `src` at `dest`, replacing any previous `dest`. The old directory is
 * first renamed aside, so at every instant `dest` is either the complete old or the complete new
 * directory (or, after a crash in between, absent).
 */
export async function replaceDir(src: string, dest: string): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  // mkdtemp creates 0700 directories; artifacts should be readable like ordinary files.
  await fs.chmod(src, 0o755 & ~process.umask());
  let aside: string | undefined;
  if (await exists(dest)) {
    aside = tmpName(dest);
    await fs.rename(dest, aside);
  }
  try {
    await fs.rename(src, dest);
  } catch (err) {
    if (aside) await fs.rename(aside, dest).catch(() => undefined);
    throw err;
  }
  if (aside) await fs.rm(aside, { recursive: true, force: true });
}

/** True when `p` exists (file or directory). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Read and parse a JSON file; `undefined` when it does not exist. Throws on invalid JSON. */
export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

/**
 * Simple cross-process lock: creates `file` exclusively, waits while another live process holds
 * it, takes over a lock whose owner process is gone. Returns a release function.
 */
export async function acquireLock(file: string, timeoutMs = 30 * 60_000): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      const fh = await fs.open(file, "wx");
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        await fs.rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const owner = Number.parseInt(await fs.readFile(file, "utf8").catch(() => ""), 10);
    if (!Number.isFinite(owner) || owner === process.pid || !pidAlive(owner)) {
      await fs.rm(file, { force: true });
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new Error(
        `lock ${file} is held by process ${owner}; giving up after ${Math.round(timeoutMs / 1000)}s`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
