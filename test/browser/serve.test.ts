/** `bulkhead serve`: static files on 127.0.0.1, the bundle at /bundle/, nothing outside its roots. */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { startServer } from "../../src/cli/serve.js";
import { checkPageAnchor } from "../../src/toolchain/page-anchor.js";
import { pageAnchor } from "../../src/toolchain/page-keys.js";
import { tmpDir } from "../helpers/epoch.js";

/** Raw GET (no URL normalisation by the client, so "../" reaches the server as sent). */
function get(url: string, rawPath: string, method = "GET"): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: rawPath, method }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("serve", () => {
  const root = tmpDir("serve");
  const web = path.join(root, "web");
  const pub = path.join(root, "public");
  mkdirSync(path.join(pub, "vkeys"), { recursive: true });
  mkdirSync(web, { recursive: true });
  writeFileSync(path.join(web, "index.html"), "<p>page</p>");
  writeFileSync(path.join(pub, "bundle.json"), '{"b":1}');
  writeFileSync(path.join(pub, "vkeys", "segment.json"), '{"k":1}');
  writeFileSync(path.join(root, "secret.txt"), "private");

  it("serves the page and the bundle, and nothing outside them", async () => {
    const s = await startServer({ webDir: web, bundleDir: pub, port: 0 });
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(s.pageUrl, `${s.url}?bundle=%2Fbundle%2F`);
      assert.deepEqual(await get(s.url, "/"), { status: 200, body: "<p>page</p>" });
      assert.deepEqual(await get(s.url, "/bundle/bundle.json"), { status: 200, body: '{"b":1}' });
      assert.equal((await get(s.url, "/bundle/vkeys/segment.json")).status, 200);
      for (const p of [
        "/../secret.txt",
        "/bundle/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/bundle/..%2f..%2fsecret.txt",
      ]) {
        const r = await get(s.url, p);
        assert.equal(r.status, 404, p);
        assert.doesNotMatch(r.body, /private/, p);
      }
      assert.equal((await get(s.url, "/", "POST")).status, 405);
    } finally {
      await s.close();
    }
  });

  it("answers the page's key anchor at /anchor.json when given one, and only then", async () => {
    const anchor = pageAnchor({ buildDir: path.join(root, "no-build"), allowDevKeys: true });
    const s = await startServer({ webDir: web, port: 0, anchor });
    try {
      const r = await get(s.url, "/anchor.json");
      assert.equal(r.status, 200);
      assert.deepEqual(checkPageAnchor(JSON.parse(r.body)), anchor);
    } finally {
      await s.close();
    }
    const bare = await startServer({ webDir: web, port: 0 });
    try {
      assert.equal((await get(bare.url, "/anchor.json")).status, 404);
    } finally {
      await bare.close();
    }
  });

  it("refuses to start without a built page or with a directory that is not a bundle", async () => {
    await assert.rejects(startServer({ webDir: path.join(root, "nope") }), /run npm run build:web first/);
    await assert.rejects(startServer({ webDir: web, bundleDir: root }), /no bundle\.json there/);
  });
});
