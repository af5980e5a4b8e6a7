/**
 * A real Redis for the queue tests: Debian's `redis-server` started on 127.0.0.1 on a free port
 * without persistence (`--save '' --appendonly no`), stopped by the tests. Also: spawning
 * `bulkhead` processes and waiting for conditions.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Redis } from "ioredis";
import { REPO } from "../helpers/epoch.js";

export const BIN = path.join(REPO, "bin", "bulkhead.mjs");

export function hasRedisServer(): boolean {
  const r = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return !r.error && r.status === 0;
}

/**
 * For `before` hooks: skip the suite with a clear message when there is no redis-server binary,
 * but fail under CI=true (CI must install it: see .ci/run).
 */
export function requireRedisOrSkip(ctx: Mocha.Context): void {
  if (hasRedisServer()) return;
  const msg = "no redis-server binary on PATH (Debian: apt-get install -y redis-server)";
  if (process.env.CI === "true") throw new Error(`${msg}; CI must provide it (.ci/run installs it)`);
  console.log(`      skipping the queue tests: ${msg}`);
  ctx.skip();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === "object" && addr ? addr.port : 0));
    });
  });
}

/** PEM files of a test CA and of a server certificate for 127.0.0.1 signed by it. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/** A throw-away CA and server certificate (IP SAN 127.0.0.1), made with openssl. */
export function makeTlsFiles(dir: string): TlsFiles {
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]}: ${r.stderr}`);
  };
  run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=bulkhead test CA",
    "-keyout",
    f("ca.key"),
    "-out",
    f("ca.pem"),
  ]);
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    f("server.key"),
    "-out",
    f("server.csr"),
  ]);
  writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1\n");
  run([
    "x509",
    "-req",
    "-in",
    f("server.csr"),
    "-CA",
    f("ca.pem"),
    "-CAkey",
    f("ca.key"),
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    f("san.ext"),
    "-out",
    f("server.pem"),
  ]);
  return { ca: f("ca.pem"), cert: f("server.pem"), key: f("server.key") };
}

export class RedisServer {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly password: string | undefined,
    readonly tls: TlsFiles | undefined,
  ) {}

  static async start(opts: { password?: string; tls?: TlsFiles } = {}): Promise<RedisServer> {
    const s = new RedisServer(await freePort(), opts.password, opts.tls);
    await s.launch();
    return s;
  }

  url(db = 0): string {
    const auth = this.password ? `:${encodeURIComponent(this.password)}@` : "";
    return `${this.tls ? "rediss" : "redis"}://${auth}127.0.0.1:${this.port}/${db}`;
  }

  /** A client of this server (close it with quit()). */
  client(): Redis {
    return new Redis({ host: "127.0.0.1", port: this.port, password: this.password, lazyConnect: false });
  }

  private async launch(): Promise<void> {
    const listen = this.tls
      ? [
          "--port",
          "0",
          "--tls-port",
          String(this.port),
          "--tls-cert-file",
          this.tls.cert,
          "--tls-key-file",
          this.tls.key,
        ]
      : ["--port", String(this.port)];
    if (this.tls) listen.push("--tls-ca-cert-file", this.tls.ca, "--tls-auth-clients", "no");
    const args = [...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    if (this.password) args.push("--requirepass", this.password);
    const proc = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = proc;
    let out = "";
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(
      () => /Ready to accept connections/.test(out) || proc.exitCode !== null,
      10_000,
      "redis-server",
    );
    if (proc.exitCode !== null) throw new Error(`redis-server exited: ${out.slice(-500)}`);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await exited;
  }

  /** Stop and start again on the same port (empty: no persistence). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

/** A spawned `bulkhead …` process with its output collected. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function bulkhead(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => out, exit };
}

/** Kill a spawned process (SIGKILL unless told) and wait for it. */
export async function kill(p: Proc, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
  await p.exit;
}

export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
