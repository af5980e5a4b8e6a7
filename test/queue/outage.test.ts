/**
 * Redis outages and a wrong Redis URL: a coordinator (`prove --queue`) and a worker retry a lost
 * connection for a bounded time ($BULKHEAD_QUEUE_OUTAGE_S, here 3 s) and then exit 1 naming Redis;
 * a worker whose Redis is gone stops on the first SIGTERM; a coordinator whose Redis cannot be
 * reached writes nothing (no output directory, no secret).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { tmpDir } from "../helpers/epoch.js";
import { writeTinySnapshot } from "../helpers/tiny.js";
import { ensureTestKeys } from "./fixtures.js";
import { bulkhead, freePort, kill, type Proc, RedisServer, requireRedisOrSkip, waitFor } from "./redis.js";

const OUTAGE = { BULKHEAD_QUEUE_OUTAGE_S: "3" };

/** Resolves with the exit, or fails when the process is still running after `ms`. */
async function exitWithin(p: Proc, ms: number): Promise<{ code: number | null }> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${p.output()}`)), ms);
  });
  try {
    return await Promise.race([p.exit, late]);
  } finally {
    clearTimeout(t);
  }
}

describe("queue: Redis outages and a wrong Redis URL", function () {
  this.timeout(300_000);
  const procs: Proc[] = [];
  let snapshot: string;

  before(async function () {
    requireRedisOrSkip(this);
    await ensureTestKeys();
    snapshot = writeTinySnapshot(path.join(tmpDir("outage"), "tiny.json"));
  });
  after(async () => {
    for (const p of procs) await kill(p);
  });

  const start = (args: string[], env: NodeJS.ProcessEnv = OUTAGE) => {
    const p = bulkhead(args, env);
    procs.push(p);
    return p;
  };

  it("prove --queue with no Redis at the URL exits 1 before writing anything", async () => {
    const out = path.join(tmpDir("outage-url"), "epoch");
    const url = `redis://127.0.0.1:${await freePort()}`;
    const p = start(["prove", "-s", snapshot, "-o", out, "--profile", "test", "--queue", url]);
    const { code } = await exitWithin(p, 60_000);
    assert.equal(code, 1, p.output());
    assert.match(p.output(), /--queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
    assert.equal(existsSync(out), false, "no output directory, no secret");
  });

  it("a worker whose Redis goes away gives up after the outage limit, exit 1", async () => {
    const redis = await RedisServer.start();
    try {
      const w = start(["worker", "--queue", redis.url(), "-w", "1"]);
      await waitFor(() => /proving thread/.test(w.output()), 60_000, "the worker");
      await redis.stop();
      const { code } = await exitWithin(w, 60_000);
      assert.equal(code, 1, w.output());
      assert.match(
        w.output(),
        /error: queue: Redis at redis:\/\/127\.0\.0\.1:\d+\/0 unreachable for 3 s: giving up/,
      );
    } finally {
      await redis.stop();
    }
  });

  it("a worker whose Redis is gone stops on the first SIGTERM", async () => {
    const redis = await RedisServer.start();
    try {
      const w = start(["worker", "--queue", redis.url(), "-w", "1"], { BULKHEAD_QUEUE_OUTAGE_S: "600" });
      await waitFor(() => /proving thread/.test(w.output()), 60_000, "the worker");
      await redis.stop();
      await new Promise((r) => setTimeout(r, 1500)); // reconnecting by now
      w.child.kill("SIGTERM");
      const { code } = await exitWithin(w, 20_000);
      assert.notEqual(code, null, w.output());
    } finally {
      await redis.stop();
    }
  });

  it("a coordinator whose Redis goes away gives up after the outage limit, exit 1, keeping its output", async () => {
    const redis = await RedisServer.start();
    try {
      const out = path.join(tmpDir("outage-coord"), "epoch");
      const c = start(["prove", "-s", snapshot, "-o", out, "--profile", "test", "--queue", redis.url()]);
      await waitFor(() => /job\(s\) for the workers/.test(c.output()), 120_000, "the coordinator");
      await redis.stop();
      const { code } = await exitWithin(c, 60_000);
      assert.equal(code, 1, c.output());
      assert.match(c.output(), /unreachable for 3 s: giving up.*run the same command again to resume/);
    } finally {
      await redis.stop();
    }
  });
});
