/**
 * Well-known locations: the bulkhead package root, its dependencies (resolved the way Node resolves
 * them, so an installed package finds them in the user's node_modules), the build directory of
 * generated artifacts, and the user cache.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

function findPackageRoot(): string {
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

/** Absolute path of the bulkhead package: a git checkout, or node_modules/bulkhead when installed. */
export const PACKAGE_ROOT = findPackageRoot();
/** Directory of the circuit sources (shipped with the package). */
export const CIRCUITS_DIR = path.join(PACKAGE_ROOT, "circuits");
/** Directory of the Solidity sources (shipped with the package). */
export const CONTRACTS_DIR = path.join(PACKAGE_ROOT, "contracts");

/** Environment variable naming the build directory (`--build-dir` sets it for a CLI run). */
export const BUILD_DIR_ENV = "BULKHEAD_BUILD_DIR";

/**
 * The build directory of generated artifacts (circuits, keys, contracts, deployments):
 * $BULKHEAD_BUILD_DIR when set (relative to the current directory); otherwise `build/` of the
 * checkout when run from one; otherwise, for an installed package, `<user cache>/build`
 * (never inside node_modules, which installs replace). Read at each call.
 */
export function buildDir(): string {
  const env = process.env[BUILD_DIR_ENV];
  if (env) return path.resolve(env);
  const installed = PACKAGE_ROOT.split(path.sep).includes("node_modules");
  return installed ? path.join(userCacheDir(), "build") : path.join(PACKAGE_ROOT, "build");
}

/** The build directory as it was when this module loaded; prefer `buildDir()`. */
export const BUILD_DIR = buildDir();

/** `$XDG_CACHE_HOME/bulkhead` or `~/.cache/bulkhead`: shared by every clone on this machine. */
export function userCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "bulkhead");
}

const requireHere = createRequire(import.meta.url);

/**
 * Directory of an installed dependency, found the way Node's `require` finds it from this file
 * (every node_modules from here up: the package's own, or the user project's when installed
 * flat). Uses the lookup paths, not `require.resolve(name)`, because some packages have no main
 * entry or do not export their package.json.
 */
export function packageDir(name: string): string {
  for (const base of requireHere.resolve.paths(name) ?? []) {
    const dir = path.join(base, name);
    if (existsSync(path.join(dir, "package.json"))) return dir;
  }
  throw new Error(
    `cannot find the package ${name} from ${PACKAGE_ROOT} (is bulkhead installed with its dependencies?)`,
  );
}

/** An executable of an installed dependency's `.bin` (the node_modules/.bin next to it). */
export function packageBin(pkg: string, bin: string): string | undefined {
  const dir = packageDir(pkg);
  const nm = pkg.startsWith("@") ? path.dirname(path.dirname(dir)) : path.dirname(dir);
  const file = path.join(nm, ".bin", bin);
  return existsSync(file) ? file : undefined;
}

/** Version of an installed package (from its package.json). */
export function packageVersion(name: string): string {
  const pkg = path.join(packageDir(name), "package.json");
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

/** Version of bulkhead itself. */
export function bulkheadVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as { version: string })
    .version;
}
