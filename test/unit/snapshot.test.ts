/** Snapshot validation, conversions, planning, salts and manifest: everything before proving. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { batchCount, buildEpoch, planEpoch } from "../../src/epoch/plan.js";
import { deriveSalt, parseSecret, saltLabel } from "../../src/epoch/salts.js";
import {
  circuitPriceOf,
  formatDecimal,
  loadSnapshot,
  parseCsv,
  parseDecimal,
  parseSnapshot,
  type Snapshot,
  SnapshotError,
} from "../../src/snapshot/snapshot.js";
import {
  accountIdOf,
  deriveR,
  initPoseidon,
  type Manifest,
  manifestHash,
  manifestProblems,
  packSegmentSlots,
  packStress,
  UNBOUNDED_CAP,
  unpackListCaps,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { EXAMPLE, REPO, tmpDir } from "../helpers/epoch.js";

const TEST = getProfile("test");

function base(): Record<string, unknown> & {
  segments: Record<string, unknown>[];
  collateral: Record<string, unknown>[];
  liabilities: Record<string, unknown>[];
  assets: Record<string, unknown>[];
} {
  return {
    epoch: 7,
    assets: [
      { symbol: "ETH", decimals: 18 },
      { symbol: "USDC", decimals: 6 },
    ],
    segments: [
      {
        id: 1,
        name: "ETH/USDC",
        marginBps: 1000,
        prices: { ETH: "3012.55", USDC: "1" },
        collateralFactorBps: { ETH: 8500, USDC: 10000 },
      },
      {
        id: 2,
        name: "USDC only",
        marginBps: 500,
        prices: { USDC: "1" },
        collateralFactorBps: { USDC: 9000 },
      },
    ],
    collateral: [
      { lotId: "0x9f3c", segment: 1, asset: "ETH", amount: "12.5" },
      { lotId: "7", segment: 2, asset: "USDC", amount: "100" },
    ],
    liabilities: [{ account: "0xabc", segment: 1, asset: "USDC", amount: "1000.25" }],
  };
}

const parse = (raw: unknown, round = false): Snapshot => parseSnapshot(raw, { profile: TEST, round });

function problemsOf(raw: unknown, round = false): string[] {
  try {
    parse(raw, round);
  } catch (err) {
    assert.ok(err instanceof SnapshotError, String(err));
    return err.problems;
  }
  assert.fail("expected the snapshot to be rejected");
}

function expectProblem(raw: unknown, path: string, pattern: RegExp): void {
  const problems = problemsOf(raw);
  assert.ok(
    problems.some((p) => p.startsWith(`${path}: `) && pattern.test(p)),
    `expected "${path}: ${pattern}" in:\n${problems.join("\n")}`,
  );
}

describe("snapshot: decimal conversion", () => {
  it("converts exactly, without floats", () => {
    assert.deepEqual(parseDecimal("12.5", 18, "exact"), {
      ok: true,
      value: 12500000000000000000n,
      rounded: false,
    });
    assert.deepEqual(parseDecimal("0.1", 1, "exact"), { ok: true, value: 1n, rounded: false });
    assert.deepEqual(parseDecimal("1000.250000", 6, "exact"), {
      ok: true,
      value: 1000250000n,
      rounded: false,
    });
    assert.deepEqual(parseDecimal(42, 2, "exact"), { ok: true, value: 4200n, rounded: false });
    assert.equal(formatDecimal(12500000000000000000n, 18), "12.5");
    assert.equal(formatDecimal(0n, 6), "0");
  });
  it("rejects too precise values unless rounding; collateral rounds down, liabilities up", () => {
    assert.equal(parseDecimal("1.0000001", 6, "exact").ok, false);
    assert.deepEqual(parseDecimal("1.0000001", 6, "down"), { ok: true, value: 1000000n, rounded: true });
    assert.deepEqual(parseDecimal("1.0000001", 6, "up"), { ok: true, value: 1000001n, rounded: true });
    // trailing zeros beyond the precision are not "too precise"
    assert.deepEqual(parseDecimal("1.50000000", 2, "exact"), { ok: true, value: 150n, rounded: false });
  });
  it("rejects negative, non-numeric and float JSON numbers", () => {
    for (const v of ["-1", "1e18", "abc", "", " 1", "1.", ".5", "0x10", true, {}, 1.5, -3]) {
      assert.equal(parseDecimal(v, 6, "exact").ok, false, JSON.stringify(v));
    }
  });
  it("computes circuit prices per SPEC (PRICE_DECIMALS = 8, D = max decimals)", () => {
    // USDC (6 decimals) in an epoch whose largest decimals is 18: 1 * 10^8 * 10^12
    assert.equal(circuitPriceOf(100000000n, 6, 18), 10n ** 20n);
    const s = parse(base());
    const seg1 = s.segments[0];
    assert.equal(seg1?.slots[0]?.circuitPrice, 301255000000n);
    assert.equal(seg1?.slots[1]?.circuitPrice, 10n ** 20n);
  });
});

describe("snapshot: validation", () => {
  it("accepts a valid snapshot and orders slots as the top-level assets", () => {
    const raw = base();
    // prices listed in the other order: slots still follow `assets`
    raw.segments[0] = { ...raw.segments[0], prices: { USDC: "1", ETH: "3012.55" } };
    const s = parse(raw);
    assert.equal(s.epoch, 7n);
    assert.deepEqual(
      s.segments[0]?.slots.map((x) => x.symbol),
      ["ETH", "USDC"],
    );
    assert.deepEqual(
      s.segments[1]?.slots.map((x) => [x.symbol, x.slot]),
      [["USDC", 0]],
    );
    assert.equal(s.lots[0]?.lotId, 0x9f3cn);
    assert.equal(s.lots[1]?.slot, 0);
    assert.equal(s.liabilities[0]?.amount, 1000250000n);
    assert.equal(s.liabilities[0]?.accountId, accountIdOf("0xabc"));
  });

  it("the bundled example is valid and has >= 3 segments, one empty", () => {
    const s = parse(JSON.parse(readFileSync(EXAMPLE, "utf8")));
    assert.ok(s.segments.length >= 3);
    assert.ok(s.notes.some((n) => /empty/.test(n)));
  });

  it("unknown segment / asset, asset not priced in its segment", () => {
    const raw = base();
    raw.collateral.push({ lotId: "0x1", segment: 9, asset: "ETH", amount: "1" });
    raw.collateral.push({ lotId: "0x2", segment: 1, asset: "DOGE", amount: "1" });
    raw.collateral.push({ lotId: "0x3", segment: 2, asset: "ETH", amount: "1" });
    raw.liabilities.push({ account: "a", segment: 2, asset: "ETH", amount: "1" });
    const p = problemsOf(raw);
    assert.ok(p.includes("collateral[2].segment: unknown segment 9"), p.join("\n"));
    assert.ok(p.includes("collateral[3].asset: unknown asset DOGE"), p.join("\n"));
    assert.ok(p.includes("collateral[4].asset: asset ETH is not priced in segment 2"), p.join("\n"));
    assert.ok(p.includes("liabilities[1].asset: asset ETH is not priced in segment 2"), p.join("\n"));
  });

  it("negative, non-numeric, too precise amounts", () => {
    const raw = base();
    raw.collateral.push({ lotId: "0x1", segment: 1, asset: "ETH", amount: "-1" });
    raw.collateral.push({ lotId: "0x2", segment: 1, asset: "ETH", amount: "lots" });
    raw.collateral.push({ lotId: "0x3", segment: 1, asset: "USDC", amount: "1.0000001" });
    raw.liabilities.push({ account: "b", segment: 1, asset: "USDC", amount: 1.5 });
    const p = problemsOf(raw);
    assert.ok(p.includes("collateral[2].amount: negative"), p.join("\n"));
    assert.ok(
      p.some((x) => x.startsWith("collateral[3].amount: not a decimal number")),
      p.join("\n"),
    );
    assert.ok(
      p.some((x) => x.startsWith("collateral[4].amount: too precise")),
      p.join("\n"),
    );
    assert.ok(
      p.some((x) => x.startsWith("liabilities[1].amount: fractional")),
      p.join("\n"),
    );
  });

  it("--round: collateral rounds down, liabilities round up, and says so", () => {
    const raw = base();
    raw.collateral.push({ lotId: "0x1", segment: 1, asset: "USDC", amount: "1.0000009" });
    raw.liabilities.push({ account: "b", segment: 1, asset: "USDC", amount: "1.0000001" });
    const s = parse(raw, true);
    assert.equal(s.lots[2]?.amount, 1000000n);
    assert.equal(s.liabilities[1]?.amount, 1000001n);
    assert.deepEqual(s.rounded, ["collateral[2].amount", "liabilities[1].amount"]);
    assert.ok(s.notes.some((n) => /rounded/.test(n)));
  });

  it("out-of-bound values", () => {
    const raw = base();
    raw.epoch = "18446744073709551616"; // 2^64
    raw.segments.push({
      id: 2 ** 32,
      marginBps: 50001,
      prices: { ETH: "0" },
      collateralFactorBps: { ETH: 10001 },
    });
    raw.segments.push({
      id: 5,
      marginBps: 0,
      prices: { ETH: "0.000000001" },
      collateralFactorBps: { ETH: 1 },
    });
    raw.segments.push({ id: 6, marginBps: 0, prices: { USDC: "1e9" }, collateralFactorBps: { USDC: 1 } });
    raw.segments.push({
      id: 7,
      marginBps: 0,
      prices: { USDC: "1000000000" },
      collateralFactorBps: { USDC: 1 },
    }); // 10^29 > 2^96
    raw.collateral.push({ lotId: "0", segment: 1, asset: "ETH", amount: "1" });
    raw.collateral.push({ lotId: `0x1${"0".repeat(32)}`, segment: 1, asset: "ETH", amount: "1" });
    raw.collateral.push({ lotId: "0x5", segment: 1, asset: "ETH", amount: "79228162514.264337593543950336" }); // 2^96 wei
    const p = problemsOf(raw);
    const has = (path: string, re: RegExp) =>
      assert.ok(
        p.some((x) => x.startsWith(`${path}: `) && re.test(x)),
        `${path} ${re}:\n${p.join("\n")}`,
      );
    has("epoch", /out of bounds/);
    has("segments[2].id", /out of bounds/);
    has("segments[2].marginBps", /out of bounds/);
    has("segments[2].prices.ETH", /positive/);
    has("segments[2].collateralFactorBps.ETH", /out of bounds/);
    has("segments[3].prices.ETH", /too precise/);
    has("segments[4].prices.USDC", /not a decimal/);
    has("segments[5].prices.USDC", /out of bounds/);
    has("collateral[2].lotId", /out of bounds/);
    has("collateral[3].lotId", /out of bounds/);
    has("collateral[4].amount", /out of bounds/);
  });

  it("one bad asset is one problem: its references are not reported as unknown assets", () => {
    const raw = base();
    (raw.assets[1] as { decimals: number }).decimals = 99; // USDC: priced, in a cf, a lot and a liability
    assert.deepEqual(problemsOf(raw), ["assets[1].decimals: must be an integer in [0, 30]"]);
  });

  it("epoch 0 is refused with the registry's rule (epochs start above the last committed, 0)", () => {
    for (const epoch of [0, "0"]) {
      const raw = base();
      raw.epoch = epoch;
      expectProblem(raw, "epoch", /must be at least 1: the registry accepts an epoch only above/);
    }
    const raw = base();
    raw.epoch = 1;
    assert.equal(parse(raw).epoch, 1n);
  });

  it("duplicate lotId names the lot and both segments (also across hex/decimal spellings)", () => {
    const raw = base();
    raw.collateral.push({ lotId: "40764", segment: 2, asset: "USDC", amount: "5" }); // 40764 = 0x9f3c
    const p = problemsOf(raw);
    assert.equal(p.length, 1, p.join("\n"));
    assert.match(p[0] ?? "", /^collateral\[2\]\.lotId: duplicate lot 40764 \(also collateral\[0\]\)/);
    assert.match(p[0] ?? "", /segment 1 and segment 2/);
  });

  it("more priced assets than the profile's slots", () => {
    const raw = base();
    raw.assets = ["A", "B", "C", "D", "E"].map((symbol) => ({ symbol, decimals: 6 }));
    const prices = Object.fromEntries(["A", "B", "C", "D", "E"].map((s) => [s, "1"]));
    const cfs = Object.fromEntries(["A", "B", "C", "D", "E"].map((s) => [s, 5000]));
    raw.segments = [{ id: 1, marginBps: 0, prices, collateralFactorBps: cfs }];
    raw.collateral = [];
    raw.liabilities = [];
    expectProblem(raw, "segments[0].prices", /5 assets exceed the profile's 4 asset slots/);
  });

  it("structure problems: missing fields, unknown fields, duplicates, cf for an unpriced asset", () => {
    const raw = base();
    raw.colateral = [];
    raw.assets.push({ symbol: "ETH", decimals: 18 });
    raw.segments.push({ id: 1, marginBps: 0, prices: {}, collateralFactorBps: {} });
    raw.segments[1] = { ...raw.segments[1], collateralFactorBps: { USDC: 9000, ETH: 5000 } };
    raw.segments[0] = { ...raw.segments[0], collateralFactorBps: { ETH: 8500 } };
    raw.liabilities.push({ segment: 1, asset: "USDC", amount: "1" });
    const p = problemsOf(raw);
    const want = [
      "colateral: unknown field",
      "assets[2].symbol: duplicate asset ETH",
      "segments[2].id: duplicate segment id 1",
      "segments[1].collateralFactorBps.ETH: asset ETH is not priced in this segment",
      "segments[0].collateralFactorBps.USDC: missing",
      "liabilities[1].account: missing",
    ];
    for (const w of want) assert.ok(p.includes(w), `${w}\n---\n${p.join("\n")}`);
  });

  it("collects every problem in one error", () => {
    const raw = base();
    raw.collateral = Array.from({ length: 20 }, (_, i) => ({
      lotId: String(i + 1),
      segment: 1,
      asset: "ETH",
      amount: "-1",
    }));
    const p = problemsOf(raw);
    assert.equal(p.length, 20);
    assert.equal(p[17], "collateral[17].amount: negative");
  });

  it("hex accounts have one spelling: a checksummed and a lower-case address are one account", () => {
    const raw = base();
    const addr = "0x52908400098527886E0F7030069857D2E4169EE7";
    raw.liabilities = [
      { account: addr, segment: 1, asset: "USDC", amount: "10" },
      { account: addr.toLowerCase(), segment: 1, asset: "USDC", amount: "5" },
      { account: "Alice", segment: 1, asset: "USDC", amount: "1" },
    ];
    const s = parse(raw);
    assert.deepEqual(
      s.liabilities.map((l) => l.account),
      [addr.toLowerCase(), addr.toLowerCase(), "Alice"],
    );
    assert.equal(s.liabilities[0]?.accountId, s.liabilities[1]?.accountId);
    assert.equal(accountIdOf(addr), accountIdOf(addr.toLowerCase()));
    // names that are not hex keep their spelling
    assert.notEqual(accountIdOf("Alice"), accountIdOf("alice"));
  });

  it("empty segments are accepted and noted", () => {
    const raw = base();
    raw.segments.push({
      id: 3,
      name: "empty",
      marginBps: 0,
      prices: { USDC: "1" },
      collateralFactorBps: { USDC: 1 },
    });
    const s = parse(raw);
    assert.ok(s.notes.some((n) => n.startsWith("segment 3 (empty) is empty")));
  });
});

describe("snapshot: CSV import", () => {
  it("parses RFC 4180 CSV (quotes, escaped quotes, CRLF)", () => {
    assert.deepEqual(parseCsv('account,segment,asset,amount\r\n"a,""b""",1,USDC,1.5\r\n\r\nc,2,ETH,2\r\n'), [
      { account: 'a,"b"', segment: "1", asset: "USDC", amount: "1.5" },
      { account: "c", segment: "2", asset: "ETH", amount: "2" },
    ]);
    assert.throws(() => parseCsv("a,b\n1\n"), /line 2: 1 fields/);
  });

  it("collateral / liabilities may name CSV files next to the snapshot; errors name the file and line", async () => {
    const dir = tmpDir("csv");
    const raw = base();
    writeFileSync(
      path.join(dir, "lots.csv"),
      "lotId,segment,asset,amount\n0x9f3c,1,ETH,12.5\n7,2,USDC,100\n0x10,2,USDC,-4\n",
    );
    writeFileSync(path.join(dir, "liabs.csv"), "account,segment,asset,amount\n0xabc,1,USDC,1000.25\n");
    writeFileSync(
      path.join(dir, "snap.json"),
      JSON.stringify({ ...raw, collateral: "lots.csv", liabilities: "liabs.csv" }),
    );
    await assert.rejects(loadSnapshot(path.join(dir, "snap.json"), { profile: TEST }), (err: unknown) => {
      assert.ok(err instanceof SnapshotError);
      assert.deepEqual(err.problems, ["lots.csv line 4, amount: negative"]);
      return true;
    });
    // a short row is one problem among the others, not the end of the check
    writeFileSync(
      path.join(dir, "lots.csv"),
      "lotId,segment,asset,amount\n0x9f3c,1,ETH\n7,2,USDC,100\n0x10,2,USDC,-4\n",
    );
    await assert.rejects(loadSnapshot(path.join(dir, "snap.json"), { profile: TEST }), (err: unknown) => {
      assert.ok(err instanceof SnapshotError);
      assert.deepEqual(err.problems, [
        "lots.csv line 2: 3 fields, the header has 4",
        "lots.csv line 2, amount: missing",
        "lots.csv line 4, amount: negative",
      ]);
      return true;
    });
    writeFileSync(
      path.join(dir, "lots.csv"),
      "lotId,segment,asset,amount\n0x9f3c,1,ETH,12.5\n7,2,USDC,100\n",
    );
    const s = await loadSnapshot(path.join(dir, "snap.json"), { profile: TEST });
    assert.equal(s.lots.length, 2);
    assert.equal(s.liabilities[0]?.amount, 1000250000n);
  });
});

describe("snapshot: custody caps, pooled custody, stress scenarios, tokens", () => {
  it("parses caps (rounded down, missing = unbounded), pooled caps, scenarios and tokens", () => {
    const raw = base();
    raw.assets[0] = { ...raw.assets[0], token: "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2" };
    raw.segments[0] = { ...raw.segments[0], custodyCaps: { ETH: "20.0000000000000000019" } };
    raw.custody = { pooled: { USDC: "1000" } };
    raw.stressScenarios = [
      { name: "all -30%", shocksBps: { "*": -3000 } },
      { name: "eth -50%", shocksBps: { ETH: -5000, "*": -500 } },
    ];
    raw.segments[1] = {
      ...raw.segments[1],
      stressScenarios: [{ name: "usdc +1%", shocksBps: { USDC: 100 } }],
    };
    const s = parse(raw);
    assert.equal(s.assets[0]?.token, "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "checksummed");
    assert.equal(s.assets[1]?.token, "0x0000000000000000000000000000000000000000");
    assert.deepEqual(
      s.segments[0]?.slots.map((x) => [x.symbol, x.asset, x.cap]),
      [
        ["ETH", 0, 20n * 10n ** 18n + 1n],
        ["USDC", 1, UNBOUNDED_CAP],
      ],
    );
    assert.deepEqual(s.poolCaps, [UNBOUNDED_CAP, 1000n * 10n ** 6n]);
    assert.equal(s.pooledCustody, true);
    assert.deepEqual(s.segments[0]?.stress, [
      { name: "all -30%", factors: [7000n, 7000n] },
      { name: "eth -50%", factors: [5000n, 9500n] },
    ]);
    assert.deepEqual(s.segments[1]?.stress, [{ name: "usdc +1%", factors: [10100n] }]);
    assert.equal(s.segments[1]?.ownStress, true);
  });

  it("bad caps: not a decimal, unknown or unpriced asset, out of bounds", () => {
    const raw = base();
    raw.segments[0] = { ...raw.segments[0], custodyCaps: { ETH: "-1", USDC: "lots", DOGE: "1" } };
    raw.segments[1] = { ...raw.segments[1], custodyCaps: { ETH: "5", USDC: "1e40" } };
    raw.custody = { pooled: { USDC: (2n ** 120n).toString() }, perSegment: {} };
    const p = problemsOf(raw);
    const want = [
      "segments[0].custodyCaps.ETH: negative",
      'segments[0].custodyCaps.USDC: not a decimal number: "lots"',
      "segments[0].custodyCaps.DOGE: unknown asset DOGE",
      "segments[1].custodyCaps.ETH: asset ETH is not priced in this segment",
      'segments[1].custodyCaps.USDC: not a decimal number: "1e40"',
      "custody.pooled.USDC: out of bounds (must be < 2^120 in the smallest unit)",
      "custody.perSegment: unknown field",
    ];
    for (const w of want) assert.ok(p.includes(w), `${w}\n---\n${p.join("\n")}`);
  });

  it("a cap below the collateral total is a named error, and nothing is proven", () => {
    const raw = base();
    raw.segments[0] = { ...raw.segments[0], custodyCaps: { ETH: "10" } };
    expectProblem(
      raw,
      "segments[0].custodyCaps.ETH",
      /: collateral 12\.5 ETH exceeds the custody cap 10 ETH$/,
    );
    const pooled = base();
    pooled.collateral.push({ lotId: "8", segment: 1, asset: "USDC", amount: "60" });
    pooled.custody = { pooled: { USDC: "150" } }; // 100 in segment 2 + 60 in segment 1
    expectProblem(
      pooled,
      "custody.pooled.USDC",
      /: collateral 160 USDC over the pooled-custody segments exceeds the pooled custody cap 150 USDC$/,
    );
    // a cap equal to the total is fine
    pooled.custody = { pooled: { USDC: "160" } };
    assert.equal(parse(pooled).poolCaps[1], 160n * 10n ** 6n);
  });

  it("bad shocks, too many scenarios, duplicate or missing names", () => {
    const raw = base();
    raw.stressScenarios = [
      { name: "a", shocksBps: { ETH: -10001 } },
      { name: "a", shocksBps: { ETH: 22768, USDC: 1.5, DOGE: 1 } },
      { shocksBps: {} },
    ];
    raw.segments[1] = { ...raw.segments[1], stressScenarios: [{ name: "x", shocksBps: { ETH: -100 } }] };
    const p = problemsOf(raw);
    const want = [
      `stressScenarios: 3 stress scenarios exceed the profile's 2 (profile "test")`,
      "stressScenarios[0].shocksBps.ETH: must be an integer shock in bps in [-10000, 22767] (-10000: price to zero)",
      'stressScenarios[1].name: duplicate scenario name "a"',
      "stressScenarios[1].shocksBps.ETH: must be an integer shock in bps in [-10000, 22767] (-10000: price to zero)",
      "stressScenarios[1].shocksBps.USDC: must be an integer shock in bps in [-10000, 22767] (-10000: price to zero)",
      'stressScenarios[1].shocksBps.DOGE: unknown asset DOGE (an asset symbol or "*")',
      "stressScenarios[2].name: missing",
      "segments[1].stressScenarios[0].shocksBps.ETH: asset ETH is not priced in this segment",
    ];
    for (const w of want) assert.ok(p.includes(w), `${w}\n---\n${p.join("\n")}`);
    const shape = base();
    shape.stressScenarios = { name: "not a list" };
    expectProblem(shape, "stressScenarios", /: not an array$/);
  });

  it("more assets than the profile's global assets; a malformed token", () => {
    const raw = base();
    raw.assets = ["A", "B", "C", "D", "E"].map((symbol) => ({ symbol, decimals: 6 }));
    raw.segments = [{ id: 1, marginBps: 0, prices: { A: "1" }, collateralFactorBps: { A: 5000 } }];
    raw.collateral = [];
    raw.liabilities = [];
    expectProblem(raw, "assets", /: 5 assets exceed the profile's 4 global assets \(profile "test"\)$/);
    const tok = base();
    tok.assets[1] = { ...tok.assets[1], token: "0x1234" };
    expectProblem(tok, "assets[1].token", /: must be an address: 0x and 40 hex digits$/);
    const twin = base();
    twin.assets[0] = { ...twin.assets[0], token: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2" };
    twin.assets[1] = { ...twin.assets[1], token: "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2" };
    expectProblem(twin, "assets[1].token", /is also asset ETH: one token, one asset$/);
  });

  it("the pooled example is valid", () => {
    const s = parse(JSON.parse(readFileSync(path.join(REPO, "examples", "snapshot-pooled.json"), "utf8")));
    assert.equal(s.pooledCustody, true);
    assert.ok(s.poolCaps.every((c) => c < UNBOUNDED_CAP));
  });
});

describe("manifest rules (manifestProblems)", () => {
  before(initPoseidon);

  it("checks slot assets against the table, the unused slot word, stress words and the 2^24 bound", async () => {
    const s = parse(JSON.parse(readFileSync(EXAMPLE, "utf8")));
    const e = await buildEpoch(s, TEST, parseSecret(Buffer.from("33".repeat(32))));
    const m = (edit: (x: Manifest) => void): string[] => {
      const x = structuredClone(e.manifest);
      edit(x);
      return manifestProblems(x, TEST);
    };
    assert.deepEqual(
      m(() => {}),
      [],
    );
    assert.match(
      m((x) => {
        (x.segments[0] as Manifest["segments"][number]).assets[1] = {
          ...(x.globalAssets[3] as Manifest["globalAssets"][number]),
        };
      }).join("\n"),
      /segment 1 slot 1: the slot's global asset 1 is USDC .* but the segment lists DAI/,
    );
    assert.match(
      m((x) => {
        (x.segments[3] as Manifest["segments"][number]).slots[2] = 2n;
      }).join("\n"),
      /segment 4 slot 2: an unused slot must be the word 1/,
    );
    // two slots of one segment naming the same global asset (each would get the full cap)
    assert.match(
      m((x) => {
        const seg = x.segments[0] as Manifest["segments"][number];
        seg.slots[1] = seg.slots[0] as bigint;
        seg.assets[1] = { ...(seg.assets[0] as Manifest["globalAssets"][number]) };
      }).join("\n"),
      /segment 1 slots 0 and 1: the same global asset 0/,
    );
    // one token under two symbols of the table
    assert.match(
      m((x) => {
        (x.globalAssets[3] as Manifest["globalAssets"][number]).token = (
          x.globalAssets[0] as Manifest["globalAssets"][number]
        ).token;
      }).join("\n"),
      /global assets 0 and 3 have the same token/,
    );
    assert.match(
      m((x) => {
        (x.segments[0] as Manifest["segments"][number]).stress[0] = 1n << 240n;
      }).join("\n"),
      /segment 1: stress: word 0 has bits above its 8 factors/,
    );
    // 2^24 / max(N, M) batches per segment, 2^24 / G list batches
    const wide = { ...TEST, lotsPerBatch: 1 << 23, lotsPerGlobalBatch: 1 << 24 };
    const big = structuredClone(e.manifest);
    (big.segments[0] as Manifest["segments"][number]).batchRoots = [1n, 2n, 3n];
    const p = manifestProblems(big, wide).join("\n");
    assert.match(p, /segment 1 has 3 batches; at most 2 \(2\^24 \/ max\(N, M\)\)/);
    assert.match(p, /the lot list has 2 batches; at most 1 \(2\^24 \/ G\)/);
  });

  it("the planner refuses an epoch over the 2^24 bound", () => {
    const raw = base();
    raw.collateral = Array.from({ length: 3 }, (_, i) => ({
      lotId: String(i + 1),
      segment: 1,
      asset: "ETH",
      amount: "1",
    }));
    const wide = { ...TEST, lotsPerBatch: 1, liabsPerBatch: 1 << 23, lotsPerGlobalBatch: 4 };
    // N = 1 lot per batch: 3 batches; 2^24 / max(1, 2^23) = 2
    assert.throws(
      () => planEpoch(parse(raw), wide, parseSecret(Buffer.from("33".repeat(32)))),
      /segment 1: 3 batches exceed the verifier bound of 2 \(2\^24 \/ max\(N, M\)/,
    );
  });
});

describe("epoch planning, salts and manifest", () => {
  before(initPoseidon);

  it("batch counts: max(1, ceil(lots/N), ceil(liabs/M)); list batches of G, at least one", () => {
    assert.equal(batchCount(0, 0, TEST), 1);
    assert.equal(batchCount(4, 4, TEST), 1);
    assert.equal(batchCount(5, 1, TEST), 2);
    assert.equal(batchCount(1, 9, TEST), 3);
    const raw = base();
    raw.collateral = Array.from({ length: 9 }, (_, i) => ({
      lotId: String(100 - i),
      segment: 1,
      asset: "ETH",
      amount: "1",
    }));
    raw.liabilities = [];
    const secret = parseSecret(Buffer.from("33".repeat(32)));
    const plan = planEpoch(parse(raw), TEST, secret);
    assert.deepEqual(
      plan.segments.map((s) => s.batches.length),
      [3, 1],
    );
    // 9 lots of segment 1 and the dummy lot of lot-less segment 2
    assert.deepEqual(
      plan.list.map((b) => b.length),
      [8, 2],
    );
    const ids = plan.list.flat().map((e) => ("lot" in e ? e.lot.lotId : e.dummy.lotId));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => (a < b ? -1 : 1)),
    );
    raw.collateral = [];
    assert.deepEqual(
      planEpoch(parse(raw), TEST, secret).list.map((b) => b.length),
      [2],
      "one dummy lot per lot-less segment",
    );
  });

  it("salts: HMAC-SHA256(secret, label) mod p, deterministic, secret-dependent", () => {
    const s1 = parseSecret(Buffer.from("11".repeat(32)));
    const s2 = parseSecret(Buffer.from("22".repeat(32)));
    const l = saltLabel.lot(7n, 1n, 5n);
    assert.equal(l, "lot:7:1:5");
    assert.equal(deriveSalt(s1, l), deriveSalt(s1, l));
    assert.notEqual(deriveSalt(s1, l), deriveSalt(s2, l));
    assert.throws(() => parseSecret(Buffer.from("abcd")), /at least 16 bytes/);
  });

  it("buildEpoch: manifest/r per SPEC, deterministic in (snapshot, secret), chained states", async () => {
    const s = parse(JSON.parse(readFileSync(EXAMPLE, "utf8")));
    const secret = parseSecret(Buffer.from("33".repeat(32)));
    const a = await buildEpoch(s, TEST, secret);
    const b = await buildEpoch(s, TEST, secret);
    const c = await buildEpoch(s, TEST, parseSecret(Buffer.from("44".repeat(32))));
    assert.equal(a.manifestHash, manifestHash(a.manifest));
    assert.equal(a.r, deriveR(s.epoch, a.manifestHash));
    assert.equal(a.manifestHash, b.manifestHash);
    assert.deepEqual(
      a.jobs.map((j) => j.publicSignals),
      b.jobs.map((j) => j.publicSignals),
    );
    assert.notEqual(a.manifestHash, c.manifestHash);
    for (const seg of a.segments) {
      const slots = packSegmentSlots(
        seg.segment.slots.map((x) => ({
          price: x.circuitPrice,
          cfBps: x.cfBps,
          asset: BigInt(x.asset),
          cap: x.cap,
          pooled: x.pooled,
        })),
        TEST.assetsPerSegment,
      );
      const stress = packStress(
        seg.segment.stress.map((sc) => sc.factors),
        TEST.stressScenarios,
        TEST.assetsPerSegment,
      );
      seg.batches.forEach((res, i) => {
        assert.deepEqual(res.slots, slots);
        assert.deepEqual(res.stress, stress);
        assert.equal(res.publicSignals[4], String(a.r));
        assert.equal(res.prevState, i === 0 ? 0n : seg.batches[i - 1]?.nextState);
      });
    }
    // the example's solvency: segments 1, 2 and the empty 4 healthy, 3 insolvent
    assert.deepEqual(
      a.segments.map((x) => x.healthy),
      [true, true, false, true],
    );
    // the manifest: the asset table (tokens included), unbounded pooled caps, slot words per segment
    assert.deepEqual(
      a.manifest.globalAssets.map((x) => x.symbol),
      ["ETH", "USDC", "WBTC", "DAI"],
    );
    assert.deepEqual(unpackListCaps(a.manifest.poolCaps, TEST.globalAssets), Array(4).fill(UNBOUNDED_CAP));
    assert.deepEqual(manifestProblems(a.manifest, TEST), []);
    // fingerprints: product over segments equals the list's
    const { FIELD_P } = await import("../../src/spec/encoding.js");
    const prod = a.segments.reduce((acc, x) => (acc * (x.batches.at(-1)?.fingerprint ?? 0n)) % FIELD_P, 1n);
    assert.equal(prod, a.list.at(-1)?.fingerprint);
  });
});

describe("CLI: an invalid snapshot", () => {
  it("`bulkhead prove` exits 1, lists every problem with its path, writes nothing", function () {
    this.timeout(60_000);
    const dir = tmpDir("invalid");
    const snap = path.join(dir, "bad.json");
    const raw = base();
    raw.collateral.push({ lotId: "0x9f3c", segment: 2, asset: "USDC", amount: "-3" });
    writeFileSync(snap, JSON.stringify(raw));
    const out = path.join(dir, "out");
    const r = spawnSync(
      process.execPath,
      [
        path.join(REPO, "bin", "bulkhead.mjs"),
        "prove",
        "--snapshot",
        snap,
        "--out",
        out,
        "--profile",
        "test",
      ],
      { encoding: "utf8", cwd: REPO },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /collateral\[2\]\.lotId: duplicate lot 0x9f3c/);
    assert.match(r.stderr, /collateral\[2\]\.amount: negative/);
    assert.equal(existsSync(out), false, "nothing may be written");
  });

  it("`bulkhead check` of an epoch-0 snapshot exits 1 naming the field and the registry's rule", function () {
    this.timeout(60_000);
    const snap = path.join(tmpDir("epoch0"), "epoch0.json");
    writeFileSync(snap, JSON.stringify({ ...base(), epoch: 0 }));
    const r = spawnSync(process.execPath, [path.join(REPO, "bin", "bulkhead.mjs"), "check", "-s", snap], {
      encoding: "utf8",
      cwd: REPO,
    });
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /epoch: must be at least 1/);
  });
});
