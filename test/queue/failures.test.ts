/**
 * Failure behaviour of distributed proving, with real processes and a real Redis: a worker killed
 * (SIGKILL) mid-job, whose job another worker takes over (BullMQ stalled jobs); a coordinator
 * killed and restarted, which reuses the work cache and the proofs completed while it was down;
 * a Redis restarted (empty: no persistence), after which both sides reconnect and the lost jobs
 * are queued again. In every case the epoch audits with exactly one proof per batch.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { auditBundle } from "../../src/audit/node.js";
import { type Bundle, parseBundle } from "../../src/bundle/bundle.js";
import { proveSnapshot } from "../../src/pipeline.js";
import { QueueBackend } from "../../src/prove/queue/coordinator.js";
import { TMP_PREFIX } from "../../src/util/fsutil.js";
import { secretFile, tmpDir } from "../helpers/epoch.js";
import { ensureTestKeys, subsetSnapshot } from "./fixtures.js";
import { bulkhead, kill, type Proc, RedisServer, requireRedisOrSkip, waitFor } from "./redis.js";

/**
 * Proofs stored in a work directory: finished files only. A coordinator killed while writing one
 * leaves its atomic-write temporary (TMP_PREFIX) behind, which is not a stored proof (and is
 * cleaned by the next run).
 */
const count = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((n) => !n.startsWith(TMP_PREFIX)).length : 0;
const provedLines = (text: string) => text.match(/^proved \S+/gm) ?? [];

async function assertOneProofPerBatch(out: string): Promise<void> {
  const publicDir = path.join(out, "public");
  const rep = await auditBundle(publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
  assert.ok(rep.ok, rep.errors.join("; "));
  const b: Bundle = parseBundle(JSON.parse(readFileSync(path.join(publicDir, "bundle.json"), "utf8")));
  assert.equal(b.proofs.segments[0]?.batches.length, 2);
  assert.equal(b.proofs.lotList.length, 1);
  assert.equal(count(path.join(out, "private", "work")), 3);
}

describe("queue: failures (killed worker, restarted coordinator, restarted Redis)", function () {
  this.timeout(600_000);
  let redis: RedisServer;
  let snapshot: string;
  const procs: Proc[] = [];

  before(async function () {
    requireRedisOrSkip(this);
    await ensureTestKeys();
    redis = await RedisServer.start();
    snapshot = subsetSnapshot([1]); // 3 proofs
  });
  after(async () => {
    for (const p of procs) await kill(p);
    await redis?.stop();
  });

  it("a worker killed mid-job: its job is retaken; the coordinator killed and restarted: finished proofs reused", async () => {
    const queue = "q-kill";
    const out = tmpDir("queue-kill");
    const proveArgs = ["prove", "-s", snapshot, "-o", out, "-p", "test", "--secret", secretFile()];
    const coord1 = bulkhead([...proveArgs, "--queue", redis.url(), "--queue-name", queue]);
    // short locks so that a killed worker's job is retaken within seconds
    const workerArgs = [
      "worker",
      "--queue",
      redis.url(),
      "--queue-name",
      queue,
      "-w",
      "1",
      "--single-thread",
      // snarkjs: a job long enough to kill its worker mid-proof
      "--prover",
      "snarkjs",
    ];
    const fast = ["--lock-ms", "4000", "--stalled-ms", "1000"];
    const a = bulkhead([...workerArgs, ...fast]);
    procs.push(coord1, a);

    const c = redis.client();
    try {
      // kill worker A while it proves its first job
      let activeId: string | undefined;
      await waitFor(
        async () => {
          activeId = (await c.lrange(`bull:${queue}:active`, 0, 0))[0];
          return activeId !== undefined;
        },
        120_000,
        "worker A to take a job",
      );
      const killedJob = await c.hget(`bull:${queue}:${activeId}`, "name");
      await new Promise((r) => setTimeout(r, 500));
      await kill(a);
      assert.deepEqual(provedLines(a.output()), [], "A was killed before finishing its job");

      // worker B takes over, including A's stalled job
      const b = bulkhead([...workerArgs, ...fast]);
      procs.push(b);
      await waitFor(() => count(path.join(out, "private", "work")) >= 1, 180_000, "a first stored proof");
      await kill(coord1);
      assert.ok(!existsSync(path.join(out, "public")), "the killed coordinator wrote no bundle");
      const stored = count(path.join(out, "private", "work"));
      // B goes on while no coordinator runs: its proofs wait in the queue's completed set
      await waitFor(async () => (await c.zcard(`bull:${queue}:completed`)) >= 1, 180_000, "a completed job");

      const coord2 = bulkhead([...proveArgs, "--queue", redis.url(), "--queue-name", queue, "--json"]);
      procs.push(coord2);
      const exit = await coord2.exit;
      assert.equal(exit.code, 0, coord2.output());
      const summary = JSON.parse(coord2.output().slice(coord2.output().indexOf("{\n")));
      assert.equal(summary.proofs.total, 3);
      assert.equal(summary.proofs.reused, stored);
      assert.equal(summary.proofs.proven, 3 - stored);
      await assertOneProofPerBatch(out);

      // A's job was proven by B; B proved every job exactly once (nothing re-proven after the restart)
      const byB = provedLines(b.output()).map((l) => l.slice("proved ".length));
      assert.ok(byB.includes(String(killedJob)), `B proved ${killedJob}: ${byB.join(", ")}`);
      assert.deepEqual([...byB].sort(), ["lotlist-0", "segment-1-0", "segment-1-1"]);
      assert.deepEqual(await c.keys(`bull:${queue}:${"?".repeat(64)}*`), [], "no job data left");
      await kill(b, "SIGTERM");
    } finally {
      await c.quit();
    }
  });

  it("Redis restarted (empty) mid-epoch: worker and coordinator reconnect, lost jobs are queued again", async () => {
    const queue = "q-redis";
    const out = tmpDir("queue-redis");
    const proving = proveSnapshot({
      snapshot,
      out,
      profile: "test",
      secretFile: secretFile(),
      backend: new QueueBackend({ url: redis.url(), queueName: queue, reconcileMs: 500 }),
    });
    proving.catch(() => undefined);
    const w = bulkhead([
      "worker",
      "--queue",
      redis.url(),
      "--queue-name",
      queue,
      "-w",
      "1",
      "--single-thread",
      // snarkjs: slow enough that the epoch is still running when Redis restarts
      "--prover",
      "snarkjs",
    ]);
    procs.push(w);
    await waitFor(() => count(path.join(out, "private", "work")) >= 1, 180_000, "a first stored proof");
    await redis.restart();
    const s = await proving;
    assert.equal(s.proofs.total, 3);
    await assertOneProofPerBatch(out);
    await kill(w, "SIGTERM");
    assert.equal((await w.exit).code, 0, w.output());
  });
});
