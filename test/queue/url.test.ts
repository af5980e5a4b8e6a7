/** Queue URLs: redis:// and rediss:// (TLS), password and database, clear errors; no Redis needed. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { parseJobData, parseJobResult, parseQueueUrl, redact } from "../../src/prove/queue/protocol.js";
import { tmpDir } from "../helpers/epoch.js";
import {
  BIN,
  bulkhead,
  freePort,
  kill,
  makeTlsFiles,
  RedisServer,
  requireRedisOrSkip,
  waitFor,
} from "./redis.js";

describe("queue: URLs and message checks", () => {
  it("parses host, port, database and password; hides the password when printed", () => {
    const t = parseQueueUrl("redis://:p%40ss@10.0.0.5:6380/3", {});
    assert.equal(t.options.host, "10.0.0.5");
    assert.equal(t.options.port, 6380);
    assert.equal(t.options.db, 3);
    assert.equal(t.options.password, "p@ss");
    assert.equal(t.options.tls, undefined);
    assert.equal(t.display, "redis://:***@10.0.0.5:6380/3");
    assert.equal(redact("redis://u:p@h:1/0"), "redis://u:***@h:1/0");
  });

  it("rediss:// turns TLS on (server name = host); REDIS_PASSWORD supplies a password", () => {
    const t = parseQueueUrl("rediss://redis.internal", { REDIS_PASSWORD: "from-env" });
    assert.deepEqual(t.options.tls, { servername: "redis.internal" });
    assert.equal(t.options.port, 6379);
    assert.equal(t.options.db, 0);
    assert.equal(t.options.password, "from-env");
    assert.ok(!t.display.includes("from-env"));
  });

  it("rejects other schemes, bad databases and non-URLs, naming --queue", () => {
    assert.throws(() => parseQueueUrl("http://h:1", {}), /--queue: unsupported scheme "http:"/);
    assert.throws(() => parseQueueUrl("redis://h:1/x", {}), /--queue: database "x" is not a number/);
    assert.throws(() => parseQueueUrl("h:1:2", {}), /--queue: .*(not a URL|unsupported scheme)/);
  });

  it("bulkhead prove --queue with a bad URL fails before any work (exit 1, one line)", () => {
    const r = spawnSync(
      process.execPath,
      [BIN, "prove", "-s", "examples/snapshot.json", "-o", "/nonexistent/out", "--queue", "ftp://x"],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: --queue: unsupported scheme "ftp:"/m);
  });

  it("a worker checks job data and a coordinator checks result shapes", () => {
    assert.throws(() => parseJobData({ format: "other" }), /job data is not bulkhead-queue-job\/2/);
    assert.throws(
      () =>
        parseJobData({
          format: "bulkhead-queue-job/2",
          job: "x",
          circuit: "segment",
          profile: "test",
          vkeySha256: "0",
          input: { a: 1 },
        }),
      /input must map signal names to decimal strings/,
    );
    const job = {
      format: "bulkhead-queue-job/2",
      job: "x",
      circuit: "segment",
      profile: "test",
      vkeySha256: "0",
      input: { a: "1" },
    };
    assert.equal(parseJobData({ ...job, prover: "snarkjs" }).prover, "snarkjs");
    assert.throws(() => parseJobData({ ...job, prover: "native" }), /prover must be "snarkjs" or absent/);
    assert.throws(() => parseJobResult(undefined), /the job returned no proof/);
    assert.throws(
      () => parseJobResult({ format: "bulkhead-queue-proof/1", proof: {}, publicSignals: [1] }),
      /public signals are not a list of strings/,
    );
  });

  describe("with a real redis-server", () => {
    let redis: RedisServer;
    before(async function () {
      requireRedisOrSkip(this);
      redis = await RedisServer.start({ password: "right-pw" });
    });
    after(async () => redis?.stop());

    const worker = (url: string) =>
      spawnSync(process.execPath, [BIN, "worker", "--queue", url, "-w", "1"], {
        encoding: "utf8",
        timeout: 60_000,
      });

    it("a wrong password fails at start (exit 1), naming the cause, without printing the password", () => {
      const r = worker(`redis://:wrong-pw@127.0.0.1:${redis.port}/0`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        /error: --queue: Redis refused the credentials at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: WRONGPASS/,
      );
      assert.ok(!r.stderr.includes("wrong-pw"));
    });

    it("no Redis on the port fails at start (exit 1)", async () => {
      const r = worker(`redis://127.0.0.1:${await freePort()}`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        /error: --queue: cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: .*ECONNREFUSED/,
      );
    });
  });

  describe("over TLS (rediss://) with a real redis-server", () => {
    let redis: RedisServer;
    let ca: string;
    before(async function () {
      requireRedisOrSkip(this);
      const tls = makeTlsFiles(tmpDir("tls"));
      ca = tls.ca;
      redis = await RedisServer.start({ password: "tls-pw", tls });
    });
    after(async () => redis?.stop());

    it("a worker trusting the CA connects; one that does not fails at start with the TLS error", async () => {
      const ok = bulkhead(["worker", "--queue", redis.url(), "-w", "1"], { NODE_EXTRA_CA_CERTS: ca });
      try {
        await waitFor(
          () => /queue "bulkhead-prove" on rediss:\/\/:\*\*\*@127\.0\.0\.1/.test(ok.output()),
          60_000,
          "TLS worker",
        );
      } finally {
        await kill(ok, "SIGTERM");
      }
      const bad = spawnSync(process.execPath, [BIN, "worker", "--queue", redis.url(), "-w", "1"], {
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: "" },
      });
      assert.equal(bad.status, 1, bad.stderr);
      assert.match(bad.stderr, /error: --queue: cannot reach Redis at rediss:.*certificate/i);
    });
  });
});
