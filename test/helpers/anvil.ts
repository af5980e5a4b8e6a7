/**
 * A local anvil node on the loopback interface, for tests and the demo.
 *
 * The platform binary of `@foundry-rs/anvil` is spawned directly (not through the npm wrapper
 * script, so killing the child kills the node), on 127.0.0.1 with port 0: anvil binds a free port
 * itself and prints it, so there is no race between choosing and binding a port. Every node
 * started here is killed on `stop()`, and also when this process exits or receives SIGINT/SIGTERM,
 * so a failing test leaves no process behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { type JsonRpcProvider, Wallet } from "ethers";
import { connectRpc } from "../../src/chain/signer.js";
import { packageBin, packageDir } from "../../src/util/paths.js";

export interface AnvilOptions {
  /** Path of the anvil binary (default: $BULKHEAD_ANVIL, then the @foundry-rs/anvil platform package). */
  binary?: string;
  /** Port (default 0: anvil picks a free one). */
  port?: number;
  /** Chain id (default 31337). */
  chainId?: number;
  /** Block gas limit (default anvil's). */
  gasLimit?: bigint;
  /** Ms to wait for the node to listen (default 20000). */
  startTimeoutMs?: number;
  /** Extra command-line arguments. */
  args?: string[];
}

export interface AnvilNode {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The node's funded development private keys, as anvil printed them (local use only). */
  readonly privateKeys: readonly string[];
  stop(): Promise<void>;
}

export function anvilBinary(): string {
  const fromEnv = process.env.BULKHEAD_ANVIL;
  if (fromEnv) return fromEnv;
  const exe = process.platform === "win32" ? "anvil.exe" : "anvil";
  const found = (f: () => string | undefined) => {
    try {
      const p = f();
      return p && existsSync(p) ? p : undefined;
    } catch {
      return undefined; // package not installed
    }
  };
  const platformBin = found(() =>
    path.join(packageDir(`@foundry-rs/anvil-${process.platform}-${archName()}`), "bin", exe),
  );
  if (platformBin) return platformBin;
  const wrapper = found(() => packageBin("@foundry-rs/anvil", "anvil"));
  if (wrapper) return wrapper;
  throw new Error("anvil not found: install @foundry-rs/anvil (devDependency) or set BULKHEAD_ANVIL");
}

function archName(): string {
  return process.arch === "x64" ? "amd64" : process.arch;
}

const live = new Set<ChildProcess>();
let hooksInstalled = false;

function killAll(): void {
  for (const child of live) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      killAll();
      process.kill(process.pid, sig);
    });
  }
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<AnvilNode> {
  const binary = opts.binary ?? anvilBinary();
  const args = [
    "--host",
    "127.0.0.1",
    "--port",
    String(opts.port ?? 0),
    "--chain-id",
    String(opts.chainId ?? 31337),
  ];
  if (opts.gasLimit !== undefined) args.push("--gas-limit", String(opts.gasLimit));
  args.push(...(opts.args ?? []));
  installExitHooks();
  const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("exit", () => live.delete(child));

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  };

  let output = "";
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `anvil did not start within ${opts.startTimeoutMs ?? 20000}ms:\n${output.slice(-2000)}`,
            ),
          ),
        opts.startTimeoutMs ?? 20000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = /Listening on 127\.0\.0\.1:(\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          child.stdout?.off("data", onData);
          resolve(Number(m[1]));
        }
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", (c: Buffer) => {
        output += c.toString();
      });
      child.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once("exit", (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`anvil exited early (code ${code}, signal ${sig}):\n${output.slice(-2000)}`));
      });
    });
    // keep draining the pipes so anvil never blocks on a full pipe
    child.stdout?.resume();
    child.stderr?.resume();
    const keysSection = output.slice(output.indexOf("Private Keys"));
    const privateKeys = [...keysSection.matchAll(/\(\d+\) (0x[0-9a-fA-F]{64})/g)].map((m) => m[1] as string);
    return { url: `http://127.0.0.1:${port}`, port, pid: child.pid ?? -1, privateKeys, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A local chain for a test suite: the node, a provider on it, and two of its funded wallets. */
export interface LocalChain {
  node: AnvilNode;
  provider: JsonRpcProvider;
  /** the node's first funded account */
  admin: Wallet;
  /** the node's second funded account (no role anywhere) */
  outsider: Wallet;
  /** closes the provider and stops the node */
  stop(): Promise<void>;
}

/** Starts anvil and connects to it (50 ms polling): the chain tests' one setup. */
export async function startLocalChain(opts: AnvilOptions = {}): Promise<LocalChain> {
  const node = await startAnvil(opts);
  const provider = await connectRpc(node.url, { pollingMs: 50 });
  return {
    node,
    provider,
    admin: new Wallet(node.privateKeys[0] as string, provider),
    outsider: new Wallet(node.privateKeys[1] as string, provider),
    stop: async () => {
      provider.destroy();
      await node.stop();
    },
  };
}
