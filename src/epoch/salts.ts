/**
 * Salts: every leaf and chained state is blinded with a field element derived from the
 * publisher's secret, `salt = HMAC-SHA256(secret, label) mod p`, so a re-run with the same
 * snapshot and secret reproduces the same leaves, roots and receipts, while nothing public lets
 * anyone confirm a guessed position. Labels include the epoch, so the same lot gets an unrelated
 * leaf in every epoch (positions cannot be linked across epochs).
 *
 * Labels (all integers in decimal):
 *   lot:<epoch>:<segmentId>:<lotId>
 *   liab:<epoch>:<segmentId>:<accountId>:<k>     k = occurrence of that account in that segment
 *   segstate:<epoch>:<segmentId>:<batch>         state produced by that segment batch
 *   liststate:<epoch>:<batch>                    state produced by that lot-list batch
 *   dummylot:<epoch>:<segmentId>:<try>           id of a segment's dummy lot (src/epoch/dummies.ts)
 *   dummylotsalt:<epoch>:<segmentId>             its salt
 *   dummyacct:<epoch>:<segmentId>:<batch>:<try>  account id of a batch's dummy liability
 *   dummyliabsalt:<epoch>:<segmentId>:<batch>    its salt
 *
 * The secret never enters `public/`. By default it is generated once (32 random bytes, hex) into
 * `DIR/private/secret` and reused by later runs on the same directory.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { FIELD_P } from "../spec/encoding.js";
import { faultPoint } from "../util/fault.js";
import { atomicWrite, exists } from "../util/fsutil.js";

export const MIN_SECRET_BYTES = 16;

export function deriveSalt(secret: Uint8Array, label: string): bigint {
  const mac = createHmac("sha256", secret).update(label, "utf8").digest("hex");
  return BigInt(`0x${mac}`) % FIELD_P;
}

/** An integer in [0, bound) derived from the secret: HMAC-SHA256(secret, label) mod bound. */
export function deriveBelow(secret: Uint8Array, label: string, bound: bigint): bigint {
  const mac = createHmac("sha256", secret).update(label, "utf8").digest("hex");
  return BigInt(`0x${mac}`) % bound;
}

export const saltLabel = {
  lot: (epoch: bigint, segmentId: bigint, lotId: bigint) => `lot:${epoch}:${segmentId}:${lotId}`,
  liability: (epoch: bigint, segmentId: bigint, accountId: bigint, k: number) =>
    `liab:${epoch}:${segmentId}:${accountId}:${k}`,
  segmentState: (epoch: bigint, segmentId: bigint, batch: number) =>
    `segstate:${epoch}:${segmentId}:${batch}`,
  listState: (epoch: bigint, batch: number) => `liststate:${epoch}:${batch}`,
  dummyLotId: (epoch: bigint, segmentId: bigint, attempt: number) =>
    `dummylot:${epoch}:${segmentId}:${attempt}`,
  dummyLotSalt: (epoch: bigint, segmentId: bigint) => `dummylotsalt:${epoch}:${segmentId}`,
  dummyAccount: (epoch: bigint, segmentId: bigint, batch: number, attempt: number) =>
    `dummyacct:${epoch}:${segmentId}:${batch}:${attempt}`,
  dummyLiabilitySalt: (epoch: bigint, segmentId: bigint, batch: number) =>
    `dummyliabsalt:${epoch}:${segmentId}:${batch}`,
};

/** Parses secret file contents: hex text (optionally 0x-prefixed) or raw bytes. */
export function parseSecret(data: Uint8Array): Uint8Array {
  const text = Buffer.from(data).toString("utf8").trim();
  const hex = text.replace(/^0x/i, "");
  const bytes =
    /^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0 ? Buffer.from(hex, "hex") : Buffer.from(data);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`secret: at least ${MIN_SECRET_BYTES} bytes are needed (got ${bytes.length})`);
  }
  return new Uint8Array(bytes);
}

export async function readSecret(file: string): Promise<Uint8Array> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    throw new Error(`secret: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseSecret(data);
}

export interface SecretSource {
  secret: Uint8Array;
  /** where it was read from or written to */
  file: string;
  created: boolean;
}

/**
 * The publisher secret: `explicit` file when given; otherwise `defaultFile`, generated (atomically,
 * mode 0600) when it does not exist yet.
 */
export async function loadOrCreateSecret(
  explicit: string | undefined,
  defaultFile: string,
): Promise<SecretSource> {
  if (explicit) return { secret: await readSecret(explicit), file: explicit, created: false };
  if (await exists(defaultFile))
    return { secret: await readSecret(defaultFile), file: defaultFile, created: false };
  const secret = randomBytes(32);
  // created owner-only (0600): never readable by others, not even between write and rename
  await atomicWrite(defaultFile, `${secret.toString("hex")}\n`, { mode: 0o600 });
  faultPoint("prove:secret-written");
  return { secret: new Uint8Array(secret), file: defaultFile, created: true };
}
