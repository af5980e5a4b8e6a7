/**
 * `npm run demo`: the whole bulkhead flow on the bundled example (examples/snapshot.json, four
 * segments, one insolvent, one empty), with the `test` circuit profile:
 *
 *   1. build the test-profile circuits (compile + dev setup; cached in build/)
 *   2. a local chain (anvil): tokens, Chainlink feeds, custody, SegmentGovernance behind a
 *      timelock, the registry; the snapshot to prove is built from governed state
 *      (scripts/chain-demo.ts `startGovernedChain`)
 *   3. prove the epoch on all cores -> out/demo/public (bundle) + out/demo/private (receipts)
 *   4. audit the bundle offline, as an auditor would
 *   5. verify a user's receipt that is included, and show one that is not
 *   6. publish on chain, status, chain-anchored audit and receipt, the IsolatedVault example
 *      reacting (`runChainDemo`); the node is stopped at the end, also on failure
 *
 * Options: --out DIR (default out/demo), --workers N.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { formatAudit } from "../src/audit/audit.js";
import { auditBundle, verifyReceipt } from "../src/audit/node.js";
import { formatReceiptVerdict } from "../src/audit/receipt.js";
import { formatProveSummary } from "../src/cli/prove.js";
import { type CircuitKeys, proveSnapshot } from "../src/pipeline.js";
import type { AccountReceipt, LotReceipt } from "../src/receipts/receipts.js";
import { findReceipt } from "../src/receipts/store.js";
import { liabilityLeaf } from "../src/spec/encoding.js";
import type { CircuitName } from "../src/spec/profiles.js";
import { ensureCircuit } from "../src/toolchain/artifacts.js";
import { terminateCurves } from "../src/util/curve.js";
import { PACKAGE_ROOT } from "../src/util/paths.js";
import { createReporter, formatDuration } from "../src/util/progress.js";
import { type GovernedChain, runChainDemo, startGovernedChain } from "./chain-demo.js";

const PROFILE = "test";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const say = (s = "") => process.stdout.write(`${s}\n`);
const step = (n: number, title: string) =>
  say(`\n=== ${n}. ${title} ${"=".repeat(Math.max(0, 66 - title.length))}`);

// Long by nature: the demo's steps in the order the README tells them, each a few lines that call
// the library and print; read top to bottom, it is the walkthrough.
async function main(): Promise<void> {
  const t0 = Date.now();
  const out = path.resolve(arg("--out") ?? path.join(PACKAGE_ROOT, "out", "demo"));
  const workers = arg("--workers") ? Number(arg("--workers")) : undefined;
  say("bulkhead demo: per-segment solvency proofs with no shared collateral");
  say(
    `snapshot: examples/snapshot.json   profile: ${PROFILE}   output: ${path.relative(process.cwd(), out) || out}`,
  );

  step(1, "circuits (compile + development setup, cached in build/)");
  const t = Date.now();
  const keys = {} as Record<CircuitName, CircuitKeys>;
  for (const c of ["segment", "lotlist"] as const) {
    const a = await ensureCircuit(c, PROFILE, { reporter: createReporter({ quiet: true }) });
    keys[c] = { wasm: a.wasm, zkey: a.zkey, vkeyPath: a.vkeyPath, insecure: a.meta.insecure };
    say(
      `${a.meta.id}: ${a.meta.constraints} constraints, ${a.work === "hit" ? "cached" : "built"} (${a.meta.security})`,
    );
  }
  const buildMs = Date.now() - t;

  step(2, "local chain: feeds, tokens, custody, timelocked governance, registry");
  mkdirSync(out, { recursive: true });
  const chain = await startGovernedChain({
    say,
    positions: path.join(PACKAGE_ROOT, "examples", "snapshot.json"),
    outDir: out,
    profile: PROFILE,
  });
  try {
    await offChainAndChain(out, workers, keys, chain, t0, buildMs);
  } finally {
    await chain.stop();
  }
}

/** Steps 3-6, while the local chain runs. */
async function offChainAndChain(
  out: string,
  workers: number | undefined,
  keys: Record<CircuitName, CircuitKeys>,
  chain: GovernedChain,
  t0: number,
  buildMs: number,
): Promise<void> {
  const reporter = createReporter({});
  step(3, "prove the epoch (worker threads on all cores)");
  // a fresh run every time (the publisher secret is kept, so leaves and receipts repeat)
  rmSync(path.join(out, "public"), { recursive: true, force: true });
  rmSync(path.join(out, "private", "work"), { recursive: true, force: true });
  let t = Date.now();
  const summary = await proveSnapshot({
    snapshot: chain.snapshotFile,
    out,
    profile: PROFILE,
    workers,
    keys,
    reporter,
    selfAudit: false,
  });
  const proveMs = Date.now() - t;
  say(formatProveSummary(summary));

  step(4, "audit the published bundle offline (auditor)");
  t = Date.now();
  // anchored to the keys this checkout built (the demo's keys are development keys: allowed, and said so)
  const anchored = { anchor: { kind: "local" as const }, allowDevKeys: true };
  say(`  $ bulkhead audit ${path.relative(process.cwd(), summary.publicDir)} --local-keys --allow-dev-keys`);
  const audit = await auditBundle(summary.publicDir, anchored);
  const auditMs = Date.now() - t;
  say(formatAudit(audit));
  if (!audit.ok) throw new Error("the demo bundle did not pass its audit");

  step(5, "user receipts (verified offline against the bundle)");
  // receipts are sharded (private/receipts/lots/<ss>/...): found by lot id or account
  const lotId = "0x9f3c0a11d2e4b7015c3a";
  const lotFile = (await findReceipt(summary.out, { lot: lotId })).file;
  say(`  $ bulkhead receipt find --out ${path.relative(process.cwd(), summary.out)} --lot ${lotId}`);
  say(`  ${path.relative(process.cwd(), lotFile)}`);
  const lot = JSON.parse(readFileSync(lotFile, "utf8")) as LotReceipt;
  say(
    `a user holding lot ${lotId} (${lot.position.amount} ${lot.position.asset} in segment ${lot.position.segment.id}):`,
  );
  say(
    `  $ bulkhead receipt verify ${path.relative(process.cwd(), lotFile)} --bundle ${path.relative(process.cwd(), summary.publicDir)} --local-keys --allow-dev-keys`,
  );
  const v1 = await verifyReceipt(lotFile, summary.publicDir, anchored);
  for (const line of formatReceiptVerdict(v1).split("\n")) say(`  ${line}`);

  const stressed = "0xabc0000000000000000000000000000000000004";
  const stressedFile = (await findReceipt(summary.out, { account: stressed })).file;
  const vs = await verifyReceipt(stressedFile, summary.publicDir, anchored);
  say("an account in segment 2, healthy now but failing a stress scenario:");
  for (const line of formatReceiptVerdict(vs).split("\n")) say(`  ${line}`);

  const acct = "0xabc0000000000000000000000000000000000005";
  const acctFile = (await findReceipt(summary.out, { account: acct })).file;
  const v2 = await verifyReceipt(acctFile, summary.publicDir, anchored);
  say(`an account with a liability in the insolvent segment:`);
  for (const line of formatReceiptVerdict(v2).split("\n")) say(`  ${line}`);

  const forged = JSON.parse(readFileSync(acctFile, "utf8")) as AccountReceipt;
  const pos = forged.positions[0];
  if (pos) {
    // edit the amount and recompute the leaf (and put it in the batch's leaf list), so only the
    // batch root can tell
    pos.amount = "3800";
    pos.amountUnits = `3800${"0".repeat(18)}`;
    pos.leaf = String(
      liabilityLeaf({
        accountId: BigInt(forged.accountId),
        segmentId: BigInt(pos.segment.id),
        slot: BigInt(pos.slot),
        amount: BigInt(pos.amountUnits),
        salt: BigInt(pos.salt),
      }),
    );
    pos.leaves[pos.index] = pos.leaf;
  }
  const forgedFile = path.join(out, "forged-receipt.json");
  writeFileSync(forgedFile, JSON.stringify(forged, null, 2));
  say(
    "a receipt claiming a different amount (38000 DAI edited to 3800 DAI), i.e. a position the epoch does not contain:",
  );
  const v3 = await verifyReceipt(forgedFile, summary.publicDir, anchored);
  say(`  ${v3.verdict}`);
  for (const r of v3.reasons) say(`    - ${r}`);
  await terminateCurves();
  if (!v1.ok || v2.included !== true || v3.included !== false) throw new Error("unexpected receipt verdicts");

  step(6, "on chain: publish, health, audit and receipt against the registry, a consumer contract");
  const res = await runChainDemo(
    { say, publicDir: summary.publicDir, privateDir: summary.privateDir },
    chain,
  );
  if (!res.receiptOk) throw new Error("the receipt did not verify against the chain");
  if (!res.vaultOk) throw new Error("the IsolatedVault example did not react as its segments' health says");

  say("\n=== done ===========================================================================");
  say(
    `total ${formatDuration(Date.now() - t0)}: circuits ${formatDuration(buildMs)}, proving ${formatDuration(proveMs)} (${summary.proofs.total} proofs), audit ${formatDuration(auditMs)}`,
  );
  say(`publish: ${summary.publicDir}`);
  say(`keep private: ${summary.privateDir}`);
  if (summary.devSetup)
    say("note: development trusted setup (insecure): fine for a demo, never for production");
}

main()
  .then(async () => {
    await terminateCurves();
    process.exit(0);
  })
  .catch(async (err) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await terminateCurves().catch(() => undefined);
    process.exit(1);
  });
