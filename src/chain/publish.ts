/**
 * Publishing an epoch to the registry: commit the manifest, submit every batch proof in order,
 * finalize. Resumable: whatever the chain already holds (the commit with the same manifest,
 * accepted batches, finalization) is skipped, so a publish interrupted at any point is finished
 * by running it again.
 */
import type { Contract } from "ethers";
import { deriveR, FIELD_P, manifestHash } from "../spec/encoding.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { type ChainEpoch, manifestArgs, manifestOf, readEpoch, sendTx } from "./registry.js";

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
  healthy: { segmentId: bigint; healthy: boolean }[];
}

export interface PublishOptions {
  reporter?: Reporter;
  /** stop after committing and submitting, without finalizing */
  noFinalize?: boolean;
}

export async function publishEpoch(
  registry: Contract,
  e: ChainEpoch,
  opts: PublishOptions = {},
): Promise<PublishResult> {
  const reporter = opts.reporter ?? silentReporter;
  const m = manifestOf(e);
  const mHash = manifestHash(m);
  const r = deriveR(e.epoch, mHash);
  for (const s of e.segments) {
    if (s.batches.length !== s.batchRoots.length) {
      throw new Error(`segment ${s.id}: ${s.batches.length} proofs for ${s.batchRoots.length} batch roots`);
    }
  }
  if (e.list.length !== e.globalCommitments.length) {
    throw new Error(`lot list: ${e.list.length} proofs for ${e.globalCommitments.length} commitments`);
  }
  const assets = Number(await registry.getFunction("assetSlots").staticCall());
  const words = Math.ceil(assets / 2);
  for (const s of e.segments) {
    if (s.params.length !== words) {
      throw new Error(
        `the registry takes ${assets} asset slots per segment; the epoch's segment ${s.id} has ${s.params.length * 2}`,
      );
    }
  }
  const gas: PublishGas = { segmentBatches: [], listBatches: [] };

  let view = await readEpoch(registry, e.epoch);
  let committed: PublishResult["committed"] = "already";
  if (view) {
    if (view.manifestHash !== mHash) {
      throw new Error(
        `epoch ${e.epoch} is already committed on chain with another manifest (chain ${view.manifestHash}, local ${mHash})`,
      );
    }
    reporter.info(`epoch ${e.epoch}: already committed with this manifest, resuming`);
  } else {
    const rc = await sendTx("commitEpoch", () => registry.getFunction("commitEpoch")(...manifestArgs(m)));
    gas.commitEpoch = rc.gasUsed;
    committed = "sent";
    reporter.info(`epoch ${e.epoch}: committed manifest ${mHash} (gas ${rc.gasUsed})`);
    view = await readEpoch(registry, e.epoch);
    if (!view) throw new Error(`epoch ${e.epoch}: not readable after commit`);
  }
  if (view.r !== r) throw new Error(`epoch ${e.epoch}: on-chain r ${view.r} differs from the local ${r}`);

  const total = e.segments.reduce((n, s) => n + s.batches.length, 0) + e.list.length;
  const progress = reporter.progress(`publish epoch ${e.epoch}`, total);
  let sent = 0;
  let skipped = 0;
  const finalized = view.finalized;
  if (!finalized) {
    for (const [i, s] of e.segments.entries()) {
      const onChain = view.segments[i];
      if (!onChain || BigInt(onChain.id) !== s.id)
        throw new Error(`epoch ${e.epoch}: segment ${i} differs on chain`);
      for (const [b, batch] of s.batches.entries()) {
        if (b < onChain.accepted) {
          skipped++;
          progress.tick(1, `segment ${s.id} batch ${b} already accepted`);
          continue;
        }
        for (const v of [batch.nextState, batch.healthy, batch.fingerprint]) {
          if (v < 0n || v >= FIELD_P)
            throw new Error(`segment ${s.id} batch ${b}: public output not below p`);
        }
        const rc = await sendTx(`submitSegmentBatch(segment ${s.id}, batch ${b})`, () =>
          registry.getFunction("submitSegmentBatch")(
            e.epoch,
            i,
            b,
            batch.proof,
            batch.nextState,
            batch.healthy,
            batch.fingerprint,
          ),
        );
        gas.segmentBatches.push({ segmentId: s.id, batch: b, gasUsed: rc.gasUsed });
        sent++;
        progress.tick(1, `segment ${s.id} batch ${b} (gas ${rc.gasUsed})`);
      }
    }
    for (const [b, batch] of e.list.entries()) {
      if (b < view.listAccepted) {
        skipped++;
        progress.tick(1, `lot list batch ${b} already accepted`);
        continue;
      }
      const rc = await sendTx(`submitListBatch(batch ${b})`, () =>
        registry.getFunction("submitListBatch")(e.epoch, b, batch.proof, batch.nextState, batch.fingerprint),
      );
      gas.listBatches.push({ batch: b, gasUsed: rc.gasUsed });
      sent++;
      progress.tick(1, `lot list batch ${b} (gas ${rc.gasUsed})`);
    }
  } else {
    skipped = total;
    progress.update(total, "already finalized");
  }
  progress.finish();

  let fin: PublishResult["finalized"] = "already";
  if (!finalized && !opts.noFinalize) {
    const rc = await sendTx("finalizeEpoch", () => registry.getFunction("finalizeEpoch")(e.epoch));
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
    batchesSent: sent,
    batchesSkipped: skipped,
    finalized: fin,
    gas,
    healthy: (after?.segments ?? []).map((s) => ({ segmentId: BigInt(s.id), healthy: s.healthy })),
  };
}
