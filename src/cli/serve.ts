/**
 * `bulkhead serve [--port N] [--bundle DIR] [--web DIR] [--vkey-hash c=h] [--allow-dev-keys]`:
 * serves the receipt page (dist/web: shipped in the package, built at prepack; in a checkout
 * `npm run build:web`) on 127.0.0.1, and optionally an epoch bundle's public/ directory at /bundle/
 * so the page can fetch it by URL. The page's key anchor is answered at /anchor.json: the keys of
 * this machine's build directory and the pinned hashes (a page built with an embedded anchor
 * ignores it). Static files only, GET/HEAD only, paths confined to their root; the server never
 * receives a receipt (the page checks it locally).
 */
import { createReadStream } from "node:fs";
import * as fs from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { Command } from "commander";
import { ANCHOR_FILE, type PageAnchor, parseVkeyPins } from "../toolchain/page-anchor.js";
import { pageAnchor } from "../toolchain/page-keys.js";
import { buildDir, PACKAGE_ROOT } from "../util/paths.js";
import { BUILD_DIR_HELP, onStopRequest, printJson } from "./common.js";

export const BUNDLE_MOUNT = "/bundle/";
/** The page shipped in the package (built at prepack), or `npm run build:web`'s in a checkout. */
export const DEFAULT_WEB_DIR = path.join(PACKAGE_ROOT, "dist", "web");

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
  /** answered at /anchor.json (the key anchor of a page built without one) */
  anchor?: PageAnchor;
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

function handler(webDir: string, bundleDir: string | undefined, anchor?: PageAnchor): http.RequestListener {
  return async (req, res) => {
    const send = (code: number, text: string) => {
      res.writeHead(code, { "content-type": "text/plain; charset=utf-8" }).end(`${text}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (anchor && url.pathname === `/${ANCHOR_FILE}`) {
      const body = JSON.stringify(anchor);
      res.writeHead(200, {
        "content-type": TYPES[".json"],
        "content-length": Buffer.byteLength(body),
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      });
      return res.end(req.method === "HEAD" ? undefined : body);
    }
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
  const webDir = path.resolve(opts.webDir ?? DEFAULT_WEB_DIR);
  if (!(await fs.stat(path.join(webDir, "index.html")).catch(() => undefined))) {
    throw new Error(
      `serve: ${webDir}/index.html does not exist (in a checkout: run npm run build:web first; an installed package ships it: reinstall bulkhead, or give --web DIR)`,
    );
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
  const server = http.createServer(handler(webDir, bundleDir, opts.anchor));
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

/** One line on the anchor /anchor.json answers. */
function describeAnchor(a: PageAnchor): string {
  const keys = a.local.map((k) => `${k.circuit}-${k.profile}`).join(", ") || "none";
  const pins = Object.keys(a.pinned).join(", ") || "none";
  return `key anchor for the page: keys of ${buildDir()}: ${keys}; pinned: ${pins}; development keys ${a.allowDevKeys ? "ACCEPTED (--allow-dev-keys)" : "refused"}`;
}

interface ServeFlags {
  port: string;
  bundle?: string;
  web?: string;
  vkeyHash: string[];
  allowDevKeys?: boolean;
  buildDir?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("serve")
    .description("serve the receipt page on 127.0.0.1, optionally with a bundle at /bundle/")
    .option("--port <n>", "port (0 = any free port)", "8080")
    .option("--bundle <dir>", "an epoch's public/ directory to serve at /bundle/")
    .option("--web <dir>", "the built page (default: the package's dist/web)")
    .option(
      "--vkey-hash <circuit=sha256>",
      "pin a circuit's key hash for the page (repeatable; wins over the build directory's keys)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option("--allow-dev-keys", "the page accepts development keys (demos; still shown NOT TRUSTWORTHY)")
    .option("--build-dir <dir>", `${BUILD_DIR_HELP}: its keys anchor the page`)
    .option("--json", "print the URLs as JSON")
    .action(async (opts: ServeFlags) => {
      if (!/^\d+$/.test(opts.port)) throw new Error(`serve: --port ${opts.port}: not a port number`);
      const anchor = pageAnchor({
        buildDir: buildDir(),
        pinned: parseVkeyPins(opts.vkeyHash),
        allowDevKeys: opts.allowDevKeys === true,
      });
      const s = await startServer({
        port: Number(opts.port),
        bundleDir: opts.bundle,
        webDir: opts.web,
        anchor,
      });
      if (opts.json) printJson({ url: s.url, pageUrl: s.pageUrl, anchor });
      else process.stdout.write(`receipt page: ${s.pageUrl}\n${describeAnchor(anchor)}\n(Ctrl-C to stop)\n`);
      // the first SIGINT/SIGTERM closes the server and exits 0; it writes nothing, so says nothing of files
      await new Promise<void>((resolve) => onStopRequest(() => resolve(), "the server was closed"));
      await s.close();
      if (!opts.json) process.stderr.write("receipt page server stopped\n");
    });
}
