/**
 * Import rules for src/ (`npm run test:deps`, part of `npm test`):
 *
 *  - no cycles;
 *  - the data path: snapshot -> epoch -> prove -> bundle -> receipts -> audit -> chain; a stage
 *    imports only the stages before it. spec/, util/ and toolchain/ sit beside the path and import
 *    no stage; cli/, index.ts, build.ts and pipeline.ts (the prover's whole run) sit above it;
 *  - the verification core (what the receipt page bundles, web/build.ts) imports no Node built-in
 *    and no Node-only module (a `*.node.ts` file, bundle/disk.ts, audit/node.ts, toolchain/ but
 *    devkeys.ts and page-anchor.ts): it runs unchanged in Node and the browser.
 */
const STAGES = ["snapshot", "epoch", "prove", "bundle", "receipts", "audit", "chain"];
const BESIDE = ["spec", "util", "toolchain", "types"];

const stageRules = STAGES.map((stage, i) => ({
  name: `data-path-${stage}`,
  comment: `${stage}/ imports only the stages before it (${STAGES.slice(0, i).join(", ") || "none"}) and spec/util/toolchain`,
  severity: "error",
  from: { path: `^src/${stage}/` },
  to: { path: `^src/(${STAGES.slice(i + 1).join("|") || "$^"}|cli)/|^src/(index|build|pipeline)\\.ts$` },
}));

const CORE = [
  "src/bundle/bundle\\.ts",
  "src/receipts/receipts\\.ts",
  "src/audit/(anchor|audit|html|receipt)\\.ts",
  "src/chain/(abi|receipt|registry)\\.ts",
  "src/spec/",
  "src/util/(batchverify|curve|hash|snarkjs|table)\\.ts",
  "src/toolchain/(devkeys|page-anchor)\\.ts",
];

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no import cycle in src/",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...stageRules,
    {
      name: "beside-the-path",
      comment: "spec/, util/ and toolchain/ import no stage of the data path",
      severity: "error",
      from: { path: `^src/(${BESIDE.join("|")})/` },
      to: { path: `^src/(${STAGES.join("|")}|cli)/|^src/(index|build|pipeline)\\.ts$` },
    },
    {
      name: "core-no-node",
      comment: "the verification core runs in the browser too: no Node built-in, no Node-only module",
      severity: "error",
      from: { path: `^(${CORE.join("|")})` },
      to: {
        dependencyTypesNot: ["type-only"],
        path: "\\.node\\.ts$|^src/bundle/disk\\.ts$|^src/audit/node\\.ts$|^src/toolchain/(?!(devkeys|page-anchor)\\.ts)",
      },
    },
    {
      name: "core-no-node-builtins",
      comment: "the verification core imports no Node built-in module",
      severity: "error",
      from: { path: `^(${CORE.join("|")})` },
      to: { dependencyTypes: ["core"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"] },
  },
};
