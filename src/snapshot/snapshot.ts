/**
 * Snapshot parsing and validation: the private input of one epoch (docs/SPEC.md bounds).
 *
 * The whole snapshot is validated before anything is proven or written. Every problem is
 * collected with its JSON path (`collateral[17].amount: negative`) and reported at once in one
 * `SnapshotError`.
 *
 * Conversions are exact (no floating point):
 *  - amounts are decimal strings in whole tokens, converted to the asset's smallest unit with its
 *    `decimals`. A value with more fractional digits than `decimals` is rejected as too precise,
 *    unless `round` is set; then collateral rounds DOWN and liabilities round UP (conservative:
 *    the rounding can only make a segment look less solvent than it is).
 *  - prices are quote units per whole token, at most PRICE_DECIMALS (8) fractional digits, never
 *    rounded; circuit price = price * 10^8 * 10^(D - d) with D = max decimals of all assets.
 *  - JSON numbers are accepted only where they are exact integers (ids, epoch, bps, decimals and
 *    integral amounts); fractional amounts and prices must be strings.
 *  - custody caps (per segment `custodyCaps`, pooled `custody.pooled`) are decimal tokens rounded
 *    DOWN to the smallest unit (a cap can only get tighter); an asset without a cap is unbounded
 *    (UNBOUNDED_CAP). Collateral over a cap is an error before anything is proven.
 *  - a segment's `custody` is "pooled" (default: its collateral counts against the pooled caps and
 *    its own caps) or "own" (its own custody account: bounded by its own caps alone, not counted
 *    against the pooled caps).
 *  - stress scenarios (`stressScenarios`, top level or per segment) are integer price shocks in
 *    bps per asset symbol or "*" (every asset; a named symbol overrides it): factor = 10000 +
 *    shock in [0, 32767]; at most the profile's K scenarios.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { parse as parseCsvRows } from "csv-parse/sync";
import { getAddress } from "ethers";
import { z } from "zod";
import {
  AMOUNT_BITS,
  accountIdOf,
  CAP_BITS,
  EPOCH_BITS,
  LOT_ID_BITS,
  MAX_CF_BPS,
  MAX_MARGIN_BPS,
  MAX_SHOCK_BPS,
  MIN_SHOCK_BPS,
  NO_TOKEN,
  normalizeAccount,
  PRICE_BITS,
  PRICE_DECIMALS,
  SEGMENT_ID_BITS,
  stressFactor,
  UNBOUNDED_CAP,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import { circuitPriceOf, formatDecimal, parseDecimal, type Rounding } from "../spec/units.js";

/** Largest accepted `decimals` of an asset. */
export const MAX_ASSET_DECIMALS = 30;

export interface Asset {
  symbol: string;
  decimals: number;
  /** token address (checksummed), the zero address when not given */
  token: string;
  /** global asset index g: position in the top-level `assets` array (< the profile's GA) */
  index: number;
}

export interface SegmentSlot {
  slot: number;
  symbol: string;
  decimals: number;
  token: string;
  /** global asset index g of the slot's asset */
  asset: number;
  /** canonical decimal string, quote units per whole token */
  price: string;
  /** price in circuit units (SPEC "Prices in circuit units") */
  circuitPrice: bigint;
  cfBps: bigint;
  /** custody cap of this segment for the asset, base units (UNBOUNDED_CAP: none given) */
  cap: bigint;
  /** the segment's custody is pooled: the slot's collateral counts against the pooled caps */
  pooled: boolean;
}

/** A named stress scenario resolved for one segment: a price factor (bps of the price) per slot. */
export interface SegmentScenario {
  name: string;
  /** factor per slot, 10000 + shock, in [0, 32767] */
  factors: bigint[];
}

/** A stress scenario as written in the snapshot. */
export interface StressScenario {
  name: string;
  /** integer shock in bps per asset symbol or "*" */
  shocksBps: Record<string, number>;
}

export interface Segment {
  id: bigint;
  name: string;
  marginBps: bigint;
  /** admitted assets in the order of the top-level `assets` array, filtered to priced ones */
  slots: SegmentSlot[];
  /** asset symbol -> slot index */
  slotOf: Map<string, number>;
  /** the segment's path in the snapshot (`segments[2]`) */
  path: string;
  /** its stress scenarios (its own list, or else the snapshot's), at most the profile's K */
  stress: SegmentScenario[];
  /** whether the segment gives its own `stressScenarios` */
  ownStress: boolean;
}

export interface Lot {
  /** position in the snapshot's `collateral` array */
  index: number;
  lotId: bigint;
  /** the id as written in the snapshot */
  lotIdText: string;
  segmentId: bigint;
  asset: string;
  slot: number;
  /** smallest unit */
  amount: bigint;
}

export interface Liability {
  /** position in the snapshot's `liabilities` array */
  index: number;
  account: string;
  accountId: bigint;
  segmentId: bigint;
  asset: string;
  slot: number;
  /** smallest unit */
  amount: bigint;
}

export interface Snapshot {
  epoch: bigint;
  assets: Asset[];
  /** D: the largest `decimals` among `assets` */
  maxDecimals: number;
  /** in strictly increasing id order */
  segments: Segment[];
  /** the snapshot's top-level stress scenarios (segments without their own use these) */
  stressScenarios: StressScenario[];
  /** pooled custody cap per global asset (base units; UNBOUNDED_CAP when none given) */
  poolCaps: bigint[];
  /** whether the snapshot gives pooled custody caps (`custody.pooled`) */
  pooledCustody: boolean;
  lots: Lot[];
  liabilities: Liability[];
  /** paths of values that were rounded (only with `round`) */
  rounded: string[];
  /** informational notes (empty segments, ...) */
  notes: string[];
}

export interface ParseOptions {
  profile: Profile;
  /** Round too-precise amounts (collateral down, liabilities up) instead of rejecting them. */
  round?: boolean;
}

export class SnapshotError extends Error {
  readonly problems: string[];
  constructor(problems: string[], source?: string) {
    const head = `invalid snapshot${source ? ` ${source}` : ""}: ${problems.length} problem${problems.length === 1 ? "" : "s"}`;
    super(`${head}\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "SnapshotError";
    this.problems = problems;
  }
}

// decimal helpers: src/spec/units.ts (re-exported here for the snapshot's users)
export {
  circuitPriceOf,
  type DecimalResult,
  formatDecimal,
  parseDecimal,
  type Rounding,
} from "../spec/units.js";

/** Parses an unsigned integer given as a JSON number, decimal string or 0x-hex string. */
function parseUint(
  raw: unknown,
  allowHex: boolean,
): { ok: true; value: bigint } | { ok: false; error: string } {
  if (typeof raw === "number") {
    if (!Number.isFinite(raw)) return { ok: false, error: "not a number" };
    if (raw < 0) return { ok: false, error: "negative" };
    if (!Number.isSafeInteger(raw)) return { ok: false, error: "not an exact integer (use a string)" };
    return { ok: true, value: BigInt(raw) };
  }
  if (typeof raw === "string") {
    if (/^-/.test(raw.trim())) return { ok: false, error: "negative" };
    if (/^\d+$/.test(raw)) return { ok: true, value: BigInt(raw) };
    if (allowHex && /^0[xX][0-9a-fA-F]+$/.test(raw)) return { ok: true, value: BigInt(raw) };
    return {
      ok: false,
      error: `not an integer${allowHex ? " (decimal or 0x-hex)" : ""}: ${JSON.stringify(raw)}`,
    };
  }
  if (raw === undefined || raw === null) return { ok: false, error: "missing" };
  return { ok: false, error: "not an integer" };
}

// ---------------------------------------------------------------- validation

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const ASSET_KEYS = ["symbol", "decimals", "token"];
const SEGMENT_KEYS = [
  "id",
  "name",
  "marginBps",
  "prices",
  "collateralFactorBps",
  "custodyCaps",
  "custody",
  "stressScenarios",
];
const SCENARIO_KEYS = ["name", "shocksBps"];
const LOT_KEYS = ["lotId", "segment", "asset", "amount"];
const LIAB_KEYS = ["account", "segment", "asset", "amount"];

/** An object with exactly these (optional) fields; their values are checked by the steps below. */
const fields = (keys: readonly string[]) =>
  z.strictObject(Object.fromEntries(keys.map((k) => [k, z.unknown().optional()])));

/**
 * The snapshot's shape (zod): containers and known field names. Values (bounds, decimals, exact
 * conversions, cross references) are checked by the hand-written steps below, which need the
 * whole table of assets and segments and report in the same path-precise form.
 */
const ScenarioList = z.array(fields(SCENARIO_KEYS)).optional();
const SnapshotShape = z.strictObject({
  epoch: z.unknown().optional(),
  assets: z.array(fields(ASSET_KEYS)),
  segments: z.array(
    z.strictObject({
      ...Object.fromEntries(SEGMENT_KEYS.map((k) => [k, z.unknown().optional()])),
      custodyCaps: z.record(z.string(), z.unknown()).optional(),
      stressScenarios: ScenarioList,
    }),
  ),
  collateral: z.array(fields(LOT_KEYS)),
  liabilities: z.array(fields(LIAB_KEYS)),
  custody: z.strictObject({ pooled: z.record(z.string(), z.unknown()).optional() }).optional(),
  stressScenarios: ScenarioList,
});

const pathText = (path: readonly PropertyKey[]): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("");

/** Shape problems in the snapshot's own words: `x: unknown field`, `x: missing`, `x: not an array`. */
function shapeProblems(raw: Record<string, unknown>): string[] {
  const res = SnapshotShape.safeParse(raw, { reportInput: true });
  if (res.success) return [];
  const out: string[] = [];
  for (const issue of res.error.issues) {
    const at = pathText(issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const k of issue.keys) out.push(`${at ? `${at}.${k}` : k}: unknown field`);
    } else if (issue.code === "invalid_type" && issue.input === undefined) out.push(`${at}: missing`);
    else if (issue.code === "invalid_type") {
      const kind = issue.expected === "record" ? "object" : issue.expected;
      out.push(`${at}: not ${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`);
    } else out.push(`${at}: ${issue.message}`);
  }
  return out;
}

/** What every validation step shares: the problems found so far, rounded paths, notes. */
interface Ctx {
  opts: ParseOptions;
  problems: string[];
  rounded: string[];
  notes: string[];
  bad(path: string, msg: string): void;
}

interface AssetTable {
  assets: Asset[];
  assetBySymbol: Map<string, Asset>;
  maxDecimals: number;
  /** symbols of declared assets with a problem of their own (reported once, at the asset) */
  invalid: Set<string>;
}

/** Reports `sym` as unknown at `path`, unless it is a declared asset whose problem is reported. */
function badAsset(ctx: Ctx, at: AssetTable, path: string, sym: string, words = `unknown asset ${sym}`): void {
  if (!at.invalid.has(sym)) ctx.bad(path, words);
}

interface SegmentTable {
  /** the valid segments */
  segments: Segment[];
  /** every segment with a valid, unique id (positions resolve against it) */
  segmentById: Map<bigint, Segment>;
}

/** `raw[key]` when it is an array (shape problems are reported by `shapeProblems`), else []. */
function arrayOf(raw: Record<string, unknown>, key: string): unknown[] {
  const v = raw[key];
  return Array.isArray(v) ? v : [];
}

/** Validates a parsed JSON snapshot. Throws one `SnapshotError` listing every problem. */
export function parseSnapshot(raw: unknown, opts: ParseOptions, source?: string): Snapshot {
  const problems: string[] = [];
  const ctx: Ctx = {
    opts,
    problems,
    rounded: [],
    notes: [],
    bad: (path, msg) => problems.push(`${path}: ${msg}`),
  };
  if (!isObject(raw)) throw new SnapshotError(["(root): not a JSON object"], source);
  problems.push(...shapeProblems(raw));
  const epoch = parseEpoch(ctx, raw.epoch);
  const at = parseAssets(ctx, raw);
  const st = parseSegments(ctx, raw, at);
  const stressScenarios = parseScenarios(ctx, raw.stressScenarios, "stressScenarios", at, undefined);
  for (const seg of st.segments) {
    if (!seg.ownStress) seg.stress = resolveScenarios(stressScenarios, seg);
  }
  const pool = parsePoolCaps(ctx, raw, at);
  const lots = parseCollateral(ctx, arrayOf(raw, "collateral"), st, at);
  const liabilities = parseLiabilities(ctx, arrayOf(raw, "liabilities"), st, at);
  const counts = countPositions(st, lots, liabilities);
  if (problems.length === 0) checkCaps(ctx, st, at, pool, lots);
  if (problems.length > 0) throw new SnapshotError(problems, source);
  const segments = [...st.segments].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  addNotes(ctx, segments, counts);
  const { rounded, notes } = ctx;
  return {
    epoch,
    assets: at.assets,
    maxDecimals: at.maxDecimals,
    segments,
    stressScenarios,
    poolCaps: pool.caps,
    pooledCustody: pool.given,
    lots,
    liabilities,
    rounded,
    notes,
  };
}

function parseEpoch(ctx: Ctx, raw: unknown): bigint {
  const r = parseUint(raw, false);
  if (!r.ok) ctx.bad("epoch", r.error);
  else if (r.value >= 1n << BigInt(EPOCH_BITS)) ctx.bad("epoch", `out of bounds (must be < 2^${EPOCH_BITS})`);
  else if (r.value === 0n)
    ctx.bad(
      "epoch",
      "must be at least 1: the registry accepts an epoch only above the last committed one, which starts at 0",
    );
  else return r.value;
  return 0n;
}

function parseAssets(ctx: Ctx, raw: Record<string, unknown>): AssetTable {
  const assets: Asset[] = [];
  const assetBySymbol = new Map<string, Asset>();
  const invalid = new Set<string>();
  const rawAssets = arrayOf(raw, "assets");
  rawAssets.forEach((a, i) => {
    const p = `assets[${i}]`;
    if (!isObject(a)) return; // reported by shapeProblems
    let ok = true;
    if (typeof a.symbol !== "string" || !/^[A-Za-z0-9._\-/+]{1,32}$/.test(a.symbol)) {
      ctx.bad(`${p}.symbol`, "must be a string of 1-32 letters, digits or ._-/+");
      ok = false;
    } else if (assetBySymbol.has(a.symbol)) {
      ctx.bad(`${p}.symbol`, `duplicate asset ${a.symbol}`);
      ok = false;
    }
    const d = a.decimals;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > MAX_ASSET_DECIMALS) {
      ctx.bad(`${p}.decimals`, `must be an integer in [0, ${MAX_ASSET_DECIMALS}]`);
      ok = false;
    }
    let token = NO_TOKEN;
    if (a.token !== undefined) {
      if (typeof a.token !== "string" || !/^0x[0-9a-fA-F]{40}$/.test(a.token)) {
        ctx.bad(`${p}.token`, "must be an address: 0x and 40 hex digits");
        ok = false;
      } else token = getAddress(a.token.toLowerCase());
    }
    const twin = token !== NO_TOKEN ? assets.find((x) => x.token === token) : undefined;
    if (twin) {
      ctx.bad(`${p}.token`, `token ${token} is also asset ${twin.symbol}: one token, one asset`);
      ok = false;
    }
    if (ok) {
      const asset = { symbol: a.symbol as string, decimals: d as number, token, index: i };
      assets.push(asset);
      assetBySymbol.set(asset.symbol, asset);
    } else if (typeof a.symbol === "string" && !assetBySymbol.has(a.symbol)) invalid.add(a.symbol);
  });
  if (Array.isArray(raw.assets) && rawAssets.length === 0)
    ctx.bad("assets", "empty: at least one asset is needed");
  const GA = ctx.opts.profile.globalAssets;
  if (rawAssets.length > GA) {
    ctx.bad(
      "assets",
      `${rawAssets.length} assets exceed the profile's ${GA} global assets (profile "${ctx.opts.profile.name}")`,
    );
  }
  const maxDecimals = assets.reduce((m, a) => Math.max(m, a.decimals), 0);
  // a symbol both valid (once) and invalid (a duplicate) is known
  for (const sym of assetBySymbol.keys()) invalid.delete(sym);
  return { assets, assetBySymbol, maxDecimals, invalid };
}

function parseSegments(ctx: Ctx, raw: Record<string, unknown>, at: AssetTable): SegmentTable {
  const st: SegmentTable = { segments: [], segmentById: new Map() };
  const rawSegments = arrayOf(raw, "segments");
  if (Array.isArray(raw.segments) && rawSegments.length === 0)
    ctx.bad("segments", "empty: at least one segment is needed");
  rawSegments.forEach((s, i) => {
    parseSegment(ctx, s, `segments[${i}]`, at, st);
  });
  return st;
}

/** One segment: id, name, margin, then its priced assets (slots). Adds it to `st`. */
function parseSegment(ctx: Ctx, s: unknown, p: string, at: AssetTable, st: SegmentTable): void {
  if (!isObject(s)) return; // reported by shapeProblems
  let ok = true;
  let id = 0n;
  const idr = parseUint(s.id, false);
  if (!idr.ok) {
    ctx.bad(`${p}.id`, idr.error);
    ok = false;
  } else if (idr.value >= 1n << BigInt(SEGMENT_ID_BITS)) {
    ctx.bad(`${p}.id`, `out of bounds (must be < 2^${SEGMENT_ID_BITS})`);
    ok = false;
  } else if (st.segmentById.has(idr.value)) {
    ctx.bad(`${p}.id`, `duplicate segment id ${idr.value}`);
    ok = false;
  } else {
    id = idr.value;
  }
  let name = `segment ${id}`;
  if (s.name !== undefined) {
    if (typeof s.name !== "string" || s.name.length > 200)
      ctx.bad(`${p}.name`, "must be a string of at most 200 characters");
    else name = s.name;
  }
  let marginBps = 0n;
  const mr = parseUint(s.marginBps, false);
  if (!mr.ok) {
    ctx.bad(`${p}.marginBps`, mr.error);
    ok = false;
  } else if (mr.value > BigInt(MAX_MARGIN_BPS)) {
    ctx.bad(`${p}.marginBps`, `out of bounds (must be <= ${MAX_MARGIN_BPS})`);
    ok = false;
  } else {
    marginBps = mr.value;
  }
  const sl = parseSlots(ctx, s, p, id, at);
  ok &&= sl.ok;
  const slots = sl.slots;
  const seg: Segment = {
    id,
    name,
    marginBps,
    slots,
    slotOf: new Map(slots.map((x) => [x.symbol, x.slot])),
    path: p,
    stress: [],
    ownStress: s.stressScenarios !== undefined,
  };
  ok &&= parseSegmentCaps(ctx, s.custodyCaps, `${p}.custodyCaps`, seg, at);
  ok &&= parseCustodyMode(ctx, s.custody, `${p}.custody`, seg);
  if (seg.ownStress) {
    const own = parseScenarios(ctx, s.stressScenarios, `${p}.stressScenarios`, at, seg);
    seg.stress = resolveScenarios(own, seg);
  }
  if (idr.ok && !st.segmentById.has(idr.value) && idr.value < 1n << BigInt(SEGMENT_ID_BITS))
    st.segmentById.set(id, seg);
  if (ok) st.segments.push(seg);
}

/**
 * A segment's `prices` and `collateralFactorBps`: one slot per priced asset, in the order of the
 * top-level `assets` array, at most the profile's A.
 */
function parseSlots(
  ctx: Ctx,
  s: Record<string, unknown>,
  p: string,
  id: bigint,
  at: AssetTable,
): { slots: SegmentSlot[]; ok: boolean } {
  let ok = true;
  const prices = s.prices;
  const cfs = s.collateralFactorBps;
  if (!isObject(prices)) {
    ctx.bad(`${p}.prices`, prices === undefined ? "missing" : "not an object");
    ok = false;
  }
  if (!isObject(cfs)) {
    ctx.bad(`${p}.collateralFactorBps`, cfs === undefined ? "missing" : "not an object");
    ok = false;
  }
  const slots: SegmentSlot[] = [];
  if (!isObject(prices)) return { slots, ok };
  for (const sym of Object.keys(prices)) {
    if (!at.assetBySymbol.has(sym)) badAsset(ctx, at, `${p}.prices.${sym}`, sym);
  }
  if (isObject(cfs)) {
    for (const sym of Object.keys(cfs)) {
      if (!at.assetBySymbol.has(sym)) badAsset(ctx, at, `${p}.collateralFactorBps.${sym}`, sym);
      else if (!(sym in prices))
        ctx.bad(`${p}.collateralFactorBps.${sym}`, `asset ${sym} is not priced in this segment`);
    }
  }
  for (const asset of at.assets) {
    if (!(asset.symbol in prices)) continue;
    const slot = parseSlot(ctx, p, asset, prices[asset.symbol], cfs, at.maxDecimals);
    ok &&= slot.ok;
    slots.push({ slot: slots.length, ...slot.value });
  }
  const A = ctx.opts.profile.assetsPerSegment;
  if (slots.length > A) {
    ctx.bad(
      `${p}.prices`,
      `${slots.length} assets exceed the profile's ${A} asset slots (profile "${ctx.opts.profile.name}")`,
    );
    ok = false;
  }
  if (Object.keys(prices).length === 0) ctx.notes.push(`segment ${id} prices no asset`);
  return { slots, ok };
}

/** Price (exact, in bounds once in circuit units) and collateral factor of one asset of a segment. */
function parseSlot(
  ctx: Ctx,
  p: string,
  asset: Asset,
  rawPrice: unknown,
  cfs: unknown,
  maxDecimals: number,
): { value: Omit<SegmentSlot, "slot">; ok: boolean } {
  let ok = true;
  const pp = `${p}.prices.${asset.symbol}`;
  const pr = parseDecimal(rawPrice, PRICE_DECIMALS, "exact");
  let circuitPrice = 0n;
  if (!pr.ok) {
    ctx.bad(pp, pr.error);
    ok = false;
  } else {
    circuitPrice = circuitPriceOf(pr.value, asset.decimals, maxDecimals);
    if (circuitPrice < 1n) {
      ctx.bad(pp, "must be positive");
      ok = false;
    } else if (circuitPrice >= 1n << BigInt(PRICE_BITS)) {
      ctx.bad(
        pp,
        `out of bounds (price * 10^${PRICE_DECIMALS + maxDecimals - asset.decimals} must be < 2^${PRICE_BITS})`,
      );
      ok = false;
    }
  }
  let cfBps = 0n;
  const cp = `${p}.collateralFactorBps.${asset.symbol}`;
  if (isObject(cfs)) {
    const cr = parseUint(cfs[asset.symbol], false);
    if (!cr.ok) {
      ctx.bad(cp, cr.error);
      ok = false;
    } else if (cr.value > BigInt(MAX_CF_BPS)) {
      ctx.bad(cp, `out of bounds (must be <= ${MAX_CF_BPS})`);
      ok = false;
    } else {
      cfBps = cr.value;
    }
  }
  const price = pr.ok ? formatDecimal(pr.value, PRICE_DECIMALS) : "";
  const value = {
    symbol: asset.symbol,
    decimals: asset.decimals,
    token: asset.token,
    asset: asset.index,
    price,
    circuitPrice,
    cfBps,
    cap: UNBOUNDED_CAP,
    pooled: true,
  };
  return { value, ok };
}

/** A position's segment and asset: both must exist and the asset must be priced in the segment. */
function resolvePosition(
  ctx: Ctx,
  p: string,
  e: Record<string, unknown>,
  st: SegmentTable,
  at: AssetTable,
): { seg: Segment; slot: number; asset: Asset } | undefined {
  let seg: Segment | undefined;
  const sr = parseUint(e.segment, false);
  if (!sr.ok) ctx.bad(`${p}.segment`, sr.error);
  else {
    seg = st.segmentById.get(sr.value);
    if (!seg) ctx.bad(`${p}.segment`, `unknown segment ${sr.value}`);
  }
  let asset: Asset | undefined;
  if (typeof e.asset !== "string") ctx.bad(`${p}.asset`, e.asset === undefined ? "missing" : "not a string");
  else {
    asset = at.assetBySymbol.get(e.asset);
    if (!asset) badAsset(ctx, at, `${p}.asset`, e.asset);
  }
  if (!seg || !asset) return undefined;
  const slot = seg.slotOf.get(asset.symbol);
  if (slot === undefined) {
    ctx.bad(`${p}.asset`, `asset ${asset.symbol} is not priced in segment ${seg.id}`);
    return undefined;
  }
  return { seg, slot, asset };
}

/**
 * A position's amount in the smallest unit; too-precise values are rounded (collateral down,
 * liabilities up) only with `round`. When the asset is unknown, a malformed amount is still
 * reported.
 */
function amountOf(
  ctx: Ctx,
  p: string,
  rawAmount: unknown,
  asset: Asset | undefined,
  rounding: Rounding,
): bigint | undefined {
  if (!asset) {
    if (rawAmount !== undefined) {
      const r = parseDecimal(rawAmount, MAX_ASSET_DECIMALS, rounding);
      if (!r.ok) ctx.bad(`${p}.amount`, r.error);
    }
    return undefined;
  }
  const r = parseDecimal(rawAmount, asset.decimals, ctx.opts.round ? rounding : "exact");
  if (!r.ok) {
    const hint = r.error.startsWith("too precise")
      ? ` (use --round to round ${rounding === "down" ? "collateral down" : "liabilities up"})`
      : "";
    ctx.bad(`${p}.amount`, `${r.error}${hint}`);
    return undefined;
  }
  if (r.value >= 1n << BigInt(AMOUNT_BITS)) {
    ctx.bad(`${p}.amount`, `out of bounds (must be < 2^${AMOUNT_BITS} in the smallest unit)`);
    return undefined;
  }
  if (r.rounded) ctx.rounded.push(`${p}.amount`);
  return r.value;
}

function parseCollateral(ctx: Ctx, entries: unknown[], st: SegmentTable, at: AssetTable): Lot[] {
  const lots: Lot[] = [];
  const lotById = new Map<bigint, { path: string; segment: unknown }>();
  entries.forEach((e, i) => {
    const p = `collateral[${i}]`;
    if (!isObject(e)) return; // reported by shapeProblems
    let lotId: bigint | undefined;
    const lr = parseUint(e.lotId, true);
    if (!lr.ok) ctx.bad(`${p}.lotId`, lr.error);
    else if (lr.value < 1n || lr.value >= 1n << BigInt(LOT_ID_BITS)) {
      ctx.bad(`${p}.lotId`, `out of bounds (must be in [1, 2^${LOT_ID_BITS}))`);
    } else {
      const prev = lotById.get(lr.value);
      if (prev) {
        ctx.bad(
          `${p}.lotId`,
          `duplicate lot ${String(e.lotId)} (also ${prev.path}): counted in segment ${String(prev.segment)} and segment ${String(e.segment)}; a lot may back only one segment`,
        );
      } else {
        lotById.set(lr.value, { path: p, segment: e.segment });
        lotId = lr.value;
      }
    }
    const res = resolvePosition(ctx, p, e, st, at);
    const amount = amountOf(ctx, p, e.amount, res?.asset, "down");
    if (lotId !== undefined && res && amount !== undefined) {
      const { seg, asset, slot } = res;
      lots.push({
        index: i,
        lotId,
        lotIdText: String(e.lotId),
        segmentId: seg.id,
        asset: asset.symbol,
        slot,
        amount,
      });
    }
  });
  return lots;
}

function parseLiabilities(ctx: Ctx, entries: unknown[], st: SegmentTable, at: AssetTable): Liability[] {
  const liabilities: Liability[] = [];
  entries.forEach((e, i) => {
    const p = `liabilities[${i}]`;
    if (!isObject(e)) return; // reported by shapeProblems
    let account: string | undefined;
    if (typeof e.account !== "string" || e.account.length === 0 || e.account.length > 256) {
      ctx.bad(
        `${p}.account`,
        e.account === undefined ? "missing" : "must be a non-empty string of at most 256 characters",
      );
    } else account = normalizeAccount(e.account);
    const res = resolvePosition(ctx, p, e, st, at);
    const amount = amountOf(ctx, p, e.amount, res?.asset, "up");
    if (account !== undefined && res && amount !== undefined) {
      const { seg, asset, slot } = res;
      const accountId = accountIdOf(account);
      liabilities.push({
        index: i,
        account,
        accountId,
        segmentId: seg.id,
        asset: asset.symbol,
        slot,
        amount,
      });
    }
  });
  return liabilities;
}

/** Lot and liability counts per segment. */
function countPositions(
  st: SegmentTable,
  lots: readonly Lot[],
  liabilities: readonly Liability[],
): { nLots: Map<bigint, number>; nLiabs: Map<bigint, number> } {
  const nLots = new Map<bigint, number>();
  const nLiabs = new Map<bigint, number>();
  for (const l of lots)
    if (st.segmentById.has(l.segmentId)) nLots.set(l.segmentId, (nLots.get(l.segmentId) ?? 0) + 1);
  for (const l of liabilities)
    if (st.segmentById.has(l.segmentId)) nLiabs.set(l.segmentId, (nLiabs.get(l.segmentId) ?? 0) + 1);
  return { nLots, nLiabs };
}

// ---------------------------------------------------------------- custody caps and stress

/** A cap in decimal tokens -> base units, rounded DOWN; < 2^120. */
function parseCap(ctx: Ctx, p: string, raw: unknown, asset: Asset): bigint | undefined {
  const r = parseDecimal(raw, asset.decimals, "down");
  if (!r.ok) {
    ctx.bad(p, r.error);
    return undefined;
  }
  if (r.value >= 1n << BigInt(CAP_BITS)) {
    ctx.bad(p, `out of bounds (must be < 2^${CAP_BITS} in the smallest unit)`);
    return undefined;
  }
  return r.value;
}

/** A segment's `custodyCaps`: SYMBOL -> decimal tokens, each symbol priced in the segment. */
function parseSegmentCaps(ctx: Ctx, raw: unknown, p: string, seg: Segment, at: AssetTable): boolean {
  if (raw === undefined) return true;
  if (!isObject(raw)) return false; // reported by shapeProblems
  let ok = true;
  for (const [sym, v] of Object.entries(raw)) {
    const asset = at.assetBySymbol.get(sym);
    const slot = seg.slotOf.get(sym);
    if (!asset) {
      badAsset(ctx, at, `${p}.${sym}`, sym);
      ok = false;
    } else if (slot === undefined) {
      ctx.bad(`${p}.${sym}`, `asset ${sym} is not priced in this segment`);
      ok = false;
    } else {
      const cap = parseCap(ctx, `${p}.${sym}`, v, asset);
      if (cap === undefined) ok = false;
      else (seg.slots[slot] as SegmentSlot).cap = cap;
    }
  }
  return ok;
}

interface PoolCaps {
  caps: bigint[];
  given: boolean;
}
/** `custody.pooled`: SYMBOL -> decimal tokens per global asset; missing assets are unbounded. */
function parsePoolCaps(ctx: Ctx, raw: Record<string, unknown>, at: AssetTable): PoolCaps {
  const caps = at.assets.map(() => UNBOUNDED_CAP);
  const custody = raw.custody;
  if (!isObject(custody) || !isObject(custody.pooled)) return { caps, given: false };
  for (const [sym, v] of Object.entries(custody.pooled)) {
    const p = `custody.pooled.${sym}`;
    const asset = at.assetBySymbol.get(sym);
    if (!asset) badAsset(ctx, at, p, sym);
    else {
      const cap = parseCap(ctx, p, v, asset);
      if (cap !== undefined) caps[at.assets.indexOf(asset)] = cap;
    }
  }
  return { caps, given: true };
}

/**
 * A list of stress scenarios (top level, or a segment's own when `seg` is given): at most K, each
 * with a unique non-empty name and integer shocks in [-10000, 22767] bps per known asset symbol
 * (priced in the segment, for a segment's own list) or "*".
 */
function parseScenarios(
  ctx: Ctx,
  raw: unknown,
  p: string,
  at: AssetTable,
  seg: Segment | undefined,
): StressScenario[] {
  if (!Array.isArray(raw)) return []; // absent, or reported by shapeProblems
  const K = ctx.opts.profile.stressScenarios;
  if (raw.length > K) {
    ctx.bad(
      p,
      `${raw.length} stress scenarios exceed the profile's ${K} (profile "${ctx.opts.profile.name}")`,
    );
  }
  const out: StressScenario[] = [];
  const names = new Set<string>();
  raw.forEach((sc, i) => {
    const q = `${p}[${i}]`;
    if (!isObject(sc)) return; // reported by shapeProblems
    let ok = true;
    if (typeof sc.name !== "string" || sc.name.trim().length === 0 || sc.name.length > 64) {
      ctx.bad(
        `${q}.name`,
        sc.name === undefined ? "missing" : "must be a non-empty string of at most 64 characters",
      );
      ok = false;
    } else if (names.has(sc.name)) {
      ctx.bad(`${q}.name`, `duplicate scenario name ${JSON.stringify(sc.name)}`);
      ok = false;
    } else names.add(sc.name);
    const shocks: Record<string, number> = {};
    if (!isObject(sc.shocksBps)) {
      ctx.bad(`${q}.shocksBps`, sc.shocksBps === undefined ? "missing" : "not an object");
      ok = false;
    } else {
      for (const [sym, v] of Object.entries(sc.shocksBps)) {
        const sp = `${q}.shocksBps.${sym}`;
        if (sym !== "*" && !at.assetBySymbol.has(sym)) {
          badAsset(ctx, at, sp, sym, `unknown asset ${sym} (an asset symbol or "*")`);
          ok = false;
        } else if (sym !== "*" && seg && !seg.slotOf.has(sym)) {
          ctx.bad(sp, `asset ${sym} is not priced in this segment`);
          ok = false;
        } else if (typeof v !== "number" || !Number.isInteger(v) || v < MIN_SHOCK_BPS || v > MAX_SHOCK_BPS) {
          ctx.bad(
            sp,
            `must be an integer shock in bps in [${MIN_SHOCK_BPS}, ${MAX_SHOCK_BPS}] (-10000: price to zero)`,
          );
          ok = false;
        } else shocks[sym] = v;
      }
    }
    if (ok) out.push({ name: sc.name as string, shocksBps: shocks });
  });
  return out;
}

/** Factors per slot of a segment: 10000 + (shock of the slot's symbol, else of "*", else 0). */
function resolveScenarios(list: readonly StressScenario[], seg: Segment): SegmentScenario[] {
  return list.map((sc) => ({
    name: sc.name,
    factors: seg.slots.map((s) => stressFactor(sc.shocksBps, s.symbol)),
  }));
}

/** A segment's `custody`: "pooled" (default) or "own"; sets every slot's pooled bit. */
function parseCustodyMode(ctx: Ctx, v: unknown, p: string, seg: Segment): boolean {
  if (v === undefined) return true;
  if (v !== "pooled" && v !== "own") {
    ctx.bad(p, 'must be "pooled" or "own"');
    return false;
  }
  for (const s of seg.slots) s.pooled = v === "pooled";
  return true;
}

/**
 * The custody bounds the circuits enforce, checked before proving: per segment and asset, the
 * collateral total must not exceed the segment's cap; per asset, the total over the segments with
 * pooled custody must not exceed the pooled cap (own-custody segments count nothing there).
 */
function checkCaps(ctx: Ctx, st: SegmentTable, at: AssetTable, pool: PoolCaps, lots: readonly Lot[]): void {
  const perSlot = new Map<bigint, bigint[]>();
  const perAsset = at.assets.map(() => 0n);
  for (const l of lots) {
    const seg = st.segmentById.get(l.segmentId) as Segment;
    const t = perSlot.get(seg.id) ?? seg.slots.map(() => 0n);
    t[l.slot] = (t[l.slot] as bigint) + l.amount;
    perSlot.set(seg.id, t);
    const s = seg.slots[l.slot] as SegmentSlot;
    if (s.pooled) perAsset[s.asset] = (perAsset[s.asset] as bigint) + l.amount;
  }
  for (const seg of st.segments) {
    const t = perSlot.get(seg.id);
    if (!t) continue;
    seg.slots.forEach((s, j) => {
      const total = t[j] as bigint;
      if (total > s.cap) {
        ctx.bad(
          `${seg.path}.custodyCaps.${s.symbol}`,
          `collateral ${formatDecimal(total, s.decimals)} ${s.symbol} exceeds the custody cap ${formatDecimal(s.cap, s.decimals)} ${s.symbol}`,
        );
      }
    });
  }
  at.assets.forEach((a, g) => {
    const total = perAsset[g] as bigint;
    const cap = pool.caps[g] as bigint;
    if (total > cap) {
      ctx.bad(
        `custody.pooled.${a.symbol}`,
        `collateral ${formatDecimal(total, a.decimals)} ${a.symbol} over the pooled-custody segments exceeds the pooled custody cap ${formatDecimal(cap, a.decimals)} ${a.symbol}`,
      );
    }
  });
}

/** Notes on empty segments, collateral-less segments and rounded amounts. */
function addNotes(
  ctx: Ctx,
  segments: readonly Segment[],
  counts: { nLots: Map<bigint, number>; nLiabs: Map<bigint, number> },
): void {
  for (const seg of segments) {
    const nl = counts.nLots.get(seg.id) ?? 0;
    const nd = counts.nLiabs.get(seg.id) ?? 0;
    if (nl === 0 && nd === 0) {
      ctx.notes.push(
        `segment ${seg.id} (${seg.name}) is empty: proven with salted dummy entries only (healthy)`,
      );
    } else if (nl === 0) {
      ctx.notes.push(`segment ${seg.id} (${seg.name}) has liabilities but no collateral`);
    }
  }
  const { rounded } = ctx;
  if (rounded.length > 0) {
    ctx.notes.push(
      `${rounded.length} amount(s) rounded (collateral down, liabilities up): ${rounded.slice(0, 5).join(", ")}${rounded.length > 5 ? ", ..." : ""}`,
    );
  }
}

// ---------------------------------------------------------------- CSV import

/**
 * Parses CSV text (RFC 4180 through csv-parse: comma separated, optional double quotes, "" inside
 * quotes, CRLF or LF, a leading BOM) with a header row into objects keyed by the header. Blank
 * lines are skipped; values are trimmed and stay strings, so amounts keep their exact decimal
 * text. A row whose field count differs from the header's is a problem naming the line (body row
 * `n`, 0-based, is line n + 2); the row keeps the fields it has, so the rest is still checked.
 */
export function readCsv(text: string): { rows: Record<string, string>[]; problems: string[] } {
  const rows = parseCsvRows(text, {
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
  }) as string[][];
  const [header, ...body] = rows;
  if (!header) return { rows: [], problems: [] };
  const keys = header.map((h) => h.trim());
  const problems: string[] = [];
  const out = body.map((r, n) => {
    if (r.length !== keys.length)
      problems.push(`line ${n + 2}: ${r.length} fields, the header has ${keys.length}`);
    return Object.fromEntries(
      keys.flatMap((k, j) => (j < r.length ? [[k, (r[j] as string).trim()]] : [])),
    ) as Record<string, string>;
  });
  return { rows: out, problems };
}

/** `readCsv`, failing on the first row whose field count is not the header's. */
export function parseCsv(text: string): Record<string, string>[] {
  const { rows, problems } = readCsv(text);
  if (problems[0]) throw new Error(problems[0]);
  return rows;
}

interface ExpandedCsv {
  raw: unknown;
  /** snapshot key -> the CSV file as the snapshot names it */
  files: Map<string, string>;
  problems: string[];
}

/**
 * Replaces `"collateral": "file.csv"` / `"liabilities": "file.csv"` (paths relative to the
 * snapshot file) by the CSV's rows: headers `lotId,segment,asset,amount` and
 * `account,segment,asset,amount`. Problems of the files themselves come back, each naming the
 * file and line; the rows' own problems are renamed after parsing (csvPlace).
 */
async function expandCsv(raw: unknown, file: string): Promise<ExpandedCsv> {
  const files = new Map<string, string>();
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { raw, files, problems: [] };
  const obj = { ...(raw as Record<string, unknown>) };
  const problems: string[] = [];
  for (const key of ["collateral", "liabilities"]) {
    const v = obj[key];
    if (typeof v !== "string") continue;
    if (!/\.csv$/i.test(v)) {
      problems.push(`${key}: a string must name a .csv file`);
      continue;
    }
    const csvFile = path.resolve(path.dirname(file), v);
    try {
      const csv = readCsv(await readFile(csvFile, "utf8"));
      obj[key] = csv.rows;
      files.set(key, v);
      problems.push(...csv.problems.map((p) => `${v} ${p}`));
    } catch (err) {
      problems.push(`${key}: ${csvFile}: ${(err as Error).message}`);
    }
  }
  return { raw: obj, files, problems };
}

/** `collateral[2].amount: negative` -> `lots.csv line 4, amount: negative` for a row from a CSV file. */
function csvPlace(problem: string, files: Map<string, string>): string {
  const m = /^(collateral|liabilities)\[(\d+)\](?:\.([A-Za-z]+))?: ([\s\S]*)$/.exec(problem);
  const csv = m ? files.get(m[1] as string) : undefined;
  if (!m || !csv) return problem;
  return `${csv} line ${Number(m[2]) + 2}${m[3] ? `, ${m[3]}` : ""}: ${m[4]}`;
}

/** Reads and validates a snapshot file (JSON; collateral/liabilities may name CSV files). */
export async function loadSnapshot(file: string, opts: ParseOptions): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new SnapshotError([`(file): cannot read ${file}: ${(err as Error).message}`], file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SnapshotError([`(file): not valid JSON: ${(err as Error).message}`], file);
  }
  const x = await expandCsv(raw, file);
  let problems = x.problems;
  try {
    const s = parseSnapshot(x.raw, opts, file);
    if (problems.length === 0) return s;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    problems = [...problems, ...err.problems.map((p) => csvPlace(p, x.files))];
  }
  throw new SnapshotError(problems, file);
}
