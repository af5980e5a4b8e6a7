/**
 * Publish under pending transactions. anvil mines a block every 2 seconds
 * (interval mining), so a transaction stays pending for a while after it was sent. `publish` is
 * killed (SIGKILL, through the BULKHEAD_FAULT hook) right after broadcasting a transaction, and
 * re-run at once while that transaction is still pending. Each re-run must wait for it and resume,
 * never fail, and never send a transaction twice: at the end every transaction of the publisher
 * succeeded and there is exactly one per step (commit, each batch, finalize).
 */
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { JsonRpcProvider, Wallet } from "ethers";
import { deployRegistry } from "../../src/chain/deploy.js";
import { type ProveSummary, proveSnapshot } from "../../src/pipeline.js";
import { listReceipts } from "../../src/receipts/store.js";
import { loadArtifacts } from "../../src/toolchain/artifacts.js";
import { compileRegistryWith } from "../../src/toolchain/contracts.js";
import { terminateCurves } from "../../src/util/curve.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { runCli } from "../helpers/cli.js";

describe("publish under pending transactions (interval mining)", function () {
  this.timeout(600_000);
  let chain: LocalChain | undefined;
  let tmp: string;
  let summary: ProveSummary;
  let key: string;
  let registry: string;
  let provider: JsonRpcProvider;

  before(async () => {
    chain = await startLocalChain({ args: ["--block-time", "2"] });
    key = chain.admin.privateKey;
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), "bulkhead-pending-"));
    summary = await proveSnapshot({
      snapshot: path.join(PACKAGE_ROOT, "examples", "snapshot.json"),
      out: path.join(tmp, "epoch"),
      profile: "test",
      selfAudit: false,
    });
    const zkeys = {
      segment: (await loadArtifacts("segment", "test")).zkey,
      lotlist: (await loadArtifacts("lotlist", "test")).zkey,
    };
    const c = await compileRegistryWith(zkeys);
    await terminateCurves();
    // its own provider: every read goes to the node (no cache), polled like a public RPC client
    provider = new JsonRpcProvider(chain.node.url, undefined, { pollingInterval: 200, cacheTimeout: -1 });
    const pick = (n: string) => {
      const x = c[n];
      if (!x) throw new Error(`not compiled: ${n}`);
      return x;
    };
    const d = await deployRegistry(new Wallet(key, provider), {
      segmentVerifier: pick("SegmentVerifier"),
      listVerifier: pick("LotListVerifier"),
      registry: pick("SolvencyRegistry"),
      profile: "test",
    });
    registry = d.registry;
  });

  after(async () => {
    provider?.destroy();
    await chain?.stop();
    if (tmp) await fs.rm(tmp, { recursive: true, force: true });
  });

  /** Interval mining every second, or no mining at all (transactions stay pending). */
  const mining = async (on: boolean) => {
    await provider.send("evm_setIntervalMining", [on ? 1 : 0]);
  };

  /**
   * A run during which mining is off until the CLI says it waits for a pending transaction (or
   * 8 s passed, so a CLI that does not wait still finishes); `offOn` turns mining off again when
   * that text appears, so the transaction the run sends next stays pending.
   */
  const runWhilePending = (args: string[], env: Record<string, string>, offOn?: RegExp) => {
    let resumed = false;
    const fallback = setTimeout(() => void mining(true), 8000);
    return runCli(args, {
      env,
      onStderr: (text) => {
        if (/still pending/.test(text)) void mining(true);
        if (offOn && !resumed && offOn.test(text)) {
          resumed = true;
          void mining(false);
        }
      },
    }).finally(() => clearTimeout(fallback));
  };

  it("a re-run after a kill waits for the pending transaction and resumes without a second send", async () => {
    const url = chain?.node.url ?? "";
    const me = new Wallet(key).address;
    const startNonce = await provider.getTransactionCount(me, "latest");
    // one transaction per batch (--group 1), so that a kill falls between two batches
    const args = ["publish", summary.publicDir, "--rpc", url, "--registry", registry, "--group", "1"];
    const env = { BULKHEAD_PRIVATE_KEY: key };
    const kill = { ...env, BULKHEAD_FAULT: "publish:tx-sent#1" };

    // 1: killed right after broadcasting commitEpoch, which stays pending
    await mining(false);
    const first = await runCli(args, { env: kill });
    assert.equal(first.signal, "SIGKILL", first.stderr);
    assert.equal(await provider.getTransactionCount(me, "latest"), startNonce);
    assert.equal(await provider.getTransactionCount(me, "pending"), startNonce + 1);

    // 2: waits for the commit, then killed right after broadcasting batch 0, which stays pending
    const second = await runWhilePending(args, kill, /are mined; resuming/);
    assert.equal(second.signal, "SIGKILL", second.stdout + second.stderr);
    assert.match(second.stderr, /1 transaction\(s\) of 0x[0-9a-fA-F]{40} still pending/);
    assert.match(second.stderr, /already committed with this manifest, resuming/);

    // 3: waits for batch 0 and finishes
    const third = await runWhilePending([...args, "--json"], env);
    assert.equal(third.code, 0, third.stdout + third.stderr);
    assert.match(third.stderr, /still pending/);
    const res = JSON.parse(third.stdout) as { committed: string; finalized: string; batchesSkipped: number };
    assert.equal(res.committed, "already");
    assert.equal(res.finalized, "sent");
    assert.equal(res.batchesSkipped, 1);

    // every transaction of the publisher since the deployment succeeded, one per step
    const endNonce = await provider.getTransactionCount(me, "latest");
    assert.equal(endNonce - startNonce, 1 + summary.proofs.total + 1, "commit + batches + finalize");
    const latest = await provider.getBlockNumber();
    let seen = 0;
    for (let n = latest; n >= 0 && seen < endNonce - startNonce; n--) {
      const block = await provider.getBlock(n, true);
      for (const tx of block?.prefetchedTransactions ?? []) {
        if (tx.from !== me || tx.nonce < startNonce) continue;
        const rc = await provider.getTransactionReceipt(tx.hash);
        assert.equal(rc?.status, 1, `transaction nonce ${tx.nonce} reverted`);
        seen++;
      }
    }
    assert.equal(seen, endNonce - startNonce);
  });

  it("a wrong registry says what is wrong: no code, not a registry, another chain id (JSON error objects)", async () => {
    const url = chain?.node.url ?? "";
    const env = { BULKHEAD_PRIVATE_KEY: key };
    const err = (r: { code: number | null; stdout: string; stderr: string }) => {
      assert.equal(r.code, 1, r.stdout + r.stderr);
      return JSON.parse(r.stdout) as { ok: boolean; code: string; error: string; command: string };
    };
    const empty = "0x00000000000000000000000000000000000b0b00";
    const none = err(await runCli(["status", "--rpc", url, "--registry", empty, "--json"]));
    assert.equal(none.code, "ENOCODE");
    assert.match(none.error, new RegExp(`no contract at ${empty} on chain id 31337`));

    // some other contract's code at an address
    const other = "0x0000000000000000000000000000000000000c0d";
    await provider.send("anvil_setCode", [other, "0x600160005260206000f3"]); // returns 1 for any call
    const notReg = err(
      await runCli(["publish", summary.publicDir, "--rpc", url, "--registry", other, "--json"], { env }),
    );
    assert.equal(notReg.code, "ENOTREGISTRY");
    assert.match(notReg.error, /is not a bulkhead SolvencyRegistry/);

    const dep = path.join(tmp, "deployment-chain-1.json");
    await fs.writeFile(
      dep,
      JSON.stringify({ format: "bulkhead-deployment", version: 1, chainId: "1", registry }),
    );
    const receipt = (await listReceipts(path.join(summary.privateDir, "receipts")).next()).value?.file ?? "?";
    const wrongChain = err(
      await runCli(["receipt", "verify", receipt, "--rpc", url, "--registry", dep, "--json"]),
    );
    assert.equal(wrongChain.code, "EWRONGCHAIN");
    assert.match(wrongChain.error, /is for chain id 1, but the node at .* is chain id 31337/);
    assert.equal(wrongChain.command, "receipt verify");
  });
});
