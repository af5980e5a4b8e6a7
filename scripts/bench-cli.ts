/** What the benchmark scripts share: their flags, their stderr log, and the statistics they report. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** True when the module at `url` (its import.meta.url) is the script node runs, not an import. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
}

/** The benchmark scripts' flags: `--name value`, else the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : def;
}

/** A logger to stderr: `[tag] msg`, or `[tag HH:MM:SS] msg` with `clock`. */
export function benchLog(tag: string, clock = false): (m: string) => void {
  return (m) => {
    const at = clock ? ` ${new Date().toISOString().slice(11, 19)}` : "";
    process.stderr.write(`[${tag}${at}] ${m}\n`);
  };
}

/** The median (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** `x` rounded to `d` decimals. */
export function round(x: number, d = 1): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}
