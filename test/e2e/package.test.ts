/**
 * bulkhead as an installed package: `npm pack` (prepack compiles dist/src and builds the page into
 * dist/web), the tarball installed into a fresh project as a user does (`npm install <tarball>`,
 * resolved from the npm registry: no lockfile copied in, no --offline), and there, as a user would:
 * `npx bulkhead prove` -> `audit` -> `receipt verify`, the library imported by name, and
 * `bulkhead serve` of the installed package, whose page verifies a receipt in Chromium. The fresh
 * project has no bulkhead checkout around it: dependencies must resolve from its own node_modules,
 * and the artifacts come from the build directory given with --build-dir (this checkout's build/,
 * so the test-profile keys are reused, not rebuilt). HOME points into the fresh project, so nothing
 * leaks into the user's cache; npm's download cache is the user's (metadata still comes from the
 * registry).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { localKeys } from "../../src/toolchain/page-keys.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { launchChromium, requireChromium } from "../browser/chromium.js";
import { writeTinySnapshot } from "../helpers/tiny.js";

const run = promisify(execFile);

/** Stale compiled tests and scripts in dist/ (what `npm run build` leaves): never shipped. */
function leaveStaleBuildOutputs(): void {
  for (const d of ["test", "scripts"]) {
    mkdirSync(path.join(PACKAGE_ROOT, "dist", d), { recursive: true });
    writeFileSync(path.join(PACKAGE_ROOT, "dist", d, "stale.js"), "export {};\n");
  }
}

/** A fresh project depending on the tarball, nothing else: npm resolves the rest from the registry. */
function writeFreshProject(dir: string): void {
  writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "fresh", private: true, type: "module" }),
  );
}

/** Starts `bulkhead serve ... --json` and returns its page URL once it listens. */
function startServe(bin: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, "serve", ...args, "--json"], { cwd, env });
  let err = "";
  const url = new Promise<{ pageUrl: string; anchor: unknown }>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      try {
        resolve(JSON.parse(out) as { pageUrl: string; anchor: unknown });
      } catch {
        // not all of it yet
      }
    });
    child.stderr.on("data", (c) => {
      err += c;
    });
    child.on("exit", (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
    child.on("exit", (code) => resolve({ code, stderr: err })),
  );
  return { child, url, exit };
}

describe("package: npm pack, install into a scratch project, prove -> audit -> receipt verify", function () {
  this.timeout(900_000);
  let scratch: string;
  let env: NodeJS.ProcessEnv;
  let files: string[] = [];
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
    leaveStaleBuildOutputs();
    const packed = await sh("npm", ["pack", "--json", "--pack-destination", scratch], { cwd: PACKAGE_ROOT });
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const tarball = path.join(scratch, info[0]?.filename ?? "");
    files = (info[0]?.files ?? []).map((f) => f.path);
    writeFreshProject(scratch);
    // like a user: the tarball's dependencies resolve from the registry (no lockfile, online)
    await sh("npm", [
      "install",
      tarball,
      "--no-audit",
      "--no-fund",
      "--cache",
      path.join(os.homedir(), ".npm"),
    ]);
  });

  it("ships the library, the CLI, the circuits and the built page; no tests, no scripts", () => {
    for (const need of [
      "bin/bulkhead.mjs",
      "src/cli/index.ts",
      "dist/src/index.js",
      "dist/web/index.html",
      "dist/web/app.js",
      "circuits/segment_batch.circom",
      "contracts/vendor/AggregatorV3Interface.sol",
    ])
      assert.ok(files.includes(need), `the package ships ${need}`);
    for (const no of ["test/", "dist/test/", "dist/scripts/", "scripts/", "web/"])
      assert.ok(!files.some((f) => f.startsWith(no)), `the package ships nothing under ${no}`);
    const app = readFileSync(path.join(scratch, "node_modules", "bulkhead", "dist", "web", "app.js"), "utf8");
    for (const k of localKeys(path.join(PACKAGE_ROOT, "build")))
      assert.equal(app.includes(k.sha256), false, "the shipped page embeds no key of the packer's build");
  });

  it("depends on no Chainlink package (the feed interface is vendored)", () => {
    const pkg = JSON.parse(
      readFileSync(path.join(scratch, "node_modules", "bulkhead", "package.json"), "utf8"),
    ) as {
      dependencies: Record<string, string>;
    };
    assert.equal(
      Object.keys(pkg.dependencies).some((d) => d.startsWith("@chainlink/")),
      false,
    );
    for (const [name, range] of Object.entries(pkg.dependencies))
      assert.match(range, /^\d+\.\d+\.\d+$/, `${name} is pinned to the tested version (${range})`);
    assert.equal(existsSync(path.join(scratch, "node_modules", "@chainlink")), false);
  });

  const servers: ChildProcess[] = [];
  after(() => {
    for (const c of servers) c.kill("SIGTERM");
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

  it("serves the installed package's page, which verifies the receipt in Chromium", async function () {
    requireChromium(this);
    const bin = path.join(scratch, "node_modules", ".bin", "bulkhead");
    const build = path.join(PACKAGE_ROOT, "build");
    const args = ["--bundle", "epoch/public", "--port", "0", "--build-dir", build, "--allow-dev-keys"];
    const serve = startServe(bin, args, scratch, env);
    servers.push(serve.child);
    const { pageUrl, anchor } = await serve.url;
    assert.match(pageUrl, /^http:\/\/127\.0\.0\.1:\d+\/\?bundle=/, JSON.stringify(anchor));
    const browser = await launchChromium();
    try {
      const page = await browser.context.newPage();
      await page.goto(pageUrl);
      await page.waitForSelector("#anchor");
      // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the user reads
      assert.match(await page.locator("#anchor").innerText(), /segment-test/);
      const receipt = path.join(scratch, "epoch/private/receipts/lots");
      const found = await bulkhead(["receipt", "find", "--out", "epoch", "--lot", "0x01"]);
      assert.ok(found.stdout.trim().startsWith(path.relative(scratch, receipt)));
      await page.setInputFiles("#receipt-file", path.join(scratch, found.stdout.trim()));
      await page.waitForSelector("#receipt-status code");
      await page.click("#check");
      await page.waitForFunction(
        () => {
          const st = document.getElementById("result")?.dataset.state;
          return st !== undefined && st !== "running";
        },
        undefined,
        { timeout: 300_000 },
      );
      assert.equal(await page.locator("#result").getAttribute("data-state"), "verified");
    } finally {
      await browser.close();
    }
    // SIGTERM closes the server: exit 0, and no talk of files (it writes none)
    serve.child.kill("SIGTERM");
    const { code, stderr } = await serve.exit;
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /half-written/);
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
