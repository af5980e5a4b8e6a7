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
  manifestHash,
  packSegmentParams,
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

  it("collateral / liabilities may name CSV files next to the snapshot; errors keep row paths", async () => {
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
      assert.deepEqual(err.problems, ["collateral[2].amount: negative"]);
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
      const params = packSegmentParams(
        seg.segment.slots.map((x) => ({ price: x.circuitPrice, cfBps: x.cfBps })),
        TEST.assetsPerSegment,
      );
      seg.batches.forEach((res, i) => {
        assert.deepEqual(res.params, params);
        assert.equal(res.publicSignals[4], String(a.r));
        assert.equal(res.prevState, i === 0 ? 0n : seg.batches[i - 1]?.nextState);
      });
    }
    // the example's solvency: segments 1, 2 and the empty 4 healthy, 3 insolvent
    assert.deepEqual(
      a.segments.map((x) => x.healthy),
      [true, true, false, true],
    );
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
});
