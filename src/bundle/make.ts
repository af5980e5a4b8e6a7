/** The bundle writer's half: the public bundle of a built and proven epoch (bundle.ts reads it). */
import type { EpochBuild } from "../epoch/plan.js";
import { COVERAGE_BANDS, PRICE_DECIMALS, UNBOUNDED_CAP } from "../spec/encoding.js";
import type { CircuitName } from "../spec/profiles.js";
import { BUNDLE_FORMAT, BUNDLE_VERSION, type Bundle, type BundleProof, DEV_SETUP_WARNING } from "./bundle.js";

/** The public bundle of `build` with its proofs (by job id) and the keys' sha256. */
export function makeBundle(
  build: EpochBuild,
  proofs: ReadonlyMap<string, BundleProof>,
  vkeySha: Record<CircuitName, string>,
  devSetup: boolean,
): Bundle {
  const get = (id: string): BundleProof => {
    const p = proofs.get(id);
    if (!p) throw new Error(`bundle: proof ${id} missing`);
    return { publicSignals: p.publicSignals, proof: p.proof };
  };
  const byId = new Map(build.jobs.map((j) => [j.id, j]));
  const segJobs = (id: bigint) => build.jobs.filter((j) => j.circuit === "segment" && j.segmentId === id);
  const b: Bundle = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    epoch: String(build.snapshot.epoch),
    profile: { ...build.profile },
    devSetup,
    ...(devSetup ? { warning: DEV_SETUP_WARNING } : {}),
    units: { priceDecimals: PRICE_DECIMALS, maxAssetDecimals: build.snapshot.maxDecimals },
    manifest: {
      globalAssets: build.snapshot.assets.map((a, g) => ({
        symbol: a.symbol,
        decimals: a.decimals,
        token: a.token,
        poolCap: String(build.snapshot.poolCaps[g] ?? UNBOUNDED_CAP),
      })),
      poolCaps: build.manifest.poolCaps.map(String),
      segments: build.segments.map((s, i) => ({
        id: Number(s.segment.id),
        name: s.segment.name,
        marginBps: Number(s.segment.marginBps),
        assets: s.segment.slots.map((a) => ({
          slot: a.slot,
          symbol: a.symbol,
          decimals: a.decimals,
          token: a.token,
          price: a.price,
          circuitPrice: String(a.circuitPrice),
          cfBps: Number(a.cfBps),
          asset: a.asset,
          cap: String(a.cap),
          pooled: a.pooled,
        })),
        slots: (build.manifest.segments[i]?.slots ?? []).map(String),
        stress: (build.manifest.segments[i]?.stress ?? []).map(String),
        scenarios: s.segment.stress.map((sc) => sc.name),
        batchRoots: (build.manifest.segments[i]?.batchRoots ?? []).map(String),
      })),
      globalCommitments: build.manifest.globalCommitments.map(String),
    },
    bandLabels: [...COVERAGE_BANDS],
    manifestHash: build.manifestHash,
    r: String(build.r),
    proofs: {
      segments: build.segments.map((s) => ({
        id: Number(s.segment.id),
        batches: segJobs(s.segment.id).map((j) => get(j.id)),
      })),
      lotList: build.jobs.filter((j) => j.circuit === "lotlist").map((j) => get(j.id)),
    },
    vkeys: {
      segment: { file: "vkeys/segment.json", sha256: vkeySha.segment },
      lotlist: { file: "vkeys/lotlist.json", sha256: vkeySha.lotlist },
    },
  };
  if (byId.size !== proofs.size) throw new Error("bundle: proof count mismatch");
  return b;
}
