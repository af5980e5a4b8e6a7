/**
 * Groth16 verification, one proof or a batch: many proofs of one verification key checked with one
 * multi-Miller loop and one final exponentiation.
 *
 * For proofs (A_i, B_i, C_i) with public inputs x_i, vk_x_i = IC_0 + sum_j x_ij IC_{j+1}, and
 * random rho_i in [1, 2^128) drawn here with crypto.getRandomValues after the proofs are fixed (the
 * prover cannot know them), the batch is accepted iff
 *
 *   prod_i e(rho_i A_i, B_i) == e(alpha, beta)^{sum rho_i} * e(sum_i rho_i vk_x_i, gamma)
 *                              * e(sum_i rho_i C_i, delta)
 *
 * i.e. the product of n + 3 Miller loops, after one final exponentiation, is one. The public-input
 * MSM is batched: sum_i rho_i vk_x_i = (sum_i rho_i) IC_0 + sum_j (sum_i rho_i x_ij) IC_{j+1}
 * (one MSM over the key's IC points, whatever n). If any proof is invalid the check fails except
 * with probability <= 2^-128 (one bad proof: rho_i * err_i = 0 mod r is impossible for
 * 0 < rho_i < r; several: a random 128-bit rho hits the one bad linear relation w.p. 2^-128).
 *
 * Input hygiene, as snarkjs's verifier and more: every public signal is a canonical decimal
 * below the scalar field modulus r; every coordinate is a canonical decimal below the base field
 * modulus q; points are affine (z = 1; no point at infinity); A and C are on the curve (G1 has
 * cofactor 1, so on the curve = in the group); B is on the twist AND in the order-r subgroup
 * (snarkjs checks only the curve equation; a batch check needs the subgroup check, since a
 * small-order component would be scaled by rho_i mod its small order only). The subgroup test is
 * psi(B) == [6 x0^2] B (x0 the BN seed; Scott, "A note on group membership tests for G1, G2 and
 * GT on BLS pairing-friendly curves", 2021, BN case), cross-checked against [r]B in the tests.
 *
 * A failed batch is bisected (fresh randomness for every sub-batch) down to single proofs, so the
 * caller learns exactly which proofs are bad.
 *
 * `verifyBatch` runs on the calling thread (a private single-threaded curve), unchanged in Node and
 * the browser (Web Crypto randomness, snarkjs's curve). `proofVerifies` is the same check for one
 * proof: the auditor's and the prover's (local, queue worker, coordinator, work cache) one check of
 * a Groth16 proof.
 */
import { FIELD_P } from "../spec/encoding.js";
import { type Groth16Proof, sj } from "./snarkjs.js";

/** BN254 base field modulus (coordinates live below it). */
export const FQ_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
/** BN254 seed x0: psi(Q) == [6 x0^2] Q tests membership of the order-r subgroup of the twist. */
const BN_SEED = 4965661367192848881n;
const G2_SUBGROUP_SCALAR = 6n * BN_SEED * BN_SEED;
const G2_SUBGROUP_SCALAR_LE = (() => {
  const out = new Uint8Array(16);
  let x = G2_SUBGROUP_SCALAR;
  for (let i = 0; i < 16; i++) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
})();

export interface BatchItem {
  proof: Groth16Proof;
  publicSignals: readonly string[];
}

export interface BatchResult {
  /** true iff every proof verifies */
  ok: boolean;
  /** indices (into the input) of the proofs that do not verify, ascending */
  bad: number[];
}

/** snarkjs Groth16 verification key (verification_key.json). */
export interface Groth16VKey {
  protocol: string;
  curve: string;
  nPublic: number;
  vk_alpha_1: readonly string[];
  vk_beta_2: readonly (readonly string[])[];
  vk_gamma_2: readonly (readonly string[])[];
  vk_delta_2: readonly (readonly string[])[];
  IC: readonly (readonly string[])[];
}

// ------------------------------------------------------------------ ffjavascript (untyped)

type Buf = Uint8Array;
interface FieldOps {
  n8: number;
  one: Buf;
  fromObject(v: bigint): Buf;
  mul(a: Buf, b: Buf): Buf;
  neg(a: Buf): Buf;
  exp(a: Buf, e: bigint): Buf;
  eq(a: Buf, b: Buf): boolean;
}
interface GroupOps {
  F: FieldOps;
  g: Buf;
  fromObject(a: unknown[]): Buf;
  toAffine(a: Buf): Buf;
  toJacobian(a: Buf): Buf;
  isValid(a: Buf): boolean;
  isZero(a: Buf): boolean;
  neg(a: Buf): Buf;
  eq(a: Buf, b: Buf): boolean;
  timesScalar(a: Buf, s: Buf | bigint): Buf;
  multiExpAffine(bases: Buf, scalars: Buf): Promise<Buf>;
}
interface Curve {
  F1: FieldOps;
  F2: FieldOps;
  G1: GroupOps;
  G2: GroupOps;
  Gt: { one: Buf; mul(a: Buf, b: Buf): Buf; eq(a: Buf, b: Buf): boolean };
  prepareG1(p: Buf): Buf;
  prepareG2(q: Buf): Buf;
  millerLoop(p: Buf, q: Buf): Buf;
  finalExponentiation(a: Buf): Buf;
  terminate(): Promise<void>;
}

let curvePromise: Promise<Curve> | undefined;

/**
 * A private single-threaded bn128 curve (snarkjs's ffjavascript): no worker threads, nothing in
 * globalThis, nothing to terminate; built once per thread.
 */
async function getCurve(): Promise<Curve> {
  curvePromise ??= (async () => {
    return (await sj.curves.getCurveFromName("bn128", { singleThread: true })) as unknown as Curve;
  })();
  return curvePromise;
}

// ------------------------------------------------------------------ parsing

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** A canonical decimal string (or a bigint) below `modulus`, else undefined. */
function canonical(v: unknown, modulus: bigint): bigint | undefined {
  let x: bigint;
  if (typeof v === "bigint") x = v;
  else if (typeof v === "string" && DECIMAL.test(v)) x = BigInt(v);
  else return undefined;
  return x >= 0n && x < modulus ? x : undefined;
}

function parseG1(curve: Curve, p: unknown): Buf | undefined {
  if (!Array.isArray(p) || (p.length !== 2 && p.length !== 3)) return undefined;
  const x = canonical(p[0], FQ_MODULUS);
  const y = canonical(p[1], FQ_MODULUS);
  if (x === undefined || y === undefined) return undefined;
  if (p.length === 3 && canonical(p[2], FQ_MODULUS) !== 1n) return undefined;
  const pt = curve.G1.fromObject([x, y]);
  return curve.G1.isValid(pt) && !curve.G1.isZero(pt) ? pt : undefined;
}

function parseF2(v: unknown): [bigint, bigint] | undefined {
  if (!Array.isArray(v) || v.length !== 2) return undefined;
  const a = canonical(v[0], FQ_MODULUS);
  const b = canonical(v[1], FQ_MODULUS);
  return a === undefined || b === undefined ? undefined : [a, b];
}

/** An affine G2 point on the twist and in the order-r subgroup, else undefined. */
function parseG2(curve: Curve, p: unknown, psi: (q: Buf) => Buf): Buf | undefined {
  if (!Array.isArray(p) || (p.length !== 2 && p.length !== 3)) return undefined;
  const x = parseF2(p[0]);
  const y = parseF2(p[1]);
  if (!x || !y) return undefined;
  if (p.length === 3) {
    const z = parseF2(p[2]);
    if (!(z && z[0] === 1n && z[1] === 0n)) return undefined;
  }
  const pt = curve.G2.fromObject([x, y]);
  if (!curve.G2.isValid(pt) || curve.G2.isZero(pt)) return undefined;
  return curve.G2.eq(psi(pt), curve.G2.timesScalar(pt, G2_SUBGROUP_SCALAR_LE)) ? pt : undefined;
}

const psiCache = new WeakMap<Curve, (q: Buf) => Buf>();

/** psi = untwist-Frobenius-twist on the D-type twist over Fp2 = Fp[u]/(u^2+1), xi = 9 + u. */
function makePsi(curve: Curve): (q: Buf) => Buf {
  const cached = psiCache.get(curve);
  if (cached) return cached;
  const { F1, F2, G2 } = curve;
  const xi = F2.fromObject([9n, 1n] as unknown as bigint);
  const cx = F2.exp(xi, (FQ_MODULUS - 1n) / 3n);
  const cy = F2.exp(xi, (FQ_MODULUS - 1n) / 2n);
  const n = F1.n8;
  const conj = (a: Buf): Buf => {
    const o = new Uint8Array(2 * n);
    o.set(a.subarray(0, n));
    o.set(F1.neg(a.slice(n, 2 * n)), n);
    return o;
  };
  const psi = (q: Buf): Buf => {
    const a = G2.toAffine(q);
    const out = new Uint8Array(4 * n);
    out.set(F2.mul(conj(a.slice(0, 2 * n)), cx));
    out.set(F2.mul(conj(a.slice(2 * n, 4 * n)), cy), 2 * n);
    return out;
  };
  psiCache.set(curve, psi);
  return psi;
}

/** Test hook: does this G2 point (snarkjs object form) pass the subgroup check? */
export async function g2InSubgroup(p: unknown): Promise<boolean> {
  const curve = await getCurve();
  return parseG2(curve, p, makePsi(curve)) !== undefined;
}

interface PreparedKey {
  nPublic: number;
  alpha: Buf;
  /** IC points, affine, concatenated (for the MSM) */
  ic: Buf;
  preBeta: Buf;
  preGamma: Buf;
  preDelta: Buf;
}

const keyCache = new WeakMap<object, PreparedKey>();

function prepareKey(curve: Curve, vkey: Groth16VKey): PreparedKey {
  const cached = keyCache.get(vkey);
  if (cached) return cached;
  if (vkey.protocol !== "groth16")
    throw new Error(`verification key: protocol ${vkey.protocol}, not groth16`);
  if (!/^(bn128|bn254|altbn128)$/i.test(String(vkey.curve).replace(/[^a-z0-9]/gi, "")))
    throw new Error(`verification key: curve ${vkey.curve}, not bn128`);
  const nPublic = vkey.nPublic;
  if (!Number.isInteger(nPublic) || nPublic < 0 || vkey.IC.length !== nPublic + 1)
    throw new Error(`verification key: ${vkey.IC.length} IC points for nPublic ${nPublic}`);
  const psi = makePsi(curve);
  const g1 = (p: unknown, what: string) => {
    const pt = parseG1(curve, p);
    if (!pt) throw new Error(`verification key: ${what} is not a valid G1 point`);
    return pt;
  };
  const g2 = (p: unknown, what: string) => {
    const pt = parseG2(curve, p, psi);
    if (!pt) throw new Error(`verification key: ${what} is not a valid G2 point`);
    return curve.prepareG2(curve.G2.toJacobian(pt));
  };
  const n = curve.G1.F.n8 * 2;
  const ic = new Uint8Array(n * vkey.IC.length);
  vkey.IC.forEach((p, j) => {
    ic.set(g1(p, `IC[${j}]`), j * n);
  });
  const k: PreparedKey = {
    nPublic,
    alpha: g1(vkey.vk_alpha_1, "vk_alpha_1"),
    ic,
    preBeta: g2(vkey.vk_beta_2, "vk_beta_2"),
    preGamma: g2(vkey.vk_gamma_2, "vk_gamma_2"),
    preDelta: g2(vkey.vk_delta_2, "vk_delta_2"),
  };
  keyCache.set(vkey, k);
  return k;
}

interface ParsedItem {
  a: Buf;
  b: Buf;
  c: Buf;
  x: bigint[];
}

/** The item's points and signals, checked; undefined when anything is malformed or invalid. */
function parseItem(
  curve: Curve,
  key: PreparedKey,
  item: BatchItem,
  psi: (q: Buf) => Buf,
): ParsedItem | undefined {
  const proof = item?.proof as unknown as Record<string, unknown> | undefined;
  const sig = item?.publicSignals;
  if (!proof || !Array.isArray(sig) || sig.length !== key.nPublic) return undefined;
  if (proof.protocol !== undefined && proof.protocol !== "groth16") return undefined;
  const x: bigint[] = [];
  for (const s of sig) {
    const v = canonical(s, FIELD_P);
    if (v === undefined) return undefined;
    x.push(v);
  }
  const a = parseG1(curve, proof.pi_a);
  const c = parseG1(curve, proof.pi_c);
  if (!a || !c) return undefined;
  const b = parseG2(curve, proof.pi_b, psi);
  if (!b) return undefined;
  return { a, b, c, x };
}

// ------------------------------------------------------------------ the batch equation

function scalarLE(v: bigint, out: Buf, offset: number, bytes: number): void {
  let x = v;
  for (let i = 0; i < bytes; i++) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** n fresh random bytes (Web Crypto, in 64 KiB draws: its limit per call). */
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) globalThis.crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}

/** Fresh rho_i in [1, 2^128): 16 random bytes each (redrawn in the 2^-128 case of zero). */
function drawRhos(n: number): bigint[] {
  const bytes = randomBytes(16 * n);
  const out: bigint[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0n;
    for (let k = 15; k >= 0; k--) v = (v << 8n) | BigInt(bytes[16 * i + k] as number);
    while (v === 0n) for (const b of randomBytes(16)) v = (v << 8n) | BigInt(b);
    out.push(v);
  }
  return out;
}

/** One random linear combination of the given (already parsed and checked) proofs. */
async function checkCombination(
  curve: Curve,
  key: PreparedKey,
  items: readonly ParsedItem[],
): Promise<boolean> {
  const n = items.length;
  if (n === 0) return true;
  const { G1, Gt } = curve;
  const rho = drawRhos(n);
  const g1n = G1.F.n8 * 2;
  const nIc = key.nPublic + 1;
  // public-input scalars: s_0 = sum rho_i, s_{j+1} = sum_i rho_i x_ij (mod r)
  const s = new Array<bigint>(nIc).fill(0n);
  const cScalars = new Uint8Array(32 * n);
  const cBases = new Uint8Array(g1n * n);
  for (let i = 0; i < n; i++) {
    const r = rho[i] as bigint;
    const it = items[i] as ParsedItem;
    s[0] = (s[0] as bigint) + r;
    for (let j = 0; j < key.nPublic; j++) s[j + 1] = (s[j + 1] as bigint) + r * (it.x[j] as bigint);
    scalarLE(r, cScalars, 32 * i, 32);
    cBases.set(it.c, g1n * i);
  }
  const icScalars = new Uint8Array(32 * nIc);
  for (let j = 0; j < nIc; j++) scalarLE((s[j] as bigint) % FIELD_P, icScalars, 32 * j, 32);
  const sumRho = (s[0] as bigint) % FIELD_P;

  const vkx = await G1.multiExpAffine(key.ic, icScalars);
  const sumC = await G1.multiExpAffine(cBases, cScalars);
  const alphaRho = G1.timesScalar(key.alpha, sumRho);

  let acc = Gt.one;
  const ml = (p: Buf, preQ: Buf) => {
    acc = Gt.mul(acc, curve.millerLoop(curve.prepareG1(G1.toJacobian(p)), preQ));
  };
  const rb = new Uint8Array(16);
  for (let i = 0; i < n; i++) {
    const it = items[i] as ParsedItem;
    scalarLE(rho[i] as bigint, rb, 0, 16);
    const negRhoA = G1.neg(G1.timesScalar(it.a, rb));
    ml(negRhoA, curve.prepareG2(curve.G2.toJacobian(it.b)));
  }
  ml(alphaRho, key.preBeta);
  ml(vkx, key.preGamma);
  ml(sumC, key.preDelta);
  return Gt.eq(curve.finalExponentiation(acc), Gt.one);
}

/** Indices of `idx` whose proofs fail: bisection, each half with fresh randomness. */
async function findBad(
  curve: Curve,
  key: PreparedKey,
  parsed: readonly ParsedItem[],
  idx: number[],
): Promise<number[]> {
  if (idx.length === 0) return [];
  const ok = await checkCombination(
    curve,
    key,
    idx.map((i) => parsed[i] as ParsedItem),
  );
  if (ok) return [];
  if (idx.length === 1) return idx;
  const mid = idx.length >> 1;
  return [
    ...(await findBad(curve, key, parsed, idx.slice(0, mid))),
    ...(await findBad(curve, key, parsed, idx.slice(mid))),
  ];
}

export interface VerifyBatchOptions {
  /** Find which proofs are bad when the batch fails (default true); false: bad is [] on failure. */
  findBad?: boolean;
}

/**
 * Verifies every proof of `items` against `vkey` with one random linear combination (one
 * multi-Miller loop over n + 3 pairs, one final exponentiation); on failure, bisects to name the
 * bad proofs. Malformed items (wrong signal count, a signal >= r, a coordinate >= q, a point off
 * the curve or B outside the subgroup) are bad without any pairing. Throws only for a malformed
 * verification key.
 */
export async function verifyBatch(
  vkey: Groth16VKey,
  items: readonly BatchItem[],
  opts: VerifyBatchOptions = {},
): Promise<BatchResult> {
  const curve = await getCurve();
  const key = prepareKey(curve, vkey);
  const psi = makePsi(curve);
  const bad: number[] = [];
  const parsed: ParsedItem[] = [];
  const good: number[] = [];
  items.forEach((it, i) => {
    const p = parseItem(curve, key, it, psi);
    if (p) {
      good.push(parsed.length);
      parsed.push(p);
    } else {
      bad.push(i);
      parsed.push(undefined as unknown as ParsedItem);
    }
  });
  if (
    await checkCombination(
      curve,
      key,
      good.map((i) => parsed[i] as ParsedItem),
    )
  ) {
    return { ok: bad.length === 0, bad };
  }
  if (opts.findBad === false) return { ok: false, bad };
  const more = await findBad(curve, key, parsed, good);
  return { ok: false, bad: [...bad, ...more].sort((a, b) => a - b) };
}

/**
 * True iff `proof` verifies against `vkey` with `publicSignals`: `verifyBatch` of this one proof
 * (canonical signals and coordinates, points on their curves, B in the subgroup, the pairing
 * equation). A verification key it cannot read gives false.
 */
export async function proofVerifies(
  vkey: unknown,
  publicSignals: readonly string[],
  proof: Groth16Proof,
): Promise<boolean> {
  try {
    return (await verifyBatch(vkey as Groth16VKey, [{ proof, publicSignals }], { findBad: false })).ok;
  } catch {
    return false;
  }
}
