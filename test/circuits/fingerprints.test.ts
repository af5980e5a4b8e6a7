/**
 * Circuit soundness: no shared collateral (fingerprints). For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import { FIELD_P } from "../../src/spec/encoding.js";
import { ETH, honest, tamper, testCircuits, USDC } from "../helpers/circuit-suite.js";
import {
  byId,
  fingerprintOf,
  type Input,
  type ListLot,
  type Lot,
  listChain,
  listLot,
  lot,
  lotTuple,
  product,
  R,
  type SegmentBatch,
  SLOTS,
  segmentChain,
} from "../helpers/scenario.js";
import { expectWitnessFail, readSignal, type TestCircuit } from "../helpers/witness.js";

describe("circuits (v2)", () => {
  let seg: TestCircuit;
  let list: TestCircuit;

  before(async () => {
    ({ seg, list } = await testCircuits());
  });

  // =============================================================================================
  describe("no shared collateral (fingerprints)", () => {
    /** the fingerprint a circuit outputs on its last batch */
    async function segFp(lots: Lot[], segmentId: bigint, slots = SLOTS): Promise<bigint> {
      const b = segmentChain({ segmentId, lots, liabilities: [], slots }).at(-1) as SegmentBatch;
      return readSignal(seg, await honest(seg, b.input), "fingerprint");
    }
    async function listFp(lots: ListLot[], caps?: bigint[]): Promise<bigint> {
      const b = listChain(lots, { caps }).at(-1) as { input: Input };
      return readSignal(list, await honest(list, b.input), "fingerprint");
    }

    it("honest epoch: the product of the segments' fingerprints equals the list's (circuit outputs)", async () => {
      const a = [lot(3n, 1n, 0n, 10n), lot(9n, 1n, 1n, 20n), lot(20n, 1n, 2n, 1n)];
      const b = [
        lot(4n, 2n, 0n, 30n),
        ...Array.from({ length: 5 }, (_, i) => lot(BigInt(30 + i), 2n, 1n, 7n)),
      ];
      const all = [...a, ...b].map((l) => listLot(l)).sort(byId);
      assert.equal(product([await segFp(a, 1n), await segFp(b, 2n)]), await listFp(all));
    });

    it("the same lot in two segments: the list repeats an id (rejected) or the fingerprints differ", async () => {
      const shared = lot(7n, 1n, 0n, ETH);
      const inB = { ...shared, segmentId: 2n };
      const fa = await segFp([shared], 1n);
      const fb = await segFp([inB], 2n);
      // (1) the list holds one copy: the fingerprints do not match
      assert.notEqual(product([fa, fb]), await listFp([listLot(shared)]));
      // (2) the list holds both: it must repeat lotId 7, which the circuit rejects
      const [b] = listChain([listLot(shared)]);
      assert.ok(b);
      const twice = tamper(b.input, {
        lotId: [1, 7n],
        lotAsset: [1, 0n],
        lotAmount: [1, ETH],
        lotActive: [1, 1n],
      });
      await expectWitnessFail(list, twice);
      // ... and with the duplicate the products would have matched: the id check is what rejects it
      assert.equal(product([fa, fb]), fingerprintOf(R, [listLot(shared), listLot(inB)]));
    });

    it("the same lot twice in one segment: the list must repeat its id (rejected)", async () => {
      const l = lot(7n, 1n, 0n, ETH);
      const f = await segFp([l, l], 1n);
      assert.notEqual(f, await listFp([listLot(l)]));
      const [b] = listChain([listLot(l)]);
      assert.ok(b);
      await expectWitnessFail(
        list,
        tamper(b.input, { lotId: [1, 7n], lotAsset: [1, 0n], lotAmount: [1, ETH], lotActive: [1, 1n] }),
      );
    });

    it("the tuple binds amount and asset: a list entry differing from the segment's gives another product", async () => {
      const a = [lot(3n, 1n, 0n, 10n * ETH), lot(9n, 1n, 1n, 20n * USDC)];
      const fa = await segFp(a, 1n);
      const honestList = a.map((l) => listLot(l));
      assert.equal(fa, await listFp(honestList));
      // the same ids with a larger amount (inflating pooled totals), another asset, another id
      const variants: ListLot[][] = [
        [{ ...(honestList[0] as ListLot), amount: 10n * ETH + 1n }, honestList[1] as ListLot],
        [{ ...(honestList[0] as ListLot), asset: 2n }, honestList[1] as ListLot],
        [honestList[0] as ListLot, { ...(honestList[1] as ListLot), amount: 0n }],
        [{ ...(honestList[0] as ListLot), lotId: 4n }, honestList[1] as ListLot],
        // amount and asset swapped between the two lots
        [
          { ...(honestList[0] as ListLot), amount: 20n * USDC, asset: 1n },
          { ...(honestList[1] as ListLot), amount: 10n * ETH, asset: 0n },
        ],
      ];
      for (const v of variants)
        assert.notEqual(
          await listFp(v),
          fa,
          JSON.stringify(v, (_, x) => String(x)),
        );
      // the list does not range-check amounts itself: a "negative" amount (p - x) would lower a
      // pooled total, and the list circuit accepts it, but no segment tuple (amount < 2^96) matches
      // (the total p - 1 = -1 passes any cap below 2^120 - 1)
      const negative = [{ ...(honestList[0] as ListLot), amount: FIELD_P - 1n }, honestList[1] as ListLot];
      assert.notEqual(await listFp(negative, [10n * ETH]), fa);
    });

    it("the pooled bit is bound by the slot that counts the lot; only pooled lots count against the pooled caps", async () => {
      const ownSlots = SLOTS.map((x) => ({ ...x, pooled: false }));
      const a = lot(3n, 1n, 0n, 10n * ETH); // own-custody segment 1
      const b = lot(9n, 2n, 0n, 4n * ETH); // pooled segment 2
      const segs = product([await segFp([a], 1n, ownSlots), await segFp([b], 2n)]);
      const honestList = [listLot(a, ownSlots), listLot(b)];
      // a pooled cap of 4 ETH covers the pooled lot; the own lot (10 ETH) counts nothing there
      assert.equal(segs, await listFp(honestList, [4n * ETH]));
      const [low] = listChain(honestList, { caps: [4n * ETH - 1n] });
      assert.ok(low);
      await expectWitnessFail(list, low.input);
      // a list that moves the own lot into the pooled total, or hides the pooled lot as own
      // (to fit a smaller pooled cap), proves, but no longer matches the segments' product
      const asPooled = [{ ...(honestList[0] as ListLot), pooled: true }, honestList[1] as ListLot];
      assert.notEqual(await listFp(asPooled, [14n * ETH]), segs);
      const asOwn = [honestList[0] as ListLot, { ...(honestList[1] as ListLot), pooled: false }];
      assert.notEqual(await listFp(asOwn, [0n]), segs);
      // the slot word's pooled bit is what tags the segment's lots
      assert.notEqual(await segFp([a], 1n), await segFp([a], 1n, ownSlots));
      // the pooled bit is boolean and 0 on padding
      const [h] = listChain(honestList, { caps: [4n * ETH] });
      assert.ok(h);
      await expectWitnessFail(list, tamper(h.input, { lotPooled: [0, 2n] }));
      await expectWitnessFail(list, tamper(h.input, { lotPooled: [5, 1n] }));
      // tag 16 + g cannot pose as another asset: lotAsset 16 with pooled 0 is outside the slots
      await expectWitnessFail(list, tamper(h.input, { lotAsset: [1, 16n], lotPooled: [1, 0n] }));
    });

    it("fingerprint factors use r: a tuple equal to r would zero the product (probability n/p)", () => {
      const t = lotTuple(R, 1n, 1n, 0n);
      assert.ok(t !== R && t < FIELD_P);
    });
  });
});
