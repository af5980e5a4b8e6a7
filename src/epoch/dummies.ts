/**
 * Salted dummy entries (docs/SPEC.md "What the public bundle reveals"): what keeps an empty
 * segment, and a batch that would hold nothing, from being recognisable in the bundle.
 *
 * Without them an empty segment is one all-padding batch: its batch root is the root of zero
 * leaves (the same in every epoch) and its fingerprint is 1. With them:
 *  - a segment without any lot gets one dummy lot (slot 0, amount 0) in its first batch: it is a
 *    real lot leaf to both circuits, so the segment's fingerprint is `r - leaf` (not 1) and the
 *    same leaf sits in the global lot list (fingerprints still match);
 *  - every batch without a liability gets one dummy liability (slot 0, amount 0): its liability
 *    root, hence its batch root, is salted and differs across secrets and epochs.
 *
 * A dummy carries no value: amount 0 adds nothing to either sum (health, coverage and totals are
 * unchanged) and no collateral to any asset; slot 0 exists in every segment circuit (a segment
 * that prices no asset has slot 0 as padding: price 1, cf 0). A dummy obeys every uniqueness
 * rule: its lot id is in [1, 2^128) and differs from every other lot id of the epoch (so the
 * lot list stays strictly increasing), and a dummy account id differs from every real account id
 * of its segment. Nobody can claim one: the ids are HMACs of the publisher secret (no account
 * string hashes to them), and no receipt is written for them. Everything is derived from the
 * secret (src/epoch/salts.ts), so a re-run reproduces the same dummies and reuses its proofs.
 */
import { type LiabilityFields, LOT_ID_BITS, type LotFields } from "../spec/encoding.js";
import { deriveBelow, deriveSalt, saltLabel } from "./salts.js";

/** Account ids are 248-bit like real ones (`accountIdOf`: keccak256 >> 8). */
const ACCOUNT_ID_BITS = 248;
/** How many derivations to try before giving up (a collision has probability ~n/2^128 each). */
const MAX_ATTEMPTS = 64;

/**
 * The dummy lot of a lot-less segment: id `1 + HMAC mod (2^128 - 1)`, re-derived with the next
 * attempt number while it equals an id in `taken` (the epoch's real and earlier dummy lot ids),
 * which it then joins.
 */
export function dummyLot(
  secret: Uint8Array,
  epoch: bigint,
  segmentId: bigint,
  taken: Set<bigint>,
): LotFields {
  const bound = (1n << BigInt(LOT_ID_BITS)) - 1n;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const lotId = 1n + deriveBelow(secret, saltLabel.dummyLotId(epoch, segmentId, attempt), bound);
    if (taken.has(lotId)) continue;
    taken.add(lotId);
    const salt = deriveSalt(secret, saltLabel.dummyLotSalt(epoch, segmentId));
    return { lotId, segmentId, slot: 0n, amount: 0n, salt };
  }
  throw new Error(`segment ${segmentId}: no free dummy lot id after ${MAX_ATTEMPTS} attempts`);
}

/**
 * The dummy liability of batch `batch` of a segment: account id `HMAC mod 2^248`, re-derived
 * while it equals one of `accounts` (the segment's real account ids).
 */
export function dummyLiability(
  secret: Uint8Array,
  epoch: bigint,
  segmentId: bigint,
  batch: number,
  accounts: ReadonlySet<bigint>,
): LiabilityFields {
  const bound = 1n << BigInt(ACCOUNT_ID_BITS);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const accountId = deriveBelow(secret, saltLabel.dummyAccount(epoch, segmentId, batch, attempt), bound);
    if (accounts.has(accountId)) continue;
    const salt = deriveSalt(secret, saltLabel.dummyLiabilitySalt(epoch, segmentId, batch));
    return { accountId, segmentId, slot: 0n, amount: 0n, salt };
  }
  throw new Error(`segment ${segmentId}: no free dummy account id after ${MAX_ATTEMPTS} attempts`);
}
