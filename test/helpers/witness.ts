/**
 * Witness-level circuit testing in the manner of circomkit: compute a witness with the
 * circuit's wasm, check it against the R1CS ourselves, and edit signals by name to show that a
 * tampered witness violates a constraint (`expectConstraintFail`). Independent of snarkjs'
 * prover, so a failing constraint is seen directly.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { WitnessCalculatorBuilder } from "circom_runtime";
import { FIELD_P } from "../../src/spec/encoding.js";
import { type CircuitSpec, compileCircuit } from "../../src/toolchain/compile.js";
import { CIRCUITS_DIR } from "../../src/util/paths.js";

interface Lc {
  idx: Uint32Array;
  coef: bigint[];
}
interface Constraint {
  a: Lc;
  b: Lc;
  c: Lc;
}

export interface R1cs {
  nWires: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  nConstraints: number;
  constraints: Constraint[];
}

/** Minimal R1CS (iden3 binary format v1) reader: header and constraints. */
export function readR1cs(file: string): R1cs {
  const buf = readFileSync(file);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.toString("ascii", 0, 4) !== "r1cs") throw new Error(`${file}: not an r1cs file`);
  const nSections = dv.getUint32(8, true);
  let pos = 12;
  const sections = new Map<number, { start: number; size: number }>();
  for (let i = 0; i < nSections; i++) {
    const type = dv.getUint32(pos, true);
    const size = Number(dv.getBigUint64(pos + 4, true));
    sections.set(type, { start: pos + 12, size });
    pos += 12 + size;
  }
  const h = sections.get(1);
  const cs = sections.get(2);
  if (!h || !cs) throw new Error(`${file}: missing r1cs sections`);
  let p = h.start;
  const n8 = dv.getUint32(p, true);
  p += 4 + n8;
  const nWires = dv.getUint32(p, true);
  const nOutputs = dv.getUint32(p + 4, true);
  const nPubInputs = dv.getUint32(p + 8, true);
  const nPrvInputs = dv.getUint32(p + 12, true);
  const nConstraints = dv.getUint32(p + 24, true);
  const readBig = (at: number): bigint => {
    let v = 0n;
    for (let i = n8 - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[at + i] as number);
    return v;
  };
  p = cs.start;
  const readLc = (): Lc => {
    const n = dv.getUint32(p, true);
    p += 4;
    const idx = new Uint32Array(n);
    const coef: bigint[] = [];
    for (let i = 0; i < n; i++) {
      idx[i] = dv.getUint32(p, true);
      coef.push(readBig(p + 4));
      p += 4 + n8;
    }
    return { idx, coef };
  };
  const constraints: Constraint[] = [];
  for (let i = 0; i < nConstraints; i++) constraints.push({ a: readLc(), b: readLc(), c: readLc() });
  return { nWires, nOutputs, nPubInputs, nPrvInputs, nConstraints, constraints };
}

function evalLc(lc: Lc, w: readonly bigint[]): bigint {
  let s = 0n;
  for (let i = 0; i < lc.idx.length; i++) s += (lc.coef[i] as bigint) * (w[lc.idx[i] as number] as bigint);
  return s % FIELD_P;
}

/** Index of the first violated constraint, or -1 when the witness satisfies the R1CS. */
export function firstViolation(r1cs: R1cs, w: readonly bigint[]): number {
  if (w.length !== r1cs.nWires) throw new Error(`witness has ${w.length} wires, r1cs ${r1cs.nWires}`);
  if (w[0] !== 1n) return -2;
  for (let i = 0; i < r1cs.constraints.length; i++) {
    const c = r1cs.constraints[i] as Constraint;
    if ((evalLc(c.a, w) * evalLc(c.b, w) - evalLc(c.c, w)) % FIELD_P !== 0n) return i;
  }
  return -1;
}

export interface TestCircuit {
  name: string;
  dir: string;
  r1cs: R1cs;
  /** signal name ("main.x", "main.c.y[2]") -> witness index (only signals kept by --O2) */
  signals: Map<string, number>;
  witness(input: Record<string, unknown>): Promise<bigint[]>;
}

/**
 * Compile `spec` (r1cs + wasm + sym, --O2) through the shared compile cache (src/toolchain/compile.ts)
 * and load it for witness-level tests.
 */
export async function compileTestCircuit(spec: CircuitSpec): Promise<TestCircuit> {
  const { dir } = await compileCircuit(spec);
  const r1cs = readR1cs(path.join(dir, "main.r1cs"));
  const signals = new Map<string, number>();
  for (const line of readFileSync(path.join(dir, "main.sym"), "utf8").split("\n")) {
    const parts = line.split(",");
    if (parts.length < 4) continue;
    const widx = Number(parts[1]);
    if (widx >= 0) signals.set(parts.slice(3).join(","), widx);
  }
  const wasm = readFileSync(path.join(dir, "main.wasm"));
  return {
    name: spec.id,
    dir,
    r1cs,
    signals,
    async witness(input) {
      // a fresh instance each time: a failed assert leaves the wasm instance unusable
      const wc = await WitnessCalculatorBuilder(wasm);
      return wc.calculateWitness(input, true);
    },
  };
}

/** A compile spec for a test-only main component over the circuits in circuits/ (e.g. gadgets). */
export function testSpec(id: string, entry: string, mainSource: string): CircuitSpec {
  return { id, circuit: id, profile: "test-only", entry, mainSource, circuitsDir: CIRCUITS_DIR, params: {} };
}

/** The witness must satisfy every constraint. */
export function expectSatisfied(c: TestCircuit, w: readonly bigint[]): void {
  const v = firstViolation(c.r1cs, w);
  if (v !== -1) throw new Error(`${c.name}: honest witness violates constraint ${v}`);
}

/** Replace signals (by name, without the "main." prefix) in a copy of an honest witness. */
export function editWitness(c: TestCircuit, w: readonly bigint[], edits: Record<string, bigint>): bigint[] {
  const out = [...w];
  for (const [name, value] of Object.entries(edits)) {
    const idx = c.signals.get(`main.${name}`);
    if (idx === undefined)
      throw new Error(`${c.name}: signal ${name} is not in the witness (eliminated or unknown)`);
    out[idx] = ((value % FIELD_P) + FIELD_P) % FIELD_P;
  }
  return out;
}

/** Read a signal of a witness by name (without "main."). */
export function readSignal(c: TestCircuit, w: readonly bigint[], name: string): bigint {
  const idx = c.signals.get(`main.${name}`);
  if (idx === undefined) throw new Error(`${c.name}: signal ${name} is not in the witness`);
  return w[idx] as bigint;
}

/** The tampered witness must violate at least one constraint. */
export function expectConstraintFail(c: TestCircuit, w: readonly bigint[]): void {
  if (firstViolation(c.r1cs, w) === -1)
    throw new Error(`${c.name}: tampered witness satisfies every constraint`);
}

/** No witness exists for this input: witness generation must hit a failing constraint. */
export async function expectWitnessFail(c: TestCircuit, input: Record<string, unknown>): Promise<void> {
  let w: bigint[] | undefined;
  // the wasm runtime prints every failed assert to the console: the rejection is expected here,
  // its message is still in the error thrown
  const { log, error } = console;
  console.log = () => {};
  console.error = () => {};
  try {
    w = await c.witness(input);
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    if (/Assert Failed/.test(msg)) return;
    throw e;
  } finally {
    console.log = log;
    console.error = error;
  }
  // the generator did not assert: the witness it produced must still violate the R1CS
  expectConstraintFail(c, w);
}

/** Public signals (outputs then public inputs) of a witness, as decimal strings. */
export function publicSignals(c: TestCircuit, w: readonly bigint[]): string[] {
  const n = c.r1cs.nOutputs + c.r1cs.nPubInputs;
  return w.slice(1, 1 + n).map(String);
}

/**
 * Like `editWitness`, but skips names that --O2 eliminated (substituted by a linear combination of
 * kept wires, whose value then follows from the edited ones). Used by the forgeries below, which
 * assign every signal of a gadget from a forged claim. Throws when no name at all was found.
 */
export function editPresent(c: TestCircuit, w: readonly bigint[], edits: Record<string, bigint>): bigint[] {
  const present: Record<string, bigint> = {};
  for (const [name, value] of Object.entries(edits)) {
    if (c.signals.has(`main.${name}`)) present[name] = value;
  }
  if (Object.keys(present).length === 0)
    throw new Error(`${c.name}: none of ${Object.keys(edits).slice(0, 3).join(", ")}... is in the witness`);
  return editWitness(c, w, present);
}

const fmod = (x: bigint): bigint => ((x % FIELD_P) + FIELD_P) % FIELD_P;
/** the low n bits of x mod p (a forged decomposition: its sum is x only when x mod p < 2^n) */
function bitEdits(prefix: string, x: bigint, n: number): Record<string, bigint> {
  const v = fmod(x);
  const out: Record<string, bigint> = {};
  for (let i = 0; i < n; i++) out[`${prefix}[${i}]`] = (v >> BigInt(i)) & 1n;
  return out;
}

const BAND_FLOOR = [0n, 10000n, 11000n, 15000n, 20000n];
/**
 * Every signal of a CoverageBand instance (`prefix`, e.g. "res.cb") computed as an honest prover
 * would if the band were `band`: the one-hot bits, loReq, hiReq, upper, both range checks' bit
 * decompositions, band and covered. Forging the true band reproduces the honest witness (a check
 * of the forgery itself); any other band leaves exactly the range checks unsatisfiable.
 */
export function coverageBandEdits(
  prefix: string,
  band: number,
  coll: bigint,
  req: bigint,
): Record<string, bigint> {
  const lo = BAND_FLOOR[band] as bigint;
  const hi = band < 4 ? (BAND_FLOOR[band + 1] as bigint) : 0n;
  const upper = band < 4 ? fmod(hi * req - 10000n * coll - 1n) : 0n;
  const e: Record<string, bigint> = {
    [`${prefix}.loReq`]: fmod(lo * req),
    [`${prefix}.hiReq`]: fmod(hi * req),
    [`${prefix}.upper`]: upper,
    [`${prefix}.band`]: BigInt(band),
    [`${prefix}.covered`]: band >= 1 ? 1n : 0n,
    ...bitEdits(`${prefix}.loCheck.bits.out`, 10000n * coll - lo * req, 252),
    ...bitEdits(`${prefix}.hiCheck.bits.out`, upper, 252),
  };
  for (let i = 0; i < 5; i++) e[`${prefix}.bits[${i}]`] = i === band ? 1n : 0n;
  return e;
}

/**
 * Every signal of a SafeGreaterEqThan(n) instance (`prefix`) for the claim `out`: the comparator's
 * decomposition of a + 2^n - b with its top bit set to the claim (the honest claim reproduces the
 * honest witness; the false one cannot satisfy the decomposition).
 */
export function greaterEqEdits(
  prefix: string,
  n: number,
  a: bigint,
  b: bigint,
  out: bigint,
): Record<string, bigint> {
  const v = fmod(a + (1n << BigInt(n)) - b);
  const e = bitEdits(`${prefix}.lt.n2b.out`, v, n + 1);
  e[`${prefix}.lt.n2b.out[${n}]`] = out;
  e[`${prefix}.lt.out`] = 1n - out;
  e[`${prefix}.out`] = out;
  return e;
}
