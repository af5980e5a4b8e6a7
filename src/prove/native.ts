/**
 * The native prover client: one long-lived `bulkhead-prover serve --threads N` process that keeps
 * each proving key loaded and proves job after job, fed by the circuits' native witness
 * generators (src/toolchain/witness.ts).
 *
 * Protocol (one JSON object per line each way, answers in request order; the process logs on
 * stderr): `{"id","op":"load","zkey"}` -> `{"id","ok":true,"nVars","nPublic","domainSize"}`;
 * `{"id","op":"prove","zkey","wtns"}` -> `{"id","ok":true,"proof","publicSignals","timings"}`;
 * a failed request -> `{"id","ok":false,"error"}`; `{"op":"quit"}` or EOF ends it.
 *
 * Nothing here can hang: each request has a deadline counted from when it reaches the head of
 * the line; the process exiting, a deadline passing or an answer that is not what the protocol
 * says (not JSON, another id, missing fields) stop the process and fail every pending request
 * with a NativeProverError naming what happened. A failed request (`ok: false`) fails only itself.
 *
 * Private data: each job's circuit input is written to `input.json` (0600) in a directory of
 * this session (0700, under the system temp dir), turned into `.wtns` by the witness program and
 * proven; both files are deleted when the job ends, the directory when the session closes.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { CircuitInput } from "../epoch/inputs.js";
import { faultHit } from "../util/fault.js";
import type { Groth16Proof } from "../util/snarkjs.js";

/** What went wrong, as a stable code: see NativeProverError. */
export type NativeErrorKind = "start" | "exited" | "timeout" | "protocol" | "prove" | "witness" | "closed";

/** A named failure of the native prover or witness program. */
export class NativeProverError extends Error {
  constructor(
    readonly kind: NativeErrorKind,
    message: string,
  ) {
    super(message);
    this.name = "NativeProverError";
  }
  /** false when only this request failed and the prover process goes on */
  get fatal(): boolean {
    return this.kind !== "prove" && this.kind !== "witness";
  }
}

/** The prover's breakdown of one proof (ms). */
export interface NativeTimings {
  loadMs: number;
  wtnsMs: number;
  abcMs: number;
  fftMs: number;
  msmG1Ms: number;
  msmG2Ms: number;
  totalMs: number;
}

export interface NativeProof {
  proof: Groth16Proof;
  publicSignals: string[];
  timings: NativeTimings;
}

export interface NativeKeyInfo {
  nVars: number;
  nPublic: number;
  domainSize: number;
}

export interface NativeProverOptions {
  /** the bulkhead-prover binary */
  bin: string;
  /** proving threads of the process */
  threads: number;
  /** deadline of one request from when it reaches the head of the line (default 10 min) */
  timeoutMs?: number;
  /** the process's stderr lines (default: kept only for error messages) */
  log?: (line: string) => void;
}

interface Pending {
  id: number;
  op: string;
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

const TIMING_KEYS = ["loadMs", "wtnsMs", "abcMs", "fftMs", "msmG1Ms", "msmG2Ms", "totalMs"] as const;

/** One `bulkhead-prover serve` process. */
export class NativeProverProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private nextId = 1;
  private buffer = "";
  private stderrTail = "";
  private timer: NodeJS.Timeout | undefined;
  private failure: NativeProverError | undefined;
  private readonly exited: Promise<void>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: NativeProverOptions) {
    this.timeoutMs = opts.timeoutMs ?? 600_000;
    this.child = spawn(opts.bin, ["serve", "--threads", String(opts.threads)], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => {
      this.child.on("close", (code, signal) => {
        this.fail(
          new NativeProverError(
            "exited",
            `${path.basename(opts.bin)} exited (${signal ? `signal ${signal}` : `code ${code}`})${this.tail()}`,
          ),
        );
        resolve();
      });
    });
    this.child.on("error", (err) =>
      this.fail(new NativeProverError("start", `cannot run ${opts.bin}: ${err.message}`)),
    );
    this.child.stdin.on("error", () => undefined); // a dead process: reported by "close"
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (d: string) => this.onStdout(d));
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (d: string) => this.onStderr(d));
  }

  /** Loads a proving key (kept loaded by the process for later proofs). */
  async load(zkey: string): Promise<NativeKeyInfo> {
    const r = await this.request({ op: "load", zkey });
    const info = { nVars: r.nVars, nPublic: r.nPublic, domainSize: r.domainSize };
    if (!Object.values(info).every((v) => Number.isInteger(v)))
      throw this.protocolError(`load answer without integer nVars, nPublic, domainSize`);
    return info as NativeKeyInfo;
  }

  /** Proves the witness file with the proving key. */
  async prove(zkey: string, wtns: string): Promise<NativeProof> {
    const r = await this.request({ op: "prove", zkey, wtns });
    const proof = r.proof as Groth16Proof | undefined;
    const signals = r.publicSignals;
    const timings = (r.timings ?? {}) as Record<string, unknown>;
    if (!proof || typeof proof !== "object" || !Array.isArray(proof.pi_a))
      throw this.protocolError("prove answer without a proof");
    if (!Array.isArray(signals) || !signals.every((s) => typeof s === "string"))
      throw this.protocolError("prove answer without a list of public signals");
    const t = Object.fromEntries(TIMING_KEYS.map((k) => [k, Number(timings[k] ?? Number.NaN)]));
    return { proof, publicSignals: signals as string[], timings: t as unknown as NativeTimings };
  }

  /** Asks the process to quit and waits for it (killed after 5 s). */
  async close(): Promise<void> {
    if (!this.failure) {
      this.failure = new NativeProverError("closed", "the native prover was closed");
      this.child.stdin.end(`${JSON.stringify({ op: "quit" })}\n`);
    }
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(killer);
    this.rejectAll(this.failure);
  }

  private request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.push({ id, op: String(body.op), resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, ...body })}\n`);
      if (this.pending.length === 1) this.arm();
    });
  }

  /** Deadline of the request at the head of the line. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const head = this.pending[0];
    if (!head) return;
    this.timer = setTimeout(
      () =>
        this.fail(
          new NativeProverError(
            "timeout",
            `native prover: no answer to "${head.op}" within ${this.timeoutMs} ms`,
          ),
        ),
      this.timeoutMs,
    );
  }

  private onStdout(d: string): void {
    this.buffer += d;
    let nl = this.buffer.indexOf("\n");
    while (nl >= 0 && !this.failure) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
      nl = this.buffer.indexOf("\n");
    }
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.fail(this.protocolError(`not a JSON answer: ${line.slice(0, 120)}`));
      return;
    }
    const head = this.pending[0];
    if (!head || msg.id !== head.id) {
      this.fail(
        this.protocolError(`answer id ${JSON.stringify(msg.id)}, expected ${head ? head.id : "none"}`),
      );
      return;
    }
    this.pending.shift();
    this.arm();
    if (msg.ok === true) head.resolve(msg);
    else head.reject(new NativeProverError("prove", `native prover: ${String(msg.error ?? "failed")}`));
  }

  private onStderr(d: string): void {
    this.stderrTail = (this.stderrTail + d).slice(-2000);
    if (this.opts.log) for (const l of d.split("\n")) if (l.trim()) this.opts.log(l);
  }

  private tail(): string {
    const t = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
    return t ? `: ${t}` : "";
  }

  private protocolError(what: string): NativeProverError {
    return new NativeProverError("protocol", `native prover protocol: ${what}`);
  }

  /** Stop the process; every pending and later request fails with `err`. */
  private fail(err: NativeProverError): void {
    if (!this.failure) {
      this.failure = err;
      this.child.kill("SIGKILL");
    }
    this.rejectAll(this.failure);
  }

  private rejectAll(err: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.pending.splice(0)) p.reject(err);
  }
}

export interface NativeSessionOptions extends NativeProverOptions {
  /** witness program per proving key: `witness[zkey]` */
  witness: Record<string, string>;
  /** deadline of one witness program run (default 10 min) */
  witnessTimeoutMs?: number;
}

/** The timings of a job: the witness program's wall time and the prover's breakdown. */
export interface NativeJobTimings extends NativeTimings {
  witnessMs: number;
}

/**
 * A native proving session: the serve process, the keys it has loaded and the private directory
 * of the jobs' files. `prove(zkey, input)` runs the witness program and the prover.
 */
export class NativeSession {
  private readonly proc: NativeProverProcess;
  private readonly loaded = new Map<string, Promise<NativeKeyInfo>>();
  private dir: Promise<string> | undefined;
  private jobs = 0;

  constructor(private readonly opts: NativeSessionOptions) {
    this.proc = new NativeProverProcess(opts);
  }

  /** Loads the key now (otherwise on its first proof). */
  load(zkey: string): Promise<NativeKeyInfo> {
    let p = this.loaded.get(zkey);
    if (!p) {
      p = this.proc.load(zkey);
      this.loaded.set(zkey, p);
    }
    return p;
  }

  /** Proves `input` with the key: its witness program is `program`, or the session's for the key. */
  async prove(
    zkey: string,
    input: CircuitInput,
    program = this.opts.witness[zkey],
  ): Promise<NativeProof & { timings: NativeJobTimings }> {
    if (!program) throw new Error(`native session: no witness program for ${zkey}`);
    // the key loads (the first time) while the witness program runs
    const loading = this.load(zkey);
    loading.catch(() => undefined); // awaited below, after the witness
    const dir = await this.privateDir();
    const n = ++this.jobs;
    const inFile = path.join(dir, `${n}.input.json`);
    const wtns = path.join(dir, `${n}.wtns`);
    try {
      await fs.writeFile(inFile, JSON.stringify(input), { mode: 0o600, flag: "wx" });
      const t = performance.now();
      await runWitness(program, inFile, wtns, this.opts.witnessTimeoutMs ?? 600_000);
      const witnessMs = performance.now() - t;
      await loading;
      const out = await this.proc.prove(zkey, wtns);
      if (faultHit("native:corrupt-proof")) out.proof = corrupt(out.proof);
      return { ...out, timings: { ...out.timings, witnessMs } };
    } finally {
      await fs.rm(inFile, { force: true });
      await fs.rm(wtns, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.proc.close();
    const dir = await this.dir?.catch(() => undefined);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  }

  private privateDir(): Promise<string> {
    // mkdtemp creates the directory 0700
    this.dir ??= fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-native-"));
    return this.dir;
  }
}

/** A valid-looking proof that does not verify: A moved to another curve point (A + G). */
function corrupt(proof: Groth16Proof): Groth16Proof {
  const a = proof.pi_a;
  // the generator (1, 2) instead of A: still on the curve, so only verification catches it
  return { ...proof, pi_a: a[0] === "1" ? ["2", "3", "1"] : ["1", "2", "1"] } as Groth16Proof;
}

/** Runs `program input.json out.wtns`; a non-zero exit or the deadline is a NativeProverError. */
export function runWitness(program: string, input: string, wtns: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, [input, wtns], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const add = (d: Buffer) => {
      output = (output + d.toString()).slice(-2000);
    };
    child.stdout.on("data", add);
    child.stderr.on("data", add);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new NativeProverError("witness", `cannot run the witness program ${program}: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why = signal === "SIGKILL" ? `no result within ${timeoutMs} ms` : `exit ${code ?? signal}`;
      const last = output.trim().split("\n").slice(-2).join(" | ");
      reject(
        new NativeProverError(
          "witness",
          `witness program ${path.basename(path.dirname(program))}: ${why}${last ? `: ${last}` : ""}`,
        ),
      );
    });
  });
}
