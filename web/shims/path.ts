/** Browser stand-in for node:path (POSIX only): what the bundle reader uses to confine paths. */
export const sep = "/";

function normalize(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return (abs ? "/" : "") + out.join("/");
}

export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== "").join("/")) || ".";
}

export function resolve(...parts: string[]): string {
  let acc = "";
  for (const p of parts) acc = p.startsWith("/") ? p : `${acc}/${p}`;
  return normalize(acc.startsWith("/") ? acc : `/${acc}`) || "/";
}

export function dirname(p: string): string {
  const n = normalize(p);
  const i = n.lastIndexOf("/");
  return i <= 0 ? (n.startsWith("/") ? "/" : ".") : n.slice(0, i);
}

export function basename(p: string): string {
  const n = normalize(p);
  return n.slice(n.lastIndexOf("/") + 1);
}

export default { sep, join, resolve, dirname, basename };
