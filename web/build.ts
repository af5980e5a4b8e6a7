/**
 * `npm run build:web [-- --out DIR] [--vkey-hash circuit=sha256 ...] [--allow-dev-keys] [--no-anchor] [--quiet]`:
 * bundles the receipt page
 * (web/src/main.ts + the library's verification core: bundle, receipt, audit and chain-receipt
 * code, snarkjs and Poseidon) with esbuild into one static directory (default dist/web/):
 * index.html, app.js. The core runs unchanged in the browser (no stand-ins for Node modules;
 * `npm run test:deps` keeps Node out of it).
 *
 * Key anchor: the verification keys of this machine's own build (build/<circuit>-<profile>/vkey.json,
 * the equivalent of the CLI's local keys) are embedded into app.js, with any pinned hashes given
 * here; the page checks a bundle's keys against them (the library's `trusted` anchor) and shows
 * which anchor it used. A profile without keys for both circuits: the page refuses to verify.
 * `--allow-dev-keys` embeds the library's allowDevKeys (demos, tests): development keys then pass,
 * with the page's NOT TRUSTWORTHY banner; without it, a development-key bundle is NOT TRUSTWORTHY.
 * `--no-anchor` embeds none (the page shipped in the package, built at prepack): the page then reads
 * anchor.json next to itself, which `bulkhead serve` answers from the serving machine's keys.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { type PageAnchor, parseVkeyPins } from "../src/toolchain/page-anchor.js";
import { localKeys } from "../src/toolchain/page-keys.js";

const WEB = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(WEB, "..");

export interface WebBuildOptions {
  /** output directory (default dist/web) */
  outDir?: string;
  /** where the circuit artifacts are (default build/) */
  buildDir?: string;
  /** pinned sha256 per circuit, e.g. { segment: "ab12..." } */
  pinned?: Partial<Record<"segment" | "lotlist", string>>;
  /** accept development keys (the verdict still says NOT TRUSTWORTHY); default false */
  allowDevKeys?: boolean;
  minify?: boolean;
  /**
   * false: embed no anchor; the page then reads anchor.json next to itself (what `bulkhead serve`
   * answers). The page shipped in the package is built this way. Default true.
   */
  embedAnchor?: boolean;
  /** print nothing (prepack: `npm pack --json` keeps stdout for its JSON) */
  quiet?: boolean;
}

export { localKeys };

/**
 * circomlibjs's index pulls in every primitive (and Node's assert/buffer, which a browser lacks);
 * the library only needs Poseidon, so the page takes circomlibjs's Poseidon module directly.
 */
const poseidonOnly: esbuild.Plugin = {
  name: "bulkhead-poseidon-only",
  setup(b) {
    b.onResolve({ filter: /^circomlibjs$/ }, () => ({
      path: path.join(REPO, "node_modules", "circomlibjs", "src", "poseidon_wasm.js"),
    }));
  },
};

export async function buildWeb(
  opts: WebBuildOptions = {},
): Promise<{ outDir: string; anchor: PageAnchor | null }> {
  const outDir = path.resolve(opts.outDir ?? path.join(REPO, "dist", "web"));
  const anchor: PageAnchor | null =
    opts.embedAnchor === false
      ? null
      : {
          local: localKeys(opts.buildDir ?? path.join(REPO, "build")),
          pinned: opts.pinned ?? {},
          allowDevKeys: opts.allowDevKeys ?? false,
        };
  const tmp = `${outDir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(WEB, "src", "main.ts")],
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    outfile: path.join(tmp, "app.js"),
    minify: opts.minify ?? true,
    sourcemap: false,
    logLevel: "warning",
    define: {
      ...(anchor ? { __BULKHEAD_ANCHOR__: JSON.stringify(anchor) } : {}),
      "process.env.NODE_DEBUG": "false",
    },
    plugins: [poseidonOnly],
  });
  await fs.copyFile(path.join(WEB, "index.html"), path.join(tmp, "index.html"));
  // atomic replace: never leave a half-built page behind
  await fs.rm(outDir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(outDir), { recursive: true });
  await fs.rename(tmp, outDir);
  return { outDir, anchor };
}

function parseArgs(argv: string[]): WebBuildOptions {
  const opts: WebBuildOptions = { pinned: {} };
  const pins: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") opts.outDir = argv[++i];
    else if (a === "--build-dir") opts.buildDir = argv[++i];
    else if (a === "--no-minify") opts.minify = false;
    else if (a === "--allow-dev-keys") opts.allowDevKeys = true;
    else if (a === "--no-anchor") opts.embedAnchor = false;
    else if (a === "--quiet") opts.quiet = true;
    else if (a === "--vkey-hash") pins.push(argv[++i] ?? "");
    else throw new Error(`build:web: unknown argument ${a}`);
  }
  opts.pinned = parseVkeyPins(pins);
  return opts;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const opts = parseArgs(process.argv.slice(2));
    const { outDir, anchor } = await buildWeb(opts);
    if (opts.quiet) process.exit(0);
    const where = path.relative(process.cwd(), outDir) || ".";
    if (!anchor) {
      process.stdout.write(
        `receipt page built in ${where} (no embedded key anchor: it reads anchor.json, which bulkhead serve answers)\n`,
      );
    } else {
      const keys = anchor.local.map((k) => `${k.circuit}-${k.profile}`).join(", ") || "none";
      process.stdout.write(
        `receipt page built in ${where} (local keys: ${keys}; pinned: ${Object.keys(anchor.pinned).join(", ") || "none"}; development keys ${anchor.allowDevKeys ? "ALLOWED (--allow-dev-keys)" : "refused"})\n`,
      );
    }
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
