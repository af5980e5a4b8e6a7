/**
 * bulkhead library entry point (`import … from "bulkhead"`): the operations of the data path,
 * snapshot → prove → bundle → receipts → audit → chain, with their types. Build-time helpers
 * (circuit artifacts, ptau, contracts, binary headers) are under the `bulkhead/build` subpath.
 */

// audit: key anchors (where trusted verification keys come from) and the whole-epoch check
export {
  type DeployedVerifier,
  type KeyAnchor,
  NO_ANCHOR_MESSAGE,
  type TrustedKey,
  UNANCHORED_WARNING,
} from "./audit/anchor.js";
export { readTrustedKeys } from "./audit/anchor.node.js";
export {
  type AuditOptions,
  type AuditReport,
  auditFiles,
  formatAudit,
  type SegmentAudit,
} from "./audit/audit.js";
export { auditBundle, readReceiptFile, verifyReceipt } from "./audit/node.js";
export { formatReceiptVerdict, type ReceiptVerdict, verifyReceiptFiles } from "./audit/receipt.js";
// bundle
export {
  BUNDLE_FILE,
  type Bundle,
  BundleError,
  type BundleFiles,
  loadBundle,
  memoryFiles,
  parseBundle,
} from "./bundle/bundle.js";
export { readBundle } from "./bundle/disk.js";
export { type CustodyBalances, findOvercommit, readCustody } from "./chain/custody.js";
// chain
export {
  type DeployArtifacts,
  type Deployment,
  type DeployOptions,
  deployRegistry,
  loadDeployArtifacts,
  readDeployment,
  writeDeployment,
} from "./chain/deploy.js";
export {
  governanceAt,
  loadGovernanceArtifacts,
  readGovernedEpoch,
} from "./chain/governance.js";
export {
  deployGovernedRegistry,
  type GovernanceConfig,
  type GovernedDeployment,
  governedSnapshot,
  parseGovernanceConfig,
  readGovernanceConfig,
  roundIdsFor,
} from "./chain/governed.js";
export { type PublishOptions, type PublishResult, publishEpoch } from "./chain/publish.js";
export {
  type ChainReceiptOptions,
  type ChainReceiptVerdict,
  verifyReceiptOnChain,
} from "./chain/receipt.js";
export { type ChainEpoch, chainEpochFromBundle, registryAt, registryVerifiers } from "./chain/registry.js";
export { connectRpc, loadSigner } from "./chain/signer.js";
export { formatStatus, type RegistryStatus, readStatus, type SegmentStatus } from "./chain/status.js";
// epoch: plan and circuit inputs (pure)
export { buildEpoch, type EpochBuild, type ProofJob } from "./epoch/plan.js";
export { readSecret } from "./epoch/salts.js";
// prove
export {
  type CircuitKeys,
  type ProveOptions,
  type ProverReport,
  type ProveSummary,
  proveSnapshot,
  type SegmentSummary,
  StoppedError,
} from "./pipeline.js";
export type { ProverIncident } from "./prove/backend.js";
export { PROVERS, type ProverName, parseProver } from "./prove/prover.js";
// receipts
export type { AccountReceipt, LotReceipt, Receipt } from "./receipts/receipts.js";
export {
  type FoundReceipt,
  findReceipt,
  type ReceiptIndex,
  ReceiptLookupError,
  type ReceiptQuery,
  readReceiptFor,
} from "./receipts/store.js";
// snapshot: read and validate
export {
  type Asset,
  formatDecimal,
  type Liability,
  type Lot,
  loadSnapshot,
  type ParseOptions,
  parseDecimal,
  parseSnapshot,
  type Segment,
  type SegmentScenario,
  type SegmentSlot,
  type Snapshot,
  SnapshotError,
  type StressScenario,
} from "./snapshot/snapshot.js";
// the published outcome of a segment (health, stress bits, coverage band) and custody caps
export {
  COVERAGE_BANDS,
  decodeResult,
  type SegmentResult,
  UNBOUNDED_CAP,
} from "./spec/encoding.js";
// profiles (batch sizes) and the circuits
export { CIRCUITS, type CircuitName, getProfile, PROFILES, type Profile } from "./spec/profiles.js";
// development keys, recognised from the key itself
export { developmentKeyOrigin } from "./toolchain/devkeys.js";
// release snarkjs' curve worker threads so a process can exit
export { terminateCurves } from "./util/curve.js";
// progress reporting (ProveOptions.reporter)
export { createReporter, type Reporter, silentReporter } from "./util/progress.js";
