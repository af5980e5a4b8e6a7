/**
 * The governed pipeline's pure parts (src/chain/governed.ts), no chain: the genesis configuration's
 * validation (every problem named by its path), and the snapshot built from governed state, whose
 * slot and stress words must be exactly the ones SegmentGovernance.checkEpoch compares with
 * (governedSlotWords, the governed stress words): a snapshot that differs would be refused at
 * commit after hours of proving.
 */
import assert from "node:assert/strict";
import { Wallet, ZeroAddress } from "ethers";
import { type CustodyBalances, findOvercommit } from "../../src/chain/custody.js";
import { type GovernedEpoch, governedSlotWords } from "../../src/chain/governance.js";
import {
  type GovernanceConfig,
  governedSegmentOf,
  governedSnapshot,
  manifestSlotPrices,
  parseGovernanceConfig,
} from "../../src/chain/governed.js";
import { parseSnapshot } from "../../src/snapshot/snapshot.js";
import { packSegmentSlots, packStress } from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";

const P = getProfile("test");
const addr = () => Wallet.createRandom().address;
const E18 = 10n ** 18n;
const E6 = 10n ** 6n;

function config(): GovernanceConfig {
  return {
    assets: [
      {
        symbol: "ETH",
        decimals: 18,
        token: addr(),
        feed: addr(),
        maxStalenessSeconds: 3600,
        maxDeviationBps: 200,
      },
      {
        symbol: "USDC",
        decimals: 6,
        token: addr(),
        feed: addr(),
        maxStalenessSeconds: 86400,
        maxDeviationBps: 100,
      },
    ],
    pooledCustody: addr(),
    segments: [
      {
        id: 10,
        name: "eth-usdc",
        marginBps: 1000,
        maxAgeSeconds: 3600,
        custody: addr(),
        collateralFactorBps: { USDC: 10000, ETH: 8000 },
        stressScenarios: [
          { name: "eth -30%", shocksBps: { ETH: -3000 } },
          { name: "all -5%", shocksBps: { "*": -500, USDC: 0 } },
        ],
      },
      {
        id: 20,
        name: "usdc",
        marginBps: 500,
        maxAgeSeconds: 7200,
        custody: "pooled",
        collateralFactorBps: { USDC: 9500 },
      },
    ],
  };
}

/** Balances per account: own custody of segment 10 and the pooled account, per asset (ETH, USDC). */
function balances(c: GovernanceConfig, own: bigint[], pooled: bigint[]): CustodyBalances {
  const m = new Map<string, bigint[]>();
  const own10 = c.segments[0]?.custody as string;
  m.set(c.pooledCustody as string, pooled);
  m.set(own10, own);
  return { balances: m };
}

/** What readGovernedEpoch would return for `c` with these prices. */
function governedEpochOf(c: GovernanceConfig, prices: bigint[]): GovernedEpoch {
  return {
    assets: c.assets.map((a, index) => ({
      index,
      symbol: a.symbol,
      decimals: a.decimals,
      token: a.token,
      feed: a.feed,
      maxStaleness: a.maxStalenessSeconds,
      maxDeviationBps: a.maxDeviationBps,
    })),
    roundIds: c.assets.map(() => 0n),
    prices,
    segments: c.segments.map((s) => ({ id: BigInt(s.id), version: 1n, ...governedSegmentOf(c, s, P) })),
    pooledCustody: c.pooledCustody ?? ZeroAddress,
  };
}

describe("governed pipeline (pure parts)", () => {
  it("parseGovernanceConfig accepts a valid configuration and names every problem by its path", () => {
    assert.doesNotThrow(() => parseGovernanceConfig(config(), P));
    const bad = config() as unknown as {
      assets: Record<string, unknown>[];
      segments: Record<string, unknown>[];
      pooledCustody?: string;
    };
    (bad.assets[0] as Record<string, unknown>).token = "0x12";
    (bad.segments[0] as Record<string, unknown>).collateralFactorBps = { ETH: 8000, WBTC: 7000 };
    (bad.segments[1] as Record<string, unknown>).id = 10;
    delete bad.pooledCustody;
    (bad.segments[0] as { stressScenarios: unknown[] }).stressScenarios.push({ name: "x", shocksBps: {} });
    assert.throws(
      () => parseGovernanceConfig(bad, P),
      (e: Error) => {
        assert.match(e.message, /assets\[0\]\.token: not an address/);
        return true;
      },
    );
    (bad.assets[0] as Record<string, unknown>).token = addr();
    assert.throws(
      () => parseGovernanceConfig(bad, P),
      (e: Error) => {
        assert.match(e.message, /segments\[0\]\.collateralFactorBps\.WBTC: not in assets/);
        assert.match(e.message, /segments\[1\]\.id: segment 10 repeated/);
        assert.match(
          e.message,
          /segments\[1\]\.custody: "pooled" but the configuration has no pooledCustody/,
        );
        assert.match(e.message, /segments\[0\]\.stressScenarios: more than the profile's 2/);
        return true;
      },
    );
  });

  it("governedSegmentOf: slots in asset-table order, shocks per slot, '*' overridden by a symbol", () => {
    const g = governedSegmentOf(config(), config().segments[0] as GovernanceConfig["segments"][number], P);
    assert.deepEqual(g.assets, [0, 1]);
    assert.deepEqual(g.cfBps, [8000, 10000]);
    assert.deepEqual(
      g.stress,
      packStress(
        [
          [7000n, 10000n],
          [9500n, 10000n],
        ],
        P.stressScenarios,
        P.assetsPerSegment,
      ),
    );
  });

  it("governedSnapshot: its slot, stress and pooled-cap words are exactly the governed ones checkEpoch compares", () => {
    const c = config();
    // ETH $3012.55, USDC $1.0001 in circuit units (D = 18: USDC carries 10^12 more)
    const prices = [301255000000n, 100010000n * 10n ** 12n];
    const ge = governedEpochOf(c, prices);
    const custody = balances(c, [20n * E18, 5_000n * E6], [0n, 1_000_000n * E6]);
    const positions = {
      epoch: 3,
      segments: [{ id: 10, stressScenarios: [{ name: "ETH crash" }] }],
      collateral: [
        { lotId: "0x01", segment: 10, asset: "ETH", amount: "12.5" },
        { lotId: "0x02", segment: 20, asset: "USDC", amount: "900" },
      ],
      liabilities: [{ account: addr(), segment: 10, asset: "USDC", amount: "1000" }],
    };
    const raw = governedSnapshot(positions, ge, custody, P);
    const snap = parseSnapshot(raw, { profile: P });
    assert.equal(snap.epoch, 3n);
    const s10 = snap.segments[0];
    const s20 = snap.segments[1];
    assert.ok(s10 && s20);
    assert.equal(s10.slots[0]?.price, "3012.55");
    assert.equal(s10.slots[1]?.price, "1.0001");
    assert.equal(s10.stress[0]?.name, "ETH crash", "the positions file's name for scenario 0");
    assert.equal(s10.stress[1]?.name, "scenario 2");
    assert.equal(s20.stress.length, 0);
    for (const [seg, gs] of [
      [s10, ge.segments[0]],
      [s20, ge.segments[1]],
    ] as const) {
      assert.ok(gs);
      const words = packSegmentSlots(
        seg.slots.map((x) => ({
          price: x.circuitPrice,
          cfBps: x.cfBps,
          asset: BigInt(x.asset),
          cap: x.cap,
          pooled: x.pooled,
        })),
        P.assetsPerSegment,
      );
      // own custody: by default the account's whole balance per asset (20 ETH, 5,000 USDC; it
      // names no other segment), not the segment's collateral total (12.5 ETH, 0 USDC)
      const caps = gs.custody === ZeroAddress ? [] : [20n * E18, 5_000n * E6];
      assert.deepEqual(
        words,
        governedSlotWords(gs, prices, P.assetsPerSegment, caps),
        `segment ${gs.id} slots`,
      );
      const factors = seg.stress.map((x) => x.factors);
      assert.deepEqual(
        packStress(factors, P.stressScenarios, P.assetsPerSegment),
        gs.stress,
        `segment ${gs.id} stress`,
      );
    }
    // pooled caps: the pooled account's balance, per asset; the own segment's 12.5 ETH counts
    // against its own cap only, and its account's 7.5 ETH and 5,000 USDC beyond that back no pool
    assert.deepEqual(snap.poolCaps.slice(0, 2), [0n, 1_000_000n * E6]);
    assert.deepEqual(
      snap.segments.map((x) => x.slots.map((y) => y.pooled)),
      [[false, false], [true]],
    );
    // the manifest's prices per global asset (for the oracle-round search)
    const m = manifestSlotPrices([
      { slots: governedSlotWords(ge.segments[0] as never, prices, 4, []), assets: [0, 1] },
    ]);
    assert.deepEqual(
      [...m.entries()],
      [
        [0, prices[0]],
        [1, prices[1]],
      ],
    );
  });

  it("governedSnapshot: a cap of the positions file is kept when custody covers it, refused by name when not", () => {
    const c = config();
    const ge = governedEpochOf(c, [301255000000n, 10n ** 20n]);
    const custody = balances(c, [20n * E18, 5_000n * E6], [0n, 0n]);
    const base = { epoch: 1, collateral: [], liabilities: [] };
    const tight = governedSnapshot(
      { ...base, segments: [{ id: 10, custodyCaps: { ETH: "15" } }] },
      ge,
      custody,
      P,
    );
    const seg = (tight.segments as { custodyCaps: Record<string, string> }[])[0];
    // the cap not given defaults to the account's balance (the only segment naming it)
    assert.deepEqual(seg?.custodyCaps, { ETH: "15", USDC: "5000" });
    assert.throws(
      () =>
        governedSnapshot(
          { ...base, segments: [{ id: 10, custodyCaps: { USDC: "5000.000001" } }] },
          ge,
          custody,
          P,
        ),
      /segments \(id 10\)\.custodyCaps\.USDC: custody 0x[0-9a-fA-F]{40} holds 5000 USDC, less than the caps drawn on it: own-custody caps 5000\.000001 USDC; .*\(CustodyOvercommitted\)/,
    );
    assert.throws(
      () =>
        governedSnapshot(
          {
            ...base,
            segments: [{ id: 10, custodyCaps: { ETH: "15" } }],
            custody: { pooled: { ETH: "15.5" } },
          },
          ge,
          custody,
          P,
        ),
      /custody\.pooled\.ETH: custody 0x[0-9a-fA-F]{40} holds 0 ETH, less than the caps drawn on it: own-custody caps 0 ETH plus the pooled cap 15\.5 ETH/,
    );
  });

  it("custody rule: an account shared by two segments is split, never counted twice", () => {
    const c = config();
    const shared = c.segments[0]?.custody as string;
    const s20 = c.segments[1];
    assert.ok(s20);
    s20.custody = shared; // both segments name the same account
    const ge = governedEpochOf(c, [301255000000n, 10n ** 20n]);
    const custody = balances(c, [5n * E18, 5_000n * E6], [0n, 0n]);
    const base = { epoch: 1, liabilities: [] };
    // by default the account's balance is split equally between the segments naming it: each
    // may prove up to 2,500 USDC of it (segment 10 is the only one with ETH: all 5 ETH)
    const two = [
      { lotId: "0x01", segment: 10, asset: "ETH", amount: "5" },
      { lotId: "0x02", segment: 20, asset: "USDC", amount: "2500" },
    ];
    const ok = governedSnapshot({ ...base, collateral: two }, ge, custody, P);
    const capsOf = (x: typeof ok) =>
      (x.segments as { custodyCaps: Record<string, string> }[]).map((y) => y.custodyCaps);
    assert.deepEqual(capsOf(ok), [{ ETH: "5", USDC: "2500" }, { USDC: "2500" }]);
    // a segment above its equal share is refused by name; explicit caps summing to the balance fit
    const more = [two[0], { ...two[1], amount: "5000" }];
    assert.throws(
      () => governedSnapshot({ ...base, collateral: more }, ge, custody, P),
      /segments \(id 20\)\.custodyCaps\.USDC: the segment's share 2500 USDC of custody 0x[0-9a-fA-F]{40} is below its collateral 5000 USDC/,
    );
    const given = governedSnapshot(
      { ...base, collateral: more, segments: [{ id: 20, custodyCaps: { USDC: "5000" } }] },
      ge,
      custody,
      P,
    );
    assert.deepEqual(capsOf(given), [{ ETH: "5", USDC: "0" }, { USDC: "5000" }]);
    // both claim the account's 5,000 USDC: 10,000 against 5,000 held
    assert.throws(
      () =>
        governedSnapshot(
          {
            ...base,
            segments: [
              { id: 10, custodyCaps: { ETH: "5", USDC: "5000" } },
              { id: 20, custodyCaps: { USDC: "5000" } },
            ],
            collateral: [],
          },
          ge,
          custody,
          P,
        ),
      /segments \(id 20\)\.custodyCaps\.USDC: custody 0x[0-9a-fA-F]{40} \(shared by segments 10, 20\) holds 5000 USDC, less than the caps drawn on it: own-custody caps 10000 USDC/,
    );
  });

  it("custody rule: the pooled account equal to an own account: own caps plus the pooled cap fit its balance", () => {
    const c = config();
    c.pooledCustody = c.segments[0]?.custody as string;
    const ge = governedEpochOf(c, [301255000000n, 10n ** 20n]);
    const custody = balances(c, [10n * E18, 1_000n * E6], [10n * E18, 1_000n * E6]);
    const own = new Map([[10n, [6n * E18, 0n]]]);
    // the own cap takes 6 ETH of the 10: the pooled cap may be 4 ETH (it no longer includes
    // the own caps: the lot list totals only pooled lots against it)
    assert.equal(findOvercommit(ge, { own, pooled: [4n * E18, 0n] }, custody), undefined);
    const bad = findOvercommit(ge, { own, pooled: [4n * E18 + 1n, 0n] }, custody);
    assert.deepEqual(bad && [bad.asset, bad.balance, bad.ownCaps, bad.pooledDraw], [
      0,
      10n * E18,
      6n * E18,
      4n * E18 + 1n,
    ]);
    // the old reading (pooled cap = own caps + pooled share) is now an overcommit
    assert.ok(findOvercommit(ge, { own, pooled: [10n * E18, 0n] }, custody));
  });
});
