/**
 * The generated Groth16 verifier's `verifyBatch` on anvil, against real proofs of a small
 * fixture circuit with 17 public signals (as many as the default profile's segment circuit):
 * all-valid batches at n = 1, 4, 16, 64 (gas per proof printed after the run), one bad proof
 * among many, a proof replayed with other public inputs, swapped proofs, out-of-range values,
 * malformed lengths, a G2 point off the subgroup, and verifyProof unchanged.
 */
import assert from "node:assert/strict";
import { Contract, ContractFactory, type JsonRpcProvider, type Wallet } from "ethers";
import { FIELD_P } from "../../src/spec/encoding.js";
import { batchCallArgs, proofWords } from "../../src/toolchain/batch-verifier.js";
import { compileSolidity, verifierSourceFromVkey } from "../../src/toolchain/contracts.js";
import { type BatchItem, FQ_MODULUS } from "../../src/util/batchverify.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { type BatchToy, batchToy, proveBatchToy } from "../helpers/batchtoy.js";
import { nonSubgroupG2 } from "../helpers/g2.js";

describe("chain: batch Groth16 verifier (verifyBatch)", function () {
  this.timeout(600_000);
  let chain: LocalChain | undefined;
  let provider: JsonRpcProvider;
  let verifier: Contract;
  let sender: Wallet;
  let toy: BatchToy;
  let items: BatchItem[];
  let other: BatchItem[];
  const gas: { n: number; call: bigint; exec: bigint }[] = [];

  before(async () => {
    toy = await batchToy(16);
    items = await proveBatchToy(toy, 64, 1);
    other = await proveBatchToy(toy, 2, 2);
    chain = await startLocalChain();
    ({ provider } = chain);
    const admin = chain.admin;
    sender = admin;
    const src = await verifierSourceFromVkey(toy.vkey, "ToyVerifier");
    const c = (await compileSolidity({ "build/contracts/ToyVerifier.sol": src })).ToyVerifier;
    if (!c) throw new Error("no ToyVerifier");
    const f = new ContractFactory(c.abi as never, c.bytecode, admin);
    const d = await f.deploy();
    await d.waitForDeployment();
    verifier = new Contract(await d.getAddress(), c.abi as never, provider);
  });

  after(async () => {
    await chain?.stop();
    if (gas.length > 0) {
      console.log(
        "\n    verifyBatch gas (17 public signals; call = a transaction's gasUsed incl. 21k + calldata; exec = call - 21k - calldata):",
      );
      for (const g of gas) {
        console.log(
          `      n=${g.n}: call ${g.call} (${g.call / BigInt(g.n)}/proof), exec ${g.exec} (${g.exec / BigInt(g.n)}/proof)`,
        );
      }
    }
  });

  const batch = (xs: readonly BatchItem[]) => batchCallArgs(xs);
  const call = async (proofs: bigint[], pubSignals: bigint[]): Promise<boolean> =>
    (await verifier.getFunction("verifyBatch").staticCall(proofs, pubSignals)) as boolean;

  it("keeps snarkjs's verifyProof", async () => {
    const it0 = items[0] as BatchItem;
    const w = proofWords(it0.proof);
    const ok = await verifier.getFunction("verifyProof").staticCall(
      [w[0], w[1]],
      [
        [w[2], w[3]],
        [w[4], w[5]],
      ],
      [w[6], w[7]],
      it0.publicSignals.map(BigInt),
    );
    assert.equal(ok, true);
  });

  for (const n of [1, 4, 16, 64]) {
    it(`accepts ${n} valid proofs (gas measured)`, async () => {
      const { proofs, pubSignals } = batch(items.slice(0, n));
      assert.equal(await call(proofs, pubSignals), true);
      // A transaction with an ample gas limit: eth_estimateGas would find the least gas at which
      // the call does not revert, and a verifier that runs out of gas in a precompile returns
      // false rather than reverting (so the estimate is of a failed check).
      const data = verifier.interface.encodeFunctionData("verifyBatch", [proofs, pubSignals]);
      const tx = await sender.sendTransaction({
        to: await verifier.getAddress(),
        data,
        gasLimit: 25_000_000n,
      });
      const est = (await tx.wait())?.gasUsed ?? 0n;
      const bytes = Buffer.from(data.slice(2), "hex");
      let calldataGas = 0n;
      for (const b of bytes) calldataGas += b === 0 ? 4n : 16n;
      gas.push({ n, call: est, exec: est - 21000n - calldataGas });
    });
  }

  it("rejects one bad proof among 64 valid ones, wherever it is", async () => {
    for (const at of [0, 1, 31, 63]) {
      const xs = items.slice(0, 64).map((x) => ({ ...x }));
      const signals = [...(xs[at] as BatchItem).publicSignals];
      signals[5] = ((BigInt(signals[5] as string) + 1n) % FIELD_P).toString();
      (xs[at] as BatchItem).publicSignals = signals;
      const { proofs, pubSignals } = batch(xs);
      assert.equal(await call(proofs, pubSignals), false, `bad proof at ${at}`);
    }
  });

  it("rejects a proof replayed with other public inputs, and two proofs with swapped inputs", async () => {
    const replay = [
      ...items.slice(0, 7),
      { proof: (items[0] as BatchItem).proof, publicSignals: (other[0] as BatchItem).publicSignals },
    ];
    const r = batch(replay);
    assert.equal(await call(r.proofs, r.pubSignals), false);
    const a = items[3] as BatchItem;
    const b = items[4] as BatchItem;
    const swapped = [
      ...items.slice(0, 3),
      { proof: a.proof, publicSignals: b.publicSignals },
      { proof: b.proof, publicSignals: a.publicSignals },
    ];
    const s = batch(swapped);
    assert.equal(await call(s.proofs, s.pubSignals), false);
    // the same proof twice with its own inputs is fine (it is valid)
    const dup = batch([a, a, b]);
    assert.equal(await call(dup.proofs, dup.pubSignals), true);
  });

  it("rejects a signal >= r (even a proof's signal + r), a coordinate >= q, and bad lengths", async () => {
    const { proofs, pubSignals } = batch(items.slice(0, 4));
    const sig = [...pubSignals];
    sig[17 + 2] = (sig[17 + 2] as bigint) + FIELD_P;
    assert.equal(await call(proofs, sig), false);
    const pr = [...proofs];
    pr[8 + 1] = (pr[8 + 1] as bigint) + FQ_MODULUS; // a.y of proof 1
    assert.equal(await call(pr, pubSignals), false);
    const pr0 = [...proofs];
    pr0[1] = (pr0[1] as bigint) + FQ_MODULUS; // a.y of proof 0 (no ecMul on it)
    assert.equal(await call(pr0, pubSignals), false);
    assert.equal(await call([], []), false);
    assert.equal(await call(proofs.slice(0, 31), pubSignals), false);
    assert.equal(await call(proofs, pubSignals.slice(0, 67)), false);
    assert.equal(await call(proofs, [...pubSignals, 0n]), false);
  });

  it("rejects a B outside the order-r subgroup and A off the curve", async () => {
    const { proofs, pubSignals } = batch(items.slice(0, 4));
    const g2 = nonSubgroupG2();
    const pr = [...proofs];
    // b in verifyProof order: x.im, x.re, y.im, y.re
    [pr[8 + 2], pr[8 + 3], pr[8 + 4], pr[8 + 5]] = [g2[0][1], g2[0][0], g2[1][1], g2[1][0]];
    assert.equal(await call(pr, pubSignals), false);
    const off = [...proofs];
    off[16 + 1] = (off[16 + 1] as bigint) + 1n;
    assert.equal(await call(off, pubSignals), false);
  });
});
