/**
 * Header readers for the iden3 binary formats (ptau, r1cs): enough to check a file's kind,
 * integrity of its section table against its size, and the few numbers bulkhead needs, without
 * loading a curve.
 *
 * Layout: magic (4 bytes) | version u32 | nSections u32 | { type u32 | size u64 | data }*
 *
 * Kept hand-written rather than snarkjs' binfileutils or r1csfile: those read whole sections
 * (gigabytes for a large ptau) and build a curve first, while a header check must be instant and
 * give a one-line error for a truncated or foreign file (tested in test/circuits/build.test.ts).
 */
import * as fs from "node:fs/promises";

export interface BinSection {
  type: number;
  offset: number;
  size: number;
}

export async function readSections(
  file: string,
  magic: string,
): Promise<{ version: number; sections: BinSection[]; size: number }> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, "r");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot open (${code === "ENOENT" ? "no such file" : code})`);
  }
  try {
    const { size } = await fh.stat();
    const read = async (pos: number, len: number): Promise<Buffer> => {
      if (pos + len > size)
        throw new Error(`${file}: truncated or corrupt ${magic} file (unexpected end at byte ${pos})`);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, pos);
      return buf;
    };
    const head = await read(0, 12);
    if (head.toString("latin1", 0, 4) !== magic) {
      throw new Error(`${file}: not a ${magic} file (bad magic bytes)`);
    }
    const version = head.readUInt32LE(4);
    const nSections = head.readUInt32LE(8);
    if (nSections > 64) throw new Error(`${file}: corrupt ${magic} file (${nSections} sections)`);
    const sections: BinSection[] = [];
    let pos = 12;
    for (let i = 0; i < nSections; i++) {
      const h = await read(pos, 12);
      const type = h.readUInt32LE(0);
      const secSize = Number(h.readBigUInt64LE(4));
      const offset = pos + 12;
      if (offset + secSize > size) {
        throw new Error(
          `${file}: truncated or corrupt ${magic} file (section ${type} needs ${offset + secSize} bytes, file has ${size})`,
        );
      }
      sections.push({ type, offset, size: secSize });
      pos = offset + secSize;
    }
    if (pos !== size)
      throw new Error(`${file}: corrupt ${magic} file (${size - pos} trailing bytes after last section)`);
    return { version, sections, size };
  } finally {
    await fh.close();
  }
}

async function readAt(file: string, pos: number, len: number): Promise<Buffer> {
  const fh = await fs.open(file, "r");
  try {
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, pos);
    return buf;
  } finally {
    await fh.close();
  }
}

const BN128_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const BN128_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

function leBigInt(buf: Buffer): bigint {
  let x = 0n;
  for (let i = buf.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(buf[i] ?? 0);
  return x;
}

export interface PtauHeader {
  power: number;
  ceremonyPower: number;
  /** Has the phase-2 (Lagrange) sections that `zkey new` needs. */
  prepared: boolean;
  size: number;
}

/** Read and check a ptau header (bn128 only). Throws a one-line error on a garbled or truncated file. */
export async function readPtauHeader(file: string): Promise<PtauHeader> {
  const { sections, size } = await readSections(file, "ptau");
  const h = sections.find((s) => s.type === 1);
  if (!h || h.size < 4) throw new Error(`${file}: corrupt ptau file (no header section)`);
  const n8b = await readAt(file, h.offset, 4);
  const n8 = n8b.readUInt32LE(0);
  if (n8 !== 32 || h.size < 4 + n8 + 8)
    throw new Error(`${file}: unsupported ptau file (field size ${n8}; bn128 expected)`);
  const rest = await readAt(file, h.offset + 4, n8 + 8);
  const q = leBigInt(rest.subarray(0, n8));
  if (q !== BN128_Q) throw new Error(`${file}: unsupported ptau file (curve is not bn128)`);
  const power = rest.readUInt32LE(n8);
  const ceremonyPower = rest.readUInt32LE(n8 + 4);
  if (power < 1 || power > 28) throw new Error(`${file}: corrupt ptau file (power ${power})`);
  const need = [2, 3, 4, 5, 6, 7];
  for (const t of need) {
    if (!sections.some((s) => s.type === t))
      throw new Error(`${file}: corrupt ptau file (missing section ${t})`);
  }
  // tauG1 section must hold 2^(power+1)-1 uncompressed G1 points (64 bytes each).
  const tauG1 = sections.find((s) => s.type === 2);
  if (tauG1 && tauG1.size !== (2 ** (power + 1) - 1) * 64) {
    throw new Error(`${file}: corrupt ptau file (tauG1 section size does not match power ${power})`);
  }
  const prepared = [12, 13, 14, 15].every((t) => sections.some((s) => s.type === t));
  return { power, ceremonyPower, prepared, size };
}

export interface R1csHeader {
  nWires: number;
  nPubOut: number;
  nPubIn: number;
  nPrvIn: number;
  nLabels: number;
  nConstraints: number;
  /** Public signals = outputs + public inputs. */
  nPublic: number;
}

export async function readR1csHeader(file: string): Promise<R1csHeader> {
  const { sections } = await readSections(file, "r1cs");
  const h = sections.find((s) => s.type === 1);
  if (!h) throw new Error(`${file}: corrupt r1cs file (no header section)`);
  const buf = await readAt(file, h.offset, h.size);
  const n8 = buf.readUInt32LE(0);
  const prime = leBigInt(buf.subarray(4, 4 + n8));
  if (prime !== BN128_R) throw new Error(`${file}: r1cs is not over the bn128 scalar field`);
  let o = 4 + n8;
  const u32 = () => {
    const v = buf.readUInt32LE(o);
    o += 4;
    return v;
  };
  const nWires = u32();
  const nPubOut = u32();
  const nPubIn = u32();
  const nPrvIn = u32();
  const nLabels = Number(buf.readBigUInt64LE(o));
  o += 8;
  const nConstraints = u32();
  return { nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints, nPublic: nPubOut + nPubIn };
}
