/**
 * The key anchors that need Node's toolchain (anchor.ts has the others and the types):
 *
 *  - `local`:    the key this checkout builds from the circuits (toolchain/artifacts.ts);
 *  - `registry`: the verifier generated from the bundle's key with the project's own generator and
 *                solc settings, compiled here, must have exactly the deployed runtime code that
 *                the caller read from the registry (chain/registry.ts `registryVerifiers`);
 *
 * and reading a trusted keys file.
 */
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { CIRCUITS, type CircuitName, getProfile } from "../spec/profiles.js";
import { ensureCircuit } from "../toolchain/artifacts.js";
import { compileSolidity, VERIFIER_NAMES, verifierSourceFromVkey } from "../toolchain/contracts.js";
import {
  type AnchorCheck,
  type AnchorChecker,
  anchorCheck,
  type DeployedVerifier,
  type KeyAnchor,
  sameKey,
  stripMetadata,
  type TrustedKey,
} from "./anchor.js";

/** Every anchor's check: `local` and `registry` here, the others in anchor.ts. */
export const nodeAnchorCheck: AnchorChecker = (anchor, profile) => {
  switch (anchor.kind) {
    case "local":
      return async ({ circuit, vkey }) => {
        getProfile(profile); // a clear error for a profile this checkout does not know
        const a = await ensureCircuit(circuit, profile, { buildDir: anchor.buildDir });
        return sameKey(circuit, vkey, a.vkey, `built by this checkout (${a.vkeyPath})`);
      };
    case "registry":
      return registryCheck(anchor.verifiers);
    default:
      return anchorCheck(anchor, profile);
  }
};

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

/** Runtime code (metadata stripped) of the verifier the project generates for `vkey`. */
export async function compiledVerifierCode(circuit: CircuitName, vkey: unknown): Promise<string> {
  const name = VERIFIER_NAMES[circuit];
  const source = await verifierSourceFromVkey(vkey, name);
  const out = await compileSolidity({ [`build/contracts/${name}.sol`]: source });
  const c = out[name];
  if (!c) throw new Error(`solc produced no ${name}`);
  return stripMetadata(c.deployedBytecode);
}

function registryCheck(verifiers: Record<CircuitName, DeployedVerifier>): AnchorCheck {
  return async ({ circuit, vkey }) => {
    const deployed = verifiers[circuit];
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
