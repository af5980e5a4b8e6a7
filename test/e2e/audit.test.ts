/** Offline audit: a valid bundle passes; every kind of tampering fails with a reason. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { type AuditOptions, type AuditReport, formatAudit } from "../../src/audit/audit.js";
import { auditBundle } from "../../src/audit/node.js";
import type { Bundle } from "../../src/bundle/bundle.js";
import { bundleManifest } from "../../src/bundle/bundle.js";
import { deriveR, FIELD_P, manifestHash, packSlot, UNBOUNDED_CAP } from "../../src/spec/encoding.js";
import { copyPublic, provenExample, REPO } from "../helpers/epoch.js";

type Edit = (b: Bundle, dir: string) => void;

/** The example's keys are development keys built by this checkout: anchor to them, allow them. */
const LOCAL: AuditOptions = { anchor: { kind: "local" }, allowDevKeys: true };
/**
 * The tampering tests below probe the checks after key anchoring (derivation, chaining,
 * fingerprints, proofs), so they verify against the bundle's own keys; anchoring itself is
 * test/e2e/anchor.test.ts.
 */
const BUNDLE_KEYS: AuditOptions = { anchor: { kind: "bundle" }, allowDevKeys: true };

let n = 0;
async function tampered(edit: Edit): Promise<AuditReport> {
  const dir = await copyPublic(`tamper${n++}`);
  const file = path.join(dir, "bundle.json");
  const b = JSON.parse(readFileSync(file, "utf8")) as Bundle;
  edit(b, dir);
  writeFileSync(file, JSON.stringify(b, null, 2));
  return auditBundle(dir, BUNDLE_KEYS);
}

function expectFail(rep: AuditReport, pattern: RegExp): void {
  assert.equal(rep.ok, false, "audit must fail");
  assert.ok(
    rep.errors.some((e) => pattern.test(e)),
    `expected an error matching ${pattern}, got:\n${rep.errors.join("\n")}`,
  );
}

/** Recompute manifestHash and r after editing the manifest (a "consistent" forger). */
function rehash(b: Bundle): void {
  b.manifestHash = manifestHash(bundleManifest(b));
  b.r = String(deriveR(BigInt(b.epoch), b.manifestHash));
}

const bumpDigit = (s: string): string => {
  const last = Number(s.at(-1));
  return `${s.slice(0, -1)}${(last + 1) % 10}`;
};

describe("audit", () => {
  before(async function () {
    this.timeout(900_000);
    await provenExample();
  });

  it("passes on the proven example, reporting per-segment health", async () => {
    const s = await provenExample();
    const rep = await auditBundle(s.publicDir, LOCAL);
    assert.equal(rep.ok, true, rep.errors.join("\n"));
    assert.equal(rep.proofsVerified, 7);
    assert.equal(rep.fingerprintOk, true);
    assert.deepEqual(
      rep.segments.map((x) => [x.id, x.batches, x.healthy, x.verified]),
      [
        [1, 2, true, true],
        [2, 1, true, true],
        [3, 1, false, true],
        [4, 1, true, true],
      ],
    );
    const text = formatAudit(rep);
    assert.match(text, /AUDIT PASSED: epoch valid; unhealthy segment: 3/);
  });

  it("reports each segment's stress scenarios, coverage band and custody bounds (healthy now, failing under stress)", async () => {
    const s = await provenExample();
    const rep = await auditBundle(s.publicDir, LOCAL);
    assert.deepEqual(
      rep.segments.map((x) => [x.id, x.bandLabel, (x.stress ?? []).map((k) => `${k.name}:${k.healthy}`)]),
      [
        [1, "150-200%", ["crypto -30%:true", "stablecoins -5%:true"]],
        [2, "110-150%", ["crypto -30%:false", "stablecoins -5%:true"]],
        [3, "<100%", ["ETH -50%:false"]],
        [4, ">=200%", ["crypto -30%:true", "stablecoins -5%:true"]],
      ],
    );
    assert.deepEqual(rep.segments[1]?.custody, [
      { asset: "USDC", cap: null },
      { asset: "WBTC", cap: "2" },
    ]);
    assert.ok(rep.pooledCustody.every((c) => c.cap === null));
    // what each bit is about comes from the committed stress words, not from the display names
    assert.deepEqual(
      rep.segments[1]?.stress?.map((x) => x.shocksBps),
      [{ WBTC: -3000 }, { USDC: -500 }],
    );
    const text = formatAudit(rep);
    assert.match(text, /segment 2 is healthy now but FAILS stress scenario: crypto -30%/);
    assert.match(text, /healthy now but failing a stress scenario: segment 2/);
    assert.match(text, /ETH <= 20, USDC <= 50000/);
    assert.match(
      text,
      /segment 2 scenarios \(committed shocks\): "crypto -30%" = WBTC -30%; "stablecoins -5%" = USDC -5%/,
    );
    assert.match(text, /segment 3 scenarios \(committed shocks\): "ETH -50%" = ETH -50%/);
    assert.match(text, /not bounded/);
  });

  it("a bundle whose scenario names are dropped still reports every committed scenario, unnamed", async () => {
    // names are display metadata outside the manifest hash: dropping them changes no proof
    const rep = await tampered((b) => {
      for (const seg of b.manifest.segments) seg.scenarios = [];
    });
    assert.equal(rep.ok, true, rep.errors.join("\n"));
    assert.deepEqual(
      rep.segments[1]?.stress?.map((x) => [x.name, x.healthy, x.shocksBps]),
      [
        ["unnamed", false, { WBTC: -3000 }],
        ["unnamed", true, { USDC: -500 }],
      ],
    );
    const text = formatAudit(rep);
    assert.doesNotMatch(text, /every segment healthy/);
    assert.match(text, /healthy now but failing a stress scenario: segment 2/);
    assert.match(text, /segment 2 is healthy now but FAILS stress scenario: unnamed/);
  });

  it("fails on a flipped stress bit or a band one step higher: the proof no longer verifies", async () => {
    const K = 2n; // the test profile's stress scenarios
    const flipped = await tampered((b) => {
      const sig = b.proofs.segments[1]?.batches[0]?.publicSignals; // segment 2 fails "crypto -30%"
      if (sig) sig[2] = String(BigInt(sig[2] as string) ^ 2n);
    });
    expectFail(flipped, /segment 2 batch 0: proof does not verify/);
    assert.equal(flipped.segments[1]?.stress, null, "no stress result is reported for a failed segment");
    const higher = await tampered((b) => {
      const sig = b.proofs.segments[0]?.batches[1]?.publicSignals; // segment 1: band 3 -> 4
      if (sig) sig[2] = String(BigInt(sig[2] as string) + (1n << (1n + K)));
    });
    expectFail(higher, /segment 1 batch 1: proof does not verify/);
    // beyond band 4 the result does not even decode
    const beyond = await tampered((b) => {
      const sig = b.proofs.segments[3]?.batches[0]?.publicSignals;
      if (sig) sig[2] = String(BigInt(sig[2] as string) + (1n << (1n + K)));
    });
    expectFail(beyond, /segment 4 batch 0: result: band 5 is not 0..4/);
  });

  it("fails when a segment's asset slot names another asset of the table (even rehashed)", async () => {
    const rep = await tampered((b) => {
      const seg = b.manifest.segments[0];
      const a = seg?.assets[1]; // USDC (global asset 1) relabelled as global asset 3 (DAI)
      if (!seg || !a) return;
      a.asset = 3;
      seg.slots[1] = String(
        packSlot({
          price: BigInt(a.circuitPrice),
          cfBps: BigInt(a.cfBps),
          asset: 3n,
          cap: BigInt(a.cap),
          pooled: true,
        }),
      );
      rehash(b);
    });
    expectFail(rep, /segment 1 slot 1: the slot's global asset 3 is DAI .* but the segment lists USDC/);
  });

  it("fails on custody caps or pooled caps that disagree with their words", async () => {
    expectFail(
      await tampered((b) => {
        const a = b.manifest.segments[0]?.assets[0];
        if (a) a.cap = String(UNBOUNDED_CAP); // claims "not bounded" where the proof bounds ETH by 20
      }),
      /segment 1: slot words do not match the published asset slots/,
    );
    expectFail(
      await tampered((b) => {
        const g = b.manifest.globalAssets[0];
        if (g) g.poolCap = "1";
      }),
      /poolCaps do not match the asset table's pooled caps/,
    );
  });

  it("fails on a bundle over the 2^24-entry bound of its profile", async () => {
    // a profile whose batches are 2^24 entries wide admits one batch per segment; segment 1 has 2
    const rep = await tampered((b) => {
      b.profile = { ...b.profile, name: "wide", lotsPerBatch: 1 << 24, liabsPerBatch: 1 << 24 };
    });
    expectFail(rep, /segment 1 has 2 batches; at most 1 \(2\^24 \/ max\(N, M\)\)/);
    // a named profile must be the profile of that name
    const named = await tampered((b) => {
      b.profile = { ...b.profile, lotsPerBatch: 1 << 24 };
    });
    expectFail(named, /profile: lotsPerBatch is 16777216, profile "test" has 4/);
  });

  it("fails on a changed proof byte", async () => {
    const rep = await tampered((b) => {
      const p = b.proofs.segments[0]?.batches[1]?.proof;
      if (p) p.pi_a[0] = bumpDigit(p.pi_a[0] as string);
    });
    expectFail(rep, /segment 1 batch 1: proof does not verify/);
  });

  it("fails on a changed public signal (nextState of a chained batch)", async () => {
    const rep = await tampered((b) => {
      const sig = b.proofs.segments[0]?.batches[0]?.publicSignals;
      if (sig) sig[0] = String((BigInt(sig[0] as string) + 1n) % FIELD_P);
    });
    expectFail(rep, /segment 1 batch 0: proof does not verify/);
    expectFail(rep, /segment 1 batch 1: public signal prevState is not the derived value/);
  });

  it("fails on a flipped health flag", async () => {
    const rep = await tampered((b) => {
      const sig = b.proofs.segments[2]?.batches[0]?.publicSignals;
      if (sig) sig[2] = "1";
    });
    expectFail(rep, /segment 3 batch 0: proof does not verify/);
  });

  it("fails on a changed manifest root, even with manifestHash and r recomputed", async () => {
    expectFail(
      await tampered((b) => {
        const s = b.manifest.segments[1];
        if (s) s.batchRoots[0] = bumpDigit(s.batchRoots[0] as string);
      }),
      /manifestHash: recomputed/,
    );
    expectFail(
      await tampered((b) => {
        const s = b.manifest.segments[1];
        if (s) s.batchRoots[0] = bumpDigit(s.batchRoots[0] as string);
        rehash(b);
      }),
      /proof does not verify/,
    );
  });

  it("fails on a changed price (published, circuit units, or both with params and hashes)", async () => {
    expectFail(
      await tampered((b) => {
        const a = b.manifest.segments[0]?.assets[0];
        if (a) a.price = "3500";
      }),
      /circuitPrice does not match price 3500/,
    );
    expectFail(
      await tampered((b) => {
        const a = b.manifest.segments[0]?.assets[0];
        if (a) {
          a.price = "3500";
          a.circuitPrice = "350000000000";
        }
      }),
      /slot words do not match the published asset slots/,
    );
  });

  it("fails on a relabelled asset slot (symbol, decimals or token): the manifest commits them", async () => {
    const edits: [string, (a: Bundle["manifest"]["segments"][number]["assets"][number]) => void][] = [
      ["symbol", (a) => (a.symbol = "USDT")],
      ["decimals", (a) => (a.decimals = 6)],
      ["token", (a) => (a.token = "0x00000000000000000000000000000000000000e7")],
    ];
    for (const [name, edit] of edits) {
      const rep = await tampered((b) => {
        const a = b.manifest.segments[0]?.assets[0];
        if (a) edit(a);
      });
      expectFail(rep, /manifestHash: recomputed/);
      // a consistent forger who rehashes changes r, and every proof fails
      const re = await tampered((b) => {
        const a = b.manifest.segments[0]?.assets[0];
        if (a) edit(a);
        rehash(b);
      });
      assert.ok(
        re.errors.some((e) => /proof does not verify|public signal r is not the derived value/.test(e)),
        `${name}: ${re.errors.join("\n")}`,
      );
    }
  });

  it("fails on a changed epoch", async () => {
    const rep = await tampered((b) => {
      b.epoch = "8";
    });
    expectFail(rep, /r: recomputed/);
    expectFail(rep, /proof does not verify/);
  });

  it("fails on swapped batches", async () => {
    const rep = await tampered((b) => {
      const s = b.proofs.segments[0];
      if (s) s.batches.reverse();
    });
    expectFail(rep, /segment 1 batch 0: public signal batchRoot is not the derived value/);
    const rep2 = await tampered((b) => {
      b.proofs.lotList.reverse();
      b.manifest.globalCommitments.reverse();
      rehash(b);
    });
    expectFail(rep2, /lot list batch 0: proof does not verify/);
  });

  it("fails when a segment is dropped (fingerprints no longer match)", async () => {
    const rep = await tampered((b) => {
      b.manifest.segments.splice(2, 1);
      b.proofs.segments.splice(2, 1);
      rehash(b);
    });
    assert.equal(rep.ok, false);
  });

  it("fails on a changed or substituted verification key", async () => {
    expectFail(
      await tampered((_b, dir) => {
        const f = path.join(dir, "vkeys", "segment.json");
        const vk = JSON.parse(readFileSync(f, "utf8"));
        vk.vk_alpha_1[0] = bumpDigit(vk.vk_alpha_1[0]);
        writeFileSync(f, JSON.stringify(vk));
      }),
      /vkeys.segment: sha256 .* differs/,
    );
    expectFail(
      await tampered((b, dir) => {
        const f = path.join(dir, "vkeys", "segment.json");
        const vk = JSON.parse(readFileSync(f, "utf8"));
        vk.vk_alpha_1[0] = bumpDigit(vk.vk_alpha_1[0]);
        const text = JSON.stringify(vk);
        writeFileSync(f, text);
        b.vkeys.segment.sha256 = createHash("sha256").update(text).digest("hex");
      }),
      /proof does not verify/,
    );
    // a key pinned by the auditor must match
    const s = await provenExample();
    const rep = await auditBundle(s.publicDir, {
      expectedVkeys: { lotlist: "0".repeat(64) },
      allowDevKeys: true,
    });
    expectFail(rep, /vkeys.lotlist: sha256 .* is not the trusted key/);
  });

  it("fails on a public signal at or above the field modulus and on a malformed bundle", async () => {
    expectFail(
      await tampered((b) => {
        const sig = b.proofs.segments[3]?.batches[0]?.publicSignals;
        if (sig) sig[3] = String(FIELD_P);
      }),
      /not below the field modulus/,
    );
    expectFail(
      await tampered((b) => {
        (b as unknown as { version: number }).version = 99;
      }),
      /unsupported version 99/,
    );
  });

  it("CLI: `bulkhead audit` prints the table, exits 0 when valid and 1 with the reason when not", async function () {
    this.timeout(120_000);
    const s = await provenExample();
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [path.join(REPO, "bin", "bulkhead.mjs"), ...args], {
        encoding: "utf8",
        cwd: REPO,
      });
    const ok = cli(["audit", s.publicDir, "--local-keys", "--allow-dev-keys", "--json"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).ok, true);
    const dir = await copyPublic("cli-tamper");
    const file = path.join(dir, "bundle.json");
    const b = JSON.parse(readFileSync(file, "utf8")) as Bundle;
    b.epoch = "9";
    writeFileSync(file, JSON.stringify(b));
    const bad = cli(["audit", dir, "--local-keys", "--allow-dev-keys"]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /segment\s+name\s+batches\s+proofs\s+healthy/);
    assert.match(bad.stdout, /AUDIT FAILED/);
    assert.match(bad.stdout, /r: recomputed/);
  });
});
