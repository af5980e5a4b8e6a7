/**
 * Where an audit's verification keys come from. A bundle's own keys are the publisher's word: a
 * publisher who makes a key of their own (or edits `vk_delta_2` in a copy of the real one) can
 * "prove" anything under it. So every verification is anchored to keys the publisher cannot swap:
 *
 *  - `trusted`:  per circuit, the sha256 of the key file or the key itself, given by the user
 *                (`--vkey-hash circuit=sha256`, `--trusted-keys FILE`);
 *  - `local`:    the keys the user's own checkout builds from the circuits (`--local-keys`);
 *  - `registry`: the registry's deployed verifier contracts (`--rpc URL --registry ADDR`), their
 *                runtime code read by the caller (chain/registry.ts `registryVerifiers`): the
 *                bundle's key is accepted iff the verifier generated from it with the project's
 *                own generator and solc settings has exactly that code;
 *  - `bundle`:   the bundle's own keys, explicitly (`--trust-bundle-keys`): every verdict line
 *                then carries UNANCHORED_WARNING.
 * No anchor: the audit refuses (NO_ANCHOR_MESSAGE).
 *
 * This file checks the anchors that need no toolchain (`trusted`, `bundle`) and runs unchanged in
 * Node and the browser; anchor.node.ts checks `local` and `registry` (they build or compile).
 */
import type { CircuitName } from "../spec/profiles.js";
import { sha256Hex } from "../util/hash.js";

export type KeyAnchor =
  | { kind: "trusted"; keys: Partial<Record<CircuitName, TrustedKey>>; source?: string }
  | { kind: "local"; buildDir?: string }
  | { kind: "registry"; registry: string; verifiers: Record<CircuitName, DeployedVerifier> }
  | { kind: "bundle" };

/** A verifier contract as deployed: its address and runtime code. */
export interface DeployedVerifier {
  address: string;
  code: string;
}

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

/** Builds the check for an anchor; `profile` is the bundle's circuit profile name. */
export type AnchorChecker = (anchor: KeyAnchor, profile: string) => AnchorCheck;

/**
 * The check of an anchor that needs no toolchain: `trusted` and `bundle`. `local` and `registry`
 * build or compile (anchor.node.ts `nodeAnchorCheck`); here they fail every key, saying so.
 */
export const anchorCheck: AnchorChecker = (anchor) => {
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
    default:
      return async () => `the ${anchor.kind} anchor needs Node's toolchain (audit/anchor.node.ts)`;
  }
};

/** The fields of a trusted key that must match the candidate's; null when they do. */
export function sameKey(
  circuit: CircuitName,
  candidate: unknown,
  trusted: unknown,
  what: string,
): string | null {
  if (trusted === undefined) return `no ${what} key for ${circuit}`;
  return keyFields(candidate) === keyFields(trusted) ? null : `not the key ${what}`;
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
