/** Small hand-made epochs for circuit tests, built with the one input builder (src/inputs.ts). */

import {
  chainListBatches,
  chainSegmentBatches,
  splitListBatches,
  splitSegmentBatches,
} from "../../src/epoch/chain.js";
import type { ListBatchResult, SegmentBatchResult } from "../../src/epoch/inputs.js";
import {
  FIELD_P,
  type LiabilityFields,
  type LotFields,
  mod,
  type SlotParams,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";

export const TEST = getProfile("test");
export const EPOCH = 7n;
/** any fixed challenge works for circuit-level tests; the manifest derivation is tested elsewhere */
export const R = 0x1234567890abcdef1234567890abcdef1234567890abcdefn % FIELD_P;

export const SLOTS: SlotParams[] = [
  { price: 301255000000n, cfBps: 8500n }, // ETH-like
  { price: 100000000n * 10n ** 12n, cfBps: 10000n }, // USDC-like (6 decimals vs 18)
  { price: 6500000000000n * 10n ** 10n, cfBps: 7000n }, // BTC-like (8 decimals)
];
export const MARGIN = 1000n;

let saltCounter = 1000n;
const salt = (): bigint => (saltCounter++ * 0x9e3779b97f4a7c15n) % FIELD_P;

export function lot(lotId: bigint, segmentId: bigint, slot: bigint, amount: bigint): LotFields {
  return { lotId, segmentId, slot, amount, salt: salt() };
}
export function liability(account: bigint, segmentId: bigint, slot: bigint, amount: bigint): LiabilityFields {
  return { accountId: account, segmentId, slot, amount, salt: salt() };
}

export interface SegmentChainOptions {
  segmentId: bigint;
  lots: LotFields[];
  liabilities: LiabilityFields[];
  slots?: SlotParams[];
  marginBps?: bigint;
  r?: bigint;
}

/** Split a segment into test-profile batches and build every batch's input, chained. */
export function segmentChain(o: SegmentChainOptions): SegmentBatchResult[] {
  return chainSegmentBatches({
    profile: TEST,
    epoch: EPOCH,
    segmentId: o.segmentId,
    marginBps: o.marginBps ?? MARGIN,
    slots: o.slots ?? SLOTS,
    r: o.r ?? R,
    batches: splitSegmentBatches(o.lots, o.liabilities, TEST),
    nextSalt: () => salt(),
  });
}

/** The global lot list over `lots` (already sorted), in test-profile batches. */
export function listChain(lots: LotFields[], r = R): ListBatchResult[] {
  return chainListBatches({
    profile: TEST,
    epoch: EPOCH,
    r,
    batches: splitListBatches(lots, TEST),
    nextSalt: () => salt(),
  });
}

export const product = (xs: bigint[]): bigint => xs.reduce((a, x) => mod(a * x), 1n);
