/**
 * Circuit soundness: the lot-list batch circuit. For every guarantee of docs/SPEC.md and ../shared/DESIGN.md the
 * honest case passes and a forged witness or forged public input is rejected; inputs are built by
 * test/helpers/scenario.ts straight from docs/SPEC.md (shared setup: test/helpers/circuit-suite.ts).
 */
import assert from "node:assert/strict";
import { FIELD_P } from "../../src/spec/encoding.js";
import { GA, honest, prng, tamper, testCircuits } from "../helpers/circuit-suite.js";
import {
  byId,
  fingerprintOf,
  type Input,
  type ListLot,
  listChain,
  listStateHash,
  packListCaps,
  R,
  TEST,
  UNBOUNDED_CAP,
} from "../helpers/scenario.js";
import {
  editWitness,
  expectConstraintFail,
  expectWitnessFail,
  publicSignals,
  readSignal,
  type TestCircuit,
} from "../helpers/witness.js";

describe("circuits (v2)", () => {
  let list: TestCircuit;

  before(async () => {
    ({ list } = await testCircuits());
  });

  // =============================================================================================
  describe("LotListBatch", () => {
    const ids = [1n, 5n, 6n, 900n, 2n ** 127n, 2n ** 128n - 1n];
    const sorted = (): ListLot[] =>
      ids.map((id, i) => ({ lotId: id, asset: BigInt(i % 3), amount: 100n + BigInt(i), pooled: true }));

    it("honest sorted lists satisfy every constraint across batches and expose the predicted signals", async () => {
      const lots: ListLot[] = [
        ...sorted(),
        ...[2n ** 100n, 2n ** 100n + 1n, 2n ** 110n, 2n ** 120n].map((id) => ({
          lotId: id,
          asset: 3n,
          amount: 5n,
          pooled: true,
        })),
      ].sort(byId);
      const chain = listChain(lots);
      assert.equal(chain.length, 2);
      for (const b of chain) {
        const w = await honest(list, b.input);
        assert.deepEqual(publicSignals(list, w), b.publicSignals);
      }
      assert.equal(chain[0]?.prevState, 0n);
      assert.equal(chain[1]?.prevState, chain[0]?.nextState);
      assert.equal(chain[0]?.publicSignals[2], "0", "fingerprint is 0 before the last batch");
      assert.equal(chain[1]?.fingerprint, fingerprintOf(R, lots));
      // an empty list is one batch with fingerprint 1
      const [e] = listChain([]);
      assert.ok(e);
      assert.equal(readSignal(list, await honest(list, e.input), "fingerprint"), 1n);
    });

    it("rejects equal or decreasing ids inside a batch, and ids that wrap around the field", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 5n] })); // equal to its predecessor
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, 4n] })); // decreasing
      await expectWitnessFail(list, tamper(b.input, { lotId: [2, FIELD_P - 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotId: [0, 0n] })); // ids start at 1
    });

    it("rejects equal or decreasing ids across a batch boundary", async () => {
      const lots = Array.from({ length: 10 }, (_, i) => ({
        lotId: BigInt(10 * (i + 1)),
        asset: 0n,
        amount: 1n,
        pooled: true,
      }));
      const [first, second] = listChain(lots);
      assert.ok(first && second);
      await honest(list, second.input);
      // batch 2 starting at the last id of batch 1 (80) or below it
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 80n] }));
      await expectWitnessFail(list, tamper(second.input, { lotId: [0, 15n] }));
      // opening prevState with a smaller last id than batch 1 ended with
      await expectWitnessFail(list, tamper(second.input, { prevLastId: 10n }));
      // a second batch posing as first (restarting at id 0) must expose prevState = 0, which is
      // not batch 1's nextState (the verifier compares them)
      const restarted = tamper(second.input, {
        prevState: 0n,
        meta: first.meta | 1n,
        prevLastId: 0n,
        prevFp: 1n,
        prevTotal: [0, 0n],
        prevSalt: 0n,
        lotId: [0, 3n],
      });
      const w = await honest(list, restarted);
      assert.notEqual(publicSignals(list, w)[4], String(first.nextState));
    });

    it("rejects ids >= 2^128 (last-id check) and gaps >= 2^128", async () => {
      await honest(
        list,
        (listChain([{ lotId: 2n ** 128n - 1n, asset: 0n, amount: 1n, pooled: true }])[0] as { input: Input })
          .input,
      );
      // a lone id of 2^128: its gap (2^128 - 1) is in range, the last id is not
      const [big] = listChain([{ lotId: 2n ** 128n, asset: 0n, amount: 1n, pooled: true }]);
      assert.ok(big);
      await expectWitnessFail(list, big.input);
      // 2^128 as the last of several ids
      await expectWitnessFail(
        list,
        tamper((listChain(sorted())[0] as { input: Input }).input, { lotId: [5, 2n ** 128n] }),
      );
      // a gap of exactly 2^128
      const [gap] = listChain([
        { lotId: 1n, asset: 0n, amount: 1n, pooled: true },
        { lotId: 2n ** 128n + 2n, asset: 0n, amount: 1n, pooled: true },
      ]);
      assert.ok(gap);
      await expectWitnessFail(list, gap.input);
      // an id of 2^128 + x cannot be folded into the commitment's asset field either
      await expectWitnessFail(
        list,
        tamper((listChain(sorted())[0] as { input: Input }).input, { lotId: [5, (1n << 128n) + 1000n] }),
      );
    });

    it("rejects a first batch with a non-empty state, and a prevState that does not open", async () => {
      const [c] = listChain(sorted());
      assert.ok(c);
      await expectWitnessFail(
        list,
        tamper(c.input, {
          prevState: listStateHash({ lastId: 0n, fp: 1n, totals: [0n, 0n, 0n, 0n], salt: 3n }),
        }),
      );
      await expectWitnessFail(list, tamper(c.input, { prevFp: 7n }));
      await expectWitnessFail(list, tamper(c.input, { prevLastId: 1000n }));
      await expectWitnessFail(list, tamper(c.input, { prevTotal: [1, FIELD_P - 100n] }));
      const lots = Array.from({ length: 10 }, (_, i) => ({
        lotId: BigInt(i + 1),
        asset: 1n,
        amount: 7n,
        pooled: true,
      }));
      const [, second] = listChain(lots);
      assert.ok(second);
      await expectWitnessFail(list, tamper(second.input, { prevTotal: [1, 0n] }));
      await expectWitnessFail(list, tamper(second.input, { prevFp: 1n }));
      await expectWitnessFail(list, tamper(second.input, { prevSalt: 1n }));
    });

    it("per-asset pooled totals are exact (property: random assets and amounts)", async () => {
      const rnd = prng(7n);
      let id = 0n;
      const lots: ListLot[] = Array.from({ length: 19 }, () => {
        id += 1n + rnd(100n);
        return { lotId: id, asset: rnd(8n) % BigInt(GA), amount: rnd(96n), pooled: true };
      });
      const chain = listChain(lots);
      assert.equal(chain.length, 3);
      for (const [i, b] of chain.entries()) {
        const w = await honest(list, b.input);
        assert.deepEqual(publicSignals(list, w), b.publicSignals);
        const seen = lots.slice(0, (i + 1) * TEST.lotsPerGlobalBatch);
        // the totals are substituted away by --O2: check them through the state they open
        const totals = Array.from({ length: GA }, (_, k) =>
          seen.filter((l) => l.asset === BigInt(k)).reduce((s, l) => s + l.amount, 0n),
        );
        const lastId = (seen.at(-1) as ListLot).lotId;
        const state = listStateHash({ lastId, fp: b.next.fp, totals, salt: b.next.salt });
        assert.equal(readSignal(list, w, "nextState"), state, `batch ${i}`);
        assert.equal(b.next.fp, fingerprintOf(R, seen));
      }
    });

    it("pooled cap: equal passes, one above fails, and the cap binds across batches", async () => {
      const lots = Array.from({ length: 10 }, (_, i) => ({
        lotId: BigInt(i + 1),
        asset: BigInt(i % 2),
        amount: 1000n + BigInt(i),
        pooled: true,
      }));
      const total = (k: bigint, upTo = lots.length) =>
        lots
          .slice(0, upTo)
          .filter((l) => l.asset === k)
          .reduce((s, l) => s + l.amount, 0n);
      const exact = listChain(lots, { caps: [total(0n), total(1n), 0n, 0n] });
      for (const b of exact) await honest(list, b.input);
      // asset 1 one unit below its total: batch 1 (8 lots) is within the cap, batch 2 is not
      const tight = listChain(lots, { caps: [total(0n), total(1n) - 1n, 0n, 0n] });
      assert.ok(total(1n, 8) <= total(1n) - 1n);
      await honest(list, (tight[0] as { input: Input }).input);
      await expectWitnessFail(list, (tight[1] as { input: Input }).input);
      // one batch over the cap right away
      const low = listChain(lots.slice(0, 8), { caps: [total(0n, 8) - 1n] });
      await expectWitnessFail(list, (low[0] as { input: Input }).input);
      // the caps word: two 120-bit caps; a bit above them is rejected
      const [b] = listChain(lots.slice(0, 3));
      assert.ok(b);
      await expectWitnessFail(list, tamper(b.input, { caps: [0, (b.caps[0] as bigint) + (1n << 240n)] }));
      await expectWitnessFail(list, tamper(b.input, { caps: [1, FIELD_P - 1n] }));
      assert.deepEqual(packListCaps([5n, 6n], GA), [
        5n + (6n << 120n),
        UNBOUNDED_CAP + (UNBOUNDED_CAP << 120n),
      ]);
    });

    it("the commitment binds (id, asset, amount) of every lot", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      const w = await honest(list, b.input);
      const c = readSignal(list, w, "commitment");
      assert.equal(c, b.commitment);
      const other = async (edits: Record<string, [number, bigint]>) =>
        readSignal(list, await honest(list, tamper(b.input, edits)), "commitment");
      assert.notEqual(await other({ lotId: [1, 4n] }), c);
      assert.notEqual(await other({ lotAsset: [1, 3n] }), c);
      assert.notEqual(await other({ lotAmount: [1, 102n] }), c);
      expectConstraintFail(list, editWitness(list, w, { commitment: c + 1n }));
    });

    it("padding is inert and a prefix", async () => {
      const [b] = listChain(sorted());
      assert.ok(b);
      const w = await honest(list, b.input);
      const w2 = await honest(list, tamper(b.input, { lotId: [7, 3n] }));
      assert.deepEqual(publicSignals(list, w2), publicSignals(list, w));
      await expectWitnessFail(list, tamper(b.input, { lotAmount: [7, 10n ** 20n] }));
      await expectWitnessFail(list, tamper(b.input, { lotAsset: [7, 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotActive: [7, 1n] }));
      await expectWitnessFail(list, tamper(b.input, { lotActive: [5, 0n] })); // a hole before an active lot
      expectConstraintFail(list, editWitness(list, w, { "factor[7].factor": 2n }));
      expectConstraintFail(list, editWitness(list, w, { "usedId[7]": 3n }));
    });
  });
});
