/** Small epochs and key directories for the queue tests. */
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir, readdir } from "node:fs/promises";
import * as path from "node:path";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { EXAMPLE, tmpDir } from "../helpers/epoch.js";

interface SnapshotJson {
  segments: { id: number }[];
  collateral: { segment: number }[];
  liabilities: { segment: number }[];
}

/** examples/snapshot.json restricted to some segments (segment 1 alone: 2 batches + 1 list batch). */
export function subsetSnapshot(segments: number[]): string {
  const s = JSON.parse(readFileSync(EXAMPLE, "utf8")) as SnapshotJson;
  const keep = (x: { segment: number }) => segments.includes(x.segment);
  const sub = {
    ...s,
    segments: s.segments.filter((g) => segments.includes(g.id)),
    collateral: s.collateral.filter(keep),
    liabilities: s.liabilities.filter(keep),
  };
  const file = path.join(tmpDir("snapshot"), "snapshot.json");
  writeFileSync(file, JSON.stringify(sub, null, 2));
  return file;
}

/** The test-profile artifacts, built when missing (workers load them, they never build). */
export async function ensureTestKeys(): Promise<void> {
  await ensureCircuit("segment", "test");
  await ensureCircuit("lotlist", "test");
}

/**
 * A build directory whose segment-test verification key is another circuit's (the lot list's):
 * what a worker running another build or another trusted setup looks like. Large files are links.
 */
export async function wrongKeyBuildDir(): Promise<string> {
  const real = path.join(path.dirname(path.dirname(EXAMPLE)), "build");
  const dir = tmpDir("wrong-build");
  for (const id of ["segment-test", "lotlist-test"]) {
    await mkdir(path.join(dir, id));
    for (const f of await readdir(path.join(real, id))) {
      if (f !== "vkey.json" && f !== "meta.json") symlinkSync(path.join(real, id, f), path.join(dir, id, f));
    }
    const vkeyFrom = id === "segment-test" ? "lotlist-test" : id;
    const vkey = readFileSync(path.join(real, vkeyFrom, "vkey.json"));
    writeFileSync(path.join(dir, id, "vkey.json"), vkey);
    const meta = JSON.parse(readFileSync(path.join(real, id, "meta.json"), "utf8"));
    meta.files.vkey.size = vkey.length; // consistent, so the loader accepts the directory
    writeFileSync(path.join(dir, id, "meta.json"), JSON.stringify(meta));
  }
  return dir;
}
