/**
 * `deploy --governance` checks its configuration against the chain before the first transaction:
 * a feed without code, a "feed" that is not one, a token whose decimals differ, each named by its
 * JSON path; the deployer's nonce shows that nothing was sent. The dev world's configuration passes.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import type { JsonRpcProvider, Wallet } from "ethers";
import { genesisProblems } from "../../src/chain/genesis-check.js";
import { deployGovernedRegistry, type GovernanceConfig } from "../../src/chain/governed.js";
import { loadSnapshot } from "../../src/snapshot/snapshot.js";
import { getProfile } from "../../src/spec/profiles.js";
import { PACKAGE_ROOT } from "../../src/util/paths.js";
import { type LocalChain, startLocalChain } from "../helpers/anvil.js";
import { compileDevContracts, type DevWorld, deployDevWorld } from "../helpers/devworld.js";

describe("chain: deploy --governance checks the configuration on chain first", function () {
  this.timeout(300_000);
  let chain: LocalChain | undefined;
  let provider: JsonRpcProvider;
  let signer: Wallet;
  let world: DevWorld;

  before(async () => {
    chain = await startLocalChain();
    ({ provider, admin: signer } = chain);
    const snap = await loadSnapshot(path.join(PACKAGE_ROOT, "examples", "snapshot.json"), {
      profile: getProfile("test"),
    });
    world = await deployDevWorld(signer, snap, await compileDevContracts());
  });
  after(async () => {
    await chain?.stop();
  });

  it("the dev world's configuration passes", async () => {
    assert.deepEqual(await genesisProblems(provider, world.config), []);
  });

  it("names every bad address and decimals by its path; sends nothing", async () => {
    const bad = structuredClone(world.config) as GovernanceConfig;
    const [a0, a1, a2] = bad.assets as [
      GovernanceConfig["assets"][number],
      GovernanceConfig["assets"][number],
      GovernanceConfig["assets"][number],
    ];
    a0.feed = "0x00000000000000000000000000000000000fee01"; // nothing deployed there
    a1.feed = a1.token; // a contract, but not a price feed
    a2.decimals += 1; // the token says otherwise
    const problems = await genesisProblems(provider, bad);
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems[0] as string, /^assets\[0\]\.feed: no contract at 0x0+fee01 on this chain$/i);
    assert.match(
      problems[1] as string,
      /^assets\[1\]\.feed: .* does not answer (decimals|latestRoundData)\(\)/,
    );
    assert.match(
      problems[2] as string,
      /^assets\[2\]\.decimals: \d+, but the token at 0x[0-9a-fA-F]{40} has \d+ decimals$/,
    );

    const nonce = await provider.getTransactionCount(signer.address);
    // the check runs before anything touches the artifacts or the chain
    const arts = {} as Parameters<typeof deployGovernedRegistry>[1];
    await assert.rejects(
      deployGovernedRegistry(signer, arts, bad, { profile: getProfile("test"), delaySeconds: 60 }),
      /the governance configuration does not match this chain \(nothing was sent\): 3 problem\(s\)\n {2}- assets\[0\]\.feed/,
    );
    assert.equal(await provider.getTransactionCount(signer.address), nonce, "no transaction was sent");
  });
});
