/**
 * The directory lock: stale-safe (a dead holder's lock is taken over whatever
 * pid its record names), says who holds it and since when, gives up after a bounded time, and a
 * second taker in the same process is refused like any other.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLock, LockError } from "../../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";

describe("acquireLock", function () {
  this.timeout(60_000);
  let tmp: string;
  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-lock-"));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it("refuses a second taker in the same process, naming the holder and since when", async () => {
    const file = path.join(tmp, ".lock");
    const release = await acquireLock(file);
    const t0 = Date.now();
    await assert.rejects(acquireLock(file, { timeoutMs: 700 }), (err: unknown) => {
      assert.ok(err instanceof LockError);
      assert.match(
        err.message,
        new RegExp(`locked by process ${process.pid} on .* since \\d{4}-\\d\\d-\\d\\dT`),
      );
      assert.match(err.message, /--lock-timeout/);
      return true;
    });
    assert.ok(Date.now() - t0 >= 600, "waited the bounded time");
    assert.ok(Date.now() - t0 < 5000, "and no longer");
    await release();
    const again = await acquireLock(file, { timeoutMs: 0 });
    await again();
  });

  it("says once that it waits, then gets the lock when the holder releases it", async () => {
    const file = path.join(tmp, ".lock");
    const release = await acquireLock(file);
    const waits: string[] = [];
    setTimeout(() => void release(), 600);
    const second = await acquireLock(file, { timeoutMs: 10_000, onWait: (m) => waits.push(m) });
    assert.equal(waits.length, 1);
    assert.match(waits[0] ?? "", new RegExp(`held by process ${process.pid}`));
    await second();
  });

  it("takes over the lock of a killed holder, whatever live pid its record names", async () => {
    const file = path.join(tmp, ".lock");
    // a holder in another process, killed with SIGKILL while holding the lock
    const script = `import { acquireLock } from ${JSON.stringify(path.join(PACKAGE_ROOT, "src/util/fsutil.ts"))};
      await acquireLock(${JSON.stringify(file)}, { staleMs: 2000 }); process.stdout.write("held\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    await assert.rejects(acquireLock(file, { timeoutMs: 300, staleMs: 2000 }), (err: unknown) => {
      assert.ok(err instanceof LockError);
      assert.match(err.message, new RegExp(`locked by process ${child.pid} `));
      return true;
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    // its owner record now names a live, unrelated pid (as after a pid reuse): must not matter
    const owner = JSON.parse(await fs.readFile(`${file}.owner.json`, "utf8")) as { pid: number };
    owner.pid = 1;
    await fs.writeFile(`${file}.owner.json`, JSON.stringify(owner));
    const t0 = Date.now();
    const release = await acquireLock(file, { timeoutMs: 10_000, staleMs: 2000 });
    assert.ok(Date.now() - t0 < 5000);
    await release();
  });

  it("takes over at once the lock of a killed holder of this host (its pid is gone)", async () => {
    const file = path.join(tmp, ".lock");
    const script = `import { acquireLock } from ${JSON.stringify(path.join(PACKAGE_ROOT, "src/util/fsutil.ts"))};
      await acquireLock(${JSON.stringify(file)}); process.stdout.write("held\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const t0 = Date.now();
    const said: string[] = [];
    const release = await acquireLock(file, { timeoutMs: 30_000, onWait: (m) => said.push(m) }); // default stale time: 60 s
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
    await release();
    // it says the holder is gone, never that it waits on it
    assert.deepEqual(said.length, 1, said.join("\n"));
    assert.match(
      said[0] as string,
      new RegExp(`held by process ${child.pid} .* which is gone: taking it over`),
    );
    assert.doesNotMatch(said[0] as string, /waiting up to/);
  });
});
