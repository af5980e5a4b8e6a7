/**
 * Private files private from the start: `prove` is killed (SIGKILL) the moment
 * the generated secret is in place, and the secret is already owner-only (0600) in an owner-only
 * private/ (0700): no window in which it was readable by others (it used to be chmod-ed after the
 * write). The receipts and totals modes at every kill point are checked in reliability.test.ts.
 */
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import * as path from "node:path";
import { runCli } from "../helpers/cli.js";
import { tmpDir } from "../helpers/epoch.js";
import { writeTinySnapshot } from "../helpers/tiny.js";

describe("prove: private files are owner-only from their creation", function () {
  this.timeout(300_000);

  it("the generated secret is 0600 in a 0700 private/ at the instant it appears", async () => {
    const dir = tmpDir("modes");
    const out = path.join(dir, "out");
    const snap = writeTinySnapshot(path.join(dir, "tiny.json"));
    const r = await runCli(["prove", "-s", snap, "-o", out, "--profile", "test"], {
      env: { BULKHEAD_FAULT: "prove:secret-written" },
    });
    assert.equal(r.signal, "SIGKILL", r.stdout + r.stderr);
    assert.equal(statSync(path.join(out, "private", "secret")).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(out, "private")).mode & 0o777, 0o700);
  });
});
