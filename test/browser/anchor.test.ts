/** The page's key anchor (web/src/anchor.ts): pinned hashes win over the build's keys; none is said loudly. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { localKeys } from "../../web/build.js";
import { type Anchor, chooseAnchor } from "../../web/src/anchor.js";
import { tmpDir } from "../helpers/epoch.js";

const h = (c: string) => c.repeat(64);

describe("web key anchor", () => {
  const anchor: Anchor = {
    local: [
      { circuit: "segment", profile: "test", sha256: h("a") },
      { circuit: "lotlist", profile: "test", sha256: h("b") },
    ],
    pinned: {},
  };

  it("uses the build's keys of the bundle's profile", () => {
    const c = chooseAnchor(anchor, "test");
    assert.deepEqual(c.expectedVkeys, { segment: h("a"), lotlist: h("b") });
    assert.equal(c.anchored, true);
    assert.match(c.summary, /your build's key \(segment-test\)/);
  });

  it("a pinned hash wins over the local key", () => {
    const c = chooseAnchor({ ...anchor, pinned: { segment: h("c") } }, "test");
    assert.deepEqual(c.expectedVkeys, { segment: h("c"), lotlist: h("b") });
    assert.deepEqual(c.sources, { segment: "pinned", lotlist: "local" });
  });

  it("another profile has no anchor, and says so", () => {
    const c = chooseAnchor(anchor, "prod");
    assert.deepEqual(c.expectedVkeys, {});
    assert.equal(c.anchored, false);
    assert.match(c.summary, /segment: NOT ANCHORED/);
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
