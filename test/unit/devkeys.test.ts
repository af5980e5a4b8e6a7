/**
 * Development keys are recognised from the key: the constants of src/toolchain/devkeys.ts are what
 * the development ptau files really hold (the generated one is regenerated here; the shared ones
 * are read when this machine has them), and recognition works on keys and on verifier code.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { stripMetadata } from "../../src/audit/anchor.js";
import {
  DEV_PTAU_KEYS,
  developmentKeyOrigin,
  developmentVerifierOrigin,
} from "../../src/toolchain/devkeys.js";
import { DEV_PTAU_CONTRIBUTION } from "../../src/toolchain/ptau.js";
import { sj } from "../../src/util/snarkjs.js";

interface Curve {
  G1: { fromRprLEM(b: Uint8Array, o: number): unknown; toObject(p: unknown): bigint[] };
  G2: { fromRprLEM(b: Uint8Array, o: number): unknown; toObject(p: unknown): bigint[][] };
  terminate(): Promise<void>;
}
interface PowersOfTau {
  newAccumulator(curve: unknown, power: number, file: string): Promise<unknown>;
  beacon(i: string, o: string, name: string, hash: string, iterExp: number): Promise<unknown>;
}

/** The first `len` bytes of section `id` of a binary ptau file ("ptau", version, sections). */
async function sectionStart(file: string, id: number, len: number): Promise<Uint8Array> {
  const fh = await fs.open(file, "r");
  try {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    assert.equal(head.toString("latin1", 0, 4), "ptau");
    const n = head.readUInt32LE(8);
    let pos = 12;
    for (let i = 0; i < n; i++) {
      const h = Buffer.alloc(12);
      await fh.read(h, 0, 12, pos);
      const size = Number(h.readBigUInt64LE(4));
      if (h.readUInt32LE(0) === id) {
        const out = Buffer.alloc(len);
        await fh.read(out, 0, len, pos + 12);
        return out;
      }
      pos += 12 + size;
    }
    throw new Error(`${file}: no section ${id}`);
  } finally {
    await fh.close();
  }
}

/** alpha·G1 (alphaTauG1[0], section 4) and beta·G2 (section 6) of a ptau file. */
async function alphaBeta(c: Curve, file: string) {
  const A = c.G1.toObject(c.G1.fromRprLEM(await sectionStart(file, 4, 64), 0));
  const B = c.G2.toObject(c.G2.fromRprLEM(await sectionStart(file, 6, 128), 0));
  return { alpha1: A.slice(0, 2).map(String), beta2: B.slice(0, 2).map((p) => p.map(String)) };
}

describe("development keys", () => {
  let c: Curve;
  const tmp = mkdtempSync(path.join(os.tmpdir(), "bulkhead-devkeys-"));
  before(async () => {
    c = (await sj.curves.getCurveFromName("bn128", { singleThread: true })) as unknown as Curve;
  });
  after(async () => {
    await c.terminate();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("the generated development ptau's alpha and beta are the recorded ones (at any power)", async function () {
    this.timeout(120_000);
    const pot = (sj as unknown as { powersOfTau: PowersOfTau }).powersOfTau;
    const p0 = path.join(tmp, "0.ptau");
    const p1 = path.join(tmp, "1.ptau");
    await pot.newAccumulator(c, 8, p0);
    const hash = createHash("sha256").update(DEV_PTAU_CONTRIBUTION).digest("hex");
    await pot.beacon(p0, p1, DEV_PTAU_CONTRIBUTION, hash, 10);
    const got = await alphaBeta(c, p1);
    const rec = DEV_PTAU_KEYS.find((k) => /generated/.test(k.name));
    assert.deepEqual(got, { alpha1: rec?.alpha1, beta2: rec?.beta2 });
  });

  it("the shared development ptau files hold the recorded alpha and beta (when present)", async function () {
    const dir = path.resolve(process.env.BULKHEAD_PTAU_DIR ?? "/work/shared/ptau");
    const files = ["pot16_dev.ptau", "pot17_dev.ptau"].filter((f) => existsSync(path.join(dir, f)));
    if (files.length === 0) this.skip();
    for (const f of files) {
      const rec = DEV_PTAU_KEYS.find((k) => k.name.endsWith(f));
      assert.deepEqual(await alphaBeta(c, path.join(dir, f)), { alpha1: rec?.alpha1, beta2: rec?.beta2 });
    }
  });

  it("recognises a key from vk_alpha_1 or vk_beta_2, not from any flag; other keys are not flagged", () => {
    for (const k of DEV_PTAU_KEYS) {
      const key = {
        protocol: "groth16",
        vk_alpha_1: [...k.alpha1, "1"],
        vk_beta_2: [...k.beta2, ["1", "0"]],
      };
      assert.equal(developmentKeyOrigin(key), k.name);
      assert.equal(
        developmentKeyOrigin({
          ...key,
          vk_beta_2: [
            ["1", "2"],
            ["3", "4"],
            ["1", "0"],
          ],
        }),
        k.name,
      );
      assert.equal(developmentKeyOrigin({ ...key, vk_alpha_1: ["5", "6", "1"] }), k.name);
    }
    assert.equal(
      developmentKeyOrigin({
        vk_alpha_1: ["5", "6", "1"],
        vk_beta_2: [
          ["1", "2"],
          ["3", "4"],
        ],
      }),
      null,
    );
    assert.equal(developmentKeyOrigin(null), null);
  });

  it("recognises a development key inlined (PUSH32) in verifier code", () => {
    const k = DEV_PTAU_KEYS[1];
    if (!k) throw new Error("fixture");
    const word = BigInt(k.alpha1[0]).toString(16).padStart(64, "0");
    assert.equal(developmentVerifierOrigin(`0x6080604052${"7f"}${word}5050`), k.name);
    assert.equal(developmentVerifierOrigin(`0x60806040527f${"ab".repeat(32)}`), null);
  });

  it("strips solc's CBOR metadata tail and nothing else", () => {
    const body = "6080604052348015600e575f80fd5b50";
    const meta = `a264697066735822${"11".repeat(34)}64736f6c634300081e0033`;
    assert.equal(stripMetadata(`0x${body}${meta}`), body);
    assert.equal(stripMetadata(`0x${body}`), body);
  });
});
