/**
 * The registry derives every public input of a batch from its own state, at the positions the
 * circuits give them (circuits/circuits.json, the one source for the signal order). Those
 * positions are constants in contracts/SolvencyRegistry.sol (`_segmentBase`, `_listBase`,
 * SEGMENT_LAYOUT, LIST_LAYOUT); this test reads them from the source and fails when any differs
 * from circuits.json or from the meta-word packing of src/spec/encoding.ts; likewise the bit
 * offsets and masks `_checkSlots` decodes a slot word with, against encoding.ts's slot packing.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { CIRCUIT_DEFS } from "../../src/spec/circuits.js";
import {
  ASSET_BITS,
  CAP_BITS,
  CF_BITS,
  LIST_META_EPOCH_SHIFT,
  META_EPOCH_SHIFT,
  META_MARGIN_SHIFT,
  PRICE_BITS,
  packListMeta,
  packSegmentMeta,
  packSlot,
  SLOT_ASSET_SHIFT,
  SLOT_CAP_SHIFT,
  SLOT_CF_SHIFT,
  SLOT_POOLED_SHIFT,
  SLOT_WORD_BITS,
  UNBOUNDED_CAP,
  unpackSlot,
} from "../../src/spec/encoding.js";
import { CONTRACTS_DIR } from "../../src/util/paths.js";

const SOURCE = readFileSync(path.join(CONTRACTS_DIR, "SolvencyRegistry.sol"), "utf8");
const GOVERNANCE = readFileSync(path.join(CONTRACTS_DIR, "SegmentGovernance.sol"), "utf8");
const LAYOUT = readFileSync(path.join(CONTRACTS_DIR, "WordLayout.sol"), "utf8");

/** The body of `function name(...)` up to its closing brace at the function's indentation. */
function functionBody(name: string): string {
  const at = SOURCE.indexOf(`function ${name}(`);
  assert.ok(at >= 0, `SolvencyRegistry.sol has no function ${name}`);
  const end = SOURCE.indexOf("\n    }\n", at);
  return SOURCE.slice(at, end);
}

/** The five 8-bit fields of a layout constant `a | (b << 8) | (c << 16) | (d << 24) | (e << 32)`. */
function layout(name: string): number[] {
  const m = new RegExp(
    `${name} = (\\d+) \\| \\((\\d+) << 8\\) \\| \\((\\d+) << 16\\) \\| \\((\\d+) << 24\\) \\| \\((\\d+) << 32\\);`,
  ).exec(SOURCE);
  assert.ok(m, `SolvencyRegistry.sol: ${name} is not of the form a | (b << 8) | ... | (e << 32)`);
  return m.slice(1).map(Number);
}

/** The index of a signal in a circuit's public signals (the first word of an array). */
const at = (circuit: "segment" | "lotlist", signal: string): number => {
  const i = CIRCUIT_DEFS[circuit].publicSignals.indexOf(signal);
  assert.ok(i >= 0, `${circuit} has no public signal ${signal}`);
  return i;
};

/** The bit a meta word sets for one flag. */
const bitOf = (word: bigint): number => word.toString(2).length - 1;

/**
 * A layout constant against the circuit: prevState's and meta's words, the outputs between the
 * root and r (kept on the last batch only), and the meta word's first/last flag bits.
 */
function checkLayout(
  name: string,
  circuit: "segment" | "lotlist",
  root: string,
  meta: (flags: { isFirst?: boolean; isLast?: boolean }) => bigint,
): void {
  const [prev, metaWord, kept, first, last] = layout(name);
  assert.equal(prev, at(circuit, "prevState"));
  assert.equal(metaWord, at(circuit, "meta"));
  assert.equal(kept, at(circuit, "r") - at(circuit, root) - 1);
  assert.equal(first, bitOf(meta({ isFirst: true })));
  assert.equal(last, bitOf(meta({ isLast: true })));
}

describe("registry public-signal positions match circuits/circuits.json", () => {
  it("segment: r, meta, slots then stress in _segmentBase; prevState, meta, outputs, flags in SEGMENT_LAYOUT", () => {
    const body = functionBody("_segmentBase");
    const slots = at("segment", "slots");
    assert.equal(at("segment", "stress"), slots + 1, "stress follows slots");
    assert.equal(at("segment", "slots"), CIRCUIT_DEFS.segment.publicSignals.length - 2);
    assert.match(body, new RegExp(`pub\\[${at("segment", "r")}\\] = r;`));
    assert.match(
      body,
      new RegExp(
        `pub\\[${at("segment", "meta")}\\] = uint256\\(s\\.id\\) \\| \\(uint256\\(s\\.marginBps\\) << META_MARGIN_SHIFT\\) \\| \\(uint256\\(epoch\\) << META_EPOCH_SHIFT\\);`,
      ),
    );
    assert.match(body, new RegExp(`new uint256\\[\\]\\(${slots} \\+ a \\+ stress\\.length\\)`));
    assert.match(body, new RegExp(`pub\\[${slots} \\+ k\\] = slots\\[k\\];`));
    assert.match(body, new RegExp(`pub\\[${slots} \\+ a \\+ w\\] = stress\\[w\\];`));
    // the meta word's fields as encoding.ts packs them
    const meta = (o: Partial<Parameters<typeof packSegmentMeta>[0]>) =>
      packSegmentMeta({ segmentId: 0n, marginBps: 0n, isFirst: false, isLast: false, epoch: 0n, ...o });
    assert.equal(meta({ marginBps: 1n }), 1n << 32n);
    assert.equal(meta({ epoch: 1n }), 1n << 50n);
    checkLayout("SEGMENT_LAYOUT", "segment", "batchRoot", meta);
  });

  it("lot list: r, meta, caps in _listBase; prevState, meta, outputs, flags in LIST_LAYOUT", () => {
    const body = functionBody("_listBase");
    const caps = at("lotlist", "caps");
    assert.equal(caps, CIRCUIT_DEFS.lotlist.publicSignals.length - 1);
    assert.match(body, new RegExp(`base\\[${at("lotlist", "r")}\\] = _r\\(epoch\\);`));
    assert.match(
      body,
      new RegExp(`base\\[${at("lotlist", "meta")}\\] = uint256\\(epoch\\) << LIST_META_EPOCH_SHIFT;`),
    );
    assert.match(body, new RegExp(`new uint256\\[\\]\\(${caps} \\+ poolCaps\\.length\\)`));
    assert.match(body, new RegExp(`base\\[${caps} \\+ q\\] = poolCaps\\[q\\];`));
    const meta = (o: Partial<Parameters<typeof packListMeta>[0]>) =>
      packListMeta({ isFirst: false, isLast: false, epoch: 0n, ...o });
    assert.equal(meta({ epoch: 1n }), 1n << 2n);
    checkLayout("LIST_LAYOUT", "lotlist", "commitment", meta);
  });
});

/** The value of WordLayout.sol's `uint256 constant name = <decimal | hex | (uint256(1) << n) - 1>;`. */
function constantOf(name: string): bigint {
  const m = new RegExp(`^uint256 constant ${name} = ([^;]+);`, "m").exec(LAYOUT);
  assert.ok(m?.[1], `WordLayout.sol has no uint256 constant ${name}`);
  const mask = /^\(uint256\(1\) << (\d+)\) - 1$/.exec(m[1])?.[1];
  return mask ? (1n << BigInt(mask)) - 1n : BigInt(m[1]);
}

const bits = (n: number): bigint => (1n << BigInt(n)) - 1n;

describe("registry slot-word decoding matches src/spec/encoding.ts", () => {
  it("_checkSlots' shifts and masks are encoding.ts's slot fields", () => {
    assert.equal(constantOf("MASK96"), bits(PRICE_BITS));
    assert.equal(constantOf("SLOT_CF_SHIFT"), BigInt(SLOT_CF_SHIFT));
    assert.equal(constantOf("SLOT_CF_MASK"), bits(CF_BITS));
    assert.equal(constantOf("SLOT_ASSET_SHIFT"), BigInt(SLOT_ASSET_SHIFT));
    assert.equal(constantOf("SLOT_ASSET_MASK"), bits(ASSET_BITS));
    assert.equal(constantOf("SLOT_WORD_BITS"), BigInt(SLOT_WORD_BITS));
  });

  it("encoding.ts's offsets are the fields packSlot writes: a full word has SLOT_WORD_BITS bits", () => {
    const full = {
      price: bits(PRICE_BITS),
      cfBps: 10000n,
      asset: bits(ASSET_BITS),
      cap: UNBOUNDED_CAP,
      pooled: true,
    };
    assert.equal(packSlot(full).toString(2).length, SLOT_WORD_BITS);
    const one = { price: 1n, cfBps: 1n, asset: 1n, cap: 0n, pooled: false };
    assert.equal(packSlot(one), 1n + (1n << BigInt(SLOT_CF_SHIFT)) + (1n << BigInt(SLOT_ASSET_SHIFT)));
    assert.equal(packSlot({ ...one, pooled: true }) - packSlot(one), 1n << BigInt(SLOT_POOLED_SHIFT));
    assert.deepEqual(unpackSlot(packSlot(full)), full);
  });

  it("the meta words and pooled-caps words use encoding.ts's offsets, through named constants", () => {
    assert.equal(constantOf("META_MARGIN_SHIFT"), BigInt(META_MARGIN_SHIFT));
    assert.equal(constantOf("META_EPOCH_SHIFT"), BigInt(META_EPOCH_SHIFT));
    assert.equal(constantOf("LIST_META_EPOCH_SHIFT"), BigInt(LIST_META_EPOCH_SHIFT));
    assert.equal(constantOf("CAP_BITS"), BigInt(CAP_BITS));
    assert.equal(constantOf("POOL_CAPS_WORD_BITS"), 2n * BigInt(CAP_BITS));
    for (const fn of ["_segmentBase", "_listBase", "_checkPoolCaps"]) {
      const body = functionBody(fn).replace(/\/\/.*$/gm, "");
      assert.doesNotMatch(body, /(<<|>>) \(?\d/, `${fn}: a literal shift`);
    }
  });

  it("_checkSlots reads the asset index and cf through the named constants, not literals", () => {
    const body = functionBody("_checkSlots").replace(/\/\/.*$/gm, "");
    assert.match(body, /SLOT_ASSET_MASK & \(w >> SLOT_ASSET_SHIFT\)/);
    assert.match(body, /SLOT_CF_MASK & \(w >> SLOT_CF_SHIFT\)/);
    assert.match(body, /w >> SLOT_WORD_BITS != 0/);
    assert.doesNotMatch(body, /w >> \d|& 0x/, "a literal offset or mask");
  });
});

describe("governance slot-word decoding matches src/spec/encoding.ts", () => {
  it("both contracts take the word layout from WordLayout.sol, with no copy of their own", () => {
    for (const [name, src] of [
      ["SolvencyRegistry.sol", SOURCE],
      ["SegmentGovernance.sol", GOVERNANCE],
    ] as const) {
      assert.match(src, /\} from "\.\/WordLayout\.sol";/, `${name} imports WordLayout.sol`);
      assert.doesNotMatch(
        src,
        /constant (MASK\d+|SLOT_\w+|META_\w+|CAP_BITS|FACTOR\w*) =/,
        `${name}: its own copy`,
      );
    }
  });

  it("checkEpoch's shifts and masks (asset, cf, cap, pooled bit) are encoding.ts's slot fields", () => {
    assert.equal(constantOf("SLOT_CAP_SHIFT"), BigInt(SLOT_CAP_SHIFT));
    assert.equal(constantOf("SLOT_POOLED_SHIFT"), BigInt(SLOT_POOLED_SHIFT));
    assert.equal(SLOT_WORD_BITS, SLOT_POOLED_SHIFT + 1, "the pooled bit is the word's top bit");
    const body = GOVERNANCE.replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(
      body,
      /(w(\[k\])?|poolCaps\[g \/ 2\]) >> \(?\d/,
      "a literal slot-word or pooled-caps offset",
    );
  });
});
