/**
 * Deployment of the two snarkjs verifiers and the SolvencyRegistry, and the deployment file.
 */
import * as path from "node:path";
import { ContractFactory, type InterfaceAbi, type Signer } from "ethers";
import { getProfile, type Profile } from "../spec/profiles.js";
import { type CompiledContract, type ContractsManifest, loadContract } from "../toolchain/contracts.js";
import { developmentVerifierOrigin } from "../toolchain/devkeys.js";
import { atomicWriteJson, readJsonIfExists } from "../util/fsutil.js";
import { buildDir as defaultBuildDir } from "../util/paths.js";
import { type Reporter, silentReporter } from "../util/progress.js";
import { ChainError, registryAt, sendTx } from "./registry.js";

export const DEPLOYMENT_FORMAT = "bulkhead-deployment";
export const DEPLOYMENT_VERSION = 1;
export const PUBLISHER_ROLE_NAME = "PUBLISHER_ROLE";

export interface DeployArtifacts {
  segmentVerifier: Pick<CompiledContract, "abi" | "bytecode">;
  listVerifier: Pick<CompiledContract, "abi" | "bytecode">;
  registry: Pick<CompiledContract, "abi" | "bytecode">;
  /** profile the verifiers were generated for (from build/contracts/manifest.json) */
  profile?: string;
  /** verifier name -> { vkeySha256, insecure, ... } from the contracts build manifest */
  verifiers?: ContractsManifest["verifiers"];
}

/** The compiled verifiers and registry of `bulkhead build` (build/contracts/). */
export async function loadDeployArtifacts(buildDir = defaultBuildDir()): Promise<DeployArtifacts> {
  const manifest = await readJsonIfExists<ContractsManifest>(
    path.join(buildDir, "contracts", "manifest.json"),
  );
  if (!manifest) throw new Error("contracts not built (run: bulkhead build --profile <name>)");
  return {
    segmentVerifier: await loadContract("SegmentVerifier", buildDir),
    listVerifier: await loadContract("LotListVerifier", buildDir),
    registry: await loadContract("SolvencyRegistry", buildDir),
    profile: manifest.profile,
    verifiers: manifest.verifiers,
  };
}

export interface DeployOptions {
  /** the circuit profile the verifiers were built for (default: the artifacts' profile) */
  profile?: Profile;
  /**
   * SegmentGovernance contract whose governed segments, oracle prices and custody every epoch must
   * match (src/chain/governance.ts deploys one); default none: an ungoverned development registry
   */
  governance?: string;
  /** admin (DEFAULT_ADMIN_ROLE) address; default the deployer */
  admin?: string;
  /** publisher addresses; default [deployer] (granted only when the deployer is the admin) */
  publishers?: string[];
  /** deploy development verifiers on a chain that is not a local one (LOCAL_CHAIN_IDS) */
  allowDevKeys?: boolean;
  reporter?: Reporter;
}

/** Chain ids of local development nodes (anvil/hardhat, ganache/geth dev). */
export const LOCAL_CHAIN_IDS: readonly bigint[] = [31337n, 1337n];

/**
 * Whether the artifacts' verifiers carry development keys: the contracts build's own record, or
 * a known development ptau's alpha/beta inlined in the verifier code (recognised from the key
 * itself, whatever the record says).
 */
export function artifactsDevKeys(arts: DeployArtifacts): string | null {
  const fromCode = [arts.segmentVerifier.bytecode, arts.listVerifier.bytecode]
    .map((c) => developmentVerifierOrigin(c))
    .filter((x): x is string => x !== null);
  if (fromCode.length > 0) return [...new Set(fromCode)].join(", ");
  const recorded = Object.values(arts.verifiers ?? {}).some((v) => v.insecure);
  return recorded ? "development trusted setup (contracts build record)" : null;
}

export interface Deployment {
  format: typeof DEPLOYMENT_FORMAT;
  version: typeof DEPLOYMENT_VERSION;
  chainId: string;
  registry: string;
  segmentVerifier: string;
  listVerifier: string;
  assetSlots: number;
  profile: string | null;
  admin: string;
  publishers: string[];
  deployer: string;
  blockNumber: number;
  transactions: { what: string; hash: string; gasUsed: string }[];
  verifiers?: ContractsManifest["verifiers"];
  /** true when a verifier comes from a development (insecure) trusted setup */
  devSetup: boolean;
  deployedAt: string;
}

async function deployOne(
  what: string,
  art: Pick<CompiledContract, "abi" | "bytecode">,
  signer: Signer,
  args: unknown[],
): Promise<{ address: string; hash: string; gasUsed: bigint; blockNumber: number }> {
  if (!art.bytecode || art.bytecode === "0x")
    throw new Error(`${what}: no bytecode (abstract contract or interface?)`);
  const factory = new ContractFactory(art.abi as InterfaceAbi, art.bytecode, signer);
  try {
    const c = await factory.deploy(...args);
    const tx = c.deploymentTransaction();
    const receipt = await tx?.wait();
    if (!receipt) throw new Error("no receipt");
    return {
      address: await c.getAddress(),
      hash: receipt.hash,
      gasUsed: receipt.gasUsed,
      blockNumber: receipt.blockNumber,
    };
  } catch (err) {
    throw new ChainError(`deploy ${what}`, err);
  }
}

/** Deploys SegmentVerifier, LotListVerifier and SolvencyRegistry; grants the publisher role. */
export async function deployRegistry(
  signer: Signer,
  arts: DeployArtifacts,
  opts: DeployOptions = {},
): Promise<Deployment> {
  const reporter = opts.reporter ?? silentReporter;
  const provider = signer.provider;
  if (!provider) throw new Error("deploy: the signer has no provider");
  const deployer = await signer.getAddress();
  const admin = opts.admin ?? deployer;
  const profile = opts.profile ?? (arts.profile ? getProfile(arts.profile) : undefined);
  if (profile === undefined) throw new Error("deploy: unknown circuit profile (pass the profile)");
  const assets = profile.assetsPerSegment;
  const devKeys = artifactsDevKeys(arts);
  const devSetup = devKeys !== null;
  const { chainId } = await provider.getNetwork();
  if (devKeys && !LOCAL_CHAIN_IDS.includes(chainId) && !opts.allowDevKeys) {
    throw new Error(
      `deploy: refusing to deploy development verifiers (keys from the ${devKeys}: anyone can forge proofs) on chain ${chainId}; local chains are ${LOCAL_CHAIN_IDS.join(", ")}. Build production keys (bulkhead setup), or pass --allow-dev-keys`,
    );
  }
  if (devSetup)
    reporter.warn(`the verifiers carry development keys (from the ${devKeys}): INSECURE, development only`);

  const txs: Deployment["transactions"] = [];
  const seg = await deployOne("SegmentVerifier", arts.segmentVerifier, signer, []);
  txs.push({ what: "deploy SegmentVerifier", hash: seg.hash, gasUsed: String(seg.gasUsed) });
  reporter.info(`deployed SegmentVerifier at ${seg.address}`);
  const list = await deployOne("LotListVerifier", arts.listVerifier, signer, []);
  txs.push({ what: "deploy LotListVerifier", hash: list.hash, gasUsed: String(list.gasUsed) });
  reporter.info(`deployed LotListVerifier at ${list.address}`);
  const reg = await deployOne("SolvencyRegistry", arts.registry, signer, [
    admin,
    seg.address,
    list.address,
    opts.governance ?? NO_GOVERNANCE,
    registryConfig(profile),
  ]);
  txs.push({ what: "deploy SolvencyRegistry", hash: reg.hash, gasUsed: String(reg.gasUsed) });
  reporter.info(
    `deployed SolvencyRegistry at ${reg.address} (profile ${profile.name}: A = ${assets}, K = ${profile.stressScenarios}, GA = ${profile.globalAssets})`,
  );

  const publishers = opts.publishers ?? [deployer];
  if (publishers.length > 0 && admin.toLowerCase() !== deployer.toLowerCase()) {
    throw new Error("deploy: publishers can only be granted when the deployer is the admin");
  }
  const registry = registryAt(reg.address, signer);
  const role = (await registry.getFunction(PUBLISHER_ROLE_NAME).staticCall()) as string;
  for (const p of publishers) {
    const r = await sendTx(`grant publisher ${p}`, () => registry.getFunction("grantRole")(role, p));
    txs.push({ what: `grantRole(PUBLISHER_ROLE, ${p})`, hash: r.hash, gasUsed: String(r.gasUsed) });
    reporter.info(`granted PUBLISHER_ROLE to ${p}`);
  }
  const network = await provider.getNetwork();
  return {
    format: DEPLOYMENT_FORMAT,
    version: DEPLOYMENT_VERSION,
    chainId: String(network.chainId),
    registry: reg.address,
    segmentVerifier: seg.address,
    listVerifier: list.address,
    assetSlots: assets,
    profile: arts.profile ?? null,
    admin,
    publishers,
    deployer,
    blockNumber: reg.blockNumber,
    transactions: txs,
    verifiers: arts.verifiers,
    devSetup,
    deployedAt: new Date().toISOString(),
  };
}

/** The registry's governance address when it has none (ungoverned, development). */
export const NO_GOVERNANCE = "0x0000000000000000000000000000000000000000";

/** The registry constructor's `Config` for a circuit profile (the verifiers' public-input shape). */
export function registryConfig(p: Profile): {
  assetSlots: number;
  stressScenarios: number;
  globalAssets: number;
  lotsPerBatch: number;
  liabsPerBatch: number;
  lotsPerGlobalBatch: number;
} {
  return {
    assetSlots: p.assetsPerSegment,
    stressScenarios: p.stressScenarios,
    globalAssets: p.globalAssets,
    lotsPerBatch: p.lotsPerBatch,
    liabsPerBatch: p.liabsPerBatch,
    lotsPerGlobalBatch: p.lotsPerGlobalBatch,
  };
}

/** Writes the deployment file atomically. */
export async function writeDeployment(file: string, d: Deployment): Promise<void> {
  await atomicWriteJson(file, d);
}

export async function readDeployment(file: string): Promise<Deployment> {
  const d = await readJsonIfExists<Deployment>(file);
  if (!d) throw new Error(`deployment file ${file} does not exist`);
  if (d.format !== DEPLOYMENT_FORMAT) throw new Error(`${file}: not a bulkhead deployment file`);
  return d;
}
