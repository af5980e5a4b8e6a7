/**
 * Memory of writing receipts (bounded memory): builds a synthetic epoch of N lots and N
 * liabilities (N accounts), then writes its receipts in the sharded layout. Prints the live heap
 * (after a full gc) held by the epoch build, the peak live heap above it while writing (streamed,
 * `receiptsOf` + `writeReceiptStore`, sampled 32 times), and the heap held by every receipt built
 * in memory at once (`buildReceipts`, the former way), per position (lot or liability).
 *
 *   node --expose-gc --import tsx scripts/bench-receipts.ts [N ...]   (default 10000)
 */
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { buildEpoch } from "../src/epoch/plan.js";
import { buildReceipts, receiptsOf } from "../src/receipts/build.js";
import { writeReceiptStore } from "../src/receipts/store.js";
import { parseSnapshot } from "../src/snapshot/snapshot.js";
import { getProfile } from "../src/spec/profiles.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

function snapshotOf(n: number) {
  return {
    epoch: 1,
    assets: [{ symbol: "ETH", decimals: 18 }],
    segments: [
      { id: 1, name: "s", marginBps: 1000, prices: { ETH: "3000" }, collateralFactorBps: { ETH: 8000 } },
    ],
    collateral: Array.from({ length: n }, (_, i) => ({
      lotId: `0x${(0xc0000000 + i).toString(16)}`,
      segment: 1,
      asset: "ETH",
      amount: "2",
    })),
    liabilities: Array.from({ length: n }, (_, i) => ({
      account: `acct-${i}`,
      segment: 1,
      asset: "ETH",
      amount: "1",
    })),
  };
}

/** `items`, recording the live heap (after a full gc) every `every` items and at the end. */
function* sampled<T>(items: Iterable<T>, every: number, peak: { live: number }): Generator<T> {
  let i = 0;
  for (const it of items) {
    yield it;
    if (++i % every === 0) peak.live = Math.max(peak.live, heap());
  }
}

async function run(n: number) {
  const profile = getProfile("default");
  const base = heap();
  const snapshot = parseSnapshot(snapshotOf(n), { profile }, "synthetic");
  const build = await buildEpoch(snapshot, profile, new Uint8Array(32).fill(5));
  const held = heap();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-receipts-mem-"));
  try {
    const head = { epoch: "1", manifestHash: build.manifestHash };
    const t0 = Date.now();
    const peak = { live: held };
    const count = await writeReceiptStore(dir, sampled(receiptsOf(build), Math.max(1, n >> 4), peak), head);
    const ms = Date.now() - t0;
    const streamPeak = peak.live;
    const all = buildReceipts(build);
    const wholePeak = heap();
    const positions = 2 * n;
    const kb = (b: number) => ((b / positions) * 1e-3).toFixed(2);
    console.log(
      `N=${n} (${positions} positions, ${count} receipts in ${ms} ms): epoch build ${((held - base) / 2 ** 20).toFixed(0)} MiB; ` +
        `writing, streamed: peak +${((streamPeak - held) / 2 ** 20).toFixed(1)} MiB (${kb(streamPeak - held)} KB/position); ` +
        `all receipts in memory: +${((wholePeak - held) / 2 ** 20).toFixed(1)} MiB (${kb(wholePeak - held)} KB/position, ${all.length} receipts)`,
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

for (const n of process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0)
  .concat(process.argv.length > 2 ? [] : [10_000]))
  await run(n);
