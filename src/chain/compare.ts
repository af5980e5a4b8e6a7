/**
 * Audit against the chain: the bundle's manifest and results, field by field, against what the
 * registry committed and finalized for the same epoch. Any difference is reported by field, so an
 * auditor sees exactly what a publisher changed between the chain and the files it handed out
 * (a price, a cap, a stress factor, an asset, a batch root, a result).
 */
import type { Contract } from "ethers";
import {
  decodeResult,
  type Manifest,
  type ManifestAsset,
  type SegmentResult,
  unpackListCaps,
  unpackSegmentSlots,
  unpackStress,
} from "../spec/encoding.js";
import type { Profile } from "../spec/profiles.js";
import { type EpochView, readEpoch, type SegmentView } from "./registry.js";

export interface ChainDifference {
  /** dotted path of the field, e.g. "segments[id=2].slots[1].price" */
  field: string;
  bundle: string;
  chain: string;
}

export interface ChainComparison {
  /** the epoch is committed and finalized on chain and nothing differs */
  ok: boolean;
  committed: boolean;
  finalized: boolean;
  differences: ChainDifference[];
}

type Diff = (field: string, bundle: unknown, chain: unknown) => void;

const show = (v: unknown): string => (v === undefined ? "(absent)" : String(v));

function compareAssets(
  d: Diff,
  where: string,
  a: readonly ManifestAsset[],
  b: readonly ManifestAsset[],
): void {
  d(`${where}.length`, a.length, b.length);
  a.forEach((x, k) => {
    const y = b[k];
    d(`${where}[${k}].symbol`, x.symbol, y?.symbol);
    d(`${where}[${k}].decimals`, x.decimals, y?.decimals);
    d(`${where}[${k}].token`, x.token.toLowerCase(), y?.token.toLowerCase());
  });
}

function compareWords(d: Diff, where: string, a: readonly bigint[], b: readonly bigint[]): void {
  d(`${where}.length`, a.length, b.length);
  for (const [i, x] of a.entries()) d(`${where}[${i}]`, x, b[i]);
}

/** Slot words decoded, so a difference names the field (price, cfBps, asset, cap, pooled), not a word. */
function compareSlots(d: Diff, where: string, a: readonly bigint[], b: readonly bigint[]): void {
  const x = unpackSegmentSlots(a);
  const y = unpackSegmentSlots(b);
  d(`${where}.length`, x.length, y.length);
  x.forEach((s, j) => {
    const t = y[j];
    for (const k of ["price", "cfBps", "asset", "cap", "pooled"] as const)
      d(`${where}[${j}].${k}`, s[k], t?.[k]);
  });
}

function compareStress(d: Diff, where: string, a: readonly bigint[], b: readonly bigint[], p: Profile): void {
  const K = p.stressScenarios;
  const A = p.assetsPerSegment;
  if (a.length !== b.length) {
    d(`${where}.length`, a.length, b.length);
    return;
  }
  const x = unpackStress(a, K, A);
  const y = unpackStress(b, K, A);
  for (const [k, row] of x.entries()) {
    for (const [j, f] of row.entries()) d(`${where}[scenario ${k + 1}][slot ${j}]`, f, y[k]?.[j]);
  }
}

function compareResult(d: Diff, where: string, r: SegmentResult | undefined, s: SegmentView): void {
  if (!r) return;
  d(`${where}.healthy`, r.healthy, s.complete && s.healthy);
  for (const [k, ok] of r.stress.entries()) {
    d(`${where}.stress[${k + 1}]`, ok, ((s.stressBits >> k) & 1) === 1);
  }
  d(`${where}.band`, r.band, s.band);
}

/**
 * Compares `manifest` (and, per segment id, the result words of the bundle's last batches) with
 * the registry's record of the same epoch.
 */
export function compareEpoch(
  manifest: Manifest,
  manifestHash: string,
  results: ReadonlyMap<bigint, bigint>,
  view: EpochView | undefined,
  profile: Profile,
): ChainComparison {
  const differences: ChainDifference[] = [];
  const d: Diff = (field, bundle, chain) => {
    if (show(bundle) !== show(chain)) differences.push({ field, bundle: show(bundle), chain: show(chain) });
  };
  if (!view) {
    d("epoch", manifest.epoch, undefined);
    return { ok: false, committed: false, finalized: false, differences };
  }
  d("manifestHash", manifestHash, view.manifestHash);
  compareAssets(d, "globalAssets", manifest.globalAssets, view.globalAssets);
  const caps = (w: readonly bigint[]) => unpackListCaps(w, profile.globalAssets);
  if (manifest.poolCaps.length === view.poolCaps.length)
    compareWords(d, "poolCaps", caps(manifest.poolCaps), caps(view.poolCaps));
  else d("poolCaps.length", manifest.poolCaps.length, view.poolCaps.length);
  compareWords(d, "globalCommitments", manifest.globalCommitments, view.globalCommitments);
  d("segments.length", manifest.segments.length, view.segments.length);
  for (const s of manifest.segments) {
    const where = `segments[id=${s.id}]`;
    const c = view.segments.find((x) => BigInt(x.id) === s.id);
    if (!c) {
      d(where, "listed", "not listed");
      continue;
    }
    d(`${where}.marginBps`, s.marginBps, c.marginBps);
    compareSlots(d, `${where}.slots`, s.slots, c.slots);
    compareStress(d, `${where}.stress`, s.stress, c.stress, profile);
    compareAssets(d, `${where}.assets`, s.assets, c.assets);
    compareWords(d, `${where}.batchRoots`, s.batchRoots, c.batchRoots);
    const word = results.get(s.id);
    compareResult(
      d,
      `${where}.result`,
      word === undefined ? undefined : decodeResult(word, profile.stressScenarios),
      c,
    );
  }
  for (const c of view.segments) {
    if (!manifest.segments.some((s) => s.id === BigInt(c.id)))
      d(`segments[id=${c.id}]`, "not listed", "listed");
  }
  if (!view.finalized) d("finalized", "finalized", "not finalized");
  return { ok: differences.length === 0, committed: true, finalized: view.finalized, differences };
}

/** Reads the epoch from the registry and compares it (see compareEpoch). */
export async function compareWithChain(
  registry: Contract,
  manifest: Manifest,
  manifestHash: string,
  results: ReadonlyMap<bigint, bigint>,
  profile: Profile,
): Promise<ChainComparison> {
  return compareEpoch(manifest, manifestHash, results, await readEpoch(registry, manifest.epoch), profile);
}

/** One line per difference, for the audit report. */
export function formatComparison(c: ChainComparison): string[] {
  if (c.ok) return ["chain: the bundle's manifest, parameters, assets, caps and results match the registry"];
  if (!c.committed) return ["chain: MISMATCH: the registry has no record of this epoch"];
  return [
    `chain: MISMATCH: ${c.differences.length} field(s) differ from the registry:`,
    ...c.differences.map((x) => `  ${x.field}: bundle ${x.bundle}, chain ${x.chain}`),
  ];
}
