/**
 * The chain CLI end to end on a real local node: the example snapshot proven with the `test`
 * profile, then `bulkhead deploy`, `publish` (twice: resumable, idempotent), `status --json` and
 * `receipt verify --rpc --registry`, each as a separate process like a user would run them.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Contract, id } from "ethers";
import { auditBundle } from "../../src/audit/node.js";
import { readBundle } from "../../src/bundle/disk.js";
import { governanceAt, readGovernedEpoch } from "../../src/chain/governance.js";
import { verifyReceiptOnChain } from "../../src/chain/receipt.js";
import { registryAt } from "../../src/chain/registry.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { checkReceiptInclusion } from "../../src/receipts/receipts.js";
import { loadSnapshot } from "../../src/snapshot/snapshot.js";
import { getProfile } from "../../src/spec/profiles.js";
import { loadArtifacts } from "../../src/toolchain/artifacts.js";
import { compileRegistryWith } from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { atomicWriteJson } from "../../src/util/fsutil.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { runCli } from "../helpers/cli.js";
import { compileDevContracts, deployDevWorld } from "../helpers/devworld.js";
import { type ForgeMode, forgeBundle, insolventClaimsHealthy } from "../helpers/forge.js";
import { receiptMaps } from "../helpers/receipts.js";
import { TINY_SNAPSHOT } from "../helpers/tiny.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as a user runs it (bin/bulkhead.mjs), with extra environment. */
const cli = (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> =>
  runCli(args, { env });

describe("chain CLI: deploy, publish, status, receipt verify --rpc", function () {
  this.timeout(600_000);
  let chain: LocalChain | undefined;
  let url: string;
  let tmp: string;
  let summary: ProveSummary;
  let key: string;
  let depFile: string;
  let buildDir: string;

  before(async () => {
    chain = await startLocalChain();
    url = chain.node.url;
    key = chain.admin.privateKey;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-chain-cli-"));
    depFile = path.join(tmp, "deployment.json");
    summary = await proveSnapshot({
      snapshot: path.join(PACKAGE_ROOT, "examples", "snapshot.json"),
      out: path.join(tmp, "epoch"),
      profile: "test",
      selfAudit: false,
    });
    // the contracts of the test profile, in a build directory of this test only (build/contracts may
    // hold another profile's verifiers)
    const zkeys = {
      segment: (await loadArtifacts("segment", "test")).zkey,
      lotlist: (await loadArtifacts("lotlist", "test")).zkey,
    };
    buildDir = path.join(tmp, "build");
    for (const c of Object.values(await compileRegistryWith(zkeys))) {
      await atomicWriteJson(path.join(buildDir, "contracts", `${c.contractName}.json`), c);
    }
    await atomicWriteJson(path.join(buildDir, "contracts", "manifest.json"), {
      profile: "test",
      verifiers: { SegmentVerifier: { insecure: true }, LotListVerifier: { insecure: true } },
    });
    await terminateCurves();
  });

  after(async () => {
    await chain?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  it("deploy refuses to run without a key (no key flag exists)", async () => {
    const r = await cli(["deploy", "--rpc", url, "--build-dir", buildDir, "--out", depFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /BULKHEAD_PRIVATE_KEY/);
  });

  it("deploys, publishes (idempotently), shows status and verifies receipts against the chain", async () => {
    const dep = await cli(
      ["deploy", "--rpc", url, "--build-dir", buildDir, "--out", depFile, "--json", "-q"],
      {
        BULKHEAD_PRIVATE_KEY: key,
      },
    );
    assert.equal(dep.code, 0, dep.stderr);
    const d = JSON.parse(dep.stdout) as { registry: string; assetSlots: number; devSetup: boolean };
    assert.equal(d.assetSlots, 4);
    assert.equal(JSON.parse(await fs.readFile(depFile, "utf8")).registry, d.registry);

    const pub = await cli(["publish", summary.publicDir, "--rpc", url, "--registry", depFile, "--json"], {
      BULKHEAD_PRIVATE_KEY: key,
    });
    assert.equal(pub.code, 0, pub.stderr);
    const res = JSON.parse(pub.stdout) as { committed: string; finalized: string; batchesSent: number };
    assert.equal(res.committed, "sent");
    assert.equal(res.finalized, "sent");
    assert.equal(res.batchesSent, summary.proofs.total);
    assert.match(pub.stderr, /"type":"progress","label":"publish epoch \d+"/);

    // audit against the chain: keys from the registry's verifiers, and every manifest field,
    // parameter, cap and result equal to the registry's record
    const onChain = await cli([
      "audit",
      summary.publicDir,
      "--rpc",
      url,
      "--registry",
      d.registry,
      "--allow-dev-keys",
      "--json",
    ]);
    assert.equal(onChain.code, 0, onChain.stdout + onChain.stderr);
    const chainRep = JSON.parse(onChain.stdout) as {
      ok: boolean;
      chain?: { ok: boolean; finalized: boolean };
    };
    assert.deepEqual([chainRep.ok, chainRep.chain?.ok, chainRep.chain?.finalized], [true, true, true]);

    const again = await cli(["publish", summary.publicDir, "--rpc", url, "--registry", d.registry], {
      BULKHEAD_PRIVATE_KEY: key,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /commit already, 0 batch\(es\) sent/);

    const st = await cli(["status", "--rpc", url, "--registry", d.registry, "--json"]);
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout) as { latestEpoch: string; segments: { id: number; healthy: boolean }[] };
    assert.equal(s.latestEpoch, String(summary.epoch));
    assert.deepEqual(
      s.segments.map((x) => [x.id, x.healthy]),
      [
        [1, true],
        [2, true],
        [3, false],
        [4, true],
      ],
    );
    // scenarios in use: segments 3 and 4 have one (segment 4 holds no stablecoin, so
    // "stablecoins -5%" shocks nothing there); their second bit only repeats the health bit
    assert.deepEqual(
      (s.segments as unknown as { scenarios: number }[]).map((x) => x.scenarios),
      [2, 2, 1, 1],
    );
    const table = await cli(["status", "--rpc", url, "--registry", d.registry]);
    assert.match(table.stdout, /3\s+UNHEALTHY/);
    assert.match(table.stdout, /2\s+healthy\s+#1 FAIL #2 pass\s+110-150%/);
    assert.match(table.stdout, /4\s+healthy\s+#1 pass\s+>=200%/);

    const index = await receiptMaps(path.join(summary.privateDir, "receipts"));
    const lotFile = path.join(summary.privateDir, "receipts", index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    // the example's verifiers carry development keys: recognised in their code, refused unless allowed
    // (the receipt selected by --out and --lot, as the on-chain form reads it)
    const dev = await cli([
      "receipt",
      "verify",
      "--out",
      summary.out,
      "--lot",
      "0x9f3c0a11d2e4b7015c3a",
      "--rpc",
      url,
      "--registry",
      d.registry,
    ]);
    assert.equal(dev.code, 1, dev.stdout + dev.stderr);
    assert.match(dev.stdout, /^NOT TRUSTWORTHY: development keys/);
    const ok = await cli([
      "receipt",
      "verify",
      lotFile,
      "--rpc",
      url,
      "--registry",
      d.registry,
      "--allow-dev-keys",
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /VERIFIED ON CHAIN/);
    assert.match(ok.stdout, /counted as 12\.5 ETH \(slot 0: 12500000000000000000 base units\)/);
    assert.match(ok.stdout, /NOT TRUSTWORTHY: development keys .*allowed by --allow-dev-keys/);
    // the on-chain line shows the amount, health, stress scenarios and band, like the offline one
    assert.match(
      ok.stdout,
      /segment 1 batch \d+: 12\.5 ETH: included, segment healthy, stress: [^;]*(pass|FAIL)[^;]*, coverage [^;,]+;/,
    );
    const withBundle = await cli([
      "receipt",
      "verify",
      lotFile,
      "--rpc",
      url,
      "--registry",
      d.registry,
      "--bundle",
      summary.publicDir,
      "--allow-dev-keys",
      "--json",
    ]);
    assert.equal(withBundle.code, 0, withBundle.stdout + withBundle.stderr);
    assert.equal((JSON.parse(withBundle.stdout) as { ok: boolean }).ok, true);

    const acctFile = path.join(
      summary.privateDir,
      "receipts",
      index.accounts["0xabc0000000000000000000000000000000000005"] as string,
    );
    const unhealthy = await cli([
      "receipt",
      "verify",
      acctFile,
      "--rpc",
      url,
      "--registry",
      d.registry,
      "--allow-dev-keys",
    ]);
    assert.equal(unhealthy.code, 2, unhealthy.stdout + unhealthy.stderr);
    assert.match(unhealthy.stdout, /UNHEALTHY/);

    const forged = JSON.parse(await fs.readFile(lotFile, "utf8")) as { position: { amountUnits: string } };
    forged.position.amountUnits = String(BigInt(forged.position.amountUnits) + 1n);
    const forgedFile = path.join(tmp, "forged.json");
    await fs.writeFile(forgedFile, JSON.stringify(forged));
    const bad = await cli([
      "receipt",
      "verify",
      forgedFile,
      "--rpc",
      url,
      "--registry",
      d.registry,
      "--allow-dev-keys",
    ]);
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout, /NOT INCLUDED/);
    // without the flag, the development-key line never claims the flag allowed anything
    const badNoFlag = await cli(["receipt", "verify", forgedFile, "--rpc", url, "--registry", d.registry]);
    assert.equal(badNoFlag.code, 1, badNoFlag.stdout + badNoFlag.stderr);
    assert.match(
      badNoFlag.stdout,
      /NOT TRUSTWORTHY: development keys .*not accepted \(no --allow-dev-keys\)/,
    );
    assert.doesNotMatch(badNoFlag.stdout, /allowed by --allow-dev-keys/);
  });

  it("a receipt of a superseded epoch: SUPERSEDED, exit 3 (never the 0 of the latest epoch)", async () => {
    const env = { BULKHEAD_PRIVATE_KEY: key };
    const dep2 = path.join(tmp, "deployment-superseded.json");
    const d = await cli(["deploy", "--rpc", url, "--build-dir", buildDir, "--out", dep2, "-q"], env);
    assert.equal(d.code, 0, d.stderr);
    const p1 = await cli(["publish", summary.publicDir, "--rpc", url, "--registry", dep2], env);
    assert.equal(p1.code, 0, p1.stderr);
    const snap = path.join(tmp, "later.json");
    await fs.writeFile(snap, JSON.stringify({ ...TINY_SNAPSHOT, epoch: Number(summary.epoch) + 1 }));
    const later = path.join(tmp, "later-epoch");
    const pr = await cli(["prove", "-s", snap, "-o", later, "--profile", "test", "-q"]);
    assert.equal(pr.code, 0, pr.stderr);
    const p2 = await cli(["publish", path.join(later, "public"), "--rpc", url, "--registry", dep2], env);
    assert.equal(p2.code, 0, p2.stderr);
    const index = await receiptMaps(path.join(summary.privateDir, "receipts"));
    const lotFile = path.join(summary.privateDir, "receipts", index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const v = await cli(["receipt", "verify", lotFile, "--rpc", url, "--registry", dep2, "--allow-dev-keys"]);
    assert.equal(v.code, 3, v.stdout + v.stderr);
    assert.match(
      v.stdout,
      /^SUPERSEDED: VERIFIED ON CHAIN: .* \(an old epoch: the latest finalized epoch is \d+; this says nothing about now\)/,
    );
  });

  it("governed: deploy --governance --timelock-delay, snapshot govern, prove, publish; a bad configuration is named", async () => {
    const env = { BULKHEAD_PRIVATE_KEY: key };
    const { provider, admin } = chain as LocalChain;
    const world = await deployDevWorld(
      admin,
      await loadSnapshot(path.join(PACKAGE_ROOT, "examples", "snapshot.json"), {
        profile: getProfile("test"),
      }),
      await compileDevContracts(),
    );
    const cfgFile = path.join(tmp, "governance.json");
    await atomicWriteJson(cfgFile, world.config);
    const bad = path.join(tmp, "governance-bad.json");
    const broken = structuredClone(world.config) as {
      assets: { feed: string }[];
      segments: { marginBps: number }[];
    };
    (broken.assets[1] as { feed: string }).feed = "0x1234";
    (broken.segments[0] as { marginBps: number }).marginBps = 10001;
    await atomicWriteJson(bad, broken);
    const dep = path.join(tmp, "deployment-governed.json");
    const base = ["deploy", "--rpc", url, "--build-dir", buildDir, "--out", dep];
    const refused = await cli([...base, "--governance", bad, "--json"], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stdout, /assets\[1\]\.feed: not an address/);
    assert.match(refused.stdout, /segments\[0\]\.marginBps/);
    const noGov = await cli([...base, "--timelock-delay", "60"], env);
    assert.equal(noGov.code, 1);
    assert.match(noGov.stderr, /--timelock-delay is for a governed registry/);

    // killed after its first asset: the deployment file holds what was done; the re-run resumes
    const governed = [...base, "--governance", cfgFile, "--timelock-delay", "600", "--json"];
    const killed = await cli(governed, { ...env, BULKHEAD_FAULT: "deploy:asset-added#1" });
    assert.equal(killed.code, null, killed.stderr);
    const partial = JSON.parse(await fs.readFile(dep, "utf8")) as {
      complete: boolean;
      assets: number;
      governance: { address: string };
      registry: { registry: string };
    };
    assert.deepEqual([partial.complete, partial.assets], [false, 1]);
    // another configuration does not resume that deployment
    const otherDelay = await cli([...base, "--governance", cfgFile, "--timelock-delay", "601"], env);
    assert.equal(otherDelay.code, 1);
    assert.match(otherDelay.stderr, /holds an unfinished deployment of another configuration/);
    const d = await cli(governed, env);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stderr, /resuming the deployment of governance/);
    const deployed = JSON.parse(d.stdout) as {
      registry: string;
      governance: { address: string; timelock: string; delaySeconds: string };
    };
    assert.equal(deployed.governance.address, partial.governance.address);
    assert.equal(deployed.registry, partial.registry.registry);
    const count = new Contract(
      deployed.governance.address,
      ["function assetCount() view returns (uint256)"],
      provider,
    );
    assert.equal(await count.getFunction("assetCount")(), BigInt(world.config.assets.length));
    assert.equal(deployed.governance.delaySeconds, "600");
    const snap = path.join(tmp, "governed-snapshot.json");
    const g = await cli(
      [
        "snapshot",
        "govern",
        path.join(PACKAGE_ROOT, "examples", "snapshot.json"),
        "--rpc",
        url,
        "--registry",
        dep,
        "-o",
        snap,
      ],
      env,
    );
    assert.equal(g.code, 0, g.stderr);
    const out = path.join(tmp, "governed-epoch");
    const p = await cli(["prove", "-s", snap, "-o", out, "--profile", "test", "-q"]);
    assert.equal(p.code, 0, p.stderr);
    const pub = await cli(
      ["publish", path.join(out, "public"), "--rpc", url, "--registry", dep, "--json"],
      env,
    );
    assert.equal(pub.code, 0, pub.stderr);
    assert.match(pub.stderr, /oracle rounds: /);
    const res = JSON.parse(pub.stdout) as { committed: string; finalized: string };
    assert.deepEqual([res.committed, res.finalized], ["sent", "sent"]);
    // the governance belongs to the timelock: the deployer is no longer governor
    const gov = governanceAt(deployed.governance.address, provider);
    const role = id("GOVERNOR_ROLE");
    const hasRole = new Contract(
      deployed.governance.address,
      ["function hasRole(bytes32,address) view returns (bool)"],
      provider,
    );
    assert.equal(await hasRole.getFunction("hasRole")(role, admin.address), false);
    assert.equal(await hasRole.getFunction("hasRole")(role, deployed.governance.timelock), true);
    assert.equal((await readGovernedEpoch(gov)).segments.length, 4);
  });

  it("audit --rpc --registry: the bundle's keys must be the deployed verifiers' keys", async () => {
    const ok = await cli([
      "audit",
      summary.publicDir,
      "--rpc",
      url,
      "--registry",
      depFile,
      "--allow-dev-keys",
    ]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /keys anchored to: verifiers deployed by registry 0x/);
    assert.match(ok.stdout, /AUDIT PASSED/);
    for (const mode of ["editDelta", "newSetup"] as ForgeMode[]) {
      const forged = path.join(tmp, `forged-${mode}`);
      await fs.cp(summary.publicDir, forged, { recursive: true });
      await forgeBundle(forged, mode, insolventClaimsHealthy);
      const own = await auditBundle(forged, { anchor: { kind: "bundle" }, allowDevKeys: true });
      assert.equal(own.ok, true, `${mode}: the forgery holds under its own keys`);
      const bad = await cli(["audit", forged, "--rpc", url, "--registry", depFile, "--allow-dev-keys"]);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stdout, /vkeys\.segment: not the key of the registry's verifier/);
      assert.match(bad.stdout, /vkeys\.lotlist: not the key of the registry's verifier/);
    }
  });

  it("a mis-slotted lot or liability, or another stated amount, is NOT INCLUDED on chain and offline", async () => {
    const { provider } = chain as LocalChain;
    const d = JSON.parse(await fs.readFile(depFile, "utf8")) as { registry: string };
    const registry = registryAt(d.registry, provider);
    const { bundle } = await readBundle(summary.publicDir);
    const index = await receiptMaps(path.join(summary.privateDir, "receipts"));
    const readReceipt = async (rel: string) =>
      JSON.parse(await fs.readFile(path.join(summary.privateDir, "receipts", rel), "utf8"));
    // lot 0x9f3c..: 12.5 ETH in segment 1 slot 0; account ..02: 1000.25 USDC owed in segment 1 slot 1
    const lotR = await readReceipt(index.lots["0x9f3c0a11d2e4b7015c3a"] as string);
    const acctR = await readReceipt(index.accounts["0xabc0000000000000000000000000000000000002"] as string);
    const acctPos = acctR.positions[0];
    assert.equal(acctPos.asset, "USDC");
    const cases: [string, Record<string, unknown>, RegExp][] = [];
    // the leaf counts 12.5e18 base units in slot 0 (ETH); the receipt says USDC: counted under another asset
    const misLot = structuredClone(lotR);
    misLot.position.asset = "USDC";
    misLot.position.amount = "12500000000000";
    cases.push(["mis-slotted lot", misLot, /slot 0 of segment 1 is ETH, not USDC/]);
    // a USDC debt whose leaf sits in the ETH slot: the user's receipt states USDC, the slot is ETH
    const misLiab = structuredClone(acctR);
    misLiab.positions = [{ ...structuredClone(acctPos), asset: "ETH", slot: acctPos.slot }];
    cases.push(["liability stated under another asset", misLiab, /slot 1 of segment 1 is USDC, not ETH/]);
    // right leaf, another stated amount
    const otherAmount = structuredClone(lotR);
    otherAmount.position.amount = "125";
    cases.push(["other stated amount", otherAmount, /amount 125 ETH/]);
    const otherDebt = structuredClone(acctR);
    otherDebt.positions[0].amount = "500";
    cases.push(["other stated debt", otherDebt, /amount 500 USDC/]);
    // one position listed twice: a user owed 2x would see two included positions the epoch counts once
    const twice = structuredClone(acctR);
    twice.positions = [structuredClone(acctPos), structuredClone(acctPos)];
    cases.push(["a position listed twice", twice, /position 2 repeats position 1 .*counted once/]);
    for (const [name, r, why] of cases) {
      const onChain = await verifyReceiptOnChain(r, registry, { allowDevKeys: true });
      assert.equal(onChain.included, false, `${name} (chain)`);
      assert.match(onChain.verdict, /^NOT INCLUDED/, name);
      assert.ok(
        onChain.reasons.some((x) => why.test(x)),
        `${name} (chain): ${onChain.reasons.join("; ")}`,
      );
      const offline = await checkReceiptInclusion(r, bundle);
      assert.equal(offline.included, false, `${name} (offline)`);
      assert.ok(
        offline.reasons.some((x) => why.test(x)),
        `${name} (offline): ${offline.reasons.join("; ")}`,
      );
    }
    // the honest receipts still pass, stating what the leaf counts
    const honest = await verifyReceiptOnChain(acctR, registry, { allowDevKeys: true });
    assert.equal(honest.ok, true, honest.reasons.join("; "));
    assert.match(honest.positions[0]?.counted ?? "", /^1000\.25 USDC \(slot 1: 1000250000 base units\)$/);
    const f = path.join(tmp, "mis-slotted.json");
    await fs.writeFile(f, JSON.stringify(misLot));
    const c = await cli(["receipt", "verify", f, "--rpc", url, "--registry", depFile, "--allow-dev-keys"]);
    assert.equal(c.code, 1, c.stdout + c.stderr);
    assert.match(c.stdout, /^NOT INCLUDED[\s\S]*slot 0 of segment 1 is ETH, not USDC/);
  });
});
