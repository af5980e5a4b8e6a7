/**
 * BN254 G2 points on the twist y^2 = x^3 + 3/(9+u) that are NOT in the order-r subgroup (the
 * twist's group has order r * h with a large cofactor h): what a forged proof's B would be to
 * exploit a verifier without a subgroup check. Plain bigint arithmetic over Fp2 = Fp[u]/(u^2+1).
 */
import { FQ_MODULUS as P } from "../../src/util/batchverify.js";

type F2 = [bigint, bigint];
const mod = (a: bigint) => ((a % P) + P) % P;
const add = (a: F2, b: F2): F2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];
const mul = (a: F2, b: F2): F2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
function powP(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = mod(b);
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = (r * x) % P;
    x = (x * x) % P;
    k >>= 1n;
  }
  return r;
}
function pow(a: F2, e: bigint): F2 {
  let r: F2 = [1n, 0n];
  let x = a;
  let k = e;
  while (k > 0n) {
    if (k & 1n) r = mul(r, x);
    x = mul(x, x);
    k >>= 1n;
  }
  return r;
}
const inv = (a: F2): F2 => {
  const n = powP(mod(a[0] * a[0] + a[1] * a[1]), P - 2n);
  return [mod(a[0] * n), mod(-a[1] * n)];
};
/** b' = 3 / (9 + u) */
const B2 = mul([3n, 0n], inv([9n, 1n]));

/** sqrt in Fp2 (p = 3 mod 4), or undefined for a non-square. */
function sqrt(a: F2): F2 | undefined {
  // Algorithm 9 of Adj & Rodriguez-Henriquez (p = 3 mod 4)
  const a1 = pow(a, (P - 3n) / 4n);
  const alpha = mul(a1, mul(a1, a));
  const x0 = mul(a1, a);
  if (alpha[0] === P - 1n && alpha[1] === 0n) return mul([0n, 1n], x0);
  const b = pow(add([1n, 0n], alpha), (P - 1n) / 2n);
  const x = mul(b, x0);
  const chk = mul(x, x);
  return chk[0] === a[0] && chk[1] === a[1] ? x : undefined;
}

/** An affine point on the twist outside the order-r subgroup, as [[x.re, x.im], [y.re, y.im]]. */
export function nonSubgroupG2(seed = 2n): [F2, F2] {
  for (let i = seed; ; i++) {
    const x: F2 = [i, 5n];
    const rhs = add(mul(mul(x, x), x), B2);
    const y = sqrt(rhs);
    if (y) return [x, y];
  }
}
