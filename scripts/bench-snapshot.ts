/**
 * The synthetic epochs the benchmarks prove (scripts/bench.ts, scripts/bench-audit.ts): healthy
 * segments of one lot and one liability per position, assets rotating through the first slots.
 */
import { parseSnapshot, type Snapshot } from "../src/snapshot/snapshot.js";
import type { Profile } from "../src/spec/profiles.js";

export const ASSETS = [
  { symbol: "ETH", decimals: 18, price: "3012.55", cf: 8500 },
  { symbol: "USDC", decimals: 6, price: "1", cf: 10000 },
  { symbol: "WBTC", decimals: 8, price: "67250.5", cf: 7500 },
  { symbol: "DAI", decimals: 18, price: "0.9987", cf: 9000 },
];

/**
 * A synthetic, healthy epoch: `segments` segments with `perSegment` lots and `perSegment`
 * liabilities each (so one position = one lot + one liability), lot ids interleaved across
 * segments, assets rotating through the first min(4, A) slots.
 */
export function syntheticSnapshot(
  profile: Profile,
  epoch: number,
  segments: number,
  perSegment: number,
): Snapshot {
  return parseSnapshot(
    syntheticPositions(profile, epoch, segments, perSegment),
    { profile },
    `synthetic epoch ${epoch}`,
  );
}

/** The raw positions file (snapshot JSON) of `syntheticSnapshot`. */
export function syntheticPositions(
  profile: Profile,
  epoch: number,
  segments: number,
  perSegment: number,
): Record<string, unknown> {
  const assets = ASSETS.slice(0, Math.min(ASSETS.length, profile.assetsPerSegment));
  const raw = {
    epoch,
    assets: assets.map((a) => ({ symbol: a.symbol, decimals: a.decimals })),
    segments: Array.from({ length: segments }, (_, s) => ({
      id: s + 1,
      name: `bench segment ${s + 1}`,
      marginBps: 1000,
      prices: Object.fromEntries(assets.map((a) => [a.symbol, a.price])),
      collateralFactorBps: Object.fromEntries(assets.map((a) => [a.symbol, a.cf])),
    })),
    collateral: [] as { lotId: string; segment: number; asset: string; amount: string }[],
    liabilities: [] as { account: string; segment: number; asset: string; amount: string }[],
  };
  for (let s = 0; s < segments; s++) {
    for (let i = 0; i < perSegment; i++) {
      const a = assets[(s + i) % assets.length] as (typeof assets)[number];
      raw.collateral.push({
        lotId: `0x${(0xb0000000 + i * segments + s + 1).toString(16)}`,
        segment: s + 1,
        asset: a.symbol,
        amount: `${10 + ((i * 7 + s) % 90)}`,
      });
      raw.liabilities.push({
        account: `bench-account-${s}-${i}`,
        segment: s + 1,
        asset: a.symbol,
        amount: "1",
      });
    }
  }
  return raw;
}
