/**
 * Audit against the chain (src/chain/compare.ts): every field a publisher could change between
 * what the registry committed and the bundle it hands out is reported by name. The registry side
 * here is the EpochView the chain client decodes (test/chain covers reading it from anvil).
 */
import assert from "node:assert/strict";
import { compareEpoch } from "../../src/chain/compare.js";
import type { EpochView } from "../../src/chain/registry.js";
import {
  encodeResult,
  type Manifest,
  NO_TOKEN,
  packListCaps,
  packSegmentSlots,
  packStress,
  UNBOUNDED_CAP,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";

const P = getProfile("test");
const ETH = { symbol: "ETH", decimals: 18, token: NO_TOKEN };
const USDC = { symbol: "USDC", decimals: 6, token: "0x00000000000000000000000000000000000000aa" };

function manifest(): Manifest {
  const slots = packSegmentSlots(
    [
      { price: 300000000000n, cfBps: 8000n, asset: 0n, cap: 10n ** 20n, pooled: true },
      { price: 100000000n * 10n ** 12n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP, pooled: true },
    ],
    P.assetsPerSegment,
  );
  const stress = packStress(
    [
      [7000n, 9500n, 10000n, 10000n],
      [5000n, 10000n, 10000n, 10000n],
    ],
    P.stressScenarios,
    P.assetsPerSegment,
  );
  return {
    epoch: 9n,
    globalAssets: [ETH, USDC],
    poolCaps: packListCaps([UNBOUNDED_CAP, 5n * 10n ** 12n, 0n, 0n], P.globalAssets),
    segments: [{ id: 3n, marginBps: 1000n, slots, stress, batchRoots: [11n, 12n], assets: [ETH, USDC] }],
    globalCommitments: [21n],
  };
}

const RESULT = encodeResult({ healthy: true, stress: [true, false], band: 2 }, P.stressScenarios);

function viewOf(m: Manifest): EpochView {
  return {
    epoch: m.epoch,
    manifestHash: "0xabc",
    r: 1n,
    committedAt: 1,
    commitBlock: 1,
    finalizedAt: 2,
    finalized: true,
    listAccepted: 1,
    globalCommitments: [...m.globalCommitments],
    poolCaps: [...m.poolCaps],
    globalAssets: m.globalAssets.map((a) => ({ ...a })),
    segments: m.segments.map((s) => ({
      id: Number(s.id),
      marginBps: Number(s.marginBps),
      accepted: s.batchRoots.length,
      batchCount: s.batchRoots.length,
      complete: true,
      healthy: true,
      stressBits: 0b01,
      band: 2,
      slots: [...s.slots],
      stress: [...s.stress],
      batchRoots: [...s.batchRoots],
      assets: s.assets.map((a) => ({ ...a })),
    })),
  };
}

const results = new Map([[3n, RESULT]]);
const fields = (m: Manifest, v: EpochView | undefined, r = results) =>
  compareEpoch(m, "0xabc", r, v, P).differences.map((d) => d.field);

describe("audit against the chain (compare.ts)", () => {
  it("an identical, finalized epoch matches", () => {
    const m = manifest();
    const c = compareEpoch(m, "0xabc", results, viewOf(m), P);
    assert.deepEqual(c.differences, []);
    assert.ok(c.ok && c.finalized);
  });

  it("names each changed field: price, cap, stress factor, asset token, batch root, pooled cap", () => {
    const m = manifest();
    const v = viewOf(m);
    const seg = v.segments[0];
    assert.ok(seg);
    seg.slots = packSegmentSlots(
      [
        { price: 310000000000n, cfBps: 8000n, asset: 0n, cap: 10n ** 20n + 1n, pooled: true },
        { price: 100000000n * 10n ** 12n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP, pooled: true },
      ],
      P.assetsPerSegment,
    );
    seg.stress = packStress(
      [
        [7000n, 9500n, 10000n, 10000n],
        [6000n, 10000n, 10000n, 10000n],
      ],
      P.stressScenarios,
      P.assetsPerSegment,
    );
    seg.assets = [ETH, { ...USDC, token: NO_TOKEN }];
    seg.batchRoots = [11n, 13n];
    v.poolCaps = packListCaps([UNBOUNDED_CAP, 6n * 10n ** 12n, 0n, 0n], P.globalAssets);
    assert.deepEqual(fields(m, v).sort(), [
      "poolCaps[1]",
      "segments[id=3].assets[1].token",
      "segments[id=3].batchRoots[1]",
      "segments[id=3].slots[0].cap",
      "segments[id=3].slots[0].price",
      "segments[id=3].stress[scenario 2][slot 0]",
    ]);
  });

  it("names a result the bundle states differently: health, a stress bit, the band", () => {
    const m = manifest();
    const v = viewOf(m);
    const other = encodeResult({ healthy: true, stress: [true, true], band: 3 }, P.stressScenarios);
    assert.deepEqual(fields(m, v, new Map([[3n, other]])).sort(), [
      "segments[id=3].result.band",
      "segments[id=3].result.stress[2]",
    ]);
  });

  it("a segment missing on either side, another manifest hash, an unfinalized or absent epoch", () => {
    const m = manifest();
    const v = viewOf(m);
    const extra = { ...(v.segments[0] as EpochView["segments"][number]), id: 4 };
    v.segments.push(extra);
    v.finalized = false;
    assert.deepEqual(fields(m, v).sort(), ["finalized", "segments.length", "segments[id=4]"]);
    assert.deepEqual(compareEpoch(m, "0xdef", results, viewOf(m), P).differences[0]?.field, "manifestHash");
    const none = compareEpoch(m, "0xabc", results, undefined, P);
    assert.ok(!none.ok && !none.committed);
  });
});
