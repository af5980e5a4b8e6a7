#!/usr/bin/env node
// Runs the TypeScript CLI through tsx: `npx bulkhead ...` works without a compile step.
import * as path from "node:path";
import { register } from "tsx/esm/api";

// `--build-dir DIR` becomes $BULKHEAD_BUILD_DIR before any module reads it (src/util/paths.ts),
// so every default build location of this run is DIR (the CLI's preAction hook sets it too).
const argv = process.argv;
for (let i = 2; i < argv.length; i++) {
  const a = argv[i];
  const dir = a === "--build-dir" ? argv[i + 1] : a.startsWith("--build-dir=") ? a.slice(12) : undefined;
  if (dir) process.env.BULKHEAD_BUILD_DIR = path.resolve(dir);
}

register();
const { main } = await import("../src/cli/index.ts");
process.exit(await main(process.argv));
