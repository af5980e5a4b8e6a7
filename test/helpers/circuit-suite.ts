/**
 * What the circuit soundness suites (test/circuits/*.test.ts) share: the test-profile circuits
 * compiled once per process, input tampering, the honest-witness check, a deterministic PRNG and
 * token units.
 */
import assert from "node:assert/strict";
import { initPoseidon } from "../../src/spec/encoding.js";
import { circuitSpec } from "../../src/toolchain/compile.js";
import { type Input, type Slot, TEST } from "./scenario.js";
import { compileTestCircuit, expectSatisfied, type TestCircuit } from "./witness.js";

export const A = TEST.assetsPerSegment;
export const K = TEST.stressScenarios;
export const GA = TEST.globalAssets;
export const UNUSED_SLOT_ENC: Slot = { price: 1n, cfBps: 0n, asset: 0n, cap: 0n, pooled: false };

/** Copy an input and override some of its entries; `arr: [i, v]` sets one array element. */
export function tamper(input: Input, edits: Record<string, bigint | [number, bigint]>): Input {
  const out = structuredClone(input);
  for (const [k, v] of Object.entries(edits)) {
    assert.ok(k in out, `${k} is not an input`);
    if (Array.isArray(v)) {
      const arr = out[k];
      assert.ok(Array.isArray(arr), `${k} is not an array input`);
      assert.ok(v[0] < arr.length, `${k}[${v[0]}] is out of range`);
      arr[v[0]] = String(v[1]);
    } else {
      out[k] = String(v);
    }
  }
  return out;
}

/** Witness of an input that must satisfy every constraint. */
export async function honest(c: TestCircuit, input: Input): Promise<bigint[]> {
  const w = await c.witness(input);
  expectSatisfied(c, w);
  return w;
}

/** A deterministic PRNG for the property tests. */
export function prng(seed: bigint): (bits: bigint) => bigint {
  let s = seed;
  return (bits) => {
    let v = 0n;
    for (let got = 0n; got < bits; got += 64n) {
      s = (s * 6364136223846793005n + 1442695040888963407n) % 2n ** 64n;
      v = (v << 64n) | ((s * 0x2545f4914f6cdd1dn) % 2n ** 64n);
    }
    return v % 2n ** bits;
  };
}

export const ETH = 10n ** 18n;
export const USDC = 10n ** 6n;
export const BTC = 10n ** 8n;

let compiled: Promise<{ seg: TestCircuit; list: TestCircuit }> | undefined;

/** The segment and lot-list circuits of the test profile, compiled once per process. */
export function testCircuits(): Promise<{ seg: TestCircuit; list: TestCircuit }> {
  compiled ??= (async () => {
    await initPoseidon();
    return {
      seg: await compileTestCircuit(circuitSpec("segment", TEST)),
      list: await compileTestCircuit(circuitSpec("lotlist", TEST)),
    };
  })();
  return compiled;
}
