/** Circuits v2 encodings of src/spec/encoding.ts that need no circuit: packing, results, signal layout. */
import assert from "node:assert/strict";
import {
  COVERAGE_BANDS,
  decodeResult,
  decodeSegmentSignals,
  encodeResult,
  encodeSegmentSignals,
  FIELD_P,
  initPoseidon,
  listSignalCount,
  lotLeaf,
  packLeafValue,
  packListCaps,
  packSegmentSlots,
  packStress,
  poseidon,
  segmentOutcome,
  segmentSignal,
  segmentSignalCount,
  sideCommitment,
  sponge,
  UNBOUNDED_CAP,
  unpackListCaps,
  unpackSegmentSlots,
  unpackStress,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";

const TEST = getProfile("test");
const DEFAULT = getProfile("default");

describe("encoding v2", () => {
  before(initPoseidon);

  it("leaves are H3(id, amount + 2^96 slot + 2^100 segmentId, salt); fields out of range throw", () => {
    assert.equal(packLeafValue(5n, 3n, 7n), 5n + (3n << 96n) + (7n << 100n));
    assert.equal(
      lotLeaf({ lotId: 9n, segmentId: 7n, slot: 3n, amount: 5n, salt: 11n }),
      poseidon([9n, packLeafValue(5n, 3n, 7n), 11n]),
    );
    assert.throws(() => packLeafValue(1n << 96n, 0n, 0n), /leaf amount/);
    assert.throws(() => packLeafValue(0n, 16n, 0n), /leaf slot/);
    assert.throws(() => packLeafValue(0n, 0n, 1n << 32n), /leaf segmentId/);
  });

  it("the sponge chains Poseidon over chunks of 15; a batch side pads with 0", () => {
    const items = Array.from({ length: 17 }, (_, i) => BigInt(i + 1));
    const h1 = poseidon([0n, ...items.slice(0, 15)]);
    assert.equal(sponge(items), poseidon([h1, 16n, 17n]));
    assert.equal(sideCommitment([5n], 4), sponge([5n, 0n, 0n, 0n]));
    assert.throws(() => sideCommitment([1n, 2n, 3n], 2), /3 entries exceed 2/);
  });

  it("slot words: price + 2^96 cf + 2^110 g + 2^114 cap + 2^234 pooled; unused slots are the word 1", () => {
    const words = packSegmentSlots(
      [{ price: 7n, cfBps: 8500n, asset: 3n, cap: UNBOUNDED_CAP, pooled: true }],
      4,
    );
    assert.deepEqual(words.slice(1), [1n, 1n, 1n]);
    assert.equal(words[0], 7n + (8500n << 96n) + (3n << 110n) + (UNBOUNDED_CAP << 114n) + (1n << 234n));
    assert.ok((words[0] as bigint) < FIELD_P);
    assert.deepEqual(unpackSegmentSlots(words)[0], {
      price: 7n,
      cfBps: 8500n,
      asset: 3n,
      cap: UNBOUNDED_CAP,
      pooled: true,
    });
    const own = packSegmentSlots(
      [{ price: 7n, cfBps: 8500n, asset: 3n, cap: UNBOUNDED_CAP, pooled: false }],
      4,
    );
    assert.equal((words[0] as bigint) - (own[0] as bigint), 1n << 234n);
    assert.equal(unpackSegmentSlots(own)[0]?.pooled, false);
    assert.throws(
      () => packSegmentSlots([{ price: 0n, cfBps: 0n, asset: 0n, cap: 0n, pooled: true }], 4),
      /price 0/,
    );
    assert.throws(
      () => packSegmentSlots([{ price: 1n, cfBps: 10001n, asset: 0n, cap: 0n, pooled: true }], 4),
      /10001/,
    );
    assert.throws(
      () => packSegmentSlots([{ price: 1n, cfBps: 0n, asset: 16n, cap: 0n, pooled: true }], 4),
      /asset index/,
    );
    assert.throws(
      () => packSegmentSlots([{ price: 1n, cfBps: 0n, asset: 0n, cap: 1n << 120n, pooled: true }], 4),
      /cap/,
    );
  });

  it("stress words: 16 factors of 15 bits per word, factor (k, j) is number k*A + j; missing = 10000", () => {
    // default: K = 4, A = 8: 32 factors in 2 words
    const f = [[7000n, 5000n], [], [32767n, 0n, 1n]];
    const words = packStress(f, DEFAULT.stressScenarios, DEFAULT.assetsPerSegment);
    assert.equal(words.length, 2);
    const back = unpackStress(words, 4, 8);
    assert.deepEqual(back[0], [7000n, 5000n, ...Array(6).fill(10000n)]);
    assert.deepEqual(back[1], Array(8).fill(10000n));
    assert.deepEqual(back[2], [32767n, 0n, 1n, ...Array(5).fill(10000n)]);
    assert.equal((words[1] as bigint) & 0x7fffn, 32767n, "factor 16 = scenario 2 slot 0 starts word 1");
    // test: K = 2, A = 4: 8 factors in one word, no bits above them
    const t = packStress([[9000n]], TEST.stressScenarios, TEST.assetsPerSegment);
    assert.equal(t.length, 1);
    assert.equal((t[0] as bigint) >> 120n, 0n);
    assert.throws(() => unpackStress([(t[0] as bigint) | (1n << 120n)], 2, 4), /bits above its 8 factors/);
    assert.throws(() => packStress([[], [], []], 2, 4), /3 scenarios exceed the profile's 2/);
    assert.throws(() => packStress([[32768n]], 2, 4), /outside \[0, 32767\]/);
  });

  it("pooled caps: two 120-bit caps per word, odd GA leaves the top half 0; missing = unbounded", () => {
    assert.deepEqual(packListCaps([5n, 7n, 9n], 3), [5n + (7n << 120n), 9n]);
    assert.deepEqual(unpackListCaps(packListCaps([5n], 4), 4), [
      5n,
      UNBOUNDED_CAP,
      UNBOUNDED_CAP,
      UNBOUNDED_CAP,
    ]);
    assert.throws(() => unpackListCaps([9n + (1n << 120n), 9n + (1n << 120n)], 3), /word 1/);
    assert.throws(() => unpackListCaps([1n << 240n, 0n], 4), /word 0/);
    assert.throws(() => packListCaps([1n << 120n], 2), /cap/);
  });

  it("result: healthy + stress bits << 1 + band << (1 + K); malformed words are refused", () => {
    const r = { healthy: true, stress: [false, true], band: 3 };
    const w = encodeResult(r, 2);
    assert.equal(w, 1n + 4n + (3n << 3n));
    assert.deepEqual(decodeResult(w, 2), r);
    assert.throws(() => decodeResult(5n << 3n, 2), /band 5 is not 0..4/);
    assert.throws(() => decodeResult(1n, 2), /health bit 1 disagrees with band 0/);
    assert.throws(() => decodeResult(2n << 3n, 2), /health bit 0 disagrees with band 2/);
    assert.deepEqual(COVERAGE_BANDS, ["<100%", "100-110%", "110-150%", "150-200%", ">=200%"]);
  });

  it("outcome: bands at their floors, stress scales both sides by the factors, req = 0 is band 4", () => {
    const slots = [{ price: 1n, cfBps: 10000n, asset: 0n, cap: UNBOUNDED_CAP, pooled: true }];
    const at = (coll: bigint, req: bigint) => segmentOutcome([coll], [req], slots, 0n, []).band;
    // coverage = coll / req (margin 0, cf 100%)
    assert.deepEqual(
      [at(99n, 100n), at(100n, 100n), at(109n, 100n), at(110n, 100n), at(149n, 100n), at(150n, 100n)],
      [0, 1, 1, 2, 2, 3],
    );
    assert.deepEqual([at(199n, 100n), at(200n, 100n), at(0n, 0n), at(5n, 0n)], [3, 4, 4, 4]);
    // two assets: collateral in slot 0, liabilities in slot 1; shocking slot 0 by -50% breaks it
    const two = [...slots, { price: 1n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP, pooled: true }];
    const o = segmentOutcome([150n, 0n], [0n, 100n], two, 0n, [
      [5000n, 10000n],
      [10000n, 5000n],
    ]);
    assert.deepEqual([o.healthy, o.stress, o.band], [true, [false, true], 3]);
  });

  it("public signals are decoded by name from circuits.json, with array lengths from the profile", () => {
    assert.equal(segmentSignalCount(TEST), 7 + 4 + 1);
    assert.equal(segmentSignalCount(DEFAULT), 7 + 8 + 2);
    assert.equal(listSignalCount(TEST), 6 + 2);
    assert.equal(listSignalCount(DEFAULT), 6 + 4);
    const sig = Array.from({ length: segmentSignalCount(DEFAULT) }, (_, i) => String(i));
    const d = decodeSegmentSignals(sig, DEFAULT);
    assert.equal(d.result, 2n);
    assert.deepEqual(d.slots, [7n, 8n, 9n, 10n, 11n, 12n, 13n, 14n]);
    assert.deepEqual(d.stress, [15n, 16n]);
    assert.deepEqual(encodeSegmentSignals(d, DEFAULT), sig);
    assert.equal(segmentSignal(sig, "meta", DEFAULT), "6");
    assert.throws(() => decodeSegmentSignals(sig.slice(1), DEFAULT), /expected 17 public signals, got 16/);
    assert.throws(() => decodeSegmentSignals([...sig.slice(1), String(FIELD_P)], DEFAULT), /field modulus/);
  });
});
