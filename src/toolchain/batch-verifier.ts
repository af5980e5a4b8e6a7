/**
 * The batch half of bulkhead's Groth16 verifier contracts: `verifyBatch`, added to snarkjs's
 * generated verifier (whose `verifyProof` stays exactly snarkjs's) by `verifierSourceFromVkey` in
 * toolchain/contracts.ts, rendered from contracts/templates/verify_batch.sol.ejs. Plain deterministic text: the same key always gives the same source,
 * so the trust anchor (audit/anchor.ts) can regenerate a deployed verifier and compare its code.
 *
 *   verifyBatch(uint256[] proofs, uint256[] pubSignals) returns (bool)
 *
 * `proofs` holds n proofs of 8 words each, in verifyProof's order (a.x, a.y, b[0][0], b[0][1],
 * b[1][0], b[1][1], c.x, c.y: b's coordinate pairs already swapped, as snarkjs's
 * `exportSolidityCallData` prints them); `pubSignals` holds n times the K public signals, proof
 * after proof. It returns true iff every proof verifies, with one ecPairing call over n + 3 pairs:
 *
 *   prod_i e(-rho_i A_i, B_i) * e((sum rho_i) alpha, beta) * e(sum_i rho_i vk_x_i, gamma)
 *     * e(sum_i rho_i C_i, delta) == 1
 *
 * rho_0 = 1 and rho_i (i >= 1) = the low 128 bits of keccak256(seed, i) (1 if zero), with
 * seed = keccak256(BATCH_DOMAIN, proofs, pubSignals): a Fiat-Shamir challenge on everything the
 * call verifies, so the submitter cannot choose the rho_i (every change of a proof or a signal
 * gives fresh ones). The public-input MSM is batched: sum_i rho_i vk_x_i =
 * (sum_i rho_i) IC_0 + sum_j (sum_i rho_i x_ij) IC_{j+1}, one ecMul per IC point whatever n.
 * Per proof beyond the first: two ecMul (rho_i A_i, rho_i C_i), one ecAdd, one pairing pair.
 *
 * Checks: n >= 1, proofs.length == 8n, pubSignals.length == K n, every public signal < r, every
 * proof word < q (the precompiles reject a coordinate >= q; A_0.y, negated here, is checked
 * explicitly); the precompiles reject points off the curve and (ecPairing, EIP-197) G2 points
 * outside the order-r subgroup; BN254's G1 has cofactor 1. Any failure returns false.
 */

import { readFileSync } from "node:fs";
import * as path from "node:path";
import { render } from "ejs";
import { id } from "ethers";
import { CONTRACTS_DIR } from "../util/paths.js";

export const BATCH_DOMAIN_TAG = "bulkhead.groth16.batch.v1";
/** keccak256(BATCH_DOMAIN_TAG): the first word of the Fiat-Shamir seed. */
export const BATCH_DOMAIN: string = id(BATCH_DOMAIN_TAG);

/** contracts/templates/verify_batch.sol.ejs, read once. */
let TEMPLATE: string | undefined;

/** The Solidity of `verifyBatch` for a key with `nPublic` public signals (inside the contract). */
export function batchVerifierFunction(nPublic: number, domain: string = BATCH_DOMAIN): string {
  if (!Number.isInteger(nPublic) || nPublic < 0) throw new Error(`nPublic ${nPublic}`);
  if (!/^0x[0-9a-f]{64}$/.test(domain)) throw new Error(`domain ${domain}`);
  TEMPLATE ??= readFileSync(path.join(CONTRACTS_DIR, "templates", "verify_batch.sol.ejs"), "utf8");
  return render(TEMPLATE, { K: nPublic, tag: BATCH_DOMAIN_TAG, domain: BigInt(domain).toString() });
}

/** Adds `verifyBatch` to a rendered snarkjs verifier (before the contract's closing brace). */
export function addBatchVerifier(source: string, nPublic: number, domain: string = BATCH_DOMAIN): string {
  const end = source.lastIndexOf("}");
  if (end < 0) throw new Error("verifier source has no closing brace");
  return `${source.slice(0, end).trimEnd()}\n${batchVerifierFunction(nPublic, domain)}}\n`;
}

/** A snarkjs proof's 8 words in verifyProof's order (b's coordinate pairs swapped). */
export function proofWords(proof: {
  pi_a: readonly string[];
  pi_b: readonly (readonly string[])[];
  pi_c: readonly string[];
}): bigint[] {
  const b = proof.pi_b;
  const w = [
    proof.pi_a[0],
    proof.pi_a[1],
    b[0]?.[1],
    b[0]?.[0],
    b[1]?.[1],
    b[1]?.[0],
    proof.pi_c[0],
    proof.pi_c[1],
  ];
  return w.map((v) => {
    if (v === undefined) throw new Error("malformed proof");
    return BigInt(v);
  });
}

/** verifyBatch's arguments for snarkjs proofs and their public signals. */
export function batchCallArgs(
  items: readonly {
    proof: { pi_a: readonly string[]; pi_b: readonly (readonly string[])[]; pi_c: readonly string[] };
    publicSignals: readonly string[];
  }[],
): { proofs: bigint[]; pubSignals: bigint[] } {
  return {
    proofs: items.flatMap((it) => proofWords(it.proof)),
    pubSignals: items.flatMap((it) => it.publicSignals.map((s) => BigInt(s))),
  };
}
