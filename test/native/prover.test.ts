/**
 * The native Groth16 prover (native/prover): its proofs verify with snarkjs against the
 * circuit's verification key and with the generated Solidity verifier on anvil, carry the same
 * public signals as snarkjs's, use fresh randomness,
 * and are rejected when a public signal is forged or the witness does not satisfy the circuit.
 * Bad inputs (missing, corrupted, truncated, another circuit's key) give a named error, never
 * output files, and never stop the server.
 */
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { Contract, ContractFactory } from "ethers";
import { initPoseidon } from "../../src/spec/encoding.js";
import { type Artifacts, ensureCircuit } from "../../src/toolchain/artifacts.js";
import { proofWords } from "../../src/toolchain/batch-verifier.js";
import { compileSolidity, verifierSourceFromVkey } from "../../src/toolchain/contracts.js";
import { ensureNativeProver } from "../../src/toolchain/native.js";
import { ensureNativeWitness } from "../../src/toolchain/witness.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { type Groth16Proof, sj } from "../../src/util/snarkjs.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { tmpDir } from "../helpers/epoch.js";
import { requireNativeProver, requireNativeWitness } from "../helpers/native.js";
import { liability, listChain, lot, NO_SHOCK, SLOTS, segmentChain } from "../helpers/scenario.js";

const ETH = 10n ** 18n;
const USDC = 10n ** 6n;

interface Case {
  art: Artifacts;
  wtns: string;
  /** public signals computed from the scenario, independently of any prover */
  expected: string[];
}

interface Run {
  status: number | null;
  stderr: string;
  proof?: Groth16Proof;
  publicSignals?: string[];
}

let bin: string;
let dir: string;
let list: Case;
let seg: Case;
/** the circuit inputs behind `list` and `seg` */
const inputs: Record<"lotlist" | "segment", Record<string, unknown>> = { lotlist: {}, segment: {} };

function proveOnce(zkey: string, wtns: string, label: string): Run {
  const proofFile = path.join(dir, `${label}-proof.json`);
  const publicFile = path.join(dir, `${label}-public.json`);
  const r = spawnSync(bin, ["prove", zkey, wtns, proofFile, publicFile, "--threads", "2"], {
    encoding: "utf8",
  });
  const run: Run = { status: r.status, stderr: r.stderr };
  if (existsSync(proofFile)) run.proof = JSON.parse(readFileSync(proofFile, "utf8")) as Groth16Proof;
  if (existsSync(publicFile)) run.publicSignals = JSON.parse(readFileSync(publicFile, "utf8")) as string[];
  return run;
}

function verify(c: Case, publicSignals: string[], proof: Groth16Proof): Promise<boolean> {
  return withSnarkjs(() => sj.groth16.verify(c.art.vkey, publicSignals, proof));
}

async function witnessFile(input: Record<string, unknown>, art: Artifacts, name: string): Promise<string> {
  const file = path.join(dir, name);
  await withSnarkjs(() => sj.wtns.calculate(input, art.wasm, file));
  return file;
}

/** A copy of `src` in the scratch directory, edited by `edit`. */
function tampered(src: string, name: string, edit: (buf: Buffer) => Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, edit(readFileSync(src)));
  return file;
}

/** Offset of the data of section `id` in an iden3 binary file. */
function sectionOffset(buf: Buffer, id: number): number {
  let pos = 12;
  for (let i = 0; i < buf.readUInt32LE(8); i++) {
    const size = Number(buf.readBigUInt64LE(pos + 4));
    if (buf.readUInt32LE(pos) === id) return pos + 12;
    pos += 12 + size;
  }
  throw new Error(`no section ${id}`);
}

/** One `serve` process; requests are answered in order. */
class Server {
  readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  stderr = "";

  constructor() {
    this.child = spawn(bin, ["serve", "--threads", "2"]);
    this.child.stderr.on("data", (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.lines = readline.createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  async request(req: Record<string, unknown> | string): Promise<Record<string, unknown>> {
    this.child.stdin.write(`${typeof req === "string" ? req : JSON.stringify(req)}\n`);
    const next = await this.lines.next();
    assert.ok(!next.done, `the server closed its output (stderr: ${this.stderr})`);
    return JSON.parse(next.value) as Record<string, unknown>;
  }

  exit(): Promise<number | null> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve(this.child.exitCode);
      this.child.on("exit", (code) => resolve(code));
      this.child.stdin.end();
    });
  }
}

describe("native prover (C++ Groth16 on ffiasm)", () => {
  before(async function () {
    bin = await requireNativeProver(this);
    await initPoseidon();
    dir = tmpDir("native");
    const [l] = listChain(
      [
        { lotId: 3n, asset: 0n, amount: 5n, pooled: true },
        { lotId: 8n, asset: 2n, amount: 6n, pooled: true },
      ],
      { caps: [5n, 100n, 6n, 0n] },
    );
    const [s] = segmentChain({
      segmentId: 4n,
      lots: [lot(41n, 4n, 0n, 10n * ETH)],
      liabilities: [liability(401n, 4n, 1n, 20000n * USDC)],
      stress: [[7000n, NO_SHOCK, NO_SHOCK]],
      slots: SLOTS.map((x, j) => (j === 0 ? { ...x, cap: 10n * ETH } : x)),
    });
    assert.ok(l && s);
    inputs.lotlist = l.input;
    inputs.segment = s.input;
    const listArt = await ensureCircuit("lotlist", "test");
    const segArt = await ensureCircuit("segment", "test");
    list = {
      art: listArt,
      wtns: await witnessFile(l.input, listArt, "list.wtns"),
      expected: l.publicSignals,
    };
    seg = {
      art: segArt,
      wtns: await witnessFile(s.input, segArt, "segment.wtns"),
      expected: s.publicSignals,
    };
  });

  it("is built once into <build dir>/native/prover-<hash>/", async () => {
    assert.match(bin, /[/]native[/]prover-[0-9a-f]{16}[/]bulkhead-prover$/);
    assert.equal(await ensureNativeProver(), bin);
    const meta = JSON.parse(readFileSync(path.join(path.dirname(bin), "build.json"), "utf8")) as {
      key: string;
    };
    assert.equal(path.basename(path.dirname(bin)), `prover-${meta.key}`);
  });

  it("the native witness programs compute snarkjs's witness, every signal (segment and lot list)", async function () {
    await requireNativeWitness(this, "test");
    for (const [circuit, c] of [
      ["lotlist", list],
      ["segment", seg],
    ] as const) {
      const w = await ensureNativeWitness(circuit, "test");
      const input = path.join(dir, `${circuit}-native.input.json`);
      const out = path.join(dir, `${circuit}-native.wtns`);
      writeFileSync(input, JSON.stringify(inputs[circuit]));
      execFileSync(w.bin, [input, out]);
      const native = (await sj.wtns.exportJson(out)) as bigint[];
      const wasm = (await sj.wtns.exportJson(c.wtns)) as bigint[];
      assert.equal(native.length, wasm.length, circuit);
      assert.ok(native.length > 1000, `${circuit}: ${native.length} signals`);
      assert.deepEqual(native, wasm, circuit);
    }
  });

  it("its multi-scalar multiplication equals the sum of scalar multiplications (selftest, G1 and G2)", () => {
    const r = spawnSync(bin, ["selftest"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^msm self-check: ok /);
    const extra = spawnSync(bin, ["selftest", "now"], { encoding: "utf8" });
    assert.equal(extra.status, 2);
    assert.match(extra.stderr, /^error: selftest takes no arguments/);
  });

  describe("prove (one shot)", () => {
    it("writes a proof that snarkjs verifies, with snarkjs's public signals and proof format", async () => {
      const r = proveOnce(list.art.zkey, list.wtns, "list");
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.proof && r.publicSignals);
      const ref = await withSnarkjs(() => sj.groth16.prove(list.art.zkey, list.wtns));
      assert.deepEqual(r.publicSignals, ref.publicSignals);
      assert.deepEqual(r.publicSignals, list.expected);
      assert.deepEqual(Object.keys(r.proof), Object.keys(ref.proof));
      assert.deepEqual([r.proof.protocol, r.proof.curve], ["groth16", "bn128"]);
      assert.deepEqual([r.proof.pi_a[2], r.proof.pi_b[2], r.proof.pi_c[2]], ["1", ["1", "0"], "1"]);
      assert.equal(await verify(list, r.publicSignals, r.proof), true);
    });

    it("segment circuit: verifies, and a forged public signal is rejected", async () => {
      const r = proveOnce(seg.art.zkey, seg.wtns, "segment");
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.proof && r.publicSignals);
      const signals: string[] = r.publicSignals;
      assert.deepEqual(signals, seg.expected);
      assert.equal(await verify(seg, signals, r.proof), true);
      for (const i of [0, 2, signals.length - 1]) {
        const forged = signals.map((x, j) => (j === i ? String(BigInt(x) + 1n) : x));
        assert.equal(await verify(seg, forged, r.proof), false, `signal ${i} changed`);
      }
    });

    it("two proofs of one witness differ (fresh r, s) and both verify", async () => {
      const a = proveOnce(list.art.zkey, list.wtns, "twice-a");
      const b = proveOnce(list.art.zkey, list.wtns, "twice-b");
      assert.ok(a.proof && b.proof && a.publicSignals && b.publicSignals);
      assert.notDeepEqual(a.proof.pi_a, b.proof.pi_a);
      assert.notDeepEqual(a.proof.pi_b, b.proof.pi_b);
      assert.notDeepEqual(a.proof.pi_c, b.proof.pi_c);
      assert.equal(await verify(list, a.publicSignals, a.proof), true);
      assert.equal(await verify(list, b.publicSignals, b.proof), true);
    });

    it("a witness that violates the circuit gives a proof that does not verify", async () => {
      // the last signal is private (public signals come first): change it by one
      const forged = tampered(list.wtns, "forged.wtns", (buf) => {
        const off = buf.length - 32;
        buf[off] = (buf[off] as number) ^ 1;
        return buf;
      });
      const r = proveOnce(list.art.zkey, forged, "forged");
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.proof && r.publicSignals);
      assert.deepEqual(r.publicSignals, list.expected);
      assert.equal(await verify(list, r.publicSignals, r.proof), false);
    });
  });

  describe("bad inputs: a named error, exit 2, no output files", () => {
    const cases: [string, () => [string, string], RegExp][] = [
      [
        "missing zkey",
        () => [path.join(dir, "absent.zkey"), list.wtns],
        /proving key .*absent\.zkey: No such file/,
      ],
      [
        "missing wtns",
        () => [list.art.zkey, path.join(dir, "absent.wtns")],
        /witness .*absent\.wtns: No such file/,
      ],
      [
        "zkey with a wrong magic",
        () => [
          tampered(list.art.zkey, "magic.zkey", (b) => Buffer.concat([Buffer.from("zkez"), b.subarray(4)])),
          list.wtns,
        ],
        /magic\.zkey: wrong magic: not a zkey file/,
      ],
      [
        "truncated zkey",
        () => [
          tampered(list.art.zkey, "short.zkey", (b) => b.subarray(0, Math.floor(b.length / 2))),
          list.wtns,
        ],
        /short\.zkey: truncated: section \d+ declares \d+ bytes, only \d+ remain/,
      ],
      [
        "zkey of another protocol",
        () => [
          tampered(list.art.zkey, "plonk.zkey", (b) => {
            b.writeUInt32LE(2, sectionOffset(b, 1));
            return b;
          }),
          list.wtns,
        ],
        /plonk\.zkey: protocol 2 is not groth16/,
      ],
      [
        "zkey of another curve",
        () => [
          tampered(list.art.zkey, "curve.zkey", (b) => {
            const at = sectionOffset(b, 2) + 4;
            b[at] = (b[at] as number) ^ 0xff;
            return b;
          }),
          list.wtns,
        ],
        /curve\.zkey: base field prime is not BN254's/,
      ],
      [
        "zkey with a corrupted point",
        () => [
          tampered(list.art.zkey, "point.zkey", (b) => {
            const at = sectionOffset(b, 9) + 64 * 5 + 7;
            b[at] = (b[at] as number) ^ 0x01;
            return b;
          }),
          list.wtns,
        ],
        /point\.zkey: section 9 \(H\) point 5 is not on the curve/,
      ],
      [
        "zkey with a section size that disagrees with its header",
        () => [
          tampered(list.art.zkey, "sizes.zkey", (b) => {
            const at = sectionOffset(b, 2) + 4 + 32 + 4 + 32;
            b.writeUInt32LE(b.readUInt32LE(at) + 1, at);
            return b;
          }),
          list.wtns,
        ],
        /sizes\.zkey: section 5 \(A\) has \d+ bytes, the header implies \d+/,
      ],
      [
        "truncated wtns",
        () => [list.art.zkey, tampered(list.wtns, "short.wtns", (b) => b.subarray(0, b.length - 40))],
        /short\.wtns: truncated: section 2 declares/,
      ],
      [
        "witness of another field",
        () => [
          list.art.zkey,
          tampered(list.wtns, "field.wtns", (b) => {
            const at = sectionOffset(b, 1) + 4;
            b[at] = (b[at] as number) ^ 0x02;
            return b;
          }),
        ],
        /field\.wtns: field prime is not BN254's scalar field/,
      ],
      [
        "a FIFO as witness (refused, not waited on)",
        () => {
          const fifo = path.join(dir, "pipe.wtns");
          if (!existsSync(fifo)) execFileSync("mkfifo", [fifo]);
          return [list.art.zkey, fifo];
        },
        /pipe\.wtns: not a regular file/,
      ],
      [
        "zkey of the other circuit",
        () => [seg.art.zkey, list.wtns],
        /witness .*list\.wtns: witness has \d+ signals, proving key .*segment-test\/circuit\.zkey expects \d+: a key of another circuit\?/,
      ],
    ];
    for (const [what, files, error] of cases) {
      it(what, () => {
        const [zkey, wtns] = files();
        const label = what.replace(/\W+/g, "-");
        const r = proveOnce(zkey, wtns, label);
        assert.equal(r.status, 2, r.stderr);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.match(r.stderr, /^error: /);
        assert.match(r.stderr, error);
        assert.equal(r.proof, undefined, "no proof file");
        assert.equal(r.publicSignals, undefined, "no public file");
      });
    }

    it("an unwritable output path: exit 2 and neither file written", () => {
      const publicFile = path.join(dir, "unwritable-public.json");
      const proofFile = path.join(dir, "no-such-dir", "proof.json");
      const r = spawnSync(bin, ["prove", list.art.zkey, list.wtns, proofFile, publicFile], {
        encoding: "utf8",
      });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^error: cannot write .*no-such-dir\/proof\.json: No such file or directory\n$/);
      assert.equal(existsSync(publicFile), false);
      assert.deepEqual(
        readdirSync(dir).filter((f) => f.includes(".tmp-")),
        [],
        "no temporary files left",
      );
    });

    it("serve answers each with ok:false naming the problem and goes on proving", async () => {
      const server = new Server();
      try {
        for (const [what, files, error] of cases) {
          const [zkey, wtns] = files();
          const reply = await server.request({ id: what, op: "prove", zkey, wtns });
          assert.equal(reply.id, what);
          assert.equal(reply.ok, false, `${what}: ${JSON.stringify(reply).slice(0, 300)}`);
          assert.match(String(reply.error), error, what);
        }
        const ok = await server.request({ id: "after", op: "prove", zkey: list.art.zkey, wtns: list.wtns });
        assert.equal(ok.ok, true, String(ok.error));
        assert.equal(await verify(list, ok.publicSignals as string[], ok.proof as Groth16Proof), true);
        assert.equal(await server.exit(), 0);
      } finally {
        server.child.kill();
      }
    });

    it("a truncated file, found after the key was cached, is reloaded and refused", async () => {
      const copy = tampered(list.art.zkey, "changing.zkey", (b) => b);
      const server = new Server();
      try {
        const first = await server.request({ id: "1", op: "load", zkey: copy });
        assert.equal(first.ok, true, String(first.error));
        truncateSync(copy, 1000);
        const second = await server.request({ id: "2", op: "prove", zkey: copy, wtns: list.wtns });
        assert.equal(second.ok, false);
        assert.match(String(second.error), /changing\.zkey: truncated/);
        assert.equal(await server.exit(), 0);
      } finally {
        server.child.kill();
      }
    });
  });

  describe("serve", () => {
    it("loads each key once and proves several jobs of two circuits, in order", async () => {
      const server = new Server();
      try {
        const load = await server.request({ id: "load", op: "load", zkey: list.art.zkey });
        assert.equal(load.ok, true, String(load.error));
        assert.equal(load.nPublic, (list.art.vkey as { nPublic: number }).nPublic);
        assert.ok(Number(load.nVars) > 0 && Number(load.domainSize) > 0);
        const jobs = [list, seg, list, seg, list];
        const seen = new Set<string>();
        for (const [i, c] of jobs.entries()) {
          const reply = await server.request({ id: `job-${i}`, op: "prove", zkey: c.art.zkey, wtns: c.wtns });
          assert.equal(reply.id, `job-${i}`);
          assert.equal(reply.ok, true, String(reply.error));
          const t = reply.timings as Record<string, number>;
          for (const k of ["loadMs", "wtnsMs", "abcMs", "fftMs", "msmG1Ms", "msmG2Ms", "totalMs"]) {
            assert.equal(typeof t[k], "number", k);
          }
          // the lot-list key was loaded by the load request, the segment key by its first job
          assert.equal(t.loadMs === 0, i !== 1, `job ${i} loadMs ${t.loadMs}`);
          assert.deepEqual(reply.publicSignals, c.expected);
          const proof = reply.proof as Groth16Proof;
          assert.equal(await verify(c, c.expected, proof), true, `job ${i}`);
          seen.add(proof.pi_a[0] as string);
        }
        assert.equal(seen.size, jobs.length, "every proof is fresh");
        const quit = await server.request({ id: "q", op: "quit" });
        assert.equal(quit.ok, true);
        assert.equal(await server.exit(), 0);
      } finally {
        server.child.kill();
      }
    });

    it("a malformed request gets ok:false and the server goes on", async () => {
      const server = new Server();
      try {
        const bad: [Record<string, unknown> | string, RegExp][] = [
          ["{not json", /not valid JSON/],
          ["[1,2]", /must be a JSON object/],
          [{ id: "a", op: "fly" }, /unknown op "fly"/],
          [{ id: "b", op: "prove", zkey: list.art.zkey }, /request has no "wtns"/],
          [{ id: "c", op: "load", zkey: 7 }, /"zkey" must be a non-empty string/],
        ];
        for (const [req, error] of bad) {
          const reply = await server.request(req);
          assert.equal(reply.ok, false);
          assert.match(String(reply.error), error);
        }
        const ok = await server.request({ id: "d", op: "load", zkey: list.art.zkey });
        assert.equal(ok.ok, true);
        assert.equal(await server.exit(), 0, "EOF exits 0");
      } finally {
        server.child.kill();
      }
    });
  });

  describe("on chain", () => {
    let chain: LocalChain | undefined;
    let verifier: Contract;

    before(async () => {
      const src = await verifierSourceFromVkey(list.art.vkey, "LotListVerifier");
      const c = (await compileSolidity({ "build/contracts/LotListVerifier.sol": src })).LotListVerifier;
      assert.ok(c);
      chain = await startLocalChain();
      const { provider, admin } = chain;
      const d = await new ContractFactory(c.abi as never, c.bytecode, admin).deploy();
      await d.waitForDeployment();
      verifier = new Contract(await d.getAddress(), c.abi as never, provider);
    });

    after(async () => {
      await chain?.stop();
    });

    const verifyOnChain = async (proof: Groth16Proof, signals: string[]): Promise<boolean> => {
      const w = proofWords(proof);
      return (await verifier.getFunction("verifyProof").staticCall(
        [w[0], w[1]],
        [
          [w[2], w[3]],
          [w[4], w[5]],
        ],
        [w[6], w[7]],
        signals.map(BigInt),
      )) as boolean;
    };

    it("the generated Solidity verifier accepts a native proof and rejects it with a forged signal", async () => {
      const r = proveOnce(list.art.zkey, list.wtns, "chain");
      assert.ok(r.proof && r.publicSignals);
      const signals: string[] = r.publicSignals;
      assert.equal(await verifyOnChain(r.proof, signals), true);
      const forged = signals.map((x, j) => (j === 1 ? String(BigInt(x) + 1n) : x));
      assert.equal(await verifyOnChain(r.proof, forged), false);
    });
  });
});
