/**
 * Distributed proving on a real Redis: a coordinator (proveSnapshot with the BullMQ backend) and
 * `bulkhead worker` processes. A worker with another verification key refuses its job; two
 * workers prove the example epoch, which audits; a lying worker's proofs are rejected and the
 * jobs reported by id; no job data is left in Redis.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { type Job, Worker } from "bullmq";
import { Redis } from "ioredis";
import { auditBundle } from "../../src/audit/node.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { QueueBackend } from "../../src/prove/queue/coordinator.js";
import { parseQueueUrl, type QueueJobResult, RESULT_FORMAT } from "../../src/prove/queue/protocol.js";
import { createReporter } from "../../src/util/progress.js";
import { secretFile, tmpDir } from "../helpers/epoch.js";
import { ensureTestKeys, subsetSnapshot, wrongKeyBuildDir } from "./fixtures.js";
import { bulkhead, kill, type Proc, RedisServer, requireRedisOrSkip } from "./redis.js";

const PASSWORD = "s3cret-pw";

function capture() {
  const lines: string[] = [];
  const reporter = createReporter({ stream: { write: (s: string) => lines.push(s) } });
  return { reporter, text: () => lines.join("") };
}

/** Redis keys of BullMQ jobs (a job's hash is bull:<queue>:<jobId>; ours are 64 hex digits). */
async function jobKeys(redis: RedisServer, queue: string): Promise<string[]> {
  const c = redis.client();
  try {
    return (await c.keys(`bull:${queue}:*`)).filter((k) => /:[0-9a-f]{64}(:|$)/.test(k));
  } finally {
    await c.quit();
  }
}

describe("queue: distributed proving on BullMQ/Redis", function () {
  this.timeout(600_000);
  let redis: RedisServer;
  const procs: Proc[] = [];
  // segment 1 of the example: 2 segment batches and 1 lot-list batch
  let snapshot: string;

  before(async function () {
    requireRedisOrSkip(this);
    await ensureTestKeys();
    // password-protected: the URL carries the password, which must never be printed
    redis = await RedisServer.start({ password: PASSWORD });
    snapshot = subsetSnapshot([1]);
  });
  after(async () => {
    for (const p of procs) await kill(p);
    await redis?.stop();
  });

  it("a worker with another key refuses; two workers prove an epoch that audits; no job data is left", async () => {
    const queue = "q-two";
    const log = capture();
    const proving = proveSnapshot({
      snapshot,
      out: tmpDir("queue-two"),
      profile: "test",
      secretFile: secretFile(),
      backend: new QueueBackend({ url: redis.url(), queueName: queue, reconcileMs: 500 }),
      reporter: log.reporter,
    });
    proving.catch(() => undefined);
    const args = ["worker", "--queue", redis.url(), "--queue-name", queue, "-w", "1", "--single-thread"];

    // first a worker whose segment key is another one: it must refuse (jobs are FIFO, segments first)
    const wrong = bulkhead([...args, "--build-dir", await wrongKeyBuildDir()]);
    procs.push(wrong);
    const wrongExit = await wrong.exit;
    assert.equal(wrongExit.code, 1, wrong.output());
    assert.match(
      wrong.output(),
      /error: refusing job segment-1-0: this worker's segment-test verification key is sha256 [0-9a-f]{64}, the coordinator's is [0-9a-f]{64}/,
    );
    assert.doesNotMatch(wrong.output(), /proved /);

    const a = bulkhead(args);
    const b = bulkhead(args);
    procs.push(a, b);
    const s: ProveSummary = await proving;
    assert.deepEqual(s.proofs, { total: 3, reused: 0, proven: 3 });
    const rep = await auditBundle(s.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
    assert.ok(rep.ok, rep.errors.join("; "));
    assert.equal(readdirSync(path.join(s.privateDir, "work")).length, 3);
    // the refused job was proven by a correct worker, and both workers took part
    assert.match(a.output() + b.output(), /proved segment-1-0 /);
    for (const w of [a, b]) assert.match(w.output(), /proved (segment|lotlist)-\d+/);
    assert.match(log.text(), /proving: \d\/3 done, elapsed \S+, ETA \S+ \(.*2 worker\(s\)/);

    // the password is never printed
    for (const t of [log.text(), a.output(), b.output(), wrong.output()]) assert.ok(!t.includes(PASSWORD));
    // every job (and with it its private input) is gone from Redis
    assert.deepEqual(await jobKeys(redis, queue), []);

    for (const w of [a, b]) {
      await kill(w, "SIGTERM");
      assert.equal((await w.exit).code, 0, w.output());
    }
  });

  it("rejects a lying worker's proofs (valid proofs of other batches) and reports each job by id", async () => {
    const queue = "q-liar";
    // the same epoch as above (same snapshot and secret, so the same job keys): the liar answers
    // job K with the real proof of another job, either with that job's public signals or with K's
    const work = workFilesOfFirstTest();
    const keys = [...work.keys()];
    let answered = 0;
    const conn = new Redis({ ...parseQueueUrl(redis.url()).options });
    const liar = new Worker(
      queue,
      async (job: Job): Promise<QueueJobResult> => {
        answered++;
        const own = work.get(String(job.id));
        const other = work.get(keys[(keys.indexOf(String(job.id)) + 1) % keys.length] as string);
        assert.ok(own && other);
        const publicSignals = answered % 2 === 0 ? own.publicSignals : other.publicSignals;
        return { format: RESULT_FORMAT, proof: other.proof, publicSignals, ms: 1, worker: "liar:1" };
      },
      { connection: conn, concurrency: 1 },
    );
    try {
      const log = capture();
      const out = tmpDir("queue-liar");
      await assert.rejects(
        proveSnapshot({
          snapshot,
          out,
          profile: "test",
          secretFile: secretFile(),
          backend: new QueueBackend({
            url: redis.url(),
            queueName: queue,
            reconcileMs: 300,
            maxBadProofs: 2,
          }),
          reporter: log.reporter,
        }),
        (err: Error) => {
          assert.match(err.message, /^3 job\(s\) have no valid proof: /);
          for (const id of ["segment-1-0", "segment-1-1", "lotlist-0"])
            assert.match(err.message, new RegExp(`${id} \\(job [0-9a-f]{64}\\): 2 rejected proofs`));
          return true;
        },
      );
      const text = log.text();
      assert.match(
        text,
        /rejected the proof of worker liar:1: its public signals differ from the ones the coordinator derived/,
      );
      assert.match(
        text,
        /rejected the proof of worker liar:1: the proof does not verify against the coordinator's verification key/,
      );
      assert.equal(answered, 6); // 3 jobs x 2 proofs each, then reported
      assert.ok(!existsSync(path.join(out, "public")), "no bundle is written");
      const workDir = path.join(out, "private", "work");
      assert.ok(!existsSync(workDir) || readdirSync(workDir).length === 0, "no proof is stored");
      assert.deepEqual(await jobKeys(redis, queue), []);
    } finally {
      await liar.close();
      await conn.quit();
    }
  });
});

/** The first test's work files by key (= BullMQ job id): proof and public signals of each job. */
function workFilesOfFirstTest(): Map<string, Pick<QueueJobResult, "proof" | "publicSignals">> {
  const root = path.dirname(tmpDir("probe"));
  const dir = readdirSync(root).find((d) => d.startsWith("queue-two-"));
  assert.ok(dir, "the first test's output");
  const workDir = path.join(root, dir, "private", "work");
  const m = new Map<string, Pick<QueueJobResult, "proof" | "publicSignals">>();
  for (const f of readdirSync(workDir)) {
    const w = JSON.parse(readFileSync(path.join(workDir, f), "utf8"));
    m.set(w.key, { proof: w.proof, publicSignals: w.publicSignals });
  }
  assert.equal(m.size, 3);
  return m;
}
