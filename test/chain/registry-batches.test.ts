/**
 * SolvencyRegistry's grouped submission (`submitSegmentBatches`, `submitListBatches`: one
 * `verifyBatch` call per group) on anvil, with real Groth16 proofs — of stand-in circuits: the
 * batchtoy fixture with exactly as many public signals as the test profile's segment (12) and list
 * (8) circuits, whose inputs are set to the signals the registry derives (batch root, r, prevState,
 * meta, slots, stress, caps...) and whose output plays nextState. The registry cannot tell them
 * from the real circuits (it checks signals, not statements), so this tests everything the
 * registry does: derivation from storage, chaining in memory and across calls, first/last flags,
 * result/fingerprint on the last batch only, one bad proof in a group, replays from another
 * epoch, and the group's own errors. With the real v2 circuits the same flows run through
 * test/helpers/chain-epoch.ts once the v2 witness builder lands (lead: add a publish-level test).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Contract, ContractFactory, type Wallet, ZeroAddress } from "ethers";
import { rootsChain } from "../../src/chain/registry.js";
import { proofWords } from "../../src/toolchain/batch-verifier.js";
import { compileSolidity, verifierSourceFromVkey } from "../../src/toolchain/contracts.js";
import type { BatchItem } from "../../src/util/batchverify.js";
import { withSnarkjs } from "../../src/util/curve.js";
import { CONTRACTS_DIR } from "../../src/util/paths.js";
import { sj as snarkjs } from "../../src/util/snarkjs.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { type BatchToy, batchToy } from "../helpers/batchtoy.js";

const A = 4; // test profile: assets per segment
const S = 2; // stress scenarios
const GA = 4; // global assets
const SEG_SIGNALS = 7 + A + Math.ceil((S * A) / 16); // 12
const LIST_SIGNALS = 6 + Math.ceil(GA / 2); // 8
const SEG_ID = 7n;
const MARGIN = 1000n;
const SLOT0 = 3000n | (8000n << 96n) | (0n << 110n) | ((1n << 100n) << 114n);
const SLOTS = [SLOT0, 1n, 1n, 1n];
const STRESS = [0n];
const POOL_CAPS = [0n, 0n];
const ROOTS = [111n, 222n, 333n];
const COMMITS = [444n, 555n];
const ROOTS_CHAIN = rootsChain(ROOTS);
const COMMITS_CHAIN = rootsChain(COMMITS);

/** The committed roots (or commitments) of n batches from `first` and the chain's tail after them. */
function chainPart(all: bigint[], chain: string[], first: bigint, n: number) {
  const end = Math.min(all.length, Number(first) + n);
  return { part: all.slice(Number(first), end), tail: chain[end] };
}

/** submitSegmentBatches' group: batches first.. of the segment, with their roots and the chain's tail. */
function segGroup(
  first: bigint,
  proofs: unknown[],
  nextStates: unknown[],
  result: bigint,
  fingerprint: bigint,
) {
  const { part, tail } = chainPart(ROOTS, ROOTS_CHAIN, first, nextStates.length);
  return { firstBatch: first, proofs, nextStates, result, fingerprint, batchRoots: part, rootsTail: tail };
}

/** Every batch of the segment in one group, ending with its result and fingerprint. */
function wholeSegment(proofs: { item: BatchItem; next: bigint }[]) {
  return segGroup(
    0n,
    proofs.map((p) => toSol(p.item)),
    proofs.map((p) => p.next),
    RESULT,
    FP,
  );
}

/** submitListBatches' group, likewise. */
function listGroup(first: bigint, proofs: unknown[], nextStates: unknown[], fingerprint: bigint) {
  const { part, tail } = chainPart(COMMITS, COMMITS_CHAIN, first, nextStates.length);
  return {
    firstBatch: first,
    proofs,
    nextStates,
    fingerprint,
    commitments: part,
    commitmentsTail: tail,
    poolCaps: POOL_CAPS,
  };
}
const RESULT = 1n; // healthy, no stress bits, band 0
const FP = 987654321n;

type Proof = { a: bigint[]; b: bigint[][]; c: bigint[] };
const toSol = (it: BatchItem): Proof => {
  const w = proofWords(it.proof);
  return {
    a: [w[0], w[1]] as bigint[],
    b: [[w[2], w[3]] as bigint[], [w[4], w[5]] as bigint[]],
    c: [w[6], w[7]] as bigint[],
  };
};

/** A proof whose public signals are [y, ...x] with y the circuit's output (the "nextState"). */
async function prove(toy: BatchToy, x: bigint[], w: bigint): Promise<{ item: BatchItem; next: bigint }> {
  if (x.length !== toy.nInputs) throw new Error(`${x.length} inputs for ${toy.nInputs}`);
  const { proof, publicSignals } = await withSnarkjs(() =>
    snarkjs.groth16.fullProve({ x: x.map(String), w: String(w) }, toy.art.wasm, toy.art.zkey),
  );
  return { item: { proof, publicSignals }, next: BigInt(publicSignals[0] as string) };
}

const segMeta = (epoch: bigint, b: number) =>
  SEG_ID |
  (MARGIN << 32n) |
  (b === 0 ? 1n << 48n : 0n) |
  (b === ROOTS.length - 1 ? 1n << 49n : 0n) |
  (epoch << 50n);
const listMeta = (epoch: bigint, b: number) =>
  (b === 0 ? 1n : 0n) | (b === COMMITS.length - 1 ? 2n : 0n) | (epoch << 2n);

/** Proofs of every segment batch of `epoch` (r read from the registry), chained. */
async function segmentProofs(toy: BatchToy, epoch: bigint, r: bigint, salt = 0n) {
  const out: { item: BatchItem; next: bigint }[] = [];
  let prev = 0n;
  for (let b = 0; b < ROOTS.length; b++) {
    const last = b === ROOTS.length - 1;
    const x = [
      ROOTS[b] as bigint,
      last ? RESULT : 0n,
      last ? FP : 0n,
      r,
      prev,
      segMeta(epoch, b),
      ...SLOTS,
      ...STRESS,
    ];
    const p = await prove(toy, x, 5n + BigInt(b) + salt);
    out.push(p);
    prev = p.next;
  }
  return out;
}

async function listProofs(toy: BatchToy, epoch: bigint, r: bigint) {
  const out: { item: BatchItem; next: bigint }[] = [];
  let prev = 0n;
  for (let b = 0; b < COMMITS.length; b++) {
    const last = b === COMMITS.length - 1;
    const x = [COMMITS[b] as bigint, last ? FP : 0n, r, prev, listMeta(epoch, b), ...POOL_CAPS];
    const p = await prove(toy, x, 9n + BigInt(b));
    out.push(p);
    prev = p.next;
  }
  return out;
}

describe("chain: registry grouped submission (submitSegmentBatches / submitListBatches)", function () {
  this.timeout(600_000);
  let chain: LocalChain | undefined;
  let admin: Wallet;
  let segToy: BatchToy;
  let listToy: BatchToy;
  let factory: ContractFactory;
  let segAddr: string;
  let listAddr: string;
  const gas: string[] = [];

  before(async () => {
    segToy = await batchToy(SEG_SIGNALS - 1);
    listToy = await batchToy(LIST_SIGNALS - 1);
    chain = await startLocalChain();
    ({ admin } = chain);
    const sources: Record<string, string> = {
      "build/contracts/SegmentVerifier.sol": await verifierSourceFromVkey(segToy.vkey, "SegmentVerifier"),
      "build/contracts/LotListVerifier.sol": await verifierSourceFromVkey(listToy.vkey, "LotListVerifier"),
    };
    for (const n of ["SolvencyRegistry.sol", "ISolvencyRegistry.sol"])
      sources[`contracts/${n}`] = readFileSync(path.join(CONTRACTS_DIR, n), "utf8");
    const out = await compileSolidity(sources);
    const deploy = async (name: string, args: unknown[] = []) => {
      const c = out[name];
      if (!c) throw new Error(`no ${name}`);
      const d = await new ContractFactory(c.abi as never, c.bytecode, admin).deploy(...args);
      await d.waitForDeployment();
      return d.getAddress();
    };
    segAddr = await deploy("SegmentVerifier");
    listAddr = await deploy("LotListVerifier");
    const reg = out.SolvencyRegistry;
    if (!reg) throw new Error("no SolvencyRegistry");
    factory = new ContractFactory(reg.abi as never, reg.bytecode, admin);
  });

  after(async () => {
    await chain?.stop();
    if (gas.length)
      console.log(
        `\n    grouped submission gas (stand-in circuits, test-profile signal counts):\n      ${gas.join("\n      ")}`,
      );
  });

  async function freshRegistry(): Promise<Contract> {
    const d = await factory.deploy(admin.address, segAddr, listAddr, ZeroAddress, {
      assetSlots: A,
      stressScenarios: S,
      globalAssets: GA,
      lotsPerBatch: 4,
      liabsPerBatch: 4,
      lotsPerGlobalBatch: 8,
    });
    await d.waitForDeployment();
    const reg = new Contract(await d.getAddress(), factory.interface, admin);
    await (
      await reg.getFunction("grantRole")(await reg.getFunction("PUBLISHER_ROLE")(), admin.address)
    ).wait();
    return reg;
  }

  async function commit(reg: Contract, epoch: bigint): Promise<bigint> {
    const eth = { symbol: "ETH", decimals: 18, token: ZeroAddress };
    const seg = {
      id: SEG_ID,
      marginBps: MARGIN,
      slots: SLOTS,
      stress: STRESS,
      batchRoots: ROOTS,
      assets: [eth],
    };
    await (await reg.getFunction("commitEpoch")(epoch, [eth], POOL_CAPS, [seg], COMMITS, [])).wait();
    const v = await reg.getFunction("getEpoch")(epoch);
    return BigInt(v.r);
  }

  const revertName = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      const e = err as { revert?: { name?: string }; data?: string };
      if (e.revert?.name) return e.revert.name;
      if (e.data) return factory.interface.parseError(e.data)?.name ?? "unknown";
      throw err;
    }
    return "no revert";
  };

  it("accepts a whole segment and the whole list in one call each, then finalizes", async () => {
    const reg = await freshRegistry();
    const r = await commit(reg, 1n);
    const seg = await segmentProofs(segToy, 1n, r);
    const list = await listProofs(listToy, 1n, r);
    const tx = await reg.getFunction("submitSegmentBatches")(1n, 0n, wholeSegment(seg));
    gas.push(`submitSegmentBatches, 3 batches: ${(await tx.wait()).gasUsed}`);
    const tl = await reg.getFunction("submitListBatches")(
      1n,
      listGroup(
        0n,
        list.map((p) => toSol(p.item)),
        list.map((p) => p.next),
        FP,
      ),
    );
    gas.push(`submitListBatches, 2 batches: ${(await tl.wait()).gasUsed}`);
    await (await reg.getFunction("finalizeEpoch")(1n, POOL_CAPS)).wait();
    assert.equal(await reg.getFunction("isHealthy")(SEG_ID), true);
  });

  it("chains across calls (a group of 2, then a group of 1) and rejects bad groups", async () => {
    const reg = await freshRegistry();
    const r = await commit(reg, 1n);
    const seg = await segmentProofs(segToy, 1n, r);
    const f = reg.getFunction("submitSegmentBatches");
    const two = seg.slice(0, 2);
    // the group does not end with the last batch: no result, no fingerprint
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            two.map((p) => toSol(p.item)),
            two.map((p) => p.next),
            RESULT,
            0n,
          ),
        ),
      ),
      "ResultOnNonLastBatch",
    );
    assert.equal(await revertName(f.staticCall(1n, 0n, segGroup(0n, [], [], 0n, 0n))), "EmptyBatchGroup");
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            two.map((p) => toSol(p.item)),
            [two[0]?.next],
            0n,
            0n,
          ),
        ),
      ),
      "BatchGroupLengthMismatch",
    );
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            1n,
            two.map((p) => toSol(p.item)),
            two.map((p) => p.next),
            0n,
            0n,
          ),
        ),
      ),
      "BatchOutOfOrder",
    );
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            seg
              .concat(seg)
              .slice(0, 4)
              .map((p) => toSol(p.item)),
            [1n, 2n, 3n, 4n],
            0n,
            0n,
          ),
        ),
      ),
      "BatchNotInManifest",
    );
    // a wrong nextState in the middle of the group breaks the chain: the next proof's prevState differs
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            two.map((p) => toSol(p.item)),
            [(two[0]?.next as bigint) + 1n, two[1]?.next],
            0n,
            0n,
          ),
        ),
      ),
      "InvalidProof",
    );
    // one bad proof in the group (batch 1's proof replaced by batch 0's)
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            [toSol(seg[0]?.item as BatchItem), toSol(seg[0]?.item as BatchItem)],
            two.map((p) => p.next),
            0n,
            0n,
          ),
        ),
      ),
      "InvalidProof",
    );
    await (
      await f(
        1n,
        0n,
        segGroup(
          0n,
          two.map((p) => toSol(p.item)),
          two.map((p) => p.next),
          0n,
          0n,
        ),
      )
    ).wait();
    assert.equal(
      await revertName(
        f.staticCall(
          1n,
          0n,
          segGroup(
            0n,
            two.map((p) => toSol(p.item)),
            two.map((p) => p.next),
            0n,
            0n,
          ),
        ),
      ),
      "BatchAlreadyAccepted",
    );
    const last = seg[2] as { item: BatchItem; next: bigint };
    await (await f(1n, 0n, segGroup(2n, [toSol(last.item)], [last.next], RESULT, FP))).wait();
    const v = await reg.getFunction("getEpoch")(1n);
    assert.equal(v.segments[0].complete, true);
  });

  it("rejects a group replayed from another epoch (same roots, other r and epoch)", async () => {
    const reg = await freshRegistry();
    const r1 = await commit(reg, 1n);
    const r2 = await commit(reg, 2n);
    assert.notEqual(r1, r2);
    const seg1 = await segmentProofs(segToy, 1n, r1);
    const f = reg.getFunction("submitSegmentBatches");
    assert.equal(await revertName(f.staticCall(2n, 0n, wholeSegment(seg1))), "InvalidProof");
    const list1 = await listProofs(listToy, 1n, r1);
    assert.equal(
      await revertName(
        reg.getFunction("submitListBatches").staticCall(
          2n,
          listGroup(
            0n,
            list1.map((p) => toSol(p.item)),
            list1.map((p) => p.next),
            FP,
          ),
        ),
      ),
      "InvalidProof",
    );
    // and in its own epoch it is fine
    await (await f(1n, 0n, wholeSegment(seg1))).wait();
  });
});
