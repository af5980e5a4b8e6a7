/** `bulkhead audit DIR/public`: verify a whole epoch offline from the bundle, against anchored keys. */
import type { Command } from "commander";
import type { JsonRpcProvider } from "ethers";
import type { KeyAnchor } from "../audit/anchor.js";
import { readTrustedKeys } from "../audit/anchor.node.js";
import { type AuditOptions, type AuditReport, formatAudit, formatAuditVerdict } from "../audit/audit.js";
import { renderAuditHtml } from "../audit/html.js";
import { auditBundle } from "../audit/node.js";
import { bundleManifest } from "../bundle/bundle.js";
import { readBundle } from "../bundle/disk.js";
import { compareWithChain, formatComparison } from "../chain/compare.js";
import { committedCustodyProblem } from "../chain/custody.js";
import { readEpoch, registryAt, registryVerifiers } from "../chain/registry.js";
import { connectRpc } from "../chain/signer.js";
import { segmentSignal } from "../spec/encoding.js";
import type { CircuitName } from "../spec/profiles.js";
import { atomicWrite } from "../util/fsutil.js";
import { createProgress } from "../util/progress.js";
import { BUILD_DIR_HELP, CliError, checkBundlePath, exitWith, printJson, resolveRegistry } from "./common.js";

/** `--vkey-hash segment=<sha256>` (repeatable) -> expected vkey hashes. */
export function parseVkeyHashes(values: string[] | undefined): AuditOptions["expectedVkeys"] {
  const out: Partial<Record<CircuitName, string>> = {};
  for (const v of values ?? []) {
    const m = /^(segment|lotlist)=([0-9a-f]{64})$/.exec(v.trim());
    if (!m) throw new Error(`--vkey-hash ${v}: expected segment=<sha256 hex> or lotlist=<sha256 hex>`);
    out[m[1] as CircuitName] = m[2] as string;
  }
  return out;
}

/** The key-anchor options shared by `audit` and `receipt verify` (offline mode). */
export interface AnchorCliOptions {
  vkeyHash?: string[];
  trustedKeys?: string;
  localKeys?: boolean;
  trustBundleKeys?: boolean;
  allowDevKeys?: boolean;
  buildDir?: string;
}

export function addAnchorOptions(cmd: Command): Command {
  return cmd
    .option("--vkey-hash <circuit=sha256...>", "anchor: pin a trusted verification key hash (both circuits)")
    .option("--trusted-keys <file>", "anchor: JSON {segment, lotlist}: sha256 hex or the key itself")
    .option("--local-keys", "anchor: the keys this checkout builds from the circuits (build/)")
    .option("--build-dir <dir>", `with --local-keys: ${BUILD_DIR_HELP}`)
    .option(
      "--trust-bundle-keys",
      "verify against the bundle's own keys (NOT trustworthy; warns on every line)",
    )
    .option("--allow-dev-keys", "accept development keys (demo only; the verdict still says so)");
}

/** The anchor the options name (at most one), or undefined. */
export async function anchorFromOptions(
  o: AnchorCliOptions,
  registry?: { provider: JsonRpcProvider; address: string },
): Promise<KeyAnchor | undefined> {
  const named = [
    registry && "--rpc/--registry",
    o.vkeyHash?.length && "--vkey-hash",
    o.trustedKeys && "--trusted-keys",
    o.localKeys && "--local-keys",
    o.trustBundleKeys && "--trust-bundle-keys",
  ].filter(Boolean);
  if (named.length > 1) throw new Error(`choose one key anchor, not ${named.join(" and ")}`);
  if (registry) {
    const verifiers = await registryVerifiers(registry.provider, registry.address);
    return { kind: "registry", registry: registry.address, verifiers };
  }
  if (o.vkeyHash?.length) {
    const pins = parseVkeyHashes(o.vkeyHash) ?? {};
    const keys = Object.fromEntries(Object.entries(pins).map(([c, h]) => [c, { sha256: h as string }]));
    return { kind: "trusted", keys, source: "--vkey-hash" };
  }
  if (o.trustedKeys) return readTrustedKeys(o.trustedKeys);
  if (o.localKeys) return { kind: "local", buildDir: o.buildDir };
  if (o.trustBundleKeys) return { kind: "bundle" };
  return undefined;
}

type AuditCli = AnchorCliOptions & {
  rpc?: string;
  registry?: string;
  json?: boolean;
  quiet?: boolean;
  html?: string;
};

export function register(program: Command): void {
  const cmd = program
    .command("audit")
    .description(
      "verify an epoch offline against anchored keys: every proof, r, chaining, first/last, parameters, fingerprints",
    )
    .argument("<bundle>", "the public directory (or its bundle.json)")
    .option("--rpc <url>", "anchor: JSON-RPC endpoint of the chain holding the registry")
    .option("--registry <address|file>", "anchor: registry address or deployment file (with --rpc)");
  addAnchorOptions(cmd)
    .option("--json", "JSON report on stdout")
    .option("-q, --quiet", "only the verdict")
    .option("--html <file>", "also write the report as one self-contained HTML file (even when it fails)")
    .action(async (dir: string, opts: AuditCli) => {
      if (!!opts.rpc !== !!opts.registry) throw new Error("audit: --rpc and --registry go together");
      await checkBundlePath(dir);
      const provider = opts.rpc ? await connectRpc(opts.rpc) : undefined;
      let progress: ReturnType<typeof createProgress> | undefined;
      try {
        const address =
          opts.registry && provider && opts.rpc
            ? await resolveRegistry(opts.registry, provider, opts.rpc)
            : "";
        const anchor = await anchorFromOptions(opts, provider ? { provider, address } : undefined);
        const rep = await auditBundle(dir, {
          anchor,
          allowDevKeys: opts.allowDevKeys,
          onProgress: (done, total) => {
            if (opts.quiet) return;
            progress ??= createProgress({ label: "verifying", total, json: opts.json });
            progress.update(done);
          },
        });
        // an unreadable bundle: the reason itself, not an empty table
        if (!rep.ok && rep.epoch === "?" && !rep.refused)
          throw new CliError(rep.errors[0] ?? "unreadable bundle", "INVALID_BUNDLE");
        if (provider && rep.epoch !== "?") await checkAgainstChain(rep, dir, registryAt(address, provider));
        if (opts.html) await writeAuditHtml(opts.html, rep, dir);
        // a refusal checked nothing: the JSON says so and carries no result fields
        if (opts.json)
          printJson(
            rep.refused ? { ok: false, refused: true, anchor: rep.anchor, error: rep.errors[0] } : rep,
          );
        else process.stdout.write(`${opts.quiet ? formatAuditVerdict(rep) : formatAudit(rep)}\n`);
        if (!rep.ok) exitWith(1);
      } finally {
        provider?.destroy();
      }
    });
}

/**
 * Audit against the chain: the manifest, parameters, asset metadata, prices, caps and results of
 * the bundle must be exactly what the registry committed and finalized; any difference fails the
 * audit, named by field.
 */
async function checkAgainstChain(
  rep: AuditReport,
  dir: string,
  registry: ReturnType<typeof registryAt>,
): Promise<void> {
  const { bundle } = await readBundle(dir);
  const results = new Map<bigint, bigint>();
  for (const [i, s] of bundle.manifest.segments.entries()) {
    const last = bundle.proofs.segments[i]?.batches.at(-1);
    const word = last ? segmentSignal(last.publicSignals, "result", bundle.profile) : undefined;
    if (word !== undefined) results.set(BigInt(s.id), BigInt(word));
  }
  const c = await compareWithChain(
    registry,
    bundleManifest(bundle),
    bundle.manifestHash,
    results,
    bundle.profile,
  );
  rep.chain = c;
  if (!c.ok) {
    rep.ok = false;
    rep.errors.push(...formatComparison(c));
  }
  // the custody rule at the commit's block (a registry of an older revision may not have enforced it)
  const manifest = bundleManifest(bundle);
  const view = c.committed ? await readEpoch(registry, manifest.epoch) : undefined;
  if (!view) return;
  const problem = await committedCustodyProblem(registry, manifest, view.commitBlock);
  rep.chain.custody = problem ?? null;
  if (problem) {
    rep.ok = false;
    rep.chain.ok = false;
    rep.errors.push(`chain: custody: ${problem}`);
  }
}

/** Writes the report for bundle `dir` to `file` atomically (vkey hashes read from the bundle if it parses). */
async function writeAuditHtml(file: string, rep: AuditReport, dir: string): Promise<void> {
  const vkeys = await readBundle(dir).then(
    (b) => Object.fromEntries(Object.entries(b.bundle.vkeys).map(([c, v]) => [c, v.sha256])),
    () => undefined,
  );
  await atomicWrite(
    file,
    renderAuditHtml(rep, { vkeys, source: dir, generatedAt: new Date().toISOString() }),
  );
}
