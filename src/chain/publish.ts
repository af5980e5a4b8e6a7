/**
 * Publishing an epoch to the registry: commit the manifest, submit every batch proof in order,
 * finalize. Resumable: whatever the chain already holds (the commit with the same manifest,
 * accepted batches, finalization) is skipped, so a publish interrupted at any point is finished
 * by running it again.
 *
 * Pending transactions: a publish killed after broadcasting a transaction but before it was mined
 * leaves it in the node's pool. A re-run first waits until every pending transaction of the
 * signer is mined (the account's "pending" nonce equals its "latest" nonce) and only then reads
 * what the chain holds, so it never sends a second commit or batch next to one still pending
 * (which would revert, e.g. with BatchAlreadyAccepted) and never fails because of one.
 */
import type { Contract, ContractTransactionResponse, Provider, Signer } from "ethers";
import { deriveR, FIELD_P, manifestHash } from "../spec/encoding.js";
import { faultPoint } from "../util/fault.js";
import { type Progress, type Reporter, silentReporter } from "../util/progress.js";
import { type ChainEpoch, type EpochView, manifestArgs, manifestOf, readEpoch, sendTx } from "./registry.js";

export interface PublishGas {
  commitEpoch?: bigint;
  /** per segment (manifest order), per batch index sent now */
  segmentBatches: { segmentId: bigint; batch: number; gasUsed: bigint }[];
  listBatches: { batch: number; gasUsed: bigint }[];
  finalizeEpoch?: bigint;
}

export interface PublishResult {
  epoch: bigint;
  manifestHash: string;
  r: bigint;
  committed: "sent" | "already";
  batchesSent: number;
  batchesSkipped: number;
  finalized: "sent" | "already";
  gas: PublishGas;
  /** per segment as recorded on chain: health, stress-scenario bits, coverage band */
  healthy: { segmentId: bigint; healthy: boolean; stressBits: number; band: number }[];
}

export interface PublishOptions {
  reporter?: Reporter;
  /** stop after committing and submitting, without finalizing */
  noFinalize?: boolean;
  /** how long to wait for the signer's pending transactions before giving up (default 10 min) */
  pendingTimeoutMs?: number;
}

/** The signer's address and provider, when the registry handle can send transactions. */
async function senderOf(registry: Contract): Promise<{ address: string; provider: Provider } | undefined> {
  const runner = registry.runner as (Signer & { provider: Provider | null }) | null;
  if (!runner || typeof runner.getAddress !== "function" || !runner.provider) return undefined;
  return { address: await runner.getAddress(), provider: runner.provider };
}

/**
 * Waits until no transaction of the signer is pending (mined or dropped), so that what the chain
 * shows afterwards includes everything an earlier, interrupted run already sent.
 */
export async function settlePendingTransactions(
  registry: Contract,
  reporter: Reporter = silentReporter,
  timeoutMs = 10 * 60_000,
): Promise<number> {
  const sender = await senderOf(registry);
  if (!sender) return 0;
  const { address, provider } = sender;
  const pendingNonce = await provider.getTransactionCount(address, "pending");
  let mined = await provider.getTransactionCount(address, "latest");
  if (pendingNonce <= mined) return 0;
  const waiting = pendingNonce - mined;
  reporter.info(
    `${waiting} transaction(s) of ${address} still pending (nonce ${mined}..${pendingNonce - 1}), probably from an interrupted run: waiting for them to be mined before resuming`,
  );
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    mined = await provider.getTransactionCount(address, "latest");
    const pendingNow = await provider.getTransactionCount(address, "pending");
    if (mined >= pendingNonce || pendingNow <= mined) break;
    if (Date.now() > deadline) {
      throw new Error(
        `transactions of ${address} with nonce ${mined}..${pendingNonce - 1} are still pending after ${Math.round(timeoutMs / 1000)}s; run publish again once they are mined (or replaced)`,
      );
    }
  }
  reporter.info(`the pending transaction(s) of ${address} are mined; resuming from what the chain holds`);
  return waiting;
}

/** Send through `send`, with a crash-test hook right after the transaction left this process. */
function broadcast(
  send: () => Promise<ContractTransactionResponse>,
): () => Promise<ContractTransactionResponse> {
  return async () => {
    const tx = await send();
    faultPoint("publish:tx-sent");
    return tx;
  };
}

/** The epoch's proofs match its commitments, and its segments the registry's asset slot count. */
async function checkEpochShape(registry: Contract, e: ChainEpoch): Promise<void> {
  for (const s of e.segments) {
    if (s.batches.length !== s.batchRoots.length) {
      throw new Error(`segment ${s.id}: ${s.batches.length} proofs for ${s.batchRoots.length} batch roots`);
    }
  }
  if (e.list.length !== e.globalCommitments.length) {
    throw new Error(`lot list: ${e.list.length} proofs for ${e.globalCommitments.length} commitments`);
  }
  const read = async (name: string): Promise<number> => Number(await registry.getFunction(name).staticCall());
  const assets = await read("assetSlots");
  const stressWords = await read("stressWords");
  const capWords = await read("capWords");
  for (const s of e.segments) {
    if (s.slots.length !== assets || s.stress.length !== stressWords) {
      throw new Error(
        `the registry's profile takes ${assets} asset slots and ${stressWords} stress words per segment; the epoch's segment ${s.id} has ${s.slots.length} and ${s.stress.length} (another profile?)`,
      );
    }
  }
  if (e.poolCaps.length !== capWords) {
    throw new Error(
      `the registry's profile takes ${capWords} pooled-cap words; the epoch has ${e.poolCaps.length} (another profile?)`,
    );
  }
}

/** Commit the manifest, or resume an epoch already committed with the same one. */
async function commitOrResume(
  registry: Contract,
  e: ChainEpoch,
  m: ReturnType<typeof manifestOf>,
  mHash: string,
  gas: PublishGas,
  reporter: Reporter,
): Promise<{ view: EpochView; committed: PublishResult["committed"] }> {
  const view = await readEpoch(registry, e.epoch);
  if (view) {
    if (view.manifestHash !== mHash) {
      throw new Error(
        `epoch ${e.epoch} is already committed on chain with another manifest (chain ${view.manifestHash}, local ${mHash})`,
      );
    }
    reporter.info(`epoch ${e.epoch}: already committed with this manifest, resuming`);
    return { view, committed: "already" };
  }
  const rc = await sendTx(
    "commitEpoch",
    broadcast(() => registry.getFunction("commitEpoch")(...manifestArgs(m))),
  );
  gas.commitEpoch = rc.gasUsed;
  reporter.info(`epoch ${e.epoch}: committed manifest ${mHash} (gas ${rc.gasUsed})`);
  const after = await readEpoch(registry, e.epoch);
  if (!after) throw new Error(`epoch ${e.epoch}: not readable after commit`);
  return { view: after, committed: "sent" };
}

type Tally = { sent: number; skipped: number };

/** Submit every segment batch the chain has not accepted yet, in order. */
async function submitSegments(
  registry: Contract,
  e: ChainEpoch,
  view: EpochView,
  gas: PublishGas,
  progress: Progress,
  tally: Tally,
): Promise<void> {
  for (const [i, s] of e.segments.entries()) {
    const onChain = view.segments[i];
    if (!onChain || BigInt(onChain.id) !== s.id)
      throw new Error(`epoch ${e.epoch}: segment ${i} differs on chain`);
    for (const [b, batch] of s.batches.entries()) {
      if (b < onChain.accepted) {
        tally.skipped++;
        progress.tick(1, `segment ${s.id} batch ${b} already accepted`);
        continue;
      }
      for (const v of [batch.nextState, batch.result, batch.fingerprint]) {
        if (v < 0n || v >= FIELD_P) throw new Error(`segment ${s.id} batch ${b}: public output not below p`);
      }
      const rc = await sendTx(
        `submitSegmentBatch(segment ${s.id}, batch ${b})`,
        broadcast(() =>
          registry.getFunction("submitSegmentBatch")(
            e.epoch,
            i,
            b,
            batch.proof,
            batch.nextState,
            batch.result,
            batch.fingerprint,
          ),
        ),
      );
      gas.segmentBatches.push({ segmentId: s.id, batch: b, gasUsed: rc.gasUsed });
      tally.sent++;
      progress.tick(1, `segment ${s.id} batch ${b} (gas ${rc.gasUsed})`);
    }
  }
}

/** Submit every lot-list batch the chain has not accepted yet, in order. */
async function submitList(
  registry: Contract,
  e: ChainEpoch,
  view: EpochView,
  gas: PublishGas,
  progress: Progress,
  tally: Tally,
): Promise<void> {
  for (const [b, batch] of e.list.entries()) {
    if (b < view.listAccepted) {
      tally.skipped++;
      progress.tick(1, `lot list batch ${b} already accepted`);
      continue;
    }
    const rc = await sendTx(
      `submitListBatch(batch ${b})`,
      broadcast(() =>
        registry.getFunction("submitListBatch")(e.epoch, b, batch.proof, batch.nextState, batch.fingerprint),
      ),
    );
    gas.listBatches.push({ batch: b, gasUsed: rc.gasUsed });
    tally.sent++;
    progress.tick(1, `lot list batch ${b} (gas ${rc.gasUsed})`);
  }
}

/**
 * Publish an epoch: commit (or resume), submit every batch not yet accepted, finalize. Safe to
 * re-run at any point: it waits for this signer's pending transactions first, then reads what the
 * chain already has.
 */
export async function publishEpoch(
  registry: Contract,
  e: ChainEpoch,
  opts: PublishOptions = {},
): Promise<PublishResult> {
  const reporter = opts.reporter ?? silentReporter;
  const m = manifestOf(e);
  const mHash = manifestHash(m);
  const r = deriveR(e.epoch, mHash);
  await checkEpochShape(registry, e);
  const gas: PublishGas = { segmentBatches: [], listBatches: [] };
  await settlePendingTransactions(registry, reporter, opts.pendingTimeoutMs);
  const { view, committed } = await commitOrResume(registry, e, m, mHash, gas, reporter);
  if (view.r !== r) throw new Error(`epoch ${e.epoch}: on-chain r ${view.r} differs from the local ${r}`);

  const total = e.segments.reduce((n, s) => n + s.batches.length, 0) + e.list.length;
  const progress = reporter.progress(`publish epoch ${e.epoch}`, total);
  const tally: Tally = { sent: 0, skipped: 0 };
  if (view.finalized) {
    tally.skipped = total;
    progress.update(total, "already finalized");
  } else {
    await submitSegments(registry, e, view, gas, progress, tally);
    await submitList(registry, e, view, gas, progress, tally);
  }
  progress.finish();

  let fin: PublishResult["finalized"] = "already";
  if (!view.finalized && !opts.noFinalize) {
    const rc = await sendTx(
      "finalizeEpoch",
      broadcast(() => registry.getFunction("finalizeEpoch")(e.epoch)),
    );
    gas.finalizeEpoch = rc.gasUsed;
    fin = "sent";
    reporter.info(`epoch ${e.epoch}: finalized (gas ${rc.gasUsed})`);
  }
  const after = await readEpoch(registry, e.epoch);
  return {
    epoch: e.epoch,
    manifestHash: mHash,
    r,
    committed,
    batchesSent: tally.sent,
    batchesSkipped: tally.skipped,
    finalized: fin,
    gas,
    healthy: (after?.segments ?? []).map((s) => ({
      segmentId: BigInt(s.id),
      healthy: s.healthy,
      stressBits: s.stressBits,
      band: s.band,
    })),
  };
}
