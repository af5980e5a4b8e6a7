/**
 * The page's key anchor (web/src/anchor.ts): the library's trusted anchor from pinned hashes (which
 * win) or the build's keys; without a key for every circuit, no anchor (the library refuses) unless
 * the user ticks "trust the bundle's keys"; allowDevKeys only from the build.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { localKeys } from "../../web/build.js";
import { type Anchor, auditOptionsFor, chooseAnchor } from "../../web/src/anchor.js";
import { tmpDir } from "../helpers/epoch.js";

const h = (c: string) => c.repeat(64);

describe("web key anchor", () => {
  const anchor: Anchor = {
    local: [
      { circuit: "segment", profile: "test", sha256: h("a") },
      { circuit: "lotlist", profile: "test", sha256: h("b") },
    ],
    pinned: {},
    allowDevKeys: false,
  };
  const trusted = (keys: Record<string, string>) =>
    Object.fromEntries(Object.entries(keys).map(([c, sha256]) => [c, { sha256 }]));

  it("uses the build's keys of the bundle's profile", () => {
    const c = chooseAnchor(anchor, "test");
    assert.equal(c.keyAnchor?.kind, "trusted");
    assert.deepEqual(c.keyAnchor?.keys, trusted({ segment: h("a"), lotlist: h("b") }));
    assert.equal(c.anchored, true);
    assert.match(c.summary, /your build's key \(segment-test\)/);
    // the trusted anchor goes to the library, whatever the tick box says; dev keys as built
    assert.deepEqual(auditOptionsFor(c, anchor, true), { anchor: c.keyAnchor, allowDevKeys: false });
    assert.equal(auditOptionsFor(c, { ...anchor, allowDevKeys: true }, false).allowDevKeys, true);
  });

  it("a pinned hash wins over the local key", () => {
    const c = chooseAnchor({ ...anchor, pinned: { segment: h("c") } }, "test");
    assert.deepEqual(c.keyAnchor?.keys, trusted({ segment: h("c"), lotlist: h("b") }));
    assert.deepEqual(c.sources, { segment: "pinned", lotlist: "local" });
  });

  it("another profile has no anchor: no anchor for the library unless the bundle's keys are ticked", () => {
    const c = chooseAnchor(anchor, "prod");
    assert.equal(c.keyAnchor, null);
    assert.equal(c.anchored, false);
    assert.match(c.summary, /segment: NO TRUSTED KEY/);
    assert.deepEqual(auditOptionsFor(c, anchor, false), { anchor: undefined, allowDevKeys: false });
    assert.deepEqual(auditOptionsFor(c, anchor, true), { anchor: { kind: "bundle" }, allowDevKeys: false });
  });

  it("a key for one circuit only is no anchor (every circuit's key must be anchored)", () => {
    const c = chooseAnchor({ ...anchor, local: [], pinned: { segment: h("c") } }, "test");
    assert.equal(c.keyAnchor, null);
    assert.deepEqual(c.sources, { segment: "pinned", lotlist: "none" });
    assert.equal(auditOptionsFor(c, anchor, false).anchor, undefined);
  });

  it("build:web finds build/<circuit>-<profile>/vkey.json and hashes the file's bytes", () => {
    const dir = tmpDir("keys");
    const text = '{"protocol":"groth16","nPublic":9}\n';
    for (const d of ["segment-test", "lotlist-test", "segment-test-extra", "notacircuit-test"]) {
      mkdirSync(path.join(dir, d), { recursive: true });
      writeFileSync(path.join(dir, d, "vkey.json"), text);
    }
    mkdirSync(path.join(dir, "segment-prod")); // no vkey.json: not a key; "test-extra" is not a profile name
    const sha = createHash("sha256").update(text).digest("hex");
    assert.deepEqual(localKeys(dir), [
      { circuit: "lotlist", profile: "test", sha256: sha },
      { circuit: "segment", profile: "test", sha256: sha },
    ]);
    assert.deepEqual(localKeys(path.join(dir, "absent")), []);
  });
});
