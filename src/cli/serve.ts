/**
 * `bulkhead serve [--port N] [--bundle DIR] [--web DIR]`: serves the receipt page (dist/web, built by
 * `npm run build:web`) on 127.0.0.1, and optionally an epoch bundle's public/ directory at /bundle/
 * so the page can fetch it by URL. Static files only, GET/HEAD only, paths confined to their root;
 * the server never receives a receipt (the page checks it locally).
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { Command } from "commander";
import { PACKAGE_ROOT } from "../util/paths.js";
import { printJson } from "./common.js";

export const BUNDLE_MOUNT = "/bundle/";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".wasm": "application/wasm",
};

export interface ServeOptions {
  /** the built page (default dist/web) */
  webDir?: string;
  /** a bundle's public/ directory, served at /bundle/ */
  bundleDir?: string;
  /** 0 = any free port */
  port?: number;
}
export interface Server {
  url: string;
  /** the page URL with the bundle pre-filled when one is served */
  pageUrl: string;
  close(): Promise<void>;
}

/** Resolves a URL path inside `root`, or null when it escapes it or names nothing servable. */
async function fileFor(root: string, rel: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  const file = path.resolve(root, `.${path.posix.normalize(`/${decoded}`)}`);
  if (file !== root && !file.startsWith(root + path.sep)) return null;
  const st = await fs.stat(file).catch(() => undefined);
  if (st?.isDirectory()) return fileFor(root, `${rel.replace(/\/?$/, "/")}index.html`);
  return st?.isFile() ? file : null;
}

function handler(webDir: string, bundleDir: string | undefined): http.RequestListener {
  return async (req, res) => {
    const send = (code: number, text: string) => {
      res.writeHead(code, { "content-type": "text/plain; charset=utf-8" }).end(`${text}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const inBundle = url.pathname.startsWith(BUNDLE_MOUNT);
    if (inBundle && !bundleDir) return send(404, "no bundle is served (bulkhead serve --bundle DIR)");
    const file = inBundle
      ? await fileFor(bundleDir as string, url.pathname.slice(BUNDLE_MOUNT.length))
      : await fileFor(webDir, url.pathname);
    if (!file) return send(404, "not found");
    const st = await fs.stat(file);
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "content-length": st.size,
      "last-modified": st.mtime.toUTCString(),
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
    });
    if (req.method === "HEAD") return res.end();
    createReadStream(file).pipe(res);
  };
}

/** Starts the server on 127.0.0.1; fails clearly when the page is not built or the bundle is absent. */
export async function startServer(opts: ServeOptions = {}): Promise<Server> {
  const webDir = path.resolve(opts.webDir ?? path.join(PACKAGE_ROOT, "dist", "web"));
  if (!(await fs.stat(path.join(webDir, "index.html")).catch(() => undefined))) {
    throw new Error(`serve: ${webDir}/index.html does not exist (run npm run build:web first)`);
  }
  let bundleDir: string | undefined;
  if (opts.bundleDir) {
    bundleDir = path.resolve(opts.bundleDir);
    if (!(await fs.stat(path.join(bundleDir, "bundle.json")).catch(() => undefined)))
      throw new Error(`serve: --bundle ${opts.bundleDir}: no bundle.json there (give the public/ directory)`);
  }
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`serve: --port ${port}: not a port`);
  const server = http.createServer(handler(webDir, bundleDir));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    pageUrl: bundleDir ? `${url}?bundle=${encodeURIComponent(BUNDLE_MOUNT)}` : url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "serve the receipt page (npm run build:web) on 127.0.0.1, optionally with a bundle at /bundle/",
    )
    .option("--port <n>", "port (0 = any free port)", "8080")
    .option("--bundle <dir>", "an epoch's public/ directory to serve at /bundle/")
    .option("--web <dir>", "the built page (default dist/web)")
    .option("--json", "print the URLs as JSON")
    .action(async (opts: { port: string; bundle?: string; web?: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.port)) throw new Error(`serve: --port ${opts.port}: not a port number`);
      const s = await startServer({ port: Number(opts.port), bundleDir: opts.bundle, webDir: opts.web });
      if (opts.json) printJson({ url: s.url, pageUrl: s.pageUrl });
      else process.stdout.write(`receipt page: ${s.pageUrl}\n(Ctrl-C to stop)\n`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      await s.close();
    });
}
