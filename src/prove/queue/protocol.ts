/**
 * What the coordinator (`bulkhead prove --queue`) and the workers (`bulkhead worker`) exchange
 * through BullMQ, and how both connect to Redis.
 *
 * A job is one batch proof. Its BullMQ job id is the work-cache key (sha256 of circuit, profile,
 * verification key and input), so re-adding the job of a restarted coordinator is a no-op while
 * the job exists, and the jobs of different epochs or coordinators never collide on one queue.
 * Job data carries the private witness input: the Redis instance must be as private as the
 * snapshot, and the coordinator removes each job as soon as its proof is stored.
 */

import { isIP } from "node:net";
import { Redis, type RedisOptions } from "ioredis";
import type { CircuitInput } from "../../epoch/inputs.js";
import { CIRCUITS, type CircuitName } from "../../spec/profiles.js";
import type { Groth16Proof } from "../../util/snarkjs.js";
import type { ProverName } from "../prover.js";

export const DEFAULT_QUEUE_NAME = "bulkhead-prove";
export const JOB_FORMAT = "bulkhead-queue-job/2";
export const RESULT_FORMAT = "bulkhead-queue-proof/1";

export interface QueueJobData {
  format: typeof JOB_FORMAT;
  /** `segment-<id>-<batch>` or `lotlist-<batch>` (for messages; the BullMQ job id is the key) */
  job: string;
  circuit: CircuitName;
  profile: string;
  /** sha256 of the coordinator's verification key file: a worker with another key refuses */
  vkeySha256: string;
  /** private witness input: never logged */
  input: CircuitInput;
  /**
   * "snarkjs": prove this job with snarkjs (a native proof of it was rejected by the coordinator);
   * absent: the worker's prover
   */
  prover?: "snarkjs";
}

export interface QueueJobResult {
  format: typeof RESULT_FORMAT;
  proof: Groth16Proof;
  publicSignals: string[];
  /** proving wall time inside the worker */
  ms: number;
  /** `host:pid` of the worker process, for messages */
  worker: string;
  /** the prover that made this proof (absent: snarkjs) */
  prover?: ProverName;
  /** why the native prover failed on this job, which the worker then proved with snarkjs */
  incident?: string;
}

/** A parsed queue URL: ioredis options, and a form safe to print (password hidden). */
export interface QueueTarget {
  options: RedisOptions;
  display: string;
}

/**
 * Parse `redis://[user[:password]@]host[:port][/db]` or `rediss://…` (TLS). The password may also
 * come from REDIS_PASSWORD so that it stays out of process listings.
 */
export function parseQueueUrl(url: string, env: NodeJS.ProcessEnv = process.env): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue: "${redact(url)}" is not a URL (expected redis://HOST:PORT[/DB] or rediss://…)`);
  }
  const tls = u.protocol === "rediss:";
  if (u.protocol !== "redis:" && !tls)
    throw new Error(`--queue: unsupported scheme "${u.protocol}" (expected redis:// or rediss://)`);
  if (!u.hostname) throw new Error("--queue: the URL has no host");
  const port = u.port === "" ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, "");
  if (!/^\d*$/.test(dbText)) throw new Error(`--queue: database "${dbText}" is not a number`);
  if (u.search || u.hash) throw new Error("--queue: query strings and fragments are not supported");
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const password = u.password ? decodeURIComponent(u.password) : env.REDIS_PASSWORD || undefined;
  const options: RedisOptions = {
    host,
    port,
    db: dbText === "" ? 0 : Number(dbText),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(password ? { password } : {}),
    // SNI only for names (RFC 6066 forbids IP addresses there; the certificate still names the IP)
    ...(tls ? { tls: isIP(host) ? {} : { servername: host } } : {}),
    // BullMQ's blocking commands need unlimited retries; reconnect forever with a capped backoff
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
  };
  const auth = u.username || password ? `${u.username ? decodeURIComponent(u.username) : ""}:***@` : "";
  return { options, display: `${u.protocol}//${auth}${u.host}/${options.db}` };
}

/** The URL with any password replaced by ***. */
export function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

/** A new ioredis connection (each BullMQ Queue, Worker and QueueEvents gets its own). */
export function connect(target: QueueTarget): Redis {
  const r = new Redis({ ...target.options, lazyConnect: false });
  // errors surface through BullMQ and our own calls; without a listener ioredis prints each one
  r.on("error", () => undefined);
  return r;
}

/**
 * How long a coordinator or worker retries a lost Redis connection before it gives up with a clear
 * error (ms; default 5 minutes; $BULKHEAD_QUEUE_OUTAGE_S overrides it, read at each call).
 */
export function outageLimitMs(override?: number): number {
  if (override !== undefined) return override;
  const env = process.env.BULKHEAD_QUEUE_OUTAGE_S;
  if (env === undefined || env === "") return 5 * 60_000;
  if (!/^\d+$/.test(env) || Number(env) < 1)
    throw new Error(`BULKHEAD_QUEUE_OUTAGE_S: "${env}" is not a positive number of seconds`);
  return Number(env) * 1000;
}

/**
 * Watches connections that reconnect on their own (see connect): once any of them has been without
 * a ready connection for `limitMs`, calls `onGiveUp` (once) with a message naming the target and
 * the time. A connection that comes back in time resets the clock. Returns the disposer.
 */
export function watchOutage(
  conns: readonly Redis[],
  target: QueueTarget,
  limitMs: number,
  onGiveUp: (message: string) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  const down = () => conns.some((c) => c.status !== "ready");
  const check = () => {
    if (!down()) {
      clearTimeout(timer);
      timer = undefined;
    } else if (!timer && !gaveUp) {
      timer = setTimeout(() => {
        if (!down()) return;
        gaveUp = true;
        onGiveUp(
          `queue: Redis at ${target.display} unreachable for ${Math.round(limitMs / 1000)} s: giving up (set BULKHEAD_QUEUE_OUTAGE_S to wait longer)`,
        );
      }, limitMs);
    }
  };
  const events = ["close", "end", "reconnecting", "ready"] as const;
  for (const c of conns) for (const e of events) c.on(e, check);
  return () => {
    clearTimeout(timer);
    for (const c of conns) for (const e of events) c.off(e, check);
  };
}

/** Settles `p` or gives up after `ms` (closing a client whose Redis is gone may never settle). */
export async function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

/**
 * Connect once without retrying, so that a wrong address, password or TLS setting fails at start
 * with a clear error instead of being retried forever (later outages are retried: see connect).
 */
export async function preflight(target: QueueTarget): Promise<void> {
  const r = new Redis({
    ...target.options,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 10_000,
  });
  // with no retry, connect() only says "Connection is closed"; the cause comes as an error event
  let cause: Error | undefined;
  r.on("error", (err: Error) => {
    cause ??= err;
  });
  try {
    await r.connect();
    await r.ping();
  } catch (err) {
    const msg = (cause ?? (err as Error)).message;
    const auth = /WRONGPASS|NOAUTH|NOPERM|invalid password/i.test(msg);
    throw new Error(
      `--queue: ${auth ? "Redis refused the credentials" : "cannot reach Redis"} at ${target.display}: ${msg}`,
    );
  } finally {
    r.disconnect();
  }
}

const isStrings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");

/** Validates job data received from Redis (a worker trusts nothing it did not check). */
export function parseJobData(data: unknown): QueueJobData {
  const d = data as Partial<QueueJobData> | null;
  if (!d || typeof d !== "object" || d.format !== JOB_FORMAT)
    throw new Error(`job data is not ${JOB_FORMAT} (a coordinator of another version?)`);
  if (!(CIRCUITS as readonly string[]).includes(String(d.circuit)))
    throw new Error(`job data: unknown circuit "${String(d.circuit)}"`);
  if (typeof d.profile !== "string" || typeof d.vkeySha256 !== "string" || typeof d.job !== "string")
    throw new Error("job data: profile, vkeySha256 and job must be strings");
  const input = d.input as Record<string, unknown> | undefined;
  if (
    !input ||
    typeof input !== "object" ||
    !Object.values(input).every((v) => typeof v === "string" || isStrings(v))
  )
    throw new Error("job data: input must map signal names to decimal strings");
  if (d.prover !== undefined && d.prover !== "snarkjs")
    throw new Error(`job data: prover must be "snarkjs" or absent, not ${JSON.stringify(d.prover)}`);
  return d as QueueJobData;
}

/** Checks the shape of a worker's return value; the proof itself is verified by the caller. */
export function parseJobResult(value: unknown): QueueJobResult {
  const r = value as Partial<QueueJobResult> | null;
  if (!r || typeof r !== "object" || r.format !== RESULT_FORMAT) throw new Error("the job returned no proof");
  if (!isStrings(r.publicSignals)) throw new Error("the returned public signals are not a list of strings");
  if (!r.proof || typeof r.proof !== "object") throw new Error("the returned proof is not an object");
  return {
    ...r,
    worker: typeof r.worker === "string" ? r.worker : "?",
    ms: Number(r.ms) || 0,
    prover: r.prover === "native" ? "native" : "snarkjs",
    incident: typeof r.incident === "string" ? r.incident.slice(0, 500) : undefined,
  } as QueueJobResult;
}
