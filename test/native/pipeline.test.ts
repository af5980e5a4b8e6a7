/**
 * The native prover in the pipeline (test profile): a whole epoch proven natively audits, carries
 * the public signals snarkjs gives for the same snapshot and secret, and its proofs verify in the
 * generated Solidity verifiers on anvil (a changed public signal does not); a native proof
 * corrupted on purpose (fault point `native:corrupt-proof`) is caught before it is stored, proven
 * again with snarkjs and reported by job id; without the native binary or toolchain the run says
 * so once and proves with snarkjs; `--prover native` then fails, naming the flag.
 */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import * as path from "node:path";
import { Contract, ContractFactory } from "ethers";
import { auditBundle } from "../../src/audit/node.js";
import type { Bundle } from "../../src/bundle/bundle.js";
import { readBundle } from "../../src/bundle/disk.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { resolveProver } from "../../src/prove/prover.js";
import type { CircuitName } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { proofWords } from "../../src/toolchain/batch-verifier.js";
import { compileSolidity, verifierSourceFromVkey } from "../../src/toolchain/contracts.js";
import { NATIVE_INSTALL_COMMAND } from "../../src/toolchain/native.js";
import { createReporter } from "../../src/util/progress.js";
import type { Groth16Proof } from "../../src/util/snarkjs.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { runCli } from "../helpers/cli.js";
import { EXAMPLE, secretFile, tmpDir } from "../helpers/epoch.js";
import { requireNativeWitness } from "../helpers/native.js";
import { subsetSnapshot } from "../queue/fixtures.js";

function capture() {
  const lines: string[] = [];
  const reporter = createReporter({ stream: { write: (s: string) => lines.push(s) } });
  return { reporter, text: () => lines.join("") };
}

async function audits(s: ProveSummary): Promise<void> {
  const rep = await auditBundle(s.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
  assert.ok(rep.ok, rep.errors.join("; "));
  assert.equal(rep.proofsVerified, s.proofs.total);
}

/** Every proof of a bundle with its circuit, in bundle order. */
function proofsOf(b: Bundle): { circuit: CircuitName; publicSignals: string[]; proof: Groth16Proof }[] {
  return [
    ...b.proofs.segments.flatMap((g) => g.batches.map((p) => ({ circuit: "segment" as const, ...p }))),
    ...b.proofs.lotList.map((p) => ({ circuit: "lotlist" as const, ...p })),
  ];
}

describe("native prover: the pipeline", function () {
  this.timeout(20 * 60_000);
  let native: ProveSummary;
  let nativeLog: string;

  before(async function () {
    await requireNativeWitness(this, "test");
  });

  it("proves a whole epoch natively: every proof native and verified, the bundle audits", async () => {
    const log = capture();
    native = await proveSnapshot({
      snapshot: EXAMPLE,
      out: tmpDir("native-epoch"),
      profile: "test",
      secretFile: secretFile(),
      prover: "native",
      reporter: log.reporter,
    });
    nativeLog = log.text();
    assert.equal(native.prover.used, "native");
    assert.deepEqual(native.prover.proofs, { native: native.proofs.total, snarkjs: 0 });
    assert.deepEqual(native.prover.incidents, []);
    assert.equal(native.prover.fallback, undefined);
    assert.match(nativeLog, /prover: native \(.*bulkhead-prover, \d+ thread\(s\)\)/);
    assert.match(nativeLog, /proving \(native\): \d+\/7 done.*\((segment|lotlist)-[\d-]+, native\)/);
    await audits(native);
  });

  it("gives the public signals snarkjs gives for the same snapshot and secret, with other proofs", async () => {
    const snark = await proveSnapshot({
      snapshot: EXAMPLE,
      out: tmpDir("snarkjs-epoch"),
      profile: "test",
      secretFile: secretFile(),
      prover: "snarkjs",
    });
    assert.equal(snark.prover.used, "snarkjs");
    assert.deepEqual(snark.prover.proofs, { native: 0, snarkjs: snark.proofs.total });
    assert.equal(snark.manifestHash, native.manifestHash);
    const a = proofsOf((await readBundle(native.publicDir)).bundle);
    const b = proofsOf((await readBundle(snark.publicDir)).bundle);
    assert.deepEqual(
      a.map((p) => p.publicSignals),
      b.map((p) => p.publicSignals),
    );
    for (const [i, p] of a.entries()) assert.notDeepEqual(p.proof.pi_a, b[i]?.proof.pi_a);
  });

  describe("on chain", () => {
    let chain: LocalChain | undefined;
    after(async () => chain?.stop());

    it("every native proof verifies in the generated verifier; one with a changed public signal does not", async () => {
      chain = await startLocalChain();
      const { provider, admin } = chain;
      const verifiers = {} as Record<CircuitName, Contract>;
      for (const circuit of ["segment", "lotlist"] as const) {
        const vkey = (await ensureCircuit(circuit, "test")).vkey;
        const name = `${circuit === "segment" ? "Segment" : "LotList"}NativeCheck`;
        const c = (
          await compileSolidity({ [`build/contracts/${name}.sol`]: await verifierSourceFromVkey(vkey, name) })
        )[name];
        if (!c) throw new Error(`no ${name}`);
        const d = await new ContractFactory(c.abi as never, c.bytecode, admin).deploy();
        await d.waitForDeployment();
        verifiers[circuit] = new Contract(await d.getAddress(), c.abi as never, provider);
      }
      const check = (circuit: CircuitName, proof: Groth16Proof, signals: string[]): Promise<boolean> => {
        const w = proofWords(proof);
        return verifiers[circuit].getFunction("verifyProof").staticCall(
          [w[0], w[1]],
          [
            [w[2], w[3]],
            [w[4], w[5]],
          ],
          [w[6], w[7]],
          signals.map(BigInt),
        ) as Promise<boolean>;
      };
      const proofs = proofsOf((await readBundle(native.publicDir)).bundle);
      assert.equal(proofs.length, 7);
      for (const p of proofs) assert.equal(await check(p.circuit, p.proof, p.publicSignals), true);
      const p0 = proofs[0] as (typeof proofs)[number];
      const forged = [...p0.publicSignals];
      forged[0] = String(BigInt(forged[0] as string) + 1n);
      assert.equal(await check(p0.circuit, p0.proof, forged), false);
    });
  });

  it("catches a corrupted native proof, proves that job again with snarkjs and reports it by id", async () => {
    const log = capture();
    process.env.BULKHEAD_FAULT = "native:corrupt-proof#2";
    let s: ProveSummary;
    try {
      s = await proveSnapshot({
        snapshot: EXAMPLE,
        out: tmpDir("native-corrupt"),
        profile: "test",
        secretFile: secretFile(),
        reporter: log.reporter,
      });
    } finally {
      delete process.env.BULKHEAD_FAULT;
    }
    assert.equal(s.prover.used, "native");
    assert.deepEqual(s.prover.proofs, { native: s.proofs.total - 1, snarkjs: 1 });
    assert.equal(s.prover.incidents.length, 1);
    const inc = s.prover.incidents[0] as (typeof s.prover.incidents)[number];
    assert.match(inc.job, /^(segment-\d+-\d+|lotlist-\d+)$/);
    assert.match(
      inc.reason,
      /its native proof was rejected: the proof does not verify against the coordinator's verification key/,
    );
    assert.equal(inc.reprovedWith, "snarkjs");
    assert.ok(
      log
        .text()
        .includes(`warning: job ${inc.job}: its native proof was rejected: the proof does not verify`),
      "the incident is reported by job id",
    );
    // progress lines are throttled, so the re-proven job's own tick may not be printed
    const n = s.proofs.total;
    assert.match(log.text(), new RegExp(`^proving \\(native\\): ${n}/${n} done`, "m"));
    await audits(s);
  });
});

describe("native prover: fallback to snarkjs", function () {
  this.timeout(10 * 60_000);

  it("without the native binary: one warning, snarkjs proves, the epoch audits; --prover native fails", async () => {
    const missing = path.join(tmpDir("no-native"), "bulkhead-prover");
    const log = capture();
    const s = await proveSnapshot({
      snapshot: subsetSnapshot([1]),
      out: tmpDir("fallback-epoch"),
      profile: "test",
      secretFile: secretFile(),
      nativeBin: missing,
      reporter: log.reporter,
    });
    assert.equal(s.prover.used, "snarkjs");
    assert.match(s.prover.fallback ?? "", /native prover binary .*bulkhead-prover cannot be run \(ENOENT\)/);
    assert.deepEqual(s.prover.proofs, { native: 0, snarkjs: 3 });
    assert.equal(log.text().match(/native prover unavailable, using snarkjs/g)?.length, 1);
    await audits(s);
    // said once per process: the same problem again is not repeated
    const again = capture();
    const c = await resolveProver(undefined, "test", { reporter: again.reporter, nativeBin: missing });
    assert.equal(c.name, "snarkjs");
    assert.equal(again.text(), "");
    await assert.rejects(
      proveSnapshot({
        snapshot: subsetSnapshot([1]),
        out: tmpDir("native-required"),
        profile: "test",
        secretFile: secretFile(),
        nativeBin: missing,
        prover: "native",
      }),
      /--prover native: the native prover binary .* cannot be run/,
    );
  });

  it("without the toolchain (CLI, no g++ or nasm on PATH): says so once with the install command", async () => {
    // a PATH with node alone: g++ and nasm are not found
    const bin = path.join(tmpDir("path"), "bin");
    mkdirSync(bin);
    symlinkSync(process.execPath, path.join(bin, "node"));
    const r = await runCli(
      ["prove", "-s", subsetSnapshot([1]), "-o", tmpDir("cli-fallback"), "-p", "test", "--json"],
      { env: { PATH: bin } },
    );
    assert.equal(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => l.includes("native prover unavailable"));
    assert.equal(warnings.length, 1, r.stderr);
    assert.ok(warnings[0]?.includes(NATIVE_INSTALL_COMMAND), warnings[0]);
    const out = JSON.parse(r.stdout) as ProveSummary & { ok: boolean };
    assert.equal(out.prover.used, "snarkjs");
    assert.ok(out.prover.fallback?.includes(NATIVE_INSTALL_COMMAND));
    assert.deepEqual(out.prover.proofs, { native: 0, snarkjs: 3 });
    const rep = await auditBundle(out.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
    assert.ok(rep.ok, rep.errors.join("; "));
  });
});
