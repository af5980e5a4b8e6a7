/**
 * Bounded memory while proving: the epoch build keeps no circuit input, and both proof
 * backends build inputs only for a bounded window of jobs in flight, the next one as one completes.
 *
 * Instrumented, not timed: the backends receive tasks whose `input()` is counted (inputs built
 * minus proofs stored = inputs alive at most), and on the queue an in-process BullMQ worker reads
 * the queue's job counts (every state, completed included) each time it takes a job, i.e. how many
 * jobs with their private inputs are in Redis while proving goes on.
 */
import assert from "node:assert/strict";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { auditBundle } from "../../src/audit/node.js";
import { buildEpoch } from "../../src/epoch/plan.js";
import { proveSnapshot } from "../../src/pipeline.js";
import type { BackendContext, ProofBackend, ProofTask } from "../../src/prove/backend.js";
import { localBackend } from "../../src/prove/backend.js";
import { ProverPool } from "../../src/prove/pool.js";
import { QueueBackend } from "../../src/prove/queue/coordinator.js";
import {
  parseJobData,
  parseQueueUrl,
  type QueueJobResult,
  RESULT_FORMAT,
} from "../../src/prove/queue/protocol.js";
import { loadSnapshot } from "../../src/snapshot/snapshot.js";
import { getProfile } from "../../src/spec/profiles.js";
import { loadArtifacts } from "../../src/toolchain/artifacts.js";
import { EXAMPLE, secretFile, tmpDir } from "../helpers/epoch.js";
import { ensureTestKeys } from "./fixtures.js";
import { RedisServer, requireRedisOrSkip } from "./redis.js";

/** A backend that counts the inputs its inner backend builds and the proofs it stores. */
function counting(inner: ProofBackend) {
  const c = { built: 0, stored: 0, maxAlive: 0, tasks: 0 };
  const backend: ProofBackend = {
    name: inner.name,
    prove: (tasks: readonly ProofTask[], ctx: BackendContext) => {
      c.tasks = tasks.length;
      const wrapped = tasks.map((t) => ({
        ...t,
        input: () => {
          c.built++;
          c.maxAlive = Math.max(c.maxAlive, c.built - c.stored);
          return t.input();
        },
      }));
      return inner.prove(wrapped, {
        ...ctx,
        onProof: async (t, out) => {
          await ctx.onProof(t, out);
          c.stored++;
        },
      });
    },
  };
  return { backend, c };
}

describe("bounded memory: lazy inputs, a window of jobs in flight", function () {
  this.timeout(600_000);

  before(async () => {
    await ensureTestKeys();
  });

  it("the epoch build holds no circuit input; inputOf rebuilds exactly what the chaining saw", async () => {
    const profile = getProfile("test");
    const snapshot = await loadSnapshot(EXAMPLE, { profile });
    const seen = new Map<string, string>();
    const b = await buildEpoch(snapshot, profile, new Uint8Array(32).fill(3), {
      onInput: (job, input) => seen.set(job.id, JSON.stringify(input)),
    });
    assert.equal(seen.size, b.jobs.length);
    for (const s of b.segments) for (const x of s.batches) assert.ok(!("input" in x));
    for (const x of b.list) assert.ok(!("input" in x));
    for (const j of b.jobs) {
      assert.ok(!("input" in j));
      assert.equal(JSON.stringify(b.inputOf(j)), seen.get(j.id), j.id);
    }
  });

  it("local pool: at most one input per proving thread at a time", async () => {
    const { backend, c } = counting(localBackend({ workers: 1, singleThread: true }));
    const s = await proveSnapshot({
      snapshot: EXAMPLE,
      out: tmpDir("window-local"),
      profile: "test",
      secretFile: secretFile(),
      backend,
    });
    assert.ok(c.tasks > 2, `${c.tasks} jobs`);
    assert.equal(s.proofs.proven, c.tasks);
    assert.equal(c.built, c.tasks);
    assert.equal(c.maxAlive, 1);
  });

  describe("queue", () => {
    let redis: RedisServer;
    before(async function () {
      requireRedisOrSkip(this);
      redis = await RedisServer.start();
    });
    after(async () => {
      await redis?.stop();
    });

    it("the coordinator never has more than its window of jobs in Redis, and builds inputs as jobs finish", async () => {
      const queue = "q-window";
      const WINDOW = 2;
      const { options } = parseQueueUrl(redis.url());
      const conns = [new Redis({ ...options }), new Redis({ ...options })];
      const observer = new Queue(queue, { connection: conns[0] as Redis });
      const pool = new ProverPool({ workers: 1, singleThread: true });
      const arts = {
        segment: await loadArtifacts("segment", "test"),
        lotlist: await loadArtifacts("lotlist", "test"),
      };
      let maxInRedis = 0;
      let taken = 0;
      const worker = new Worker(
        queue,
        async (job): Promise<QueueJobResult> => {
          taken++;
          const counts = await observer.getJobCounts(
            "wait",
            "active",
            "delayed",
            "prioritized",
            "waiting-children",
            "completed",
            "failed",
          );
          maxInRedis = Math.max(
            maxInRedis,
            Object.values(counts).reduce((a, b) => a + b, 0),
          );
          const d = parseJobData(job.data);
          const a = arts[d.circuit];
          const out = await pool.prove({ id: d.job, input: d.input, wasm: a.wasm, zkey: a.zkey });
          return { format: RESULT_FORMAT, ...out, worker: "observer:1" };
        },
        { connection: conns[1] as Redis, concurrency: 1 },
      );
      try {
        const { backend, c } = counting(
          new QueueBackend({ url: redis.url(), queueName: queue, reconcileMs: 300, window: WINDOW }),
        );
        const s = await proveSnapshot({
          snapshot: EXAMPLE,
          out: tmpDir("window-queue"),
          profile: "test",
          secretFile: secretFile(),
          backend,
        });
        assert.ok(c.tasks > 2 * WINDOW, `${c.tasks} jobs`);
        assert.equal(s.proofs.proven, c.tasks);
        assert.equal(taken, c.tasks, "each job proven once");
        assert.ok(maxInRedis >= 1 && maxInRedis <= WINDOW, `${maxInRedis} jobs in Redis at once`);
        assert.ok(c.maxAlive <= WINDOW, `${c.maxAlive} inputs built ahead of stored proofs`);
        assert.equal(c.built, c.tasks, "each input built once (no job lost or re-queued)");
        const rep = await auditBundle(s.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
        assert.ok(rep.ok, rep.errors.join("; "));
      } finally {
        await worker.close();
        await observer.close();
        await pool.close();
        for (const x of conns) await x.quit();
      }
    });
  });
});
