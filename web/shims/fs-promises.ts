/**
 * Browser stand-in for node:fs/promises: a read-only in-memory file table that the page fills with
 * the bundle's files (fetched by URL or picked by the user) before calling the library. Only what
 * the library's bundle/audit/receipt code uses is provided (readFile, stat).
 */
const files = new Map<string, string>();

/** Replaces the whole table: absolute POSIX paths -> text. */
export function setVirtualFiles(entries: Record<string, string>): void {
  files.clear();
  for (const [p, text] of Object.entries(entries)) files.set(p, text);
}

function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file, '${p}'`), { code: "ENOENT" });
}

const isDir = (p: string) => {
  const prefix = p.endsWith("/") ? p : `${p}/`;
  for (const k of files.keys()) if (k.startsWith(prefix)) return true;
  return false;
};

export async function readFile(p: string, _enc?: unknown): Promise<string> {
  const t = files.get(String(p));
  if (t === undefined) throw enoent(String(p));
  return t;
}

export async function stat(p: string): Promise<{ isDirectory(): boolean; isFile(): boolean }> {
  const s = String(p);
  const file = files.has(s);
  const dir = !file && isDir(s);
  if (!file && !dir) throw enoent(s);
  return { isDirectory: () => dir, isFile: () => file };
}

function unsupported(name: string): never {
  throw new Error(`${name} is not available in the browser`);
}
export async function access(p: string): Promise<void> {
  await stat(p);
}
export const writeFile = () => unsupported("fs.writeFile");
export const mkdir = () => unsupported("fs.mkdir");
export const rename = () => unsupported("fs.rename");
export const rm = () => unsupported("fs.rm");
export const readdir = () => unsupported("fs.readdir");
export const open = () => unsupported("fs.open");
export const copyFile = () => unsupported("fs.copyFile");
export const mkdtemp = () => unsupported("fs.mkdtemp");
export const chmod = () => unsupported("fs.chmod");
export default {
  readFile,
  stat,
  access,
  writeFile,
  mkdir,
  rename,
  rm,
  readdir,
  open,
  copyFile,
  mkdtemp,
  chmod,
};
