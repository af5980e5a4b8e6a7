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
import { finalizeBlocksForRegistry, roundIdsForRegistry } from "./governed.js";
import {
  type ChainEpoch,
  type EpochView,
  manifestArgs,
  manifestOf,
  readEpoch,
  rootsChain,
  sendTx,
} from "./registry.js";

export interface PublishGas {
  commitEpoch?: bigint;
  /** per transaction sent now: the first batch index, how many batches it carried, its gas */
  segmentBatches: { segmentId: bigint; batch: number; batches: number; gasUsed: bigint }[];
  listBatches: { batch: number; batches: number; gasUsed: bigint }[];
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
  /**
   * consecutive batches per submission transaction, verified together with one Groth16 batch
   * verification (default 32; 1 sends one transaction per batch)
   */
  group?: number;
  /** oracle round id per global asset, for a governed registry (default: latest rounds) */
  roundIds?: bigint[];
  /** how long to wait for the first block the epoch may be finalized in (default 30 min) */
  finalizeWaitMs?: number;
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
  roundIds: readonly bigint[],
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
    broadcast(() => registry.getFunction("commitEpoch")(...manifestArgs(m, roundIds))),
  );
  gas.commitEpoch = rc.gasUsed;
  reporter.info(`epoch ${e.epoch}: committed manifest ${mHash} (gas ${rc.gasUsed})`);
  const after = await readEpoch(registry, e.epoch);
  if (!after) throw new Error(`epoch ${e.epoch}: not readable after commit`);
  return { view: after, committed: "sent" };
}

type Tally = { sent: number; skipped: number };

/**
 * Batches per submission transaction by default: a group of 32 default-profile segment batches is
 * 2.16M gas (about 67.6k per batch, bench/gas.json), well inside a block.
 */
export const DEFAULT_GROUP = 32;

/** Consecutive runs [first, first + size) of batches from `from` to `count`, at most `group` each. */
function groups(from: number, count: number, group: number): { first: number; size: number }[] {
  const out: { first: number; size: number }[] = [];
  for (let first = from; first < count; first += group)
    out.push({ first, size: Math.min(group, count - first) });
  return out;
}

function checkOutputs(what: string, vs: readonly bigint[]): void {
  for (const v of vs) if (v < 0n || v >= FIELD_P) throw new Error(`${what}: public output not below p`);
}

/**
 * `submitSegmentBatches`' group argument for batches first .. first + size - 1 of the segment at
 * manifest index i: proofs, outputs (checked < p), the committed roots and the chain after them.
 */
export function segmentGroupArg(e: ChainEpoch, i: number, first: number, size: number) {
  const s = e.segments[i];
  if (!s) throw new Error(`epoch ${e.epoch}: no segment at index ${i}`);
  const part = s.batches.slice(first, first + size);
  const last = part[part.length - 1] as (typeof part)[number];
  checkOutputs(`segment ${s.id} ${batchRange(first, size)}`, [
    ...part.map((b) => b.nextState),
    last.result,
    last.fingerprint,
  ]);
  return {
    firstBatch: first,
    proofs: part.map((b) => b.proof),
    nextStates: part.map((b) => b.nextState),
    result: last.result,
    fingerprint: last.fingerprint,
    batchRoots: s.batchRoots.slice(first, first + size),
    rootsTail: rootsChain(s.batchRoots)[first + size],
  };
}

/** `submitListBatches`' group argument for list batches first .. first + size - 1. */
export function listGroupArg(e: ChainEpoch, first: number, size: number) {
  const part = e.list.slice(first, first + size);
  const last = part[part.length - 1] as (typeof part)[number];
  checkOutputs(`lot list ${batchRange(first, size)}`, [...part.map((b) => b.nextState), last.fingerprint]);
  return {
    firstBatch: first,
    proofs: part.map((b) => b.proof),
    nextStates: part.map((b) => b.nextState),
    fingerprint: last.fingerprint,
    commitments: e.globalCommitments.slice(first, first + size),
    commitmentsTail: rootsChain(e.globalCommitments)[first + size],
    poolCaps: e.poolCaps,
  };
}

/**
 * Submit every segment batch the chain has not accepted yet, in order: `group` consecutive
 * batches per transaction (`submitSegmentBatches`, one batch verification for the group), each
 * with its committed roots and the roots chain after them.
 */
async function submitSegments(
  registry: Contract,
  e: ChainEpoch,
  view: EpochView,
  ctx: SubmitContext,
): Promise<void> {
  for (const [i, s] of e.segments.entries()) {
    const onChain = view.segments[i];
    if (!onChain || BigInt(onChain.id) !== s.id)
      throw new Error(`epoch ${e.epoch}: segment ${i} differs on chain`);
    const accepted = Math.min(onChain.accepted, s.batches.length);
    if (accepted > 0) {
      ctx.tally.skipped += accepted;
      ctx.progress.tick(accepted, `segment ${s.id}: ${accepted} batch(es) already accepted`);
    }
    for (const { first, size } of groups(accepted, s.batches.length, ctx.group)) {
      const what = `segment ${s.id} ${batchRange(first, size)}`;
      const arg = segmentGroupArg(e, i, first, size);
      const rc = await sendTx(
        `submitSegmentBatches(${what})`,
        broadcast(() => registry.getFunction("submitSegmentBatches")(e.epoch, i, arg)),
      );
      ctx.gas.segmentBatches.push({ segmentId: s.id, batch: first, batches: size, gasUsed: rc.gasUsed });
      ctx.tally.sent += size;
      ctx.progress.tick(size, `${what} (gas ${rc.gasUsed})`);
    }
  }
}

const batchRange = (first: number, size: number) =>
  size > 1 ? `batches ${first}-${first + size - 1}` : `batch ${first}`;

/** Submit every lot-list batch the chain has not accepted yet, in order, grouped as above. */
async function submitList(
  registry: Contract,
  e: ChainEpoch,
  view: EpochView,
  ctx: SubmitContext,
): Promise<void> {
  const accepted = Math.min(view.listAccepted, e.list.length);
  if (accepted > 0) {
    ctx.tally.skipped += accepted;
    ctx.progress.tick(accepted, `lot list: ${accepted} batch(es) already accepted`);
  }
  for (const { first, size } of groups(accepted, e.list.length, ctx.group)) {
    const what = `lot list ${batchRange(first, size)}`;
    const arg = listGroupArg(e, first, size);
    const rc = await sendTx(
      `submitListBatches(${what})`,
      broadcast(() => registry.getFunction("submitListBatches")(e.epoch, arg)),
    );
    ctx.gas.listBatches.push({ batch: first, batches: size, gasUsed: rc.gasUsed });
    ctx.tally.sent += size;
    ctx.progress.tick(size, `${what} (gas ${rc.gasUsed})`);
  }
}

interface SubmitContext {
  gas: PublishGas;
  progress: Progress;
  tally: Tally;
  /** batches per transaction */
  group: number;
}

/**
 * Waits until the chain is at the first block where `epoch` may be finalized: commitBlock + the
 * governed minimum gap (at least 1: finalization and custody's second check come in a later block
 * than the commit). Throws after `timeoutMs` (default 30 min) naming the block it waited for.
 */
async function awaitFinalizeBlock(
  registry: Contract,
  epoch: bigint,
  commitBlock: number,
  reporter: Reporter,
  timeoutMs = 30 * 60_000,
): Promise<void> {
  const provider = registry.runner?.provider;
  if (!provider) throw new Error(`registry ${registry.target}: no provider to read blocks with`);
  const earliest = commitBlock + (await finalizeBlocksForRegistry(registry, epoch));
  const deadline = Date.now() + timeoutMs;
  let current = await provider.getBlockNumber();
  if (current + 1 < earliest) reporter.info(`epoch ${epoch}: waiting for block ${earliest} to finalize`);
  // the finalize transaction lands in block current + 1 at the earliest
  while (current + 1 < earliest) {
    if (Date.now() > deadline)
      throw new Error(`epoch ${epoch}: block ${earliest} (commit block + governed gap) not reached in time`);
    await new Promise((r) => setTimeout(r, 1000));
    current = await provider.getBlockNumber();
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
  // a governed registry checks every price against a named oracle round: name the rounds the
  // manifest's prices come from
  const roundIds = opts.roundIds ?? (await roundIdsForRegistry(registry, m.segments));
  if (roundIds.length > 0) reporter.info(`oracle rounds: ${roundIds.join(", ")}`);
  const { view, committed } = await commitOrResume(registry, e, m, mHash, gas, reporter, roundIds);
  if (view.r !== r) throw new Error(`epoch ${e.epoch}: on-chain r ${view.r} differs from the local ${r}`);

  const total = e.segments.reduce((n, s) => n + s.batches.length, 0) + e.list.length;
  const progress = reporter.progress(`publish epoch ${e.epoch}`, total);
  const tally: Tally = { sent: 0, skipped: 0 };
  if (view.finalized) {
    tally.skipped = total;
    progress.update(total, "already finalized");
  } else {
    const group = opts.group ?? DEFAULT_GROUP;
    if (!Number.isInteger(group) || group < 1)
      throw new Error(`publish: group ${group} is not a positive integer`);
    const ctx: SubmitContext = { gas, progress, tally, group };
    await submitSegments(registry, e, view, ctx);
    await submitList(registry, e, view, ctx);
  }
  progress.finish();

  let fin: PublishResult["finalized"] = "already";
  if (!view.finalized && !opts.noFinalize) {
    await awaitFinalizeBlock(registry, e.epoch, view.commitBlock, reporter, opts.finalizeWaitMs);
    const rc = await sendTx(
      "finalizeEpoch",
      broadcast(() => registry.getFunction("finalizeEpoch")(e.epoch, e.poolCaps)),
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
