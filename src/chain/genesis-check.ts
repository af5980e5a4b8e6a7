/**
 * A governed registry's genesis configuration checked against the target chain before the first
 * transaction of `deploy --governance`: every token and feed has code, every feed answers
 * `decimals()` and a positive `latestRoundData()`, and every token's `decimals()` is the configured
 * one. Every problem is named by its JSON path in the configuration; none means nothing was sent.
 */
import { Contract, type InterfaceAbi, type Provider } from "ethers";
import { AGGREGATOR_V3_ABI } from "./governance.js";

/** What the check reads of a genesis configuration (governed.ts's GovernanceConfig has it). */
interface GenesisAssets {
  assets: readonly GenesisAsset[];
}
interface GenesisAsset {
  token: string;
  feed: string;
  decimals: number;
}

const ERC20_DECIMALS_ABI = ["function decimals() view returns (uint8)"] as const;

async function hasCode(provider: Provider, address: string): Promise<boolean> {
  return (await provider.getCode(address)) !== "0x";
}

/** A view call's result, or the reason it failed in a few words. */
async function call<T>(f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; why: string }> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    const e = err as { shortMessage?: string; message: string };
    return { ok: false, why: e.shortMessage ?? e.message.split("\n")[0] ?? "failed" };
  }
}

async function tokenProblems(provider: Provider, a: GenesisAsset, at: string): Promise<string[]> {
  if (!(await hasCode(provider, a.token))) return [`${at}.token: no contract at ${a.token} on this chain`];
  const t = new Contract(a.token, ERC20_DECIMALS_ABI as unknown as InterfaceAbi, provider);
  const d = await call(() => t.getFunction("decimals")() as Promise<bigint>);
  if (!d.ok) return [`${at}.token: ${a.token} does not answer decimals() (${d.why})`];
  return Number(d.value) === a.decimals
    ? []
    : [`${at}.decimals: ${a.decimals}, but the token at ${a.token} has ${d.value} decimals`];
}

async function feedProblems(provider: Provider, a: GenesisAsset, at: string): Promise<string[]> {
  if (!(await hasCode(provider, a.feed))) return [`${at}.feed: no contract at ${a.feed} on this chain`];
  const f = new Contract(a.feed, AGGREGATOR_V3_ABI as unknown as InterfaceAbi, provider);
  const d = await call(() => f.getFunction("decimals")() as Promise<bigint>);
  if (!d.ok) return [`${at}.feed: ${a.feed} does not answer decimals() (${d.why}): not a price feed`];
  const r = await call(() => f.getFunction("latestRoundData")() as Promise<bigint[]>);
  if (!r.ok) return [`${at}.feed: ${a.feed} does not answer latestRoundData() (${r.why})`];
  const answer = r.value[1] as bigint;
  return answer > 0n ? [] : [`${at}.feed: ${a.feed} answers ${answer}, not a positive price`];
}

/** Every problem of the configuration on this chain (empty: the deployment may start). */
export async function genesisProblems(provider: Provider, c: GenesisAssets): Promise<string[]> {
  const out: string[] = [];
  for (const [i, a] of c.assets.entries()) {
    out.push(...(await tokenProblems(provider, a, `assets[${i}]`)));
    out.push(...(await feedProblems(provider, a, `assets[${i}]`)));
  }
  return out;
}

/** Throws one error listing every problem, before anything is sent. */
export async function checkGenesisOnChain(
  provider: Provider,
  c: GenesisAssets,
  source: string,
): Promise<void> {
  const problems = await genesisProblems(provider, c);
  if (problems.length > 0)
    throw new Error(
      `${source} does not match this chain (nothing was sent): ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
}
