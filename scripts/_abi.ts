// Regenerates src/chain/abi.ts's list from the compiled SolvencyRegistry (dev helper).
import { readFileSync, writeFileSync } from "node:fs";
import { Interface } from "ethers";
import { compileSolidity } from "../src/toolchain/contracts.js";

const names = [
  "SolvencyRegistry.sol",
  "ISolvencyRegistry.sol",
  "ISegmentGovernance.sol",
  "ISegmentGovernanceErrors.sol",
];
const src = Object.fromEntries(names.map((n) => [n, readFileSync(`contracts/${n}`, "utf8")]));
const out = await compileSolidity(src);
const reg = out.SolvencyRegistry;
if (!reg) throw new Error("no SolvencyRegistry");
const lines = new Interface(reg.abi as never).format().sort((a, b) => {
  const rank = (s: string) => ["constructor", "error", "event", "function"].findIndex((p) => s.startsWith(p));
  return rank(a) - rank(b) || a.localeCompare(b);
});
const file = "src/chain/abi.ts";
const text = readFileSync(file, "utf8");
const start = text.indexOf("export const REGISTRY_ABI");
const body = `export const REGISTRY_ABI: readonly string[] = [\n${lines.map((l) => `  ${JSON.stringify(l)},`).join("\n")}\n];\n`;
writeFileSync(file, text.slice(0, start) + body);
console.log(lines.length, "entries");
