/** Well-known locations: repository root, build directory, user cache. */
import { existsSync, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "bulkhead") return dir;
      } catch {
        // keep looking
      }
    }
    dir = path.dirname(dir);
  }
  throw new Error("cannot locate the bulkhead package root");
}

/** Absolute path of the repository (package) root. */
export const REPO_ROOT = findRepoRoot();
/** Default directory of generated artifacts. */
export const BUILD_DIR = path.join(REPO_ROOT, "build");
/** Directory of the circuit sources. */
export const CIRCUITS_DIR = path.join(REPO_ROOT, "circuits");
/** Directory of the Solidity sources. */
export const CONTRACTS_DIR = path.join(REPO_ROOT, "contracts");
export const NODE_MODULES = path.join(REPO_ROOT, "node_modules");

/** `$XDG_CACHE_HOME/bulkhead` or `~/.cache/bulkhead`: shared by every clone on this machine. */
export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "bulkhead");
}

/** Version of an installed package (from its package.json). */
export function packageVersion(name: string): string {
  const pkg = path.join(NODE_MODULES, name, "package.json");
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** Version of bulkhead itself. */
export function bulkheadVersion(): string {
  return (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string })
    .version;
}
