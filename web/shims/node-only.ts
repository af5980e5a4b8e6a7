/**
 * Browser stand-ins for the Node-only imports of src/audit/anchor.ts (local builds, solc, the
 * verifier template, the repository path). The page anchors keys only by the hashes built into it
 * (a `trusted` anchor) or, when the user says so, by the bundle's own keys; chain mode reads the
 * registry's verifier code through ethers. None of these is reached there; if one ever is, it
 * fails loudly instead of verifying against something else.
 */
function nodeOnly(what: string): never {
  throw new Error(
    `${what} is not available in the browser (the page anchors keys by the hashes built into it)`,
  );
}

export const ensureCircuit = (): never => nodeOnly("building the circuits' keys (local-keys anchor)");
export const compileSolidity = (): never => nodeOnly("solc (registry anchor)");
export const verifierSourceFromVkey = (): never =>
  nodeOnly("the Solidity verifier generator (registry anchor)");
export const VERIFIER_NAMES = { segment: "SegmentVerifier", lotlist: "LotListVerifier" } as const;
export const packageDir = (): never => nodeOnly("package files (registry anchor)");
