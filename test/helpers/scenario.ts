/** Small hand-made epochs for circuit tests, built with the one input builder (src/inputs.ts). */

import {
  buildListBatch,
  buildSegmentBatch,
  type ListBatchResult,
  type SegmentBatchResult,
} from "../../src/epoch/inputs.js";
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
  const { lotsPerBatch: N, liabsPerBatch: M } = TEST;
  const n = Math.max(1, Math.ceil(o.lots.length / N), Math.ceil(o.liabilities.length / M));
  const out: SegmentBatchResult[] = [];
  for (let b = 0; b < n; b++) {
    const prev = out[b - 1];
    out.push(
      buildSegmentBatch({
        profile: TEST,
        epoch: EPOCH,
        segmentId: o.segmentId,
        marginBps: o.marginBps ?? MARGIN,
        slots: o.slots ?? SLOTS,
        isFirst: b === 0,
        isLast: b === n - 1,
        r: o.r ?? R,
        prev: prev ? prev.next : null,
        nextSalt: salt(),
        lots: o.lots.slice(b * N, (b + 1) * N),
        liabilities: o.liabilities.slice(b * M, (b + 1) * M),
      }),
    );
  }
  return out;
}

/** The global lot list over `lots` (already sorted), in test-profile batches. */
export function listChain(lots: LotFields[], r = R): ListBatchResult[] {
  const G = TEST.lotsPerGlobalBatch;
  const n = Math.max(1, Math.ceil(lots.length / G));
  const out: ListBatchResult[] = [];
  for (let b = 0; b < n; b++) {
    const prev = out[b - 1];
    out.push(
      buildListBatch({
        profile: TEST,
        epoch: EPOCH,
        isFirst: b === 0,
        isLast: b === n - 1,
        r,
        prev: prev ? prev.next : null,
        nextSalt: salt(),
        lots: lots.slice(b * G, (b + 1) * G),
      }),
    );
  }
  return out;
}

export const product = (xs: bigint[]): bigint => xs.reduce((a, x) => mod(a * x), 1n);
