#!/usr/bin/env node
// Runs the TypeScript CLI through tsx: `npx bulkhead ...` works without a compile step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/index.ts");
process.exit(await main(process.argv));
