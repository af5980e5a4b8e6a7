/**
 * Build foundation: atomic writes, ptau selection and checks, cached circuit build, setup,
 * contracts. Uses a tiny fixture circuit (test/fixtures/circuits/tiny.circom) and, when present,
 * the shared 2^16 dev ptau; otherwise a 2^8 dev ptau is generated into a temporary cache.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import {
  contributeArtifact,
  DEV_ZKEY_CONTRIBUTION,
  ensureArtifact,
  loadArtifactsById,
  PENDING_LABEL,
  verifyArtifact,
} from "../../src/toolchain/artifacts.js";
import { readPtauHeader } from "../../src/toolchain/binfile.js";
import type { CircuitSpec } from "../../src/toolchain/compile.js";
import { buildContracts, compileSolidity, generateVerifierSource } from "../../src/toolchain/contracts.js";
import { DEV_LABEL, generateDevPtau, requiredPower, resolvePtau } from "../../src/toolchain/ptau.js";
import { atomicWrite, atomicWriteJson, sha256File, TMP_PREFIX, withTmpDir } from "../../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { createProgress } from "../../src/util/progress.js";

const FIXTURES = path.join(PACKAGE_ROOT, "test", "fixtures", "circuits");
const SHARED_PTAU = path.resolve(PACKAGE_ROOT, "..", "shared", "ptau");

function tinySpec(circuitsDir = FIXTURES, id = "tiny-fixture"): CircuitSpec {
  return {
    id,
    circuit: "tiny",
    profile: "fixture",
    entry: "tiny.circom",
    mainSource: 'pragma circom 2.1.6;\ninclude "tiny.circom";\ncomponent main {public [bound]} = Tiny(4);\n',
    circuitsDir,
    params: { K: 4 },
  };
}

/** A synthetic ptau with a valid section table (zero points): enough for header-level tests. */
async function fakePtau(file: string, power: number, prepared: boolean): Promise<void> {
  const q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
  const header = Buffer.alloc(4 + 32 + 8);
  header.writeUInt32LE(32, 0);
  let x = q;
  for (let i = 0; i < 32; i++) {
    header[4 + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  header.writeUInt32LE(power, 36);
  header.writeUInt32LE(power, 40);
  const sections: [number, Buffer][] = [[1, header]];
  sections.push([2, Buffer.alloc((2 ** (power + 1) - 1) * 64)]);
  for (const t of [3, 4, 5, 6, 7]) sections.push([t, Buffer.alloc(0)]);
  if (prepared) for (const t of [12, 13, 14, 15]) sections.push([t, Buffer.alloc(0)]);
  const parts: Buffer[] = [];
  const top = Buffer.alloc(12);
  top.write("ptau", 0, "latin1");
  top.writeUInt32LE(1, 4);
  top.writeUInt32LE(sections.length, 8);
  parts.push(top);
  for (const [t, data] of sections) {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(t, 0);
    h.writeBigUInt64LE(BigInt(data.length), 4);
    parts.push(h, data);
  }
  await fs.writeFile(file, Buffer.concat(parts));
}

async function tmpLeftovers(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith(TMP_PREFIX));
}

describe("build foundation", function () {
  this.timeout(300_000);
  let work: string;
  let cacheDir: string;
  let buildDir: string;
  let ptauDirs: { dir: string; source: "dir" | "cache" }[];

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-build-test-"));
    cacheDir = path.join(work, "cache");
    buildDir = path.join(work, "build");
    // Shared 2^16 dev ptau when present, else the (initially empty) temporary cache: a 2^8 dev
    // ptau gets generated there, which takes seconds.
    ptauDirs = [
      { dir: SHARED_PTAU, source: "dir" },
      { dir: path.join(cacheDir, "ptau"), source: "cache" },
    ];
  });

  after(async () => {
    await fs.rm(work, { recursive: true, force: true });
  });

  describe("atomicWrite", () => {
    it("writes whole files and leaves no temporary files", async () => {
      const dir = path.join(work, "aw");
      const file = path.join(dir, "x.json");
      await atomicWriteJson(file, { a: 1 });
      assert.deepEqual(JSON.parse(await fs.readFile(file, "utf8")), { a: 1 });
      // Concurrent writers of large distinct contents: the result is exactly one of them.
      const contents = Array.from({ length: 12 }, (_, i) => String(i).repeat(200_000));
      await Promise.all(contents.map((c) => atomicWrite(file, c)));
      assert.ok(contents.includes(await fs.readFile(file, "utf8")));
      assert.deepEqual(await tmpLeftovers(dir), []);
    });

    it("leaves the old file and no partial file when the write fails", async () => {
      const dir = path.join(work, "aw2");
      await fs.mkdir(path.join(dir, "target-is-a-dir"), { recursive: true });
      await assert.rejects(atomicWrite(path.join(dir, "target-is-a-dir"), "data"));
      assert.deepEqual(await tmpLeftovers(dir), []);
      const file = path.join(dir, "keep.txt");
      await atomicWrite(file, "old");
      const bad = { [Symbol.iterator]: () => assert.fail("boom") } as unknown as Uint8Array;
      await assert.rejects(atomicWrite(file, bad));
      assert.equal(await fs.readFile(file, "utf8"), "old");
      assert.deepEqual(await tmpLeftovers(dir), []);
    });

    it("withTmpDir removes its directory on success and on failure", async () => {
      const parent = path.join(work, "wt");
      let seen = "";
      await withTmpDir(parent, async (d) => {
        seen = d;
        await fs.writeFile(path.join(d, "f"), "x");
      });
      await assert.rejects(fs.stat(seen));
      await assert.rejects(
        withTmpDir(parent, async (d) => {
          seen = d;
          throw new Error("fail inside");
        }),
        /fail inside/,
      );
      await assert.rejects(fs.stat(seen));
    });
  });

  describe("progress", () => {
    it("prints label, k/total, elapsed and ETA (text and JSON lines)", () => {
      const lines: string[] = [];
      const stream = { write: (s: string) => lines.push(s) };
      const p = createProgress({ label: "setup", total: 4, stream, intervalMs: 0 });
      p.tick(1);
      p.finish();
      assert.match(lines[0] ?? "", /^setup: 1\/4 done, elapsed \d+s, ETA \d+s\n$/);
      assert.match(lines[1] ?? "", /^setup: 4\/4 done/);
      const jl: string[] = [];
      const pj = createProgress({
        label: "prove",
        total: 2,
        json: true,
        stream: { write: (s: string) => jl.push(s) },
      });
      pj.finish();
      const rec = JSON.parse(jl[0] ?? "{}") as Record<string, unknown>;
      assert.equal(rec.label, "prove");
      assert.equal(rec.done, 2);
      assert.equal(rec.total, 2);
    });
  });

  describe("ptau", () => {
    it("needed power = ceil(log2(constraints + nPublic + 1)), at least 8", () => {
      assert.equal(requiredPower(36, 2), 8);
      assert.equal(requiredPower(254, 1), 8); // 256 = 2^8
      assert.equal(requiredPower(255, 1), 9); // 257
      assert.equal(requiredPower(8180, 11), 13); // 8192
      assert.equal(requiredPower(8181, 11), 14); // 8193
      assert.equal(requiredPower(0, 0), 8);
    });

    it("picks the smallest prepared ptau that fits, earlier directories first", async () => {
      const d1 = path.join(work, "p1");
      const d2 = path.join(work, "p2");
      await fs.mkdir(d1, { recursive: true });
      await fs.mkdir(d2, { recursive: true });
      await fakePtau(path.join(d1, "a10.ptau"), 10, true);
      await fakePtau(path.join(d1, "b12.ptau"), 12, false); // not prepared: skipped
      await fakePtau(path.join(d1, "c14.ptau"), 14, true);
      await fakePtau(path.join(d2, "d12.ptau"), 12, true);
      await fs.writeFile(path.join(d1, "garbage.ptau"), "not a ptau at all"); // skipped with a warning
      const dirs = [
        { dir: d1, source: "env" as const },
        { dir: d2, source: "cache" as const },
      ];
      const opts = { dirs, cacheDir: path.join(work, "pc"), generate: false };
      const a = await resolvePtau(9, opts);
      assert.equal(path.basename(a.path), "a10.ptau");
      assert.equal(a.secure, false);
      const b = await resolvePtau(11, opts);
      assert.equal(path.basename(b.path), "c14.ptau"); // d1 has a fit, so d2 is not consulted
      await assert.rejects(
        resolvePtau(13, { ...opts, dirs: [{ dir: d2, source: "cache" as const }] }),
        /no prepared ptau of power >= 13 found/,
      );
    }).timeout(60_000);

    it("rejects garbled, truncated and wrong-hash ptau files with one-line errors", async () => {
      const d = path.join(work, "bad");
      await fs.mkdir(d, { recursive: true });
      const good = path.join(d, "good.ptau");
      await fakePtau(good, 9, true);
      const bytes = await fs.readFile(good);
      const truncated = path.join(d, "truncated.ptau");
      await fs.writeFile(truncated, bytes.subarray(0, bytes.length - 1000));
      await assert.rejects(readPtauHeader(truncated), /truncated or corrupt ptau file/);
      const garbled = path.join(d, "garbled.ptau");
      await fs.writeFile(garbled, Buffer.concat([Buffer.from("xxxx"), bytes.subarray(4)]));
      await assert.rejects(readPtauHeader(garbled), /not a ptau file/);
      const opts = { cacheDir: path.join(work, "pc2"), generate: false };
      await assert.rejects(resolvePtau(8, { ...opts, ptauFile: truncated }), /truncated/);
      await assert.rejects(
        resolvePtau(8, { ...opts, ptauFile: path.join(d, "missing.ptau") }),
        /no such file/,
      );
      await assert.rejects(resolvePtau(10, { ...opts, ptauFile: good }), /power 9, circuit needs 10/);
      await assert.rejects(
        resolvePtau(8, { ...opts, ptauFile: good, ptauHash: "00".repeat(32) }),
        /sha256 mismatch/,
      );
      const ok = await resolvePtau(8, { ...opts, ptauFile: good });
      assert.equal(ok.secure, true);
      assert.equal(ok.hashVerified, false);
      const withHash = await resolvePtau(8, { ...opts, ptauFile: good, ptauHash: ok.sha256 });
      assert.equal(withHash.hashVerified, true);
      // A found file whose .sha256 does not match is an error, not silently used.
      await fs.writeFile(`${good}.sha256`, `${"ab".repeat(32)}  good.ptau\n`);
      await assert.rejects(resolvePtau(8, { ...opts, dirs: [{ dir: d, source: "env" }] }), /sha256 mismatch/);
    });

    it("generates a prepared 2^8 dev ptau atomically when none fits", async () => {
      const out = path.join(work, "gen");
      const file = await generateDevPtau(8, out);
      const h = await readPtauHeader(file);
      assert.equal(h.power, 8);
      assert.ok(h.prepared);
      assert.ok((await fs.readFile(`${file}.sha256`, "utf8")).startsWith(await sha256File(file)));
      assert.deepEqual(await tmpLeftovers(out), []);
      // Use it as the fallback for the fixture builds when no shared ptau exists.
      await fs.mkdir(path.join(cacheDir, "ptau"), { recursive: true });
      await fs.copyFile(file, path.join(cacheDir, "ptau", "pot8_dev.ptau"));
    }).timeout(120_000);
  });

  describe("circuit artifacts", () => {
    it("builds the fixture, then a second build is a cache hit doing no work", async () => {
      const messages: string[] = [];
      const reporter = {
        json: false,
        quiet: false,
        info: (m: string) => messages.push(m),
        warn: (m: string) => messages.push(`warning: ${m}`),
        progress: (label: string, total: number) => createProgress({ label, total, quiet: true }),
      };
      const first = await ensureArtifact(tinySpec(), { buildDir, cacheDir, dirs: ptauDirs, reporter });
      assert.equal(first.work, "compile");
      assert.ok(first.meta.constraints > 30);
      assert.equal(first.meta.nPublic, 2);
      assert.equal(first.meta.insecure, true);
      assert.equal(first.meta.security, DEV_LABEL);
      assert.equal(first.meta.contributions[0]?.name, DEV_ZKEY_CONTRIBUTION);
      assert.equal((first.vkey as { nPublic: number }).nPublic, 2);
      for (const f of ["main.r1cs", "main.wasm", "main.sym", "circuit.zkey", "vkey.json", "meta.json"]) {
        await fs.access(path.join(first.dir, f));
      }
      const mtime = (await fs.stat(first.zkey)).mtimeMs;
      messages.length = 0;
      const t0 = Date.now();
      const second = await ensureArtifact(tinySpec(), { buildDir, cacheDir, dirs: ptauDirs, reporter });
      assert.equal(second.work, "hit");
      assert.ok(messages.includes("tiny-fixture: up to date (cache hit)"), messages.join("|"));
      assert.equal((await fs.stat(second.zkey)).mtimeMs, mtime);
      assert.ok(Date.now() - t0 < 5000);
      const loaded = await loadArtifactsById("tiny-fixture", buildDir);
      assert.equal(loaded.meta.vkeySha256, first.meta.vkeySha256);
      assert.deepEqual(await tmpLeftovers(buildDir), []);
    });

    it("a garbled circuit fails with a one-line error and leaves no artifact behind", async () => {
      const dir = path.join(work, "garbled-circuits");
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(
        path.join(dir, "tiny.circom"),
        "pragma circom 2.1.6;\ntemplate Tiny(K) { signal input a; a <== ; }\n",
      );
      const err = await ensureArtifact(tinySpec(dir, "tiny-garbled"), {
        buildDir,
        cacheDir,
        dirs: ptauDirs,
      }).then(
        () => assert.fail("should fail"),
        (e: Error) => e,
      );
      assert.match(err.message, /^tiny-garbled: circom compile failed: error\[P\d+\]/);
      assert.ok(!err.message.includes("\n"));
      await assert.rejects(fs.stat(path.join(buildDir, "tiny-garbled")));
      await assert.rejects(loadArtifactsById("tiny-garbled", buildDir), /artifacts not built/);
      assert.deepEqual(await tmpLeftovers(buildDir), []);
    });

    it("a missing circuit source fails clearly", async () => {
      const dir = path.join(work, "empty-circuits");
      await fs.mkdir(dir, { recursive: true });
      await assert.rejects(
        ensureArtifact(tinySpec(dir, "tiny-missing"), { buildDir, cacheDir, dirs: ptauDirs }),
        /tiny-missing: circuit source .*tiny\.circom not found/,
      );
    });

    it("a truncated --ptau fails the setup and keeps the previous artifacts intact", async () => {
      const before = await loadArtifactsById("tiny-fixture", buildDir);
      const bad = path.join(work, "trunc.ptau");
      await fakePtau(bad, 9, true);
      await fs.truncate(bad, (await fs.stat(bad)).size - 4096);
      await assert.rejects(
        ensureArtifact(tinySpec(), { buildDir, cacheDir, ptauFile: bad }),
        /truncated or corrupt/,
      );
      await assert.rejects(
        ensureArtifact(tinySpec(), { buildDir, cacheDir, ptauFile: path.join(work, "missing.ptau") }),
        /missing\.ptau: cannot open \(no such file\)/,
      );
      const after = await loadArtifactsById("tiny-fixture", buildDir);
      assert.equal(after.meta.vkeySha256, before.meta.vkeySha256);
      assert.deepEqual(await tmpLeftovers(buildDir), []);
    });

    it("production path: --ptau setup is pending until a verified contribution", async () => {
      const ptau = path.join(cacheDir, "ptau", "pot8_dev.ptau"); // stands in for a ceremony file
      const prodBuild = path.join(work, "prod-build");
      const a = await ensureArtifact(tinySpec(), { buildDir: prodBuild, cacheDir, ptauFile: ptau });
      assert.equal(a.meta.security, PENDING_LABEL);
      assert.equal(a.meta.insecure, true);
      assert.equal(a.meta.ptau.secure, true);
      // A later build without --ptau keeps the production keys (circuit unchanged).
      const again = await ensureArtifact(tinySpec(), { buildDir: prodBuild, cacheDir, dirs: ptauDirs });
      assert.equal(again.work, "hit");
      const c = await contributeArtifact("tiny-fixture", {
        buildDir: prodBuild,
        cacheDir,
        entropy: "test entropy",
        name: "alice",
      });
      assert.equal(c.meta.security, "production");
      assert.equal(c.meta.insecure, false);
      assert.equal(c.meta.contributions.at(-1)?.name, "alice");
      assert.notEqual(c.meta.vkeySha256, a.meta.vkeySha256);
      assert.equal(await verifyArtifact("tiny-fixture", { buildDir: prodBuild }), true);
      // Contributing to a dev setup is refused.
      await assert.rejects(contributeArtifact("tiny-fixture", { buildDir, cacheDir }), /development ptau/);
    });
  });

  describe("contracts", () => {
    it("generates a renamed verifier and compiles it with solc", async () => {
      const a = await loadArtifactsById("tiny-fixture", buildDir);
      const src = await generateVerifierSource(a.zkey, "TinyVerifier");
      assert.match(src, /contract TinyVerifier \{/);
      const out = await compileSolidity({ "build/contracts/TinyVerifier.sol": src });
      assert.ok((out.TinyVerifier?.bytecode.length ?? 0) > 100);
      assert.ok(out.TinyVerifier?.abi.some((e) => (e as { name?: string }).name === "verifyProof"));
    });

    it("buildContracts is cached and reports solc errors on one line", async () => {
      const cdir = path.join(work, "contracts");
      await fs.mkdir(cdir, { recursive: true });
      await fs.writeFile(
        path.join(cdir, "Hello.sol"),
        '// SPDX-License-Identifier: MIT\npragma solidity ^0.8.20;\nimport "@openzeppelin/contracts/access/Ownable.sol";\ncontract Hello is Ownable { constructor() Ownable(msg.sender) {} function hi() external pure returns (uint256) { return 42; } }\n',
      );
      const opts = { buildDir, contractsDir: cdir, circuits: [] as const };
      const r1 = await buildContracts(opts);
      assert.equal(r1.work, "compile");
      assert.deepEqual(r1.contracts, ["Hello"]);
      const json = JSON.parse(await fs.readFile(path.join(buildDir, "contracts", "Hello.json"), "utf8")) as {
        bytecode: string;
      };
      assert.match(json.bytecode, /^0x[0-9a-f]{100,}$/);
      const r2 = await buildContracts(opts);
      assert.equal(r2.work, "hit");
      await fs.writeFile(
        path.join(cdir, "Broken.sol"),
        "pragma solidity ^0.8.20;\ncontract Broken { function f( }\n",
      );
      const err = await buildContracts(opts).then(
        () => assert.fail("should fail"),
        (e: Error) => e,
      );
      assert.match(err.message, /^solc: .*Error/);
      assert.ok(!err.message.includes("\n"));
      // The previous output is untouched.
      await fs.access(path.join(buildDir, "contracts", "Hello.json"));
    });
  });

  describe("cli", () => {
    it("exits 1 with a one-line error", () => {
      const r = spawnSync(
        process.execPath,
        [path.join(PACKAGE_ROOT, "bin", "bulkhead.mjs"), "build", "--profile", "nope"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), 'error: unknown profile "nope" (known: test, default, large)');
    });
  });
});
