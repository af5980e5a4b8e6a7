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
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, rmSync, type Stats } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import lockfile from "proper-lockfile";

/** Prefix of every temporary file or directory bulkhead creates (see .gitignore). */
export const TMP_PREFIX = ".bulkhead-tmp";

function tmpName(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `${TMP_PREFIX}-${base}-${process.pid}-${randomBytes(4).toString("hex")}`);
}

/**
 * A file system error that names `file` (Node's ENOSPC, EDQUOT, EIO from a write name no path):
 * "cannot write FILE: no space left on device (ENOSPC)"; keeps `code` and sets `path`.
 */
export function fsErrorAt(err: unknown, file: string, verb = "write"): Error {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== "string" || (typeof e.message === "string" && e.message.includes(file)))
    return err as Error;
  const reason = e.code === "ENOSPC" ? "no space left on device" : e.message.replace(/^E[A-Z]+: /, "");
  const out = new Error(`cannot ${verb} ${file}: ${reason} (${e.code})`) as NodeJS.ErrnoException;
  out.code = e.code;
  out.path = file;
  return out;
}

export interface WriteOptions {
  /** mode of a newly created file (default 0o666 minus umask); 0o600 for private files */
  mode?: number;
}

/**
 * Write `data` to `file` atomically (tmp file in the same directory, created with `mode`, fsync,
 * rename). A private file is never readable by others, not even for an instant. Errors name the file.
 */
export async function atomicWrite(
  file: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tmpName(file);
  try {
    const fh = await fs.open(tmp, "wx", opts.mode ?? 0o666);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw fsErrorAt(err, file);
  }
}

/** Write a new file (exclusive create) with `mode`; errors name the file. */
export async function writeNewFile(
  file: string,
  data: string | Uint8Array,
  opts: WriteOptions = {},
): Promise<void> {
  try {
    await fs.writeFile(file, data, { flag: "wx", mode: opts.mode ?? 0o666 });
  } catch (err) {
    throw fsErrorAt(err, file);
  }
}

/** Remove `.bulkhead-tmp*` leftovers of killed runs directly inside `dir`; returns their names. */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(TMP_PREFIX));
  for (const n of names) await fs.rm(path.join(dir, n), { recursive: true, force: true });
  return names;
}

/** `atomicWrite` of `JSON.stringify(value, null, 2)` plus a trailing newline. */
export async function atomicWriteJson(file: string, value: unknown, opts: WriteOptions = {}): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(value, null, 2)}\n`, opts);
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

/** `target` cannot be written, renamed or removed; `path` is the entry that refuses, `code` its errno. */
export class NotWritableError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
  ) {
    super(message);
    this.name = "NotWritableError";
  }
}

/** The nearest existing directory at or above `p`. */
async function existingAncestor(p: string): Promise<string> {
  let dir = p;
  while (!(await exists(dir)) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

/** access(2) W_OK of `p`: undefined when allowed, else the errno code. */
async function writeDenied(p: string): Promise<string | undefined> {
  try {
    await fs.access(p, fs.constants.W_OK);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? "EACCES";
  }
}

const DENIED_REASON: Record<string, string> = {
  EROFS: "read-only file system",
  EPERM: "operation not permitted (immutable)",
  EACCES: "permission denied",
  EBUSY: "the mount point of another file system, which cannot be renamed or removed",
};

/** "cannot replace TARGET: ENTRY is not writable: read-only file system (EROFS)" ("write" for a new TARGET). */
function notWritable(target: string, entry: string, code: string, what: string, verb = "replace") {
  const reason = DENIED_REASON[code] ?? code;
  return new NotWritableError(`cannot ${verb} ${target}: ${entry} ${what}: ${reason} (${code})`, code, entry);
}

/**
 * Throws a NotWritableError naming the entry and the reason unless `target` (a file or a
 * directory, present or not) can be replaced or removed as a whole: the directory it lives in is
 * writable, and no entry at or below it is the mount point of another file system, on a read-only
 * file system, immutable, or a directory whose entries cannot be removed. Checked with access(2),
 * which refuses even the superuser on a read-only mount (EROFS) or an immutable entry (EPERM); a
 * file's own mode bits do not matter, since removing it needs only its directory's. Writes nothing.
 */
export async function checkReplaceable(target: string): Promise<void> {
  const parent = await existingAncestor(path.dirname(target));
  const st = await fs.lstat(target).catch(() => undefined);
  const denied = await writeDenied(parent);
  if (denied) throw notWritable(target, parent, denied, "is not writable", st ? "replace" : "write");
  if (st) await checkRemovable(target, target, st, (await fs.stat(parent)).dev);
}

async function checkRemovable(target: string, entry: string, st: Stats, dev: number): Promise<void> {
  if (st.dev !== dev) throw notWritable(target, entry, "EBUSY", "is");
  if (st.isSymbolicLink()) return;
  const denied = await writeDenied(entry);
  if (st.isDirectory()) {
    if (denied) throw notWritable(target, entry, denied, "cannot be emptied");
    for (const name of await fs.readdir(entry)) {
      const p = path.join(entry, name);
      await checkRemovable(target, p, await fs.lstat(p), dev);
    }
  } else if (denied === "EPERM" || denied === "EROFS") {
    throw notWritable(target, entry, denied, "cannot be removed");
  }
}

/**
 * Atomically put directory `src` at `dest`, replacing any previous `dest`. The old directory is
 * first renamed aside, so at every instant `dest` is either the complete old or the complete new
 * directory (or, after a crash in between, absent). `private`: keep `src`'s owner-only mode.
 * A `dest` that could not be removed once aside (checkReplaceable) is refused before anything moves.
 */
export async function replaceDir(src: string, dest: string, opts: { private?: boolean } = {}): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await checkReplaceable(dest);
  // mkdtemp creates 0700 directories: kept for private ones; artifacts are readable like ordinary files.
  if (!opts.private) await fs.chmod(src, 0o755 & ~process.umask());
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

/** Another run holds the lock (after waiting the bounded time). */
export class LockError extends Error {
  readonly code = "ELOCKED";
  constructor(
    message: string,
    readonly lockPath: string,
    readonly holder?: LockHolder,
  ) {
    super(message);
    this.name = "LockError";
  }
}

/** Who holds a lock: written next to it (`<lock>.owner.json`) by the holder. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface LockOptions {
  /** give up after this many ms of waiting (default 30 min; 0: do not wait) */
  timeoutMs?: number;
  /** a lock not refreshed for this long is stale and taken over (default LOCK_STALE_MS) */
  staleMs?: number;
  /** called once when the lock is busy and this run starts waiting */
  onWait?: (message: string) => void;
  /** called if the lock was lost while held (e.g. the process was suspended past the stale time) */
  onCompromised?: (err: Error) => void;
}

/** A held lock whose holder stopped refreshing it for this long is stale and taken over. */
export const LOCK_STALE_MS = 60_000;

function describeHolder(h: LockHolder | undefined): string {
  if (!h) return "another bulkhead run (no owner record)";
  return `process ${h.pid} on ${h.host} (${h.command}) since ${h.since}`;
}

/**
 * Cross-process lock on `file` (a directory created atomically with mkdir, proper-lockfile),
 * refreshed by its holder every 2 s. A holder that died (kill -9, power cut,
 * container restart) stops refreshing it, so it turns stale after LOCK_STALE_MS and is taken over
 * whatever pid its record names (a reused pid cannot keep it alive); when the record names a
 * process of this host that is gone, it is taken over as soon as it is 2 s old.
 * A lock held in this same process is busy like any other (two runs on one directory in one
 * process do not both go ahead). While busy, waits at most
 * `timeoutMs`, then throws a LockError naming the holder and since when. Returns the release.
 */
export async function acquireLock(file: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const ownerFile = `${file}.owner.json`;
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const staleMs = opts.staleMs ?? LOCK_STALE_MS;
  const deadline = Date.now() + timeoutMs;
  let waited = false;
  let holderDead = false;
  for (;;) {
    try {
      const release = await lockfile.lock(file, {
        lockfilePath: file,
        realpath: false,
        // a holder on this host whose process is gone: take over as soon as its lock has not been
        // refreshed for 2 s (proper-lockfile's minimum), so that a just-acquired lock whose owner
        // record is not written yet is never taken
        stale: holderDead ? 2000 : staleMs,
        update: Math.min(2000, Math.floor(staleMs / 2)),
        retries: 0,
        onCompromised: (err) =>
          opts.onCompromised
            ? opts.onCompromised(err)
            : process.stderr.write(`warning: lock ${file} was compromised: ${err.message}\n`),
      });
      const holder: LockHolder = {
        pid: process.pid,
        host: os.hostname(),
        command: process.argv
          .slice(1)
          .map((a) => path.basename(a))
          .join(" ")
          .slice(0, 200),
        since: new Date().toISOString(),
      };
      await atomicWriteJson(ownerFile, holder).catch(async (err) => {
        await release().catch(() => undefined);
        throw err;
      });
      heldLocks.add(file);
      return async () => {
        heldLocks.delete(file);
        await fs.rm(ownerFile, { force: true });
        await release().catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ELOCKED") throw err;
    }
    const holder = await readJsonIfExists<LockHolder>(ownerFile).catch(() => undefined);
    holderDead = holder?.host === os.hostname() && holder.pid !== process.pid && !pidAlive(holder.pid);
    if (Date.now() >= deadline) {
      throw new LockError(
        `${file} is locked by ${describeHolder(holder)}: another run is writing this directory. Wait for it to finish (or stop it) and run again, or wait longer with --lock-timeout <seconds>; a lock left by a run that died is taken over automatically ${Math.round(staleMs / 1000)} s after it stopped refreshing it`,
        file,
        holder,
      );
    }
    if (!waited) {
      waited = true;
      opts.onWait?.(
        holderDead
          ? `the lock ${file} was held by ${describeHolder(holder)}, which is gone: taking it over once it is 2 s old`
          : `waiting up to ${Math.round(timeoutMs / 1000)} s for the lock ${file}, held by ${describeHolder(holder)}`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(500, Math.max(1, deadline - Date.now()))));
  }
}

const heldLocks = new Set<string>();

/**
 * Releases every lock this process holds, synchronously: for a process about to exit on a signal
 * (SIGINT), so that the next run does not wait for the lock to turn stale.
 */
export function releaseHeldLocksSync(): string[] {
  const released = [...heldLocks];
  for (const file of released) {
    heldLocks.delete(file);
    rmSync(`${file}.owner.json`, { force: true });
    try {
      lockfile.unlockSync(file, { lockfilePath: file, realpath: false });
    } catch {
      // already released
    }
  }
  return released;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** sha256 (hex) of a file, streamed (works for multi-GB ptau files). */
export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  return h.digest("hex");
}
