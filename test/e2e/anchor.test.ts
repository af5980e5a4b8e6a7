/**
 * Verifiers must not take the publisher's word: keys anchored outside the bundle,
 * development keys recognised from the key, and refusal without an anchor. The registry anchor
 * (`--rpc/--registry`) is tested on a real node in test/chain/chain-cli.test.ts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { KeyAnchor } from "../../src/audit/anchor.js";
import { formatAudit } from "../../src/audit/audit.js";
import { auditBundle, verifyReceipt } from "../../src/audit/node.js";
import { formatReceiptVerdict } from "../../src/audit/receipt.js";
import type { Bundle } from "../../src/bundle/bundle.js";
import type { ProveSummary } from "../../src/pipeline.js";
import { findReceipt } from "../../src/receipts/store.js";
import { copyPublic, provenExample, REPO, tmpDir } from "../helpers/epoch.js";
import { type ForgeMode, forgeBundle, insolventClaimsHealthy } from "../helpers/forge.js";

const read = <T>(f: string): T => JSON.parse(readFileSync(f, "utf8")) as T;
const INSOLVENT_ACCOUNT = "0xabc0000000000000000000000000000000000005";

function cli(args: string[]) {
  return spawnSync(process.execPath, [path.join(REPO, "bin", "bulkhead.mjs"), ...args], {
    encoding: "utf8",
    cwd: REPO,
  });
}

describe("anchored verification keys", function () {
  this.timeout(600_000);
  let s: ProveSummary;
  let realHashes: { segment: string; lotlist: string };
  let receiptFile: string;
  let trustedFile: string;
  before(async function () {
    this.timeout(900_000);
    s = await provenExample();
    const b = read<Bundle>(path.join(s.publicDir, "bundle.json"));
    realHashes = { segment: b.vkeys.segment.sha256, lotlist: b.vkeys.lotlist.sha256 };
    receiptFile = (await findReceipt(s.out, { account: INSOLVENT_ACCOUNT })).file;
    // a trusted keys file holding the real keys themselves
    trustedFile = path.join(tmpDir("trusted"), "trusted-keys.json");
    writeFileSync(
      trustedFile,
      JSON.stringify({
        segment: read(path.join(s.publicDir, "vkeys", "segment.json")),
        lotlist: read(path.join(s.publicDir, "vkeys", "lotlist.json")),
      }),
    );
  });

  const anchors = (): [string, KeyAnchor, string[]][] => [
    [
      "--vkey-hash",
      {
        kind: "trusted",
        keys: { segment: { sha256: realHashes.segment }, lotlist: { sha256: realHashes.lotlist } },
      },
      ["--vkey-hash", `segment=${realHashes.segment}`, "--vkey-hash", `lotlist=${realHashes.lotlist}`],
    ],
    [
      "--trusted-keys",
      {
        kind: "trusted",
        keys: {
          segment: { vkey: read(path.join(s.publicDir, "vkeys", "segment.json")) },
          lotlist: { vkey: read(path.join(s.publicDir, "vkeys", "lotlist.json")) },
        },
      },
      ["--trusted-keys", trustedFile],
    ],
    ["--local-keys", { kind: "local" }, ["--local-keys"]],
  ];

  it("refuses to verify without an anchor, saying why and how to anchor (library and CLI)", async () => {
    const rep = await auditBundle(s.publicDir);
    assert.equal(rep.ok, false);
    assert.match(rep.errors[0] ?? "", /refusing to verify: no trusted verification keys/);
    assert.match(rep.errors[0] ?? "", /--rpc URL --registry/);
    assert.equal(rep.proofsVerified, 0);
    const v = await verifyReceipt(receiptFile, s.publicDir);
    assert.equal(v.ok, false);
    assert.match(v.verdict, /^NOT VERIFIED: refusing to verify/);
    // nothing was checked: the refusal alone, no result table, no verdict on proofs or fingerprints
    const a = cli(["audit", s.publicDir]);
    assert.equal(a.status, 1);
    assert.match(
      a.stdout,
      /^NOT AUDITED: refusing to verify: no trusted verification keys[^\n]*--local-keys[^\n]*\n$/,
    );
    assert.doesNotMatch(a.stdout, /lot list|fingerprints|proofs verified|INVALID|AUDIT FAILED/);
    const aj = cli(["audit", s.publicDir, "--json"]);
    assert.equal(aj.status, 1);
    const refusal = JSON.parse(aj.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(refusal).sort(), ["anchor", "error", "ok", "refused"]);
    assert.equal(refusal.refused, true);
    assert.equal(cli(["audit", s.publicDir, "-q"]).stdout, a.stdout);
    const r = cli(["receipt", "verify", receiptFile, "--bundle", s.publicDir]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^NOT VERIFIED: refusing to verify/);
  });

  it("audit -q keeps the problems under the verdict", () => {
    // anchored, but development keys not allowed: one problem
    const q = cli(["audit", s.publicDir, "--local-keys", "-q"]);
    assert.equal(q.status, 1);
    assert.match(q.stdout, /AUDIT FAILED \(1 problem\):\n {2}- .*development keys/);
  });

  it("a receipt of another epoch says WRONG EPOCH, a bundle given as a receipt NOT A RECEIPT; nothing else", async () => {
    const opts = { anchor: { kind: "local" as const }, allowDevKeys: true };
    const receipt = JSON.parse(readFileSync(receiptFile, "utf8")) as { epoch: string };
    const other = await verifyReceipt(
      { ...receipt, epoch: String(Number(receipt.epoch) + 1) },
      s.publicDir,
      opts,
    );
    assert.equal(other.ok, false);
    assert.equal(other.mismatch, "wrong-epoch");
    assert.match(other.verdict, /^WRONG EPOCH: the receipt is for epoch 8, the bundle is epoch 7/);
    assert.deepEqual([other.positions, other.audit], [[], undefined], "no health of the bundle's epoch");
    assert.doesNotMatch(formatReceiptVerdict(other), /healthy|INCLUDED/);
    const bundleFile = path.join(s.publicDir, "bundle.json");
    const notReceipt = await verifyReceipt(bundleFile, s.publicDir, opts);
    assert.equal(notReceipt.mismatch, "not-a-receipt");
    assert.match(notReceipt.verdict, /^NOT A RECEIPT: this file is an epoch bundle/);
    const r = cli(["receipt", "verify", bundleFile, "--bundle", s.publicDir, "--local-keys"]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^NOT A RECEIPT/);
  });

  it("anchored forms pass on the honest bundle; --trust-bundle-keys warns on every line", async () => {
    for (const [name, anchor] of anchors()) {
      const rep = await auditBundle(s.publicDir, { anchor, allowDevKeys: true });
      assert.equal(rep.ok, true, `${name}: ${rep.errors.join("\n")}`);
    }
    const t = cli(["audit", s.publicDir, "--trust-bundle-keys", "--allow-dev-keys"]);
    assert.equal(t.status, 0, t.stderr);
    const lines = t.stdout.trimEnd().split("\n");
    assert.ok(lines.length > 5);
    for (const l of lines) assert.match(l, /^\[UNANCHORED: bundle keys trusted on the publisher's word\] /);
    const r = cli([
      "receipt",
      "verify",
      receiptFile,
      "--bundle",
      s.publicDir,
      "--trust-bundle-keys",
      "--allow-dev-keys",
    ]);
    assert.equal(r.status, 2, r.stdout + r.stderr); // included, segment 3 insolvent
    for (const l of r.stdout.trimEnd().split("\n")) assert.match(l, /^\[UNANCHORED/);
  });

  for (const mode of ["newSetup", "editDelta"] as ForgeMode[]) {
    it(`a bundle whose keys were replaced (${mode}) fails audit and receipt verify in every anchored form`, async () => {
      const dir = await copyPublic(`forged-${mode}`);
      await forgeBundle(dir, mode, insolventClaimsHealthy);
      // the forgery holds under its own keys: segment 3 (insolvent) now "healthy", every proof "valid"
      const own = await auditBundle(dir, { anchor: { kind: "bundle" }, allowDevKeys: true });
      assert.equal(own.ok, true, own.errors.join("\n"));
      assert.equal(own.segments.find((x) => x.id === 3)?.healthy, true);
      const ownReceipt = await verifyReceipt(receiptFile, dir, {
        anchor: { kind: "bundle" },
        allowDevKeys: true,
      });
      assert.match(ownReceipt.verdict, /^VERIFIED/);

      for (const [name, anchor, flags] of anchors()) {
        const rep = await auditBundle(dir, { anchor, allowDevKeys: true });
        assert.equal(rep.ok, false, name);
        assert.ok(
          rep.errors.some((e) => /^vkeys\.segment: .*not anchored/.test(e)),
          `${name}: ${rep.errors.join("\n")}`,
        );
        assert.ok(
          rep.errors.some((e) => /^vkeys\.lotlist: .*not anchored/.test(e)),
          name,
        );
        assert.equal(rep.proofsVerified, 0, name);
        const v = await verifyReceipt(receiptFile, dir, { anchor, allowDevKeys: true });
        assert.equal(v.ok, false, name);
        assert.match(v.verdict, /^NOT VERIFIED/, name);
        if (mode !== "editDelta") continue; // the CLI forms once (each is a process)
        const a = cli(["audit", dir, ...flags, "--allow-dev-keys"]);
        assert.equal(a.status, 1, `${name}: ${a.stdout}`);
        assert.match(a.stdout, /AUDIT FAILED[\s\S]*not anchored/, name);
        const r = cli(["receipt", "verify", receiptFile, "--bundle", dir, ...flags, "--allow-dev-keys"]);
        assert.equal(r.status, 1, `${name}: ${r.stdout}`);
        assert.match(r.stdout, /^NOT VERIFIED/, name);
      }
    });
  }

  it("development keys are recognised from the key itself, even when devSetup says false", async () => {
    const dir = await copyPublic("devflag");
    const file = path.join(dir, "bundle.json");
    const b = read<Bundle>(file);
    b.devSetup = false;
    delete b.warning;
    writeFileSync(file, JSON.stringify(b, null, 2));
    const local: KeyAnchor = { kind: "local" };

    const rep = await auditBundle(dir, { anchor: local });
    assert.equal(rep.ok, false);
    assert.match(rep.devKeys ?? "", /development ptau/);
    assert.match(formatAudit(rep), /NOT TRUSTWORTHY: development keys/);
    assert.ok(rep.warnings.some((w) => /devSetup flag says false/.test(w)));
    const allowed = await auditBundle(dir, { anchor: local, allowDevKeys: true });
    assert.equal(allowed.ok, true, allowed.errors.join("\n"));
    assert.match(formatAudit(allowed), /NOT TRUSTWORTHY: development keys[\s\S]*AUDIT PASSED/);

    const v = await verifyReceipt(receiptFile, dir, { anchor: local });
    assert.equal(v.ok, false);
    assert.match(v.verdict, /^NOT TRUSTWORTHY: development keys/);
    const va = await verifyReceipt(receiptFile, dir, { anchor: local, allowDevKeys: true });
    assert.equal(va.ok, true);
    assert.match(formatReceiptVerdict(va), /NOT TRUSTWORTHY: development keys/);

    const a = cli(["audit", dir, "--local-keys"]);
    assert.equal(a.status, 1);
    assert.match(a.stdout, /NOT TRUSTWORTHY: development keys/);
    const r = cli(["receipt", "verify", receiptFile, "--bundle", dir, "--local-keys"]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^NOT TRUSTWORTHY: development keys/);
  });
});
