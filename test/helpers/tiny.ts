/** A tiny valid snapshot (one segment, one lot, one liability): two proofs with the test profile. */
import { writeFileSync } from "node:fs";

export const TINY_SNAPSHOT = {
  epoch: 3,
  assets: [
    { symbol: "ETH", decimals: 18 },
    { symbol: "USDC", decimals: 6 },
  ],
  segments: [
    {
      id: 1,
      name: "tiny",
      marginBps: 1000,
      prices: { ETH: "3000", USDC: "1" },
      collateralFactorBps: { ETH: 8500, USDC: 10000 },
    },
  ],
  collateral: [{ lotId: "0x01", segment: 1, asset: "ETH", amount: "2" }],
  liabilities: [
    { account: "0xabc0000000000000000000000000000000000001", segment: 1, asset: "USDC", amount: "1000" },
  ],
};

export function writeTinySnapshot(file: string): string {
  writeFileSync(file, JSON.stringify(TINY_SNAPSHOT, null, 2));
  return file;
}
