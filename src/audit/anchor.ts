/**
 * Where an audit's verification keys come from. A bundle's own keys are the publisher's word: a
 * publisher who makes a key of their own (or edits `vk_delta_2` in a copy of the real one) can
 * "prove" anything under it. So every verification is anchored to keys the publisher cannot swap:
 *
 *  - `trusted`:  per circuit, the sha256 of the key file or the key itself, given by the user
 *                (`--vkey-hash circuit=sha256`, `--trusted-keys FILE`);
 *  - `local`:    the keys the user's own checkout builds from the circuits (`--local-keys`);
 *  - `registry`: the registry's deployed verifier contracts (`--rpc URL --registry ADDR`): the
 *                bundle's key is accepted iff the verifier generated from it with the project's
 *                own generator and solc settings has exactly the deployed runtime code;
 *  - `bundle`:   the bundle's own keys, explicitly (`--trust-bundle-keys`): every verdict line
 *                then carries UNANCHORED_WARNING.
 * No anchor: the audit refuses (NO_ANCHOR_MESSAGE).
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { type ContractRunner, isAddress } from "ethers";
import { REGISTRY_ABI } from "../chain/abi.js";
import { CIRCUITS, type CircuitName, getProfile } from "../spec/profiles.js";
import { ensureCircuit } from "../toolchain/artifacts.js";
import {
  compileSolidity,
  verifierSourceFromVkey as generateFromVkey,
  VERIFIER_NAMES,
} from "../toolchain/contracts.js";
import { sha256Hex } from "../util/hash.js";

export type KeyAnchor =
  | { kind: "trusted"; keys: Partial<Record<CircuitName, TrustedKey>>; source?: string }
  | { kind: "local"; buildDir?: string }
  | { kind: "registry"; runner: ContractRunner; registry: string }
  | { kind: "bundle" };

/** A trusted key: the sha256 (hex) of its file, or the snarkjs key object itself. */
export type TrustedKey = { sha256: string } | { vkey: unknown };

export const NO_ANCHOR_MESSAGE =
  "refusing to verify: no trusted verification keys. The bundle's own keys are the publisher's word (a publisher can make a key of their own and prove anything under it). Anchor the keys with one of: --rpc URL --registry ADDR|deployment.json (the registry's deployed verifiers), --vkey-hash segment=<sha256> --vkey-hash lotlist=<sha256> or --trusted-keys FILE (pinned keys), --local-keys (keys your checkout builds from the circuits); or pass --trust-bundle-keys to verify against the bundle's keys anyway (not trustworthy).";

export const UNANCHORED_WARNING = "[UNANCHORED: bundle keys trusted on the publisher's word]";

/** One key to anchor: the key file's text and its parsed form. */
export interface CandidateKey {
  circuit: CircuitName;
  text: string;
  vkey: unknown;
}

/** Checks a candidate key against the anchor: null when anchored, else why not. */
export type AnchorCheck = (k: CandidateKey) => Promise<string | null>;

export function describeAnchor(a: KeyAnchor | undefined): string {
  switch (a?.kind) {
    case "trusted":
      return `trusted keys${a.source ? ` (${a.source})` : ""}`;
    case "local":
      return "keys built by this checkout from the circuits";
    case "registry":
      return `verifiers deployed by registry ${a.registry}`;
    case "bundle":
      return "the bundle's own keys (UNANCHORED)";
    default:
      return "none";
  }
}

/** The fields that make a Groth16 key what it is (file formatting aside). */
function keyFields(vkey: unknown): string {
  const v = (vkey ?? {}) as Record<string, unknown>;
  const pick = ["protocol", "curve", "nPublic", "vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"];
  return JSON.stringify(pick.map((k) => v[k] ?? null));
}

function sameKey(circuit: CircuitName, candidate: unknown, trusted: unknown, what: string): string | null {
  if (trusted === undefined) return `no ${what} key for ${circuit}`;
  return keyFields(candidate) === keyFields(trusted) ? null : `not the key ${what}`;
}

/** Builds the check for an anchor; `profile` is the bundle's circuit profile name. */
export function anchorCheck(anchor: KeyAnchor, profile: string): AnchorCheck {
  switch (anchor.kind) {
    case "bundle":
      return async () => null;
    case "trusted":
      return async ({ circuit, text, vkey }) => {
        const want = anchor.keys[circuit];
        if (!want) return `no trusted key for ${circuit} (every circuit's key must be anchored)`;
        if ("vkey" in want) return sameKey(circuit, vkey, want.vkey, "in the trusted keys");
        const h = sha256Hex(text);
        return h === want.sha256.toLowerCase() ? null : `sha256 ${h} is not the trusted key ${want.sha256}`;
      };
    case "local":
      return async ({ circuit, vkey }) => {
        getProfile(profile); // a clear error for a profile this checkout does not know
        const a = await ensureCircuit(circuit, profile, { buildDir: anchor.buildDir });
        return sameKey(circuit, vkey, a.vkey, `built by this checkout (${a.vkeyPath})`);
      };
    case "registry":
      return registryCheck(anchor.runner, anchor.registry);
  }
}

// ---------------------------------------------------------------- trusted keys file

/**
 * Reads a trusted keys file: `{ "segment": K, "lotlist": K }` where each K is a sha256 hex of the
 * key file or a snarkjs verification key object. Every circuit must be present.
 */
export async function readTrustedKeys(file: string): Promise<KeyAnchor> {
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`--trusted-keys ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new Error(`--trusted-keys ${file}: not a JSON object`);
  const o = raw as Record<string, unknown>;
  const keys: Partial<Record<CircuitName, TrustedKey>> = {};
  for (const c of CIRCUITS) {
    const v = o[c];
    if (typeof v === "string" && /^[0-9a-f]{64}$/.test(v)) keys[c] = { sha256: v };
    else if (typeof v === "object" && v !== null && (v as Record<string, unknown>).protocol === "groth16")
      keys[c] = { vkey: v };
    else throw new Error(`--trusted-keys ${file}: ${c}: expected a sha256 hex string or a groth16 key`);
  }
  return { kind: "trusted", keys, source: path.basename(file) };
}

// ---------------------------------------------------------------- registry verifiers

/**
 * The verifier source the project generates for a verification key (snarkjs's verifier plus
 * bulkhead's `verifyBatch`): toolchain/contracts.ts `verifierSourceFromVkey`, the one generator.
 */
export async function verifierSourceFromVkey(vkey: unknown, contractName: string): Promise<string> {
  return generateFromVkey(vkey, contractName);
}

/**
 * Runtime code without solc's CBOR metadata tail (its last two bytes give the tail's length):
 * the metadata hashes source names and comments, which say nothing about what the code verifies.
 */
export function stripMetadata(code: string): string {
  const hex = code.toLowerCase().replace(/^0x/, "");
  if (hex.length < 4) return hex;
  const len = Number.parseInt(hex.slice(-4), 16);
  const cut = hex.length - 4 - 2 * len;
  // a CBOR map of solc metadata starts with 0xa1..0xa5
  if (cut > 0 && /^a[1-5]$/.test(hex.slice(cut, cut + 2))) return hex.slice(0, cut);
  return hex;
}

/** Runtime code (metadata stripped) of the verifier the project generates for `vkey`. */
export async function compiledVerifierCode(circuit: CircuitName, vkey: unknown): Promise<string> {
  const name = VERIFIER_NAMES[circuit];
  const source = await verifierSourceFromVkey(vkey, name);
  const out = await compileSolidity({ [`build/contracts/${name}.sol`]: source });
  const c = out[name];
  if (!c) throw new Error(`solc produced no ${name}`);
  return stripMetadata(c.deployedBytecode);
}

/** The runtime code of the registry's verifier for `circuit` (address read from the registry). */
export async function deployedVerifierCode(
  runner: ContractRunner,
  registry: string,
  circuit: CircuitName,
): Promise<{ address: string; code: string }> {
  const { Contract } = await import("ethers");
  if (!isAddress(registry)) throw new Error(`registry ${registry}: not an address`);
  const reg = new Contract(registry, REGISTRY_ABI as string[], runner);
  const fn = circuit === "segment" ? "segmentVerifier" : "listVerifier";
  const address = (await reg.getFunction(fn).staticCall()) as string;
  const provider = runner.provider;
  if (!provider) throw new Error("registry anchor: the runner has no provider");
  const code = await provider.getCode(address);
  if (code === "0x") throw new Error(`${fn} ${address} has no code`);
  return { address, code };
}

function registryCheck(runner: ContractRunner, registry: string): AnchorCheck {
  return async ({ circuit, vkey }) => {
    let deployed: { address: string; code: string };
    try {
      deployed = await deployedVerifierCode(runner, registry, circuit);
    } catch (err) {
      return `cannot read the registry's verifier: ${(err as Error).message}`;
    }
    let compiled: string;
    try {
      compiled = await compiledVerifierCode(circuit, vkey);
    } catch (err) {
      return `cannot generate a verifier from the key: ${(err as Error).message}`;
    }
    return stripMetadata(deployed.code) === compiled
      ? null
      : `not the key of the registry's verifier ${deployed.address} (its code differs from the verifier generated from this key)`;
  };
}
