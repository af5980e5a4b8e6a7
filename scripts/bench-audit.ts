/**
 * Whole-epoch offline audit speed at a realistic proof count (>= 100 proofs/s on 2
 * cores). `npm run bench` audits its small timing epoch (6 proofs), where an audit's fixed work
 * (reading the bundle, anchoring keys, one final exponentiation per circuit) dominates; this
 * proves a synthetic epoch of many batches (default: the `test` profile, cheap proofs; a Groth16
 * verification costs the same whatever the circuit, up to its public signals) and times
 * `auditBundle` on it: a cold first call, then warm runs (median). Writes bench/audit.json.
 *
 *   npx tsx scripts/bench-audit.ts [--profile test] [--segments 8] [--positions 28] [--runs 3] [--out bench]
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { auditBundle } from "../src/audit/node.js";
import { proveSnapshot } from "../src/pipeline.js";
import { getProfile } from "../src/spec/profiles.js";
import { terminateCurves } from "../src/util/curve.js";
import { atomicWriteJson } from "../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../src/util/paths.js";
import { createReporter } from "../src/util/progress.js";
import { arg, benchLog, median, round } from "./bench-cli.js";
import { syntheticSnapshot } from "./bench-snapshot.js";

const profileName = arg("profile", "test");
const segments = Number(arg("segments", "8"));
const perSegment = Number(arg("positions", "28"));
const runs = Number(arg("runs", "3"));
const outDir = path.resolve(arg("out", path.join(PACKAGE_ROOT, "bench")));
const log = benchLog("bench-audit");

async function main(): Promise<void> {
  const profile = getProfile(profileName);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-bench-audit-"));
  try {
    log(`proving ${segments} segments x ${perSegment} positions (profile ${profileName})`);
    const summary = await proveSnapshot({
      snapshot: syntheticSnapshot(profile, 1, segments, perSegment),
      out: path.join(work, "epoch"),
      profile: profileName,
      selfAudit: false,
      reporter: createReporter({ quiet: true }),
    });
    const proofs = summary.proofs.total;
    const audit = async () => {
      const t0 = performance.now();
      const r = await auditBundle(summary.publicDir, { anchor: { kind: "local" }, allowDevKeys: true });
      if (!r.ok) throw new Error("the synthetic epoch did not pass its audit");
      return performance.now() - t0;
    };
    const cold = await audit();
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) warm.push(await audit());
    const ms = median(warm);
    const result = {
      bench: "audit",
      date: new Date().toISOString(),
      command: `npx tsx scripts/bench-audit.ts --profile ${profileName} --segments ${segments} --positions ${perSegment} --runs ${runs}`,
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? "unknown",
      loadAvg: os.loadavg().map((x) => round(x, 2)),
      node: process.version,
      profile: profileName,
      proofs,
      segmentProofs: summary.segments.reduce((n, s) => n + s.batches, 0),
      listProofs: summary.lotListBatches,
      anchor: "local keys",
      coldMs: round(cold, 0),
      warmMs: warm.map((x) => round(x, 0)),
      medianWarmMs: round(ms, 0),
      proofsPerSecondWarm: round((proofs * 1000) / ms),
      proofsPerSecondCold: round((proofs * 1000) / cold),
      note: "auditBundle end to end (bundle read, key anchoring, every check, Groth16 batch verification per circuit); warm = median of the runs after the first",
    };
    await atomicWriteJson(path.join(outDir, "audit.json"), result);
    log(`${proofs} proofs: ${result.proofsPerSecondWarm} proofs/s warm (${result.proofsPerSecondCold} cold)`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await terminateCurves();
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench-audit failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
