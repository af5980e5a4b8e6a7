/**
 * `npm run bench -- --quick` must keep working: run it (test profile, one run per timing) into a
 * temporary directory and check that results.json and BENCHMARKS.md are written whole (atomic
 * writes leave no temporary files), parse, and hold every section with positive numbers. Timings
 * are not asserted against thresholds: this machine is shared and noisy.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { PACKAGE_ROOT } from "../../src/util/paths.js";

type Json = Record<string, unknown>;

function at(o: unknown, dotted: string): unknown {
  let v: unknown = o;
  for (const k of dotted.split(".")) v = (v as Json | undefined)?.[k];
  return v;
}
function positive(o: unknown, dotted: string): number {
  const v = at(o, dotted);
  assert.equal(typeof v, "number", `${dotted} is not a number: ${JSON.stringify(v)}`);
  assert.ok(Number.isFinite(v as number) && (v as number) > 0, `${dotted} is not positive: ${v}`);
  return v as number;
}

describe("bench: npm run bench -- --quick", function () {
  this.timeout(1_200_000);
  let out: string;
  let stdout = "";
  let stderr = "";
  let code: number | null = null;

  before(async () => {
    out = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-"));
    const tsx = path.join(PACKAGE_ROOT, "node_modules", ".bin", "tsx");
    const child = spawn(tsx, ["scripts/bench.ts", "--quick", "--runs", "1", "--out", out, "--json"], {
      cwd: PACKAGE_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
  });

  after(async () => {
    if (out) await fs.rm(out, { recursive: true, force: true });
  });

  it("exits 0, prints progress on stderr and the results JSON on stdout", () => {
    assert.equal(code, 0, `bench failed:\n${stderr.slice(-3000)}`);
    assert.match(stderr, /\[bench [\d:]+\] profile test/);
    const printed = JSON.parse(stdout) as Json;
    assert.equal(printed.format, "bulkhead-bench");
  });

  it("writes results.json and BENCHMARKS.md atomically (no temporary files left)", async () => {
    const files = (await fs.readdir(out)).sort();
    assert.deepEqual(files, ["BENCHMARKS.md", "results.json"]);
    const res = JSON.parse(await fs.readFile(path.join(out, "results.json"), "utf8")) as Json;
    assert.deepEqual(res, JSON.parse(stdout));
    const md = await fs.readFile(path.join(out, "BENCHMARKS.md"), "utf8");
    for (const h of [
      "# bulkhead benchmarks",
      "## Targets",
      "## Profile `test`",
      "### Constraints",
      "### Time",
      "### Sizes",
      "### Gas",
    ]) {
      assert.ok(md.includes(h), `BENCHMARKS.md lacks "${h}"`);
    }
    assert.match(md, /npm run bench -- --quick/);
  });

  it("holds every section with positive numbers", async () => {
    const res = JSON.parse(await fs.readFile(path.join(out, "results.json"), "utf8")) as Json;
    assert.equal(res.mode, "quick");
    positive(res, "machine.cores");
    positive(res, "machine.memoryGiB");
    assert.match(String(at(res, "machine.node")), /^v\d+/);
    const t = at(res, "profiles.test") as Json;
    assert.ok(t, "no test profile results");
    for (const c of ["segment", "lotlist"]) {
      positive(t, `circuits.${c}.constraints`);
      positive(t, `circuits.${c}.zkeyBytes`);
      positive(t, `witness.wasm.${c}Ms`);
      positive(t, `proving.perBatchMs.${c}`);
      positive(t, `verification.perProofMs.${c}`);
    }
    for (const k of [
      "constraints.segment.perLot",
      "constraints.segment.perLiability",
      "constraints.lotlist.perLot",
      "constraints.perPosition.marginal",
      "constraints.perPosition.amortizedFullBatches",
      "proving.epoch.positions",
      "proving.epoch.medianPipelineProveMs",
      "proving.epoch.medianRawMs",
      "proving.epoch.medianRawConcurrentMs",
      "proving.epoch.overheadRatio",
      "proving.epoch.positionsPerSecond",
      "proving.memory.maxRssMiBAfterPipeline",
      "verification.audit.proofs",
      "verification.audit.proofsPerSecondWarm",
      "sizes.bundleBytes",
      "sizes.bundleBytesPerPosition",
      "sizes.receiptBytesPerPosition",
      "gas.epoch.commitEpoch",
      "gas.epoch.finalizeEpoch",
      "gas.medianSubmitSegmentBatch",
      "gas.medianSubmitListBatch",
      "gas.submitGasPerPositionFullBatches",
    ]) {
      positive(t, k);
    }
    // the per-position figure is consistent with the circuit sizes
    const p = t.profile as { lotsPerBatch: number; lotsPerGlobalBatch: number };
    const amort = positive(t, "constraints.perPosition.amortizedFullBatches");
    const expected =
      positive(t, "circuits.segment.constraints") / p.lotsPerBatch +
      positive(t, "circuits.lotlist.constraints") / p.lotsPerGlobalBatch;
    assert.ok(Math.abs(amort - expected) < 1, `${amort} vs ${expected}`);
    // the C++ witness section is present either way (available, or why not)
    const cpp = at(t, "witness.cpp") as Json;
    assert.ok(cpp.available === true || typeof cpp.reason === "string");
    // gas for 1, 10 and 100 segments, each labelled measured or derived
    const scaling = at(t, "gas.scaling") as Json[];
    assert.deepEqual(
      scaling.map((x) => x.segments),
      [1, 10, 100],
    );
    for (const x of scaling) {
      positive(x, "total");
      positive(x, "commitEpoch");
      assert.equal(typeof x.kind, "string");
    }
    assert.equal(scaling[0]?.kind, "measured");
    const targets = res.targets as Json[];
    assert.ok(targets.length >= 4, "targets table incomplete");
    for (const x of targets) assert.equal(typeof x.met, "boolean");
  });
});
