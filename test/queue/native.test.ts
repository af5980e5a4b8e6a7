/**
 * Queue workers on the native prover (test profile, real Redis): a `bulkhead worker --prover
 * native` proves an epoch that audits, every proof verified by the coordinator; a native proof
 * corrupted on purpose on the worker (fault point `native:corrupt-proof`) is rejected by the
 * coordinator, reported by job id and worker, and proven again with snarkjs at its request.
 */
import assert from "node:assert/strict";
import { auditBundle } from "../../src/audit/node.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { QueueBackend } from "../../src/prove/queue/coordinator.js";
import { createReporter } from "../../src/util/progress.js";
import { secretFile, tmpDir } from "../helpers/epoch.js";
import { requireNativeWitness } from "../helpers/native.js";
import { ensureTestKeys, subsetSnapshot } from "./fixtures.js";
import { bulkhead, kill, type Proc, RedisServer, requireRedisOrSkip } from "./redis.js";

function capture() {
  const lines: string[] = [];
  const reporter = createReporter({ stream: { write: (s: string) => lines.push(s) } });
  return { reporter, text: () => lines.join("") };
}

describe("queue: workers on the native prover", function () {
  this.timeout(20 * 60_000);
  let redis: RedisServer;
  const procs: Proc[] = [];
  let snapshot: string;

  before(async function () {
    requireRedisOrSkip(this);
    await requireNativeWitness(this, "test");
    await ensureTestKeys();
    redis = await RedisServer.start();
    snapshot = subsetSnapshot([1]); // 2 segment batches and 1 lot-list batch
  });
  after(async () => {
    for (const p of procs) await kill(p);
    await redis?.stop();
  });

  /** One epoch through queue `queue` with one native worker (extra environment `env`). */
  async function epoch(queue: string, env: NodeJS.ProcessEnv = {}) {
    const log = capture();
    const proving = proveSnapshot({
      snapshot,
      out: tmpDir(queue),
      profile: "test",
      secretFile: secretFile(),
      backend: new QueueBackend({ url: redis.url(), queueName: queue, reconcileMs: 500 }),
      reporter: log.reporter,
    });
    proving.catch(() => undefined);
    const w = bulkhead(
      ["worker", "--queue", redis.url(), "--queue-name", queue, "-w", "1", "--prover", "native"],
      env,
    );
    procs.push(w);
    const s: ProveSummary = await proving;
    await kill(w, "SIGTERM");
    assert.equal((await w.exit).code, 0, w.output());
    const rep = await auditBundle(s.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
    assert.ok(rep.ok, rep.errors.join("; "));
    return { s, log: log.text(), worker: w.output() };
  }

  it("a native worker proves an epoch that audits", async () => {
    const { s, worker } = await epoch("q-native");
    assert.deepEqual(s.proofs, { total: 3, reused: 0, proven: 3 });
    assert.equal(s.prover.used, "queue");
    assert.deepEqual(s.prover.proofs, { native: 3, snarkjs: 0 });
    assert.deepEqual(s.prover.incidents, []);
    assert.match(worker, /prover native, 1 proving thread\(s\)/);
    assert.equal(worker.match(/proved (segment|lotlist)-[\d-]+ with native in \d+ ms/g)?.length, 3, worker);
  });

  it("a corrupted native proof is rejected by the coordinator, reported by job id, proven again with snarkjs", async () => {
    const { s, log, worker } = await epoch("q-native-corrupt", { BULKHEAD_FAULT: "native:corrupt-proof#1" });
    assert.deepEqual(s.prover.proofs, { native: 2, snarkjs: 1 });
    assert.equal(s.prover.incidents.length, 1);
    const inc = s.prover.incidents[0] as (typeof s.prover.incidents)[number];
    assert.match(
      inc.reason,
      /its native proof was rejected: the proof does not verify against the coordinator's verification key/,
    );
    assert.equal(inc.reprovedWith, "snarkjs");
    assert.match(inc.worker ?? "", /^.+:\d+$/);
    assert.ok(log.includes(`warning: job ${inc.job}: rejected the proof of worker ${inc.worker}`), log);
    assert.ok(
      log.includes(`warning: job ${inc.job}: worker ${inc.worker}: its native proof was rejected`),
      log,
    );
    assert.ok(
      worker.includes(`job ${inc.job}: the coordinator rejected its native proof; proving it with snarkjs`),
      worker,
    );
    assert.match(worker, new RegExp(`proved ${inc.job} with snarkjs in`));
  });
});
