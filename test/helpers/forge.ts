/**
 * A lying publisher's tools: verification keys whose trapdoor the publisher knows, and Groth16
 * "proofs" of any public signals under them, so that tests can show what anchoring the keys stops.
 *
 * snarkjs keys have gamma_2 = G2's generator, and verify e(-A, B)·e(α, β)·e(L, γ)·e(C, δ) == 1
 * with L = IC_0 + Σ s_i·IC_{i+1}. With δ = d·G2 for a known d, the "proof" A = α, B = β,
 * C = -(1/d)·L satisfies it for every s: e(L, G2)·e(-L/d, d·G2) = 1.
 *
 *  - `editDelta`: the real key with only vk_delta_2 replaced (a copy of the real key, edited);
 *  - `newSetup`: a whole new key (α, β, δ, IC of the publisher's choosing).
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { Bundle } from "../../src/bundle/bundle.js";
import { FIELD_P } from "../../src/spec/encoding.js";
import { sj } from "../../src/util/snarkjs.js";

type Pt = unknown;
interface Group {
  g: Pt;
  timesScalar(p: Pt, e: bigint): Pt;
  add(a: Pt, b: Pt): Pt;
  neg(a: Pt): Pt;
  toAffine(a: Pt): Pt;
  toObject(a: Pt): unknown;
  fromObject(o: unknown): Pt;
}
interface Curve {
  G1: Group;
  G2: Group;
  terminate(): Promise<void>;
}

const str = (o: unknown): unknown => (Array.isArray(o) ? o.map(str) : String(o));
const g1 = (c: Curve, p: Pt) => str(c.G1.toObject(c.G1.toAffine(p)));
const g2 = (c: Curve, p: Pt) => str(c.G2.toObject(c.G2.toAffine(p)));
const big = (o: unknown): unknown => (Array.isArray(o) ? o.map(big) : BigInt(o as string));

function modInverse(a: bigint, p: bigint): bigint {
  let [r0, r1, s0, s1] = [a % p, p, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % p) + p) % p;
}

export type ForgeMode = "editDelta" | "newSetup";

/** The publisher's key for `mode` from the real key, with the trapdoor d (δ = d·G2). */
function forgedKey(c: Curve, real: Record<string, unknown>, mode: ForgeMode, d: bigint) {
  const key: Record<string, unknown> = { ...real, vk_delta_2: g2(c, c.G2.timesScalar(c.G2.g, d)) };
  if (mode === "newSetup") {
    key.vk_alpha_1 = g1(c, c.G1.timesScalar(c.G1.g, 0xa1fa1234n));
    key.vk_beta_2 = g2(c, c.G2.timesScalar(c.G2.g, 0xbe7a5678n));
    key.IC = (real.IC as unknown[]).map((_, i) => g1(c, c.G1.timesScalar(c.G1.g, 1000n + BigInt(i) * 7919n)));
  }
  return key;
}

function forgeProof(c: Curve, key: Record<string, unknown>, dInv: bigint, signals: string[]) {
  const ic = (key.IC as unknown[]).map((p) => c.G1.fromObject(big(p)));
  let L = ic[0] as Pt;
  signals.forEach((s, i) => {
    L = c.G1.add(L, c.G1.timesScalar(ic[i + 1] as Pt, BigInt(s)));
  });
  const C = c.G1.neg(c.G1.timesScalar(L, dInv));
  return {
    pi_a: g1(c, c.G1.fromObject(big(key.vk_alpha_1))) as string[],
    pi_b: g2(c, c.G2.fromObject(big(key.vk_beta_2))) as string[][],
    pi_c: g1(c, C) as string[],
    protocol: "groth16",
    curve: "bn128",
  };
}

/**
 * Rewrites the bundle in `dir` as a lying publisher would: `edit` changes public signals (e.g.
 * an insolvent segment claims healthy), then both keys are replaced (`mode`) and every proof is
 * forged under them; the bundle's vkey records are updated and devSetup claims false.
 */
export async function forgeBundle(dir: string, mode: ForgeMode, edit: (b: Bundle) => void): Promise<void> {
  const file = path.join(dir, "bundle.json");
  const b = JSON.parse(readFileSync(file, "utf8")) as Bundle;
  edit(b);
  const c = (await sj.curves.getCurveFromName("bn128", { singleThread: true })) as unknown as Curve;
  try {
    const d = 0x5eed_f00d_1234n;
    const dInv = modInverse(d, FIELD_P);
    for (const circuit of ["segment", "lotlist"] as const) {
      const vfile = path.join(dir, b.vkeys[circuit].file);
      const key = forgedKey(c, JSON.parse(readFileSync(vfile, "utf8")), mode, d);
      const text = JSON.stringify(key, null, 1);
      writeFileSync(vfile, text);
      b.vkeys[circuit].sha256 = createHash("sha256").update(text).digest("hex");
      const proofs = circuit === "segment" ? b.proofs.segments.flatMap((s) => s.batches) : b.proofs.lotList;
      for (const p of proofs) p.proof = forgeProof(c, key, dInv, p.publicSignals);
    }
  } finally {
    await c.terminate();
  }
  b.devSetup = false;
  delete b.warning;
  writeFileSync(file, JSON.stringify(b, null, 2));
}

/**
 * The edit of the issue: segment 3 (insolvent) claims healthy on its last batch, with a result
 * that decodes consistently (health bit 1, band 1 "100-110%", every stress bit 0).
 */
export function insolventClaimsHealthy(b: Bundle): void {
  const seg = b.proofs.segments.find((s) => s.id === 3);
  const last = seg?.batches[seg.batches.length - 1];
  if (!last) throw new Error("fixture: segment 3 has no batch");
  last.publicSignals[2] = String(1n + (1n << BigInt(1 + b.profile.stressScenarios)));
}
