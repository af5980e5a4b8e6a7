/**
 * JSON-RPC provider and signer for the CLI. The private key never comes from a command-line flag
 * (shell history): it is read from $BULKHEAD_PRIVATE_KEY, or from an encrypted JSON keystore
 * (`--keystore FILE`) whose password is in $BULKHEAD_KEYSTORE_PASSWORD.
 */
import * as fs from "node:fs/promises";
import { JsonRpcProvider, Network, Wallet } from "ethers";

export const PRIVATE_KEY_ENV = "BULKHEAD_PRIVATE_KEY";
export const KEYSTORE_PASSWORD_ENV = "BULKHEAD_KEYSTORE_PASSWORD";

/** A provider for `url` whose network is fixed after one eth_chainId (clear error when unreachable). */
export async function connectRpc(
  url: string,
  opts: { timeoutMs?: number; pollingMs?: number } = {},
): Promise<JsonRpcProvider> {
  let chainId: bigint;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    const body = (await res.json()) as { result?: string; error?: { message?: string } };
    if (!body.result) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
    chainId = BigInt(body.result);
  } catch (err) {
    throw new Error(`cannot reach the JSON-RPC node at ${url}: ${(err as Error).message}`);
  }
  const network = Network.from(chainId);
  return new JsonRpcProvider(url, network, {
    staticNetwork: network,
    pollingInterval: opts.pollingMs ?? 250,
    // no result caching: a cached eth_getTransactionCount would reuse a nonce between quick transactions
    cacheTimeout: -1,
  });
}

/** The signer from $BULKHEAD_PRIVATE_KEY or an encrypted keystore. */
export async function loadSigner(
  provider: JsonRpcProvider,
  opts: { keystore?: string } = {},
): Promise<Wallet> {
  if (opts.keystore) {
    const password = process.env[KEYSTORE_PASSWORD_ENV];
    if (password === undefined)
      throw new Error(`--keystore needs the keystore password in $${KEYSTORE_PASSWORD_ENV}`);
    const json = await fs.readFile(opts.keystore, "utf8");
    let w: Wallet;
    try {
      const decrypted = await Wallet.fromEncryptedJson(json, password);
      w = new Wallet(decrypted.privateKey);
    } catch (err) {
      throw new Error(`cannot decrypt keystore ${opts.keystore}: ${(err as Error).message}`);
    }
    return w.connect(provider);
  }
  const key = process.env[PRIVATE_KEY_ENV];
  if (!key)
    throw new Error(
      `no signing key: set $${PRIVATE_KEY_ENV} or pass --keystore FILE (password in $${KEYSTORE_PASSWORD_ENV})`,
    );
  try {
    return new Wallet(key.trim(), provider);
  } catch {
    throw new Error(`$${PRIVATE_KEY_ENV} is not a valid private key`);
  }
}
