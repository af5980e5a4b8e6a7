/**
 * Offline Groth16 verification speed: snarkjs one proof after another vs bulkhead's batch
 * verification (src/util/batchverify.ts) on the calling thread, at n = 16, 64, 256 proofs (medians of --runs runs, after a warm-up).
 *
 * Proofs are of the batchtoy fixture circuit with 17 public signals, as many as the default
 * profile's segment circuit: a Groth16 verifier's cost depends only on the number of public
 * signals, not on the circuit. Writes bench/verify.json.
 *
 *   npx tsx scripts/bench-verify.ts [--runs 3] [--sizes 16,64,256] [--inputs 16]
 */
import { existsSync, readFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { verifyBatch } from "../src/util/batchverify.js";
import { withSnarkjs } from "../src/util/curve.js";
import { sha256Hex } from "../src/util/hash.js";
import { buildDir, PACKAGE_ROOT } from "../src/util/paths.js";
import { sj as snarkjs } from "../src/util/snarkjs.js";
import { batchToy, proveBatchToy } from "../test/helpers/batchtoy.js";
import { arg, median } from "./bench-cli.js";

const runs = Number(arg("runs", "3"));
const sizes = arg("sizes", "16,64,256").split(",").map(Number);
const inputs = Number(arg("inputs", "16"));

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const toy = await batchToy(inputs);
const maxN = Math.max(...sizes);
const cacheFile = path.join(
  buildDir(),
  "bench-verify",
  `proofs-${sha256Hex(JSON.stringify(toy.vkey)).slice(0, 16)}.json`,
);
let items = existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, "utf8")) : [];
if (items.length < maxN) {
  console.log(`proving ${maxN} fixture proofs (${toy.vkey.nPublic} public signals)...`);
  items = await proveBatchToy(toy, maxN, 1);
  await fs.mkdir(path.dirname(cacheFile), { recursive: true });
  await fs.writeFile(cacheFile, JSON.stringify(items));
}

const results: Record<string, unknown>[] = [];
await withSnarkjs(async () => {
  // warm-up: snarkjs's curve and ours
  await snarkjs.groth16.verify(toy.vkey, items[0].publicSignals, items[0].proof);
  await verifyBatch(toy.vkey, items.slice(0, 4));
  for (const n of sizes) {
    const xs = items.slice(0, n);
    const one: number[] = [];
    const batch: number[] = [];
    for (let r = 0; r < runs; r++) {
      one.push(
        await timed(async () => {
          for (const it of xs) {
            if (!(await snarkjs.groth16.verify(toy.vkey, it.publicSignals, it.proof)))
              throw new Error("snarkjs: invalid");
          }
        }),
      );
      batch.push(
        await timed(async () => {
          if (!(await verifyBatch(toy.vkey, xs)).ok) throw new Error("batch: invalid");
        }),
      );
    }
    const rate = (ms: number[]) => Math.round((n / median(ms)) * 1000 * 10) / 10;
    const row = {
      n,
      oneByOne: { medianMs: Math.round(median(one)), proofsPerSecond: rate(one) },
      batch: { medianMs: Math.round(median(batch)), proofsPerSecond: rate(batch) },
    };
    results.push(row);
    console.log(
      `n=${n}: snarkjs 1 by 1 ${row.oneByOne.proofsPerSecond}/s, batch ${row.batch.proofsPerSecond}/s`,
    );
  }
});

const out = {
  bench: "verify",
  circuit: `batchtoy-${inputs} (${toy.vkey.nPublic} public signals)`,
  cores: os.availableParallelism(),
  cpu: os.cpus()[0]?.model ?? "unknown",
  node: process.version,
  runs,
  note: "proofs/s = n / median wall time; snarkjs = groth16.verify one after another (warm, its multi-threaded curve); batch = verifyBatch on the calling thread",
  results,
  at: new Date().toISOString(),
};
await fs.mkdir(path.join(PACKAGE_ROOT, "bench"), { recursive: true });
await fs.writeFile(path.join(PACKAGE_ROOT, "bench", "verify.json"), `${JSON.stringify(out, null, 2)}\n`);
console.log("wrote bench/verify.json");
process.exit(0);
