/**
 * bulkhead as an installed package: `npm pack` (prepack compiles dist/), the
 * tarball installed offline into a scratch project, and there, as a user would: `npx bulkhead
 * prove` -> `audit` -> `receipt verify`, plus the library imported by name. The scratch project has
 * no bulkhead checkout around it: dependencies must resolve from its own node_modules, and the
 * artifacts come from the build directory given with --build-dir (this checkout's build/, so the
 * test-profile keys are reused, not rebuilt). HOME points into the scratch project, so nothing
 * leaks into the user's cache.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { writeTinySnapshot } from "../helpers/tiny.js";

const run = promisify(execFile);

interface LockEntry {
  version?: string;
  dev?: boolean;
  resolved?: string;
  link?: boolean;
  [k: string]: unknown;
}

/**
 * A scratch project depending on the packed tarball, with a lockfile: bulkhead's runtime
 * dependencies exactly as this checkout's package-lock.json pins them (dev-only entries dropped).
 */
function writeScratchProject(dir: string, tarballName: string): void {
  const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
    version: string;
    dependencies: Record<string, string>;
    bin: Record<string, string>;
    engines: Record<string, string>;
  };
  const lock = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const spec = `file:${tarballName}`;
  const packages: Record<string, LockEntry> = {
    "": { name: "scratch", dependencies: { bulkhead: spec } },
    "node_modules/bulkhead": {
      version: pkg.version,
      resolved: spec,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [k, v] of Object.entries(lock.packages)) {
    if (!k.startsWith("node_modules/") || v.dev) continue;
    // this checkout's lockfile omits registry URLs (omit-lockfile-registry-resolved); with the URL
    // and the integrity, npm takes each tarball from its cache without asking for metadata
    const name = k.slice(k.lastIndexOf("node_modules/") + "node_modules/".length);
    const resolved =
      v.resolved ?? `https://registry.npmjs.org/${name}/-/${name.split("/").pop()}-${v.version}.tgz`;
    packages[k] = v.link ? v : { ...v, resolved };
  }
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "scratch", private: true, type: "module", dependencies: { bulkhead: spec } }),
  );
  writeFileSync(
    path.join(dir, "package-lock.json"),
    JSON.stringify({ name: "scratch", lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

describe("package: npm pack, install into a scratch project, prove -> audit -> receipt verify", function () {
  this.timeout(900_000);
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  const sh = (cmd: string, args: string[], extra: { cwd?: string } = {}) =>
    run(cmd, args, { cwd: extra.cwd ?? scratch, env, maxBuffer: 64 << 20 });
  const bulkhead = (args: string[]) =>
    sh(process.execPath, [path.join(scratch, "node_modules", ".bin", "bulkhead"), ...args]);

  before(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), "bulkhead-pkg-"));
    env = {
      ...process.env,
      HOME: scratch,
      XDG_CACHE_HOME: "",
      BULKHEAD_BUILD_DIR: "",
      npm_config_yes: "true",
    };
    delete env.NODE_OPTIONS;
    const packed = await sh("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: PACKAGE_ROOT });
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(scratch, info[0]?.filename ?? "");
    const files = (info[0]?.files ?? []).map((f) => f.path);
    for (const need of [
      "bin/bulkhead.mjs",
      "src/cli/index.ts",
      "dist/src/index.js",
      "circuits/segment_batch.circom",
    ])
      assert.ok(files.includes(need), `the package ships ${need}`);
    assert.ok(!files.some((f) => f.startsWith("test/")), "no tests in the package");
    writeScratchProject(scratch, path.basename(tarball));
    // offline: the npm cache holds the tarballs of this checkout's package-lock.json, and the
    // scratch lockfile (built from it) tells npm exactly which, so no registry metadata is needed
    await sh("npm", [
      "ci",
      "--offline",
      "--no-audit",
      "--no-fund",
      "--cache",
      path.join(os.homedir(), ".npm"),
    ]);
  });

  after(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("installs flat: bulkhead has no node_modules of its own", () => {
    assert.ok(existsSync(path.join(scratch, "node_modules", "bulkhead", "circuits")));
    assert.ok(existsSync(path.join(scratch, "node_modules", "circom2")));
    assert.equal(existsSync(path.join(scratch, "node_modules", "bulkhead", "node_modules")), false);
  });

  it("proves, audits and verifies a receipt there", async () => {
    const snap = writeTinySnapshot(path.join(scratch, "snapshot.json"));
    const build = path.join(PACKAGE_ROOT, "build");
    const p = await bulkhead([
      "prove",
      "-s",
      snap,
      "-o",
      "epoch",
      "--profile",
      "test",
      "--build-dir",
      build,
      "--json",
    ]);
    const summary = JSON.parse(p.stdout) as { ok: boolean; publicDir: string; privateDir: string };
    assert.equal(summary.ok, true);
    assert.equal(summary.publicDir, path.join(scratch, "epoch", "public"));
    const anchored = ["--local-keys", "--build-dir", build, "--allow-dev-keys"];
    const a = await bulkhead(["audit", "epoch/public", ...anchored]);
    assert.match(a.stdout, /AUDIT.*(PASS|OK|VALID)/i);
    // the installed CLI finds the receipt by lot id (sharded layout), then verifies the file
    const found = await bulkhead(["receipt", "find", "--out", "epoch", "--lot", "0x01"]);
    const receipt = found.stdout.trim();
    assert.match(receipt, /^epoch\/private\/receipts\/lots\/[0-9a-f]{2}\/0x1\.json$/, found.stderr);
    const v = await bulkhead(["receipt", "verify", receipt, "--bundle", "epoch/public", ...anchored]);
    assert.match(v.stdout, /^VERIFIED/);
  });

  it("the library imports by name and its call leaves nothing running", async () => {
    const script = path.join(scratch, "audit.mjs");
    writeFileSync(
      script,
      `import { auditBundle } from "bulkhead";\nconst anchor = { kind: "local", buildDir: ${JSON.stringify(path.join(PACKAGE_ROOT, "build"))} };\nconst rep = await auditBundle("epoch/public", { anchor, allowDevKeys: true });\nconsole.log(rep.ok ? "ok" : "bad");\n`,
    );
    const r = await run(process.execPath, [script], { cwd: scratch, env, timeout: 120_000 });
    assert.equal(r.stdout.trim(), "ok");
  });

  it("without --build-dir, an installed package looks in the user cache, not in node_modules", async () => {
    const r = await bulkhead(["setup", "info", "--json"]).catch((err: { stdout: string }) => err);
    const e = JSON.parse(r.stdout) as { ok: boolean; error: string };
    assert.equal(e.ok, false);
    assert.match(e.error, new RegExp(`not built in ${path.join(scratch, ".cache", "bulkhead", "build")}`));
  });
});
