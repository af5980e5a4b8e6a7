/**
 * Bundles on disk (Node): a bundle directory as `BundleFiles`, and `readBundle` for a directory or
 * a path to its bundle.json. Key paths are confined to the bundle directory.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { BUNDLE_FILE, type Bundle, BundleError, type BundleFiles, loadBundle } from "./bundle.js";

/** The files of the bundle directory `dir`; `file` names its bundle.json when given as a path. */
export function dirFiles(dir: string, file = path.join(dir, BUNDLE_FILE)): BundleFiles {
  const root = path.resolve(dir);
  const where = (rel: string) => (rel === BUNDLE_FILE ? file : path.join(dir, rel));
  return {
    path: where,
    read: async (rel) => {
      const abs = path.resolve(root, rel);
      if (rel !== BUNDLE_FILE && !abs.startsWith(root + path.sep))
        throw new BundleError(`bundle: path ${rel} escapes the bundle`);
      return fs.readFile(rel === BUNDLE_FILE ? file : abs, "utf8");
    },
  };
}

/** The files of DIR (the public directory) or of the directory of a bundle.json path. */
export async function bundleFiles(dirOrFile: string): Promise<{ files: BundleFiles; dir: string }> {
  const st = await fs.stat(dirOrFile).catch(() => undefined);
  if (!st) throw new BundleError(`bundle: ${dirOrFile} does not exist`);
  if (st.isDirectory()) return { files: dirFiles(dirOrFile), dir: dirOrFile };
  const dir = path.dirname(dirOrFile);
  return { files: dirFiles(dir, dirOrFile), dir };
}

/** Reads DIR/bundle.json (DIR = the public directory, or a path to bundle.json itself). */
export async function readBundle(
  dirOrFile: string,
): Promise<{ bundle: Bundle; dir: string; files: BundleFiles }> {
  const { files, dir } = await bundleFiles(dirOrFile);
  return { bundle: await loadBundle(files), dir, files };
}
