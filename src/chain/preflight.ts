/**
 * Checks before talking to a registry, so that a wrong endpoint, address or deployment file gives
 * an error a person can act on instead of ethers' "could not decode result data (BAD_DATA)":
 * the deployment file's chain id against the node's, code at the address, and that the code is a
 * SolvencyRegistry (PUBLISHER_ROLE() is keccak256("PUBLISHER_ROLE"), assetSlots() answers).
 */
import { id, type Provider } from "ethers";
import { registryAt } from "./registry.js";

export class RegistryCheckError extends Error {
  constructor(
    message: string,
    readonly code: "EWRONGCHAIN" | "ENOCODE" | "ENOTREGISTRY",
  ) {
    super(message);
    this.name = "RegistryCheckError";
  }
}

export interface RegistryRef {
  address: string;
  /** the deployment file it came from, with the chain id recorded there */
  deployment?: { file: string; chainId: string };
}

/** Throws a RegistryCheckError saying what is wrong; returns the node's chain id when all is well. */
export async function checkRegistry(
  provider: Provider,
  ref: RegistryRef,
  rpcLabel = "the node",
): Promise<bigint> {
  const chainId = (await provider.getNetwork()).chainId;
  if (ref.deployment && String(chainId) !== String(ref.deployment.chainId)) {
    throw new RegistryCheckError(
      `deployment file ${ref.deployment.file} is for chain id ${ref.deployment.chainId}, but ${rpcLabel} is chain id ${chainId}: wrong --rpc, or a deployment file of another network`,
      "EWRONGCHAIN",
    );
  }
  const code = await provider.getCode(ref.address);
  if (code === "0x") {
    throw new RegistryCheckError(
      `no contract at ${ref.address} on chain id ${chainId} (${rpcLabel}): wrong address or network, or a development node restarted since the deployment`,
      "ENOCODE",
    );
  }
  const registry = registryAt(ref.address, provider);
  try {
    const role = (await registry.getFunction("PUBLISHER_ROLE").staticCall()) as string;
    await registry.getFunction("assetSlots").staticCall();
    if (role !== id("PUBLISHER_ROLE")) throw new Error("PUBLISHER_ROLE() differs");
  } catch {
    throw new RegistryCheckError(
      `the contract at ${ref.address} on chain id ${chainId} is not a bulkhead SolvencyRegistry (it does not answer PUBLISHER_ROLE()/assetSlots() as one): check the address`,
      "ENOTREGISTRY",
    );
  }
  return chainId;
}
