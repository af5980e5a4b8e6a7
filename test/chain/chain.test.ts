/**
 * SolvencyRegistry on a real local node (anvil on 127.0.0.1, random free port, started and stopped
 * here), with the real snarkjs verifiers of the `test` profile and real proofs of small epochs.
 * Every rejection path of the registry has its own test; each test deploys a fresh registry.
 */
import assert from "node:assert/strict";
import {
  type Contract,
  ContractFactory,
  Interface,
  type InterfaceAbi,
  JsonRpcProvider,
  type Wallet,
  ZeroHash,
} from "ethers";
import { REGISTRY_ABI } from "../../src/chain/abi.js";
import {
  type DeployArtifacts,
  deployRegistry,
  NO_GOVERNANCE,
  registryConfig,
} from "../../src/chain/deploy.js";
import { publishEpoch } from "../../src/chain/publish.js";
import {
  type ChainEpoch,
  ChainError,
  type ChainListBatch,
  type ChainSegmentBatch,
  manifestArgs,
  manifestOf,
  readEpoch,
  readLatestEpoch,
  registryAt,
  rootsChain,
  sendTx,
} from "../../src/chain/registry.js";
import { readStatus } from "../../src/chain/status.js";
import { buildSegmentBatch } from "../../src/epoch/inputs.js";
import {
  decodeResult,
  deriveR,
  FIELD_P,
  initPoseidon,
  manifestHash,
  type SlotParams,
  UNBOUNDED_CAP,
} from "../../src/spec/encoding.js";
import { getProfile } from "../../src/spec/profiles.js";
import { ensureCircuit } from "../../src/toolchain/artifacts.js";
import { compileRegistryWith } from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { type AnvilNode, type LocalChain, startLocalChain } from "../helpers/anvil.js";
import {
  liability,
  lot,
  type PlannedEpoch,
  type Prover,
  planEpoch,
  proveEpoch,
  proveSegment,
  resalted,
} from "../helpers/chain-epoch.js";

const PROFILE = getProfile("test");
/** slot 0 = WETH (global asset 0), slot 1 = USDC (global asset 1); no custody caps */
const SLOTS: SlotParams[] = [
  { price: 300000000000n, cfBps: 8000n, asset: 0n, cap: UNBOUNDED_CAP, pooled: true },
  { price: 100000000n, cfBps: 10000n, asset: 1n, cap: UNBOUNDED_CAP, pooled: true },
];

describe("chain: SolvencyRegistry on anvil", function () {
  this.timeout(600_000);

  let chain: LocalChain | undefined;
  let node: AnvilNode | undefined;
  let provider: JsonRpcProvider | undefined;
  let admin: Wallet;
  let outsider: Wallet;
  let arts: DeployArtifacts;
  let compiledAbi: InterfaceAbi;
  let prover: Prover;
  /** main epoch: segment 10 healthy (2 batches), 20 unhealthy, 30 healthy; lot list 2 batches */
  let plan: PlannedEpoch;
  let main: ChainEpoch;
  /** segment 30's only batch, proven with r + 1 */
  let wrongR: ChainSegmentBatch;
  /** segment 10's batch 1, proven from a prevState with another salt than batch 0's nextState */
  let brokenChain: ChainSegmentBatch;
  /** lot 50 in segments 10 and 20; the list holds it once */
  let dup: ChainEpoch;
  const gas: Record<string, bigint[]> = {};

  before(async () => {
    const t0 = Date.now();
    chain = await startLocalChain();
    ({ node, provider, admin, outsider } = chain);
    await initPoseidon();

    const seg = await ensureCircuit("segment", "test");
    const list = await ensureCircuit("lotlist", "test");
    prover = { segment: seg, lotlist: list, profile: PROFILE };
    const compiled = await compileRegistryWith({ segment: seg.zkey, lotlist: list.zkey });
    const pick = (n: string) => {
      const c = compiled[n];
      if (!c) throw new Error(`${n} not compiled`);
      return c;
    };
    arts = {
      segmentVerifier: pick("SegmentVerifier"),
      listVerifier: pick("LotListVerifier"),
      registry: pick("SolvencyRegistry"),
      profile: "test",
    };
    compiledAbi = pick("SolvencyRegistry").abi as InterfaceAbi;

    plan = planEpoch(PROFILE, 5n, [
      {
        id: 10n,
        marginBps: 1000n,
        slots: SLOTS,
        // healthy now and with WETH at -50%, not with WETH at zero
        stress: [
          [5000n, 10000n],
          [0n, 10000n],
        ],
        lots: [1n, 3n, 5n, 7n, 9n, 11n].map((id) => lot(id, 10n, id % 2n === 1n ? 0n : 1n, 10n ** 18n)),
        liabilities: [liability(77n, 10n, 1n, 1000n * 10n ** 8n)],
      },
      {
        id: 20n,
        marginBps: 500n,
        slots: SLOTS,
        lots: [lot(2n, 20n, 1n, 100n), lot(4n, 20n, 1n, 100n)],
        liabilities: [liability(78n, 20n, 1n, 10n ** 20n)],
      },
      { id: 30n, marginBps: 0n, slots: SLOTS, lots: [lot(6n, 30n, 0n, 5n)], liabilities: [] },
    ]);
    main = await proveEpoch(prover, plan);

    const s30 = plan.segments[2]?.spec;
    const s10 = plan.segments[0];
    if (!s30 || !s10) throw new Error("fixture");
    const b30 = plan.segments[2]?.batches[0];
    if (!b30) throw new Error("fixture");
    wrongR = await proveSegment(
      prover,
      buildSegmentBatch({
        profile: PROFILE,
        epoch: plan.epoch,
        segmentId: 30n,
        marginBps: 0n,
        slots: SLOTS,
        stress: [],
        isFirst: true,
        isLast: true,
        r: (plan.r + 1n) % FIELD_P,
        prev: null,
        nextSalt: b30.next.salt,
        lots: s30.lots,
        liabilities: [],
      }),
    );
    const first10 = s10.batches[0];
    const second10 = s10.batches[1];
    if (!first10 || !second10) throw new Error("fixture");
    brokenChain = await proveSegment(
      prover,
      buildSegmentBatch({
        profile: PROFILE,
        epoch: plan.epoch,
        segmentId: 10n,
        marginBps: 1000n,
        slots: SLOTS,
        stress: [],
        isFirst: false,
        isLast: true,
        r: plan.r,
        prev: resalted(first10.next),
        nextSalt: second10.next.salt,
        lots: s10.spec.lots.slice(4),
        liabilities: [],
      }),
    );

    const shared10 = lot(50n, 10n, 0n, 7n);
    const one = lot(1n, 10n, 0n, 7n);
    const dupPlan = planEpoch(
      PROFILE,
      6n,
      [
        { id: 10n, marginBps: 0n, slots: SLOTS, lots: [one, shared10], liabilities: [] },
        { id: 20n, marginBps: 0n, slots: SLOTS, lots: [lot(50n, 20n, 0n, 7n)], liabilities: [] },
      ],
      [one, shared10],
    );
    dup = await proveEpoch(prover, dupPlan);
    console.log(
      `      fixture: anvil ${node.url}, artifacts, contracts and 11 proofs in ${Math.round((Date.now() - t0) / 1000)}s`,
    );
  });

  after(async () => {
    const rows = Object.entries(gas).map(([k, v]) => `${k}: ${v.map(String).join(", ")}`);
    if (rows.length) console.log(`      gas (test profile, A=4):\n        ${rows.join("\n        ")}`);
    await chain?.stop();
    await terminateCurves();
  });

  const record = (k: string, v: bigint) => {
    gas[k] ??= [];
    gas[k].push(v);
  };

  async function freshRegistry(): Promise<Contract> {
    const d = await deployRegistry(admin, arts, { profile: PROFILE });
    return registryAt(d.registry, admin);
  }

  async function expectRevert(p: Promise<unknown>, name: string): Promise<ChainError> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof ChainError, `expected a ChainError, got ${String(err)}`);
      assert.equal(err.revertName, name, err.message);
      return err;
    }
    assert.fail(`expected a revert with ${name}`);
  }

  const commit = (reg: Contract, e: ChainEpoch) =>
    sendTx("commitEpoch", () => reg.getFunction("commitEpoch")(...manifestArgs(manifestOf(e))));
  /** One segment batch (a group of one) with its committed root and the roots chain after it. */
  const submitSeg = (
    reg: Contract,
    e: ChainEpoch,
    si: number,
    bi: number,
    b?: ChainSegmentBatch,
    roots?: { batchRoots: bigint[]; rootsTail: string },
  ) => {
    const batch = b ?? e.segments[si]?.batches[bi];
    if (!batch) throw new Error("no such batch in the fixture");
    const all = e.segments[si]?.batchRoots ?? [];
    const chain = rootsChain(all);
    return sendTx(`submitSegmentBatches(${si}, ${bi})`, () =>
      reg.getFunction("submitSegmentBatches")(e.epoch, si, {
        firstBatch: bi,
        proofs: [batch.proof],
        nextStates: [batch.nextState],
        result: batch.result,
        fingerprint: batch.fingerprint,
        batchRoots: roots?.batchRoots ?? all.slice(bi, bi + 1),
        rootsTail: roots?.rootsTail ?? chain[bi + 1] ?? ZeroHash,
      }),
    );
  };
  /** One list batch with its committed commitment, the chain after it and the pooled caps (or `over`). */
  const submitList = (
    reg: Contract,
    e: ChainEpoch,
    bi: number,
    b?: ChainListBatch,
    over: { commitments?: bigint[]; commitmentsTail?: string; poolCaps?: bigint[] } = {},
  ) => {
    const batch = b ?? e.list[bi];
    if (!batch) throw new Error("no such list batch in the fixture");
    const chain = rootsChain(e.globalCommitments);
    return sendTx(`submitListBatches(${bi})`, () =>
      reg.getFunction("submitListBatches")(e.epoch, {
        firstBatch: bi,
        proofs: [batch.proof],
        nextStates: [batch.nextState],
        fingerprint: batch.fingerprint,
        commitments: e.globalCommitments.slice(bi, bi + 1),
        commitmentsTail: chain[bi + 1] ?? ZeroHash,
        poolCaps: e.poolCaps,
        ...over,
      }),
    );
  };
  const finalize = (reg: Contract, e: ChainEpoch) =>
    sendTx("finalizeEpoch", () => reg.getFunction("finalizeEpoch")(e.epoch, e.poolCaps));

  it("embeds the compiled registry ABI (src/chain/abi.ts)", () => {
    const embedded = new Interface(REGISTRY_ABI as string[]).format().sort();
    const compiled = new Interface(compiledAbi).format().sort();
    assert.deepEqual(embedded, compiled);
  });

  it("computes manifestHash and r on chain exactly as encoding.ts", async () => {
    const reg = await freshRegistry();
    const m = manifestOf(main);
    const [h, r] = (await reg.getFunction("commitEpoch").staticCall(...manifestArgs(m))) as [string, bigint];
    assert.equal(h, manifestHash(m));
    assert.equal(r, deriveR(m.epoch, h));
    assert.equal(h, plan.manifestHash);
    record("commitEpoch (3 segments, 4 roots, 2 commitments)", (await commit(reg, main)).gasUsed);
    const v = await readEpoch(reg, main.epoch);
    assert.ok(v);
    assert.equal(v.manifestHash, plan.manifestHash);
    assert.equal(v.r, plan.r);
    assert.deepEqual(
      v.segments.map((s) => [s.id, s.batchRoots]),
      m.segments.map((s) => [Number(s.id), s.batchRoots]),
    );
  });

  it("accepts a valid epoch and makes it readable; an unhealthy segment leaves the others healthy", async () => {
    const reg = await freshRegistry();
    assert.equal(await reg.getFunction("isHealthy")(10), false, "nothing is healthy before the first epoch");
    const res = await publishEpoch(reg, main);
    assert.equal(res.committed, "sent");
    assert.equal(res.finalized, "sent");
    assert.equal(res.batchesSent, 6);
    if (res.gas.commitEpoch) record("commitEpoch (via publish)", res.gas.commitEpoch);
    for (const g of res.gas.segmentBatches) record(`submitSegmentBatches (from batch ${g.batch})`, g.gasUsed);
    for (const g of res.gas.listBatches) record(`submitListBatches (from batch ${g.batch})`, g.gasUsed);
    if (res.gas.finalizeEpoch) record("finalizeEpoch (3 segments)", res.gas.finalizeEpoch);

    assert.equal(await reg.getFunction("latestEpoch")(), 5n);
    assert.equal(await reg.getFunction("isHealthy")(10), true);
    assert.equal(await reg.getFunction("isHealthy")(20), false, "segment 20 is insolvent");
    assert.equal(await reg.getFunction("isHealthy")(30), true, "segment 30 is unaffected by segment 20");
    assert.equal(await reg.getFunction("isHealthy")(99), false, "an unknown segment is not healthy");
    const rec = await reg.getFunction("segmentRecord")(10);
    assert.equal(rec.epoch, 5n);
    assert.equal(rec.healthy, true);
    assert.equal(rec.marginBps, 1000n);
    assert.ok(rec.finalizedAt > 0n);
    assert.deepEqual([...rec.slots], main.segments[0]?.slots);
    assert.deepEqual([...rec.stress], main.segments[0]?.stress);
    const last10 = main.segments[0]?.batches.at(-1);
    assert.ok(last10);
    const want = decodeResult(last10.result, PROFILE.stressScenarios);
    assert.equal(Number(rec.band), want.band, "the record holds the proven coverage band");
    assert.equal(Number(rec.stressBits), 0b01, "scenario 1 (WETH -50%) passes, scenario 2 (WETH at 0) fails");
    assert.ok(want.band >= 1);
    const rec20 = await reg.getFunction("segmentRecord")(20);
    assert.equal(Number(rec20.band), 0, "the insolvent segment is in band 0 (< 100%)");
    assert.equal(Number(rec.batchCount), main.segments[0]?.batchRoots.length);
    await expectRevert(
      reg
        .getFunction("segmentRecord")(99)
        .catch((e: unknown) => {
          throw new ChainError("segmentRecord", e);
        }),
      "UnknownSegment",
    );
    const latest = await readLatestEpoch(reg);
    assert.ok(latest?.finalized);
    assert.deepEqual(
      latest.segments.map((s) => [s.id, s.healthy, s.batchRoots]),
      main.segments.map((s, i) => [Number(s.id), i !== 1, s.batchRoots]),
    );
    const status = await readStatus(reg);
    assert.equal(status.latestEpoch, "5");
    assert.equal(status.healthyCount, 2);
    assert.equal(status.unhealthyCount, 1);

    // publishing again is a no-op
    const again = await publishEpoch(reg, main);
    assert.equal(again.committed, "already");
    assert.equal(again.finalized, "already");
    assert.equal(again.batchesSent, 0);
  });

  it("a reader whose RPC serves no logs, or altered logs, gets a clear error, never an epoch without its committed roots", async () => {
    const reg = await freshRegistry();
    await publishEpoch(reg, main);
    // the roots, commitments, caps and asset table live in the commit's logs, not in storage
    class NoLogs extends JsonRpcProvider {
      override async send(method: string, params: unknown[] | Record<string, unknown>) {
        return method === "eth_getLogs" ? [] : super.send(method, params);
      }
    }
    // ... and logs altered on the way (the first query's: every segment's last batch root) do not
    // hash to the stored manifest hash
    class Altered extends JsonRpcProvider {
      altered = false;
      override async send(method: string, params: unknown[] | Record<string, unknown>) {
        const r = await super.send(method, params);
        if (method !== "eth_getLogs" || this.altered) return r;
        this.altered = true;
        return (r as { data: string }[]).map((l) => ({
          ...l,
          data: `${l.data.slice(0, -1)}${l.data.endsWith("0") ? "1" : "0"}`,
        }));
      }
    }
    const blind = new NoLogs(node?.url, undefined, { staticNetwork: true, batchMaxCount: 1 });
    const altered = new Altered(node?.url, undefined, { staticNetwork: true, batchMaxCount: 1 });
    try {
      await assert.rejects(
        readLatestEpoch(registryAt(await reg.getAddress(), blind)),
        /epoch 5: the registry's ListCommitted log of block \d+ is missing: does the RPC serve logs/,
      );
      await assert.rejects(
        readLatestEpoch(registryAt(await reg.getAddress(), altered)),
        /epoch 5: the registry's commit logs and storage hash to 0x[0-9a-f]{64}, not to its stored manifest hash/,
      );
      assert.ok(await readLatestEpoch(reg), "the honest node's logs pass the same check");
    } finally {
      blind.destroy();
      altered.destroy();
    }
  });

  it("stores the committed asset slots and exposes each segment's latest record with its epoch and finalization time", async () => {
    const reg = await freshRegistry();
    type Status = [boolean, boolean, boolean, bigint, bigint, bigint, bigint, bigint];
    const status = async (id: number): Promise<Status> =>
      [...((await reg.getFunction("segmentStatus")(id)) as Status)] as Status;
    assert.deepEqual(
      await status(10),
      [false, false, false, 0n, 0n, 0n, 0n, 0n],
      "nothing before the first epoch",
    );
    await publishEpoch(reg, main);
    const block = await provider?.getBlock("latest");
    const [listed, healthy, fresh, epoch, committedAt, finalizedAt, maxAge, oldestPriceAt] = await status(10);
    assert.deepEqual([listed, healthy, fresh, epoch], [true, true, true, 5n]);
    assert.equal(finalizedAt, BigInt(block?.timestamp ?? -1), "finalized in the last block");
    assert.ok(committedAt > 0n && committedAt <= finalizedAt);
    assert.deepEqual([maxAge, oldestPriceAt], [2n ** 64n - 1n, 0n], "ungoverned: no age bound, no oracle");
    assert.deepEqual((await status(20)).slice(0, 4), [true, false, true, 5n], "insolvent segment");
    assert.deepEqual(
      await status(99),
      [false, false, false, 5n, committedAt, finalizedAt, 0n, 0n],
      "unlisted segment",
    );
    // the one freshness rule (isHealthy): listed && healthy && now <= committedAt + maxAge
    const rec = await reg.getFunction("segmentRecord")(10);
    assert.equal(rec.finalizedAt, finalizedAt);
    // the asset table is not stored: readers take it from the commit's log, and a segment's asset
    // slots from the slot words' global indices into it
    const v = await readLatestEpoch(reg);
    assert.deepEqual(v?.globalAssets, main.globalAssets);
    assert.deepEqual(
      v?.segments[0]?.assets.map((a) => [a.symbol, a.decimals]),
      [
        ["WETH", 18],
        ["USDC", 6],
      ],
    );
    assert.deepEqual(
      v?.segments.map((x) => x.assets),
      main.segments.map((x) => x.assets),
    );
  });

  it("refuses development verifiers on a chain that is not local, unless allowed", async () => {
    const remote = await startLocalChain({ chainId: 11155111 });
    try {
      const w = remote.admin;
      // arts carries no contracts-build record: the development key is recognised in the verifier code
      assert.equal(arts.verifiers, undefined);
      await assert.rejects(
        deployRegistry(w, arts, { profile: PROFILE }),
        /refusing to deploy development verifiers .* on chain 11155111/,
      );
      const d = await deployRegistry(w, arts, { profile: PROFILE, allowDevKeys: true });
      assert.equal(d.devSetup, true);
      assert.equal(d.chainId, "11155111");
    } finally {
      await remote.stop();
    }
  });

  it("checks a group's roots (and the list's caps) against what was committed before verifying: a forged root, tail or cap is refused", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    const roots = main.segments[0]?.batchRoots ?? [];
    const chain = rootsChain(roots);
    const b = main.segments[0]?.batches[0];
    const d = dup.segments[0];
    assert.ok(b && d && roots.length >= 2);
    const at = (rs: (bigint | undefined)[], tail: string | undefined) => ({
      batchRoots: rs.map((x) => x as bigint),
      rootsTail: tail ?? ZeroHash,
    });
    // a root the manifest commits, at the wrong place; the right root with a forged tail
    await expectRevert(submitSeg(reg, main, 0, 0, b, at([roots[1]], chain[1])), "BatchRootsMismatch");
    await expectRevert(submitSeg(reg, main, 0, 0, b, at([roots[0]], chain[2])), "BatchRootsMismatch");
    // a real proof of another epoch's batch with the root it was made for (outputs of a non-last batch)
    const other = d.batches[0];
    assert.ok(other);
    await expectRevert(
      submitSeg(reg, main, 0, 0, { ...other, result: 0n, fingerprint: 0n }, at([d.batchRoots[0]], chain[1])),
      "BatchRootsMismatch",
    );
    await expectRevert(submitSeg(reg, main, 0, 0, b, at([], chain[1])), "BatchRootsLengthMismatch");
    await submitSeg(reg, main, 0, 0);
    // the list's commitments likewise
    const lc = main.globalCommitments;
    const lchain = rootsChain(lc);
    assert.ok(lc.length >= 2);
    await expectRevert(
      submitList(reg, main, 0, undefined, { commitments: [lc[1] as bigint], commitmentsTail: lchain[1] }),
      "BatchRootsMismatch",
    );
    // pooled caps other than the committed ones (a larger cap would let the list prove more collateral)
    const caps = [...main.poolCaps];
    caps[0] = (caps[0] as bigint) + 1n;
    await expectRevert(submitList(reg, main, 0, undefined, { poolCaps: caps }), "PoolCapsMismatch");
    await submitList(reg, main, 0);
  });

  it("resumes an interrupted publish, skipping accepted batches", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await submitSeg(reg, main, 0, 0);
    await submitList(reg, main, 0);
    const res = await publishEpoch(reg, main);
    assert.equal(res.committed, "already");
    assert.equal(res.batchesSkipped, 2);
    assert.equal(res.batchesSent, 4);
    assert.equal(await reg.getFunction("latestEpoch")(), 5n);
  });

  it("rejects an invalid proof", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    const b = main.segments[2]?.batches[0];
    const other = main.segments[0]?.batches[0];
    assert.ok(b && other);
    await expectRevert(
      submitSeg(reg, main, 2, 0, { ...b, proof: { ...b.proof, a: other.proof.a } }),
      "InvalidProof",
    );
    await expectRevert(
      submitSeg(reg, main, 2, 0, { ...b, proof: { ...b.proof, a: [1n, 3n] } }),
      "InvalidProof",
    );
    // a valid proof with a claimed output it does not prove
    await expectRevert(submitSeg(reg, main, 2, 0, { ...b, result: b.result ^ 2n }), "InvalidProof");
    await expectRevert(submitSeg(reg, main, 2, 0, { ...b, result: b.result ^ 1n }), "InvalidProof");
    await expectRevert(
      submitSeg(reg, main, 2, 0, { ...b, result: b.result + (1n << BigInt(1 + PROFILE.stressScenarios)) }),
      b.result >> BigInt(1 + PROFILE.stressScenarios) === 4n ? "InvalidResult" : "InvalidProof",
    );
    await submitSeg(reg, main, 2, 0);
  });

  it("rejects a public input at or above the field modulus", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    const b = main.segments[2]?.batches[0];
    assert.ok(b);
    await expectRevert(
      submitSeg(reg, main, 2, 0, { ...b, nextState: b.nextState + FIELD_P }),
      "ValueNotInField",
    );
    await expectRevert(
      submitSeg(reg, main, 2, 0, { ...b, fingerprint: b.fingerprint + FIELD_P }),
      "ValueNotInField",
    );
    const l = main.list[0];
    assert.ok(l);
    await expectRevert(
      submitList(reg, main, 0, { ...l, nextState: l.nextState + FIELD_P }),
      "ValueNotInField",
    );
    // manifest entries too
    const bad = structuredClone(manifestOf(main));
    (bad.segments[0] as { batchRoots: bigint[] }).batchRoots[0] = FIELD_P;
    await expectRevert(
      sendTx("commitEpoch", () => reg.getFunction("commitEpoch")(...manifestArgs({ ...bad, epoch: 9n }))),
      "ValueNotInField",
    );
  });

  it("derives r itself: a proof made with another r fails", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await expectRevert(submitSeg(reg, main, 2, 0, wrongR), "InvalidProof");
    await submitSeg(reg, main, 2, 0);
  });

  it("rejects a batch that is not in the manifest", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    const b = main.segments[2]?.batches[0];
    assert.ok(b);
    await expectRevert(submitSeg(reg, main, 2, 1, b), "BatchNotInManifest");
    await expectRevert(submitSeg(reg, main, 3, 0, b), "SegmentNotInManifest");
    await expectRevert(submitList(reg, main, 2, b), "BatchNotInManifest");
    await expectRevert(submitSeg(reg, { ...main, epoch: 4n }, 2, 0, b), "EpochNotCommitted");
    // a real proof of another epoch's batch (other root, other r) at a valid position
    const d = dup.segments[1]?.batches[0];
    assert.ok(d);
    await expectRevert(submitSeg(reg, main, 2, 0, d), "InvalidProof");
  });

  it("rejects a batch whose proof does not chain from the previous accepted batch", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await submitSeg(reg, main, 0, 0);
    await expectRevert(submitSeg(reg, main, 0, 1, brokenChain), "InvalidProof");
    await submitSeg(reg, main, 0, 1);
  });

  it("rejects a replayed batch and an out-of-order batch", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await expectRevert(submitSeg(reg, main, 0, 1), "BatchOutOfOrder");
    await submitSeg(reg, main, 0, 0);
    await expectRevert(submitSeg(reg, main, 0, 0), "BatchAlreadyAccepted");
    await expectRevert(submitList(reg, main, 1), "BatchOutOfOrder");
    await submitList(reg, main, 0);
    await expectRevert(submitList(reg, main, 0), "BatchAlreadyAccepted");
  });

  it("rejects a non-zero result on a batch that is not the last", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    const b = main.segments[0]?.batches[0];
    assert.ok(b);
    await expectRevert(submitSeg(reg, main, 0, 0, { ...b, result: 1n }), "ResultOnNonLastBatch");
  });

  it("rejects a stale or repeated epoch", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await expectRevert(commit(reg, main), "EpochNotIncreasing");
    await expectRevert(commit(reg, { ...main, epoch: 4n }), "EpochNotIncreasing");
    await expectRevert(commit(reg, { ...main, epoch: 0n }), "EpochNotIncreasing");
    // epoch numbers advance by at most MAX_EPOCH_STEP (2^20): no epoch can leave no next one
    await expectRevert(commit(reg, { ...main, epoch: 2n ** 64n - 1n }), "EpochStepTooLarge");
    await expectRevert(commit(reg, { ...main, epoch: main.epoch + 2n ** 20n + 1n }), "EpochStepTooLarge");
    await publishEpoch(reg, main);
    await expectRevert(submitSeg(reg, main, 0, 0), "EpochAlreadyFinalized");
    await expectRevert(finalize(reg, main), "EpochAlreadyFinalized");
    // a later epoch can be committed and, once it is finalized, an older one cannot overtake it
    await commit(reg, dup);
    await expectRevert(commit(reg, { ...dup, epoch: 5n }), "EpochNotIncreasing");
  });

  it("refuses to finalize with a missing batch", async () => {
    const reg = await freshRegistry();
    await commit(reg, main);
    await submitSeg(reg, main, 0, 0);
    await submitSeg(reg, main, 1, 0);
    await submitSeg(reg, main, 2, 0);
    await submitList(reg, main, 0);
    await submitList(reg, main, 1);
    await expectRevert(finalize(reg, main), "SegmentIncomplete");
    await submitSeg(reg, main, 0, 1);
    await finalize(reg, main);

    const reg2 = await freshRegistry();
    await commit(reg2, main);
    for (const [si, s] of main.segments.entries())
      for (const [bi] of s.batches.entries()) await submitSeg(reg2, main, si, bi);
    await submitList(reg2, main, 0);
    await expectRevert(finalize(reg2, main), "ListIncomplete");
    await expectRevert(finalize(reg2, { ...main, epoch: 77n }), "EpochNotCommitted");
  });

  it("refuses to finalize when a lot is counted in two segments (fingerprint mismatch)", async () => {
    const reg = await freshRegistry();
    await commit(reg, dup);
    for (const [si, s] of dup.segments.entries())
      for (const [bi] of s.batches.entries()) await submitSeg(reg, dup, si, bi);
    await submitList(reg, dup, 0);
    await expectRevert(finalize(reg, dup), "FingerprintMismatch");
    assert.equal(await reg.getFunction("latestEpoch")(), 0n);
    assert.equal(await reg.getFunction("isHealthy")(10), false);
  });

  it("rejects callers without the publisher role", async () => {
    const reg = await freshRegistry();
    const asOutsider = registryAt(await reg.getAddress(), outsider);
    await expectRevert(commit(asOutsider, main), "AccessControlUnauthorizedAccount");
    await commit(reg, main);
    await expectRevert(submitSeg(asOutsider, main, 2, 0), "AccessControlUnauthorizedAccount");
    await expectRevert(submitList(asOutsider, main, 0), "AccessControlUnauthorizedAccount");
    for (const [si, s] of main.segments.entries())
      for (const [bi] of s.batches.entries()) await submitSeg(reg, main, si, bi);
    for (const [bi] of main.list.entries()) await submitList(reg, main, bi);
    await expectRevert(finalize(asOutsider, main), "AccessControlUnauthorizedAccount");
    const role = (await reg.getFunction("PUBLISHER_ROLE")()) as string;
    await expectRevert(
      sendTx("grantRole", () => asOutsider.getFunction("grantRole")(role, outsider.address)),
      "AccessControlUnauthorizedAccount",
    );
    await sendTx("grantRole", () => reg.getFunction("grantRole")(role, outsider.address));
    await finalize(asOutsider, main);
  });

  it("validates the manifest on commit", async () => {
    const reg = await freshRegistry();
    const m = manifestOf(main);
    const variant = (f: (x: typeof m) => void) => {
      const c = structuredClone(m);
      f(c);
      return sendTx("commitEpoch", () => reg.getFunction("commitEpoch")(...manifestArgs(c)));
    };
    const seg0 = (c: typeof m) => c.segments[0] as (typeof m.segments)[number];
    await expectRevert(
      variant((c) => {
        seg0(c).slots[0] = 1n + (10001n << 96n);
      }),
      "InvalidSlotParams",
    );
    await expectRevert(
      variant((c) => {
        seg0(c).slots[1] = 0n;
      }),
      "InvalidSlotParams",
    );
    await expectRevert(
      variant((c) => {
        seg0(c).slots[3] = 2n; // an unused slot must be the canonical word (price 1, nothing else)
      }),
      "InvalidSlotParams",
    );
    await expectRevert(
      variant((c) => {
        seg0(c).slots[0] = (seg0(c).slots[0] as bigint) + (2n << 110n); // slot 0 claims global asset 2 (WBTC)
      }),
      "InvalidAssetSlots",
    );
    await expectRevert(
      variant((c) => {
        // slot 1 names WETH too: one asset in two slots would get two custody caps
        const slots = seg0(c).slots;
        slots[1] = (slots[0] as bigint) & ((1n << 114n) - 1n);
        seg0(c).assets[1] = seg0(c).assets[0] as (typeof m.segments)[number]["assets"][number];
      }),
      "InvalidAssetSlots",
    );
    await expectRevert(
      variant((c) => {
        c.globalAssets[1] = { ...(c.globalAssets[0] as (typeof m.globalAssets)[number]) };
      }),
      "InvalidGlobalAssets",
    );
    await expectRevert(
      variant((c) => {
        seg0(c).slots.pop();
      }),
      "InvalidParamsLength",
    );
    await expectRevert(
      variant((c) => {
        seg0(c).stress = [...seg0(c).stress, 0n];
      }),
      "InvalidParamsLength",
    );
    await expectRevert(
      variant((c) => {
        const w = seg0(c).stress;
        w[w.length - 1] = (w[w.length - 1] as bigint) + (1n << 240n); // a factor above the last one
      }),
      "InvalidStressParams",
    );
    await expectRevert(
      variant((c) => {
        c.poolCaps = [...c.poolCaps, 0n];
      }),
      "InvalidPoolCaps",
    );
    await expectRevert(
      variant((c) => {
        c.poolCaps[0] = 1n << 240n;
      }),
      "InvalidPoolCaps",
    );
    await expectRevert(
      variant((c) => {
        c.globalAssets = [
          ...c.globalAssets,
          { symbol: "X", decimals: 1, token: c.globalAssets[0]?.token ?? "" },
        ];
      }),
      "InvalidGlobalAssets",
    );
    await expectRevert(
      variant((c) => {
        (c.segments[0] as { marginBps: bigint }).marginBps = 50001n;
      }),
      "MarginTooHigh",
    );
    await expectRevert(
      variant((c) => {
        c.segments.reverse();
      }),
      "SegmentsNotSorted",
    );
    await expectRevert(
      variant((c) => {
        (c.segments[0] as { batchRoots: bigint[] }).batchRoots = [];
      }),
      "SegmentHasNoBatch",
    );
    await expectRevert(
      variant((c) => {
        c.globalCommitments = [];
      }),
      "ListHasNoBatch",
    );
    await expectRevert(
      variant((c) => {
        c.segments = [];
      }),
      "EmptyManifest",
    );
    const slot0 = { symbol: "WETH", decimals: 18, token: "0x0000000000000000000000000000000000000000" };
    await expectRevert(
      variant((c) => {
        (c.segments[0] as { assets: (typeof slot0)[] }).assets = [slot0, slot0, slot0, slot0, slot0];
      }),
      "InvalidAssetSlots",
    );
    await expectRevert(
      variant((c) => {
        (c.segments[0] as { assets: (typeof slot0)[] }).assets = [{ ...slot0, symbol: "" }];
      }),
      "InvalidAssetSlots",
    );
    await expectRevert(
      variant((c) => {
        (c.segments[0] as { assets: (typeof slot0)[] }).assets = [{ ...slot0, decimals: 31 }];
      }),
      "InvalidAssetSlots",
    );
  });

  it("refuses a segment with more batches than the 2^24-entry bound allows", async () => {
    // a registry whose profile has 2^23 lots per batch allows 2 batches per segment
    const d = await deployRegistry(admin, arts, { profile: { ...PROFILE, lotsPerBatch: 1 << 23 } });
    const reg = registryAt(d.registry, admin);
    const m = manifestOf(main);
    await sendTx("commitEpoch", () => reg.getFunction("commitEpoch")(...manifestArgs(m)));
    const three = structuredClone({ ...m, epoch: 6n });
    (three.segments[0] as (typeof m.segments)[number]).batchRoots.push(1n);
    await expectRevert(
      sendTx("commitEpoch", () => reg.getFunction("commitEpoch")(...manifestArgs(three))),
      "TooManyBatches",
    );
  });

  it("refuses a registry without verifier code", async () => {
    const f = new ContractFactory(arts.registry.abi as InterfaceAbi, arts.registry.bytecode, admin);
    await assert.rejects(async () => {
      try {
        await f.deploy(admin.address, admin.address, admin.address, NO_GOVERNANCE, registryConfig(PROFILE));
      } catch (err) {
        throw new ChainError("deploy", err);
      }
    }, /InvalidConfiguration/);
  });
});
