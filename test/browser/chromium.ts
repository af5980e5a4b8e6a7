/**
 * Headless Chromium for the browser tier: Debian's /usr/bin/chromium (installed by .ci/run), driven
 * by playwright-core (no browser download), a fresh profile per launch, no background traffic.
 * Without the binary the tier skips with a message, except under CI, where it fails.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BrowserContext, chromium, type Request } from "playwright-core";
import { REPO } from "../helpers/epoch.js";

export const CHROMIUM = "/usr/bin/chromium";
export const SCREENSHOTS = path.join(REPO, "out", "screenshots");

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Skips the suite when Chromium is absent; under CI that is an error instead. */
export function requireChromium(ctx: Mocha.Context): void {
  if (existsSync(CHROMIUM)) return;
  if (process.env.CI && process.env.CI !== "false") {
    throw new Error(`${CHROMIUM} is missing under CI: .ci/run must install Debian's chromium`);
  }
  console.warn(`    (browser tier skipped: ${CHROMIUM} not found; apt-get install -y chromium)`);
  ctx.skip();
}

export interface Recorded {
  url: string;
  method: string;
  postData: string | null;
  headers: Record<string, string>;
}

/** A browser with a fresh --user-data-dir that records every request any page makes. */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  requests: Recorded[];
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(path.join(os.tmpdir(), "bulkhead-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1100, height: 900 },
  });
  const requests: Recorded[] = [];
  const record = (r: Request) =>
    requests.push({ url: r.url(), method: r.method(), postData: r.postData(), headers: r.headers() });
  context.on("request", record);
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    requests,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Every value of a receipt that identifies its owner or position (long enough to be unambiguous). */
export function secretsOf(receipt: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === "string" && v.length >= 6) out.add(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(receipt);
  for (const k of ["format", "manifestHash"]) out.delete((receipt as Record<string, string>)[k] as string);
  out.delete("account");
  return [...out];
}
