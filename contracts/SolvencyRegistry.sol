// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ISegmentGovernance, SEGMENT_INFO_MAX_AGE_SHIFT} from "./ISegmentGovernance.sol";
import {ISegmentGovernanceErrors} from "./ISegmentGovernanceErrors.sol";
import {ISolvencyRegistry} from "./ISolvencyRegistry.sol";
import {
    CAP_BITS,
    FACTOR_BITS,
    FACTORS_PER_WORD,
    LIST_META_EPOCH_SHIFT,
    MASK96,
    MASK120,
    META_EPOCH_SHIFT,
    META_MARGIN_SHIFT,
    POOL_CAPS_WORD_BITS,
    SLOT_ASSET_MASK,
    SLOT_ASSET_SHIFT,
    SLOT_CF_MASK,
    SLOT_CF_SHIFT,
    SLOT_WORD_BITS
} from "./WordLayout.sol";

/**
 * @title SolvencyRegistry
 * @notice On-chain registry of bulkhead solvency epochs (docs/SPEC.md is normative).
 *
 * Flow per epoch:
 *   1. `commitEpoch` fixes the manifest (the epoch's asset table and pooled custody caps; every
 *      segment's id, margin, packed slot words (price, collateral factor, global asset, custody
 *      cap, pooled bit), packed stress factors, batch roots and asset slots (symbol, decimals, token); the
 *      global lot list's batch commitments) and derives `r` from it.
 *   2. `submitSegmentBatches` / `submitListBatches` verify consecutive Groth16 batch proofs in one
 *      batch verification, in order. Every public input the registry can derive (r, batch root /
 *      commitment, prevState, meta with epoch and first/last flags, slot words, stress words,
 *      pooled caps) is derived from committed state, never taken from the caller on trust.
 *   3. `finalizeEpoch` checks that every batch arrived and that the product of the segments'
 *      fingerprints equals the global list's (no lot counted twice); then the epoch becomes the
 *      latest finalized one and its per-segment records become current.
 *
 * Storage (gas: docs/CHAIN.md "Gas"): the manifest hash and r, each segment's slot and stress words
 * and packed fields, the asset table and pooled caps are stored. A segment's batch roots and the
 * list's commitments are not: `commitEpoch` emits them (`SegmentCommitted`, `ListCommitted`: the
 * record readers take them from) and stores the head of a backward hash chain over them,
 *   t_n = 0,  t_i = keccak256(abi.encodePacked(root_i, t_(i+1))),
 * starting at t_0. A submission of batches f .. f+k-1 passes their roots and t_(f+k); the registry
 * checks that they hash to the stored t_f before verifying anything and then stores t_(f+k), so
 * every proof is verified against exactly the committed root, in one pass, at calldata cost. A
 * segment's asset slots are not stored either: the slot word's global index names the asset, and
 * `commitEpoch` checked that it is the manifest's asset slot.
 *
 * A segment's current record is its entry in the latest finalized epoch. A segment that the latest
 * finalized epoch does not list has no current record (`isHealthy` is false): a health proof of an
 * older epoch is never presented as current.
 *
 * Verifiers are snarkjs Groth16 verifiers with bulkhead's batch verification added
 * (src/toolchain/batch-verifier.ts):
 *   verifyBatch(uint256[] proofs, uint256[] pubSignals) returns (bool)
 * with K = 7 + A + ceil(S*A/16) public signals per proof for the segment circuit (S stress
 * scenarios) and K = 6 + ceil(GA/2) for the lot-list circuit.
 */
contract SolvencyRegistry is AccessControl, ISolvencyRegistry, ISegmentGovernanceErrors {
    // ------------------------------------------------------------------ constants

    /// BN254 scalar field modulus.
    uint256 public constant FIELD_P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 public constant MAX_CF_BPS = 10000;
    uint16 public constant MAX_MARGIN_BPS = 50000;
    /// Upper bound on asset slots per segment, stress scenarios and global assets (circuits: 1..16).
    uint16 public constant MAX_ASSET_SLOTS = 16;
    /// Entries (lots or liabilities) per segment, and lots per epoch, are at most 2^24
    /// (SPEC "Bounds": every per-asset total then stays below 2^120 and no sum wraps).
    uint256 public constant MAX_ENTRIES = uint256(1) << 24;
    /// An epoch number is at most this much above the last committed one: reaching 2^64 - 1 takes
    /// 2^44 commits, so no epoch number can leave the registry without a next epoch.
    uint64 public constant MAX_EPOCH_STEP = uint64(1) << 20;

    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// The admin role is OpenZeppelin's DEFAULT_ADMIN_ROLE (it administers PUBLISHER_ROLE).
    bytes32 public constant ADMIN_ROLE = DEFAULT_ADMIN_ROLE;


    // ------------------------------------------------------------------ types

    /// One asset slot of a segment, exactly SPEC's `AssetSlot`: what a leaf's slot index and
    /// base-unit amount mean (receipts check both against it).
    struct AssetSlot {
        string symbol;
        uint8 decimals;
        /// the token's address; zero when the publisher names none
        address token;
    }

    /// One segment of the manifest, exactly SPEC's `SegmentEntry`.
    struct SegmentEntry {
        uint32 id;
        uint16 marginBps;
        uint256[] slots;
        uint256[] stress;
        uint256[] batchRoots;
        AssetSlot[] assets;
    }

    /// The circuit profile of the deployment (src/spec/profiles.ts): what the verifiers were built for.
    struct Config {
        uint16 assetSlots;
        uint16 stressScenarios;
        uint16 globalAssets;
        uint32 lotsPerBatch;
        uint32 liabsPerBatch;
        uint32 lotsPerGlobalBatch;
    }

    struct SegmentData {
        uint32 id;
        uint16 marginBps;
        /// batches accepted so far (the next expected batch index)
        uint32 accepted;
        /// the governed version of the segment this epoch was checked against (SegmentGovernance)
        uint32 govVersion;
        /// its governed maximum proof age (seconds after the epoch's commit)
        uint64 maxAge;
        /// batch roots the manifest commits
        uint32 batchCount;
        /// asset slots the manifest names (slots after them hold the unused word, 1)
        uint8 assetCount;
        /// packed result of the last batch: healthy | stress bits << 1 | band << (1 + S), below 2^20
        /// (valid once accepted == batchCount)
        uint24 result;
        /// t_accepted of the backward hash chain over the batch roots (0 once every batch is in)
        bytes32 rootsCursor;
        /// nextState of the last accepted batch; replaced by the fingerprint once the last batch is in
        uint256 state;
        /// slot word k < assetCount at k (the unused word, 1, is not stored); stress word w at A + w.
        /// A mapping, not arrays: their lengths are the profile's and need no storage word.
        mapping(uint256 => uint256) words;
    }

    /// One committed epoch. Not stored (gas): r (derived from the manifest hash), the asset table
    /// (`AssetTableCommitted`), batch roots, list commitments and pooled caps (`SegmentCommitted`,
    /// `ListCommitted`; hash chains and a hash are stored).
    struct EpochData {
        bytes32 manifestHash;
        /// block timestamps (40 bits: 34,000 years)
        uint40 committedAt;
        uint40 finalizedAt;
        uint32 listAccepted;
        /// list batch commitments the manifest commits
        uint32 listCount;
        /// the block of the commit (where `SegmentCommitted` and `ListCommitted` are)
        uint40 commitBlock;
        /// segments the manifest lists (a mapping with a packed count: no array length word)
        uint32 segmentCount;
        /// the oldest `updatedAt` of the price rounds governance checked at the commit (0: ungoverned)
        uint40 oldestPriceAt;
        /// t_listAccepted of the backward hash chain over the list commitments (0 once all are in)
        bytes32 listCursor;
        /// nextState of the last accepted list batch; the list fingerprint once the last batch is in
        uint256 listState;
        /// keccak256(abi.encodePacked(poolCaps)): list submissions pass the caps (`ListCommitted`)
        bytes32 poolCapsHash;
        /// manifest order, 0 .. segmentCount - 1
        mapping(uint256 => SegmentData) segments;
    }

    /// A Groth16 proof as the snarkjs Solidity verifier takes it (b's coordinates already swapped,
    /// as `snarkjs.groth16.exportSolidityCallData` prints them).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// Consecutive batches of one segment, as `submitSegmentBatches` takes them.
    struct SegmentGroup {
        uint256 firstBatch;
        Proof[] proofs;
        /// each batch's nextState output
        uint256[] nextStates;
        /// the segment's last batch's result and fingerprint outputs; 0 unless the group ends with it
        uint256 result;
        uint256 fingerprint;
        /// the committed batch roots of these batches
        uint256[] batchRoots;
        /// the roots chain after them, t_(firstBatch + k) (bytes32(0) when the group ends the segment)
        bytes32 rootsTail;
    }

    /// Consecutive batches of the lot list, as `submitListBatches` takes them.
    struct ListGroup {
        uint256 firstBatch;
        Proof[] proofs;
        uint256[] nextStates;
        /// the list's fingerprint output; 0 unless the group ends with the last batch
        uint256 fingerprint;
        /// the committed batch commitments of these batches and the chain after them
        uint256[] commitments;
        bytes32 commitmentsTail;
        /// the epoch's committed pooled caps (checked against their stored hash)
        uint256[] poolCaps;
    }

    /// Read view of one segment of an epoch (its batch roots: the commit's `SegmentCommitted`).
    struct SegmentView {
        uint32 id;
        uint16 marginBps;
        uint32 accepted;
        uint32 batchCount;
        bool complete;
        bool healthy;
        /// stress-scenario health bits (bit k: healthy under scenario k); 0 until complete
        uint16 stressBits;
        /// coverage band 0..4 (SPEC "Public signals"); 0 until complete
        uint8 band;
        uint256[] slots;
        uint256[] stress;
        /// asset slots named (slot k < assetCount: the asset table's entry its slot word names)
        uint8 assetCount;
    }

    /// Read view of a whole epoch (with the commit's events, everything receipts, status and
    /// resumable publishing need: the asset table, `AssetTableCommitted`; pooled caps and list
    /// commitments, `ListCommitted`; batch roots, `SegmentCommitted`).
    struct EpochView {
        uint64 epoch;
        bytes32 manifestHash;
        uint256 r;
        uint64 committedAt;
        uint64 commitBlock;
        uint64 finalizedAt;
        bool finalized;
        uint32 listAccepted;
        uint32 listCount;
        SegmentView[] segments;
    }

    /// A segment's current record (its entry in the latest finalized epoch).
    struct SegmentRecord {
        uint64 epoch;
        bool healthy;
        uint16 stressBits;
        uint8 band;
        uint16 marginBps;
        uint64 finalizedAt;
        uint32 batchCount;
        uint256[] slots;
        uint256[] stress;
    }

    // ------------------------------------------------------------------ errors

    error InvalidConfiguration();
    error EpochNotIncreasing(uint64 epoch, uint64 lastCommitted);
    error EpochStepTooLarge(uint64 epoch, uint64 lastCommitted, uint64 maxStep);
    /// finalization must come `minBlocks` (at least 1) blocks after the commit
    error FinalizeTooEarly(uint64 epoch, uint256 blockNumber, uint256 earliestBlock);
    error EmptyManifest();
    error SegmentsNotSorted(uint256 index, uint32 id);
    error SegmentHasNoBatch(uint32 segmentId);
    error ListHasNoBatch();
    error ValueNotInField(uint256 value);
    error InvalidParamsLength(uint32 segmentId, uint256 length, uint256 expected);
    error InvalidSlotParams(uint32 segmentId, uint256 slot);
    error InvalidStressParams(uint32 segmentId, uint256 word);
    error InvalidPoolCaps(uint256 length, uint256 expected);
    error InvalidGlobalAssets(uint256 index);
    error TooManyBatches(uint32 segmentId, uint256 batchCount, uint256 maxBatches);
    error MarginTooHigh(uint32 segmentId, uint16 marginBps);
    error EpochNotCommitted(uint64 epoch);
    error EpochAlreadyFinalized(uint64 epoch);
    error SegmentNotInManifest(uint64 epoch, uint256 segmentIndex);
    error BatchNotInManifest(uint64 epoch, uint256 batchIndex, uint256 batchCount);
    error BatchAlreadyAccepted(uint64 epoch, uint256 batchIndex);
    error BatchOutOfOrder(uint64 epoch, uint256 batchIndex, uint256 expected);
    error ResultOnNonLastBatch(uint256 batchIndex);
    error InvalidResult(uint256 result);
    error InvalidProof();
    error SegmentIncomplete(uint64 epoch, uint32 segmentId, uint256 accepted, uint256 batchCount);
    error ListIncomplete(uint64 epoch, uint256 accepted, uint256 batchCount);
    error FingerprintMismatch(uint64 epoch, uint256 segmentsProduct, uint256 listFingerprint);
    error StaleEpoch(uint64 epoch, uint64 latestFinalized);
    error NoFinalizedEpoch();
    error UnknownSegment(uint32 segmentId);
    error InvalidAssetSlots(uint32 segmentId, uint256 slot);
    error EmptyBatchGroup();
    error BatchGroupLengthMismatch(uint256 proofs, uint256 nextStates);
    error BatchRootsLengthMismatch(uint256 proofs, uint256 roots);
    /// the roots (or commitments) and tail given with a group do not hash to the committed chain
    error BatchRootsMismatch(uint64 epoch, uint256 firstBatch);
    /// the pooled caps given with a list group are not the committed ones
    error PoolCapsMismatch(uint64 epoch);

    // ------------------------------------------------------------------ events

    event EpochCommitted(
        uint64 indexed epoch, bytes32 manifestHash, uint256 r, uint256 segmentCount, uint256 listBatchCount
    );
    /// A segment's batch roots as committed (the registry stores only their hash chain).
    event SegmentCommitted(uint64 indexed epoch, uint32 indexed segmentId, uint256[] batchRoots);
    /// The epoch's pooled caps and the lot list's batch commitments as committed (stored as a hash
    /// and a hash chain).
    event ListCommitted(uint64 indexed epoch, uint256[] poolCaps, uint256[] globalCommitments);
    /// The epoch's asset table as committed (not stored: the manifest hash covers it).
    event AssetTableCommitted(uint64 indexed epoch, AssetSlot[] assetTable);
    /// Batches firstBatch .. firstBatch + count - 1 of a segment accepted; `state` is the last one's
    /// nextState, or the segment's fingerprint when `complete` (its last batch is in).
    event SegmentBatchesAccepted(
        uint64 indexed epoch, uint32 indexed segmentId, uint256 firstBatch, uint256 count, uint256 state, bool complete
    );
    /// The same for the lot list (`state`: the list fingerprint when `complete`).
    event ListBatchesAccepted(uint64 indexed epoch, uint256 firstBatch, uint256 count, uint256 state, bool complete);
    event SegmentRecorded(uint32 indexed segmentId, uint64 indexed epoch, bool healthy, uint16 stressBits, uint8 band);
    event EpochFinalized(uint64 indexed epoch, uint256 segmentCount, uint256 unhealthyCount);

    // ------------------------------------------------------------------ state

    /// SegmentGovernance: the segment set, parameters, asset table, oracles and custody that
    /// `commitEpoch` checks every manifest against.
    address public immutable governance;
    address public immutable segmentVerifier;
    address public immutable listVerifier;
    /// Asset slots per segment (A) of the deployment's circuit profile.
    uint16 public immutable assetSlots;
    /// Stress scenarios per segment (S).
    uint16 public immutable stressScenarios;
    /// Global assets (GA) the lot list totals for pooled custody.
    uint16 public immutable globalAssets;
    /// ceil(S*A/16): packed stress words per segment.
    uint256 public immutable stressWords;
    /// ceil(GA/2): packed pooled-cap words.
    uint256 public immutable capWords;
    /// Most batches a segment may have (2^24 / max(N, M)), and the lot list (2^24 / G).
    uint256 public immutable maxSegmentBatches;
    uint256 public immutable maxListBatches;
    /// Both verifiers' `verifyBatch(uint256[] proofs, uint256[] pubSignals)` (toolchain/batch-verifier.ts).
    bytes4 private constant VERIFY_BATCH_SELECTOR = bytes4(keccak256("verifyBatch(uint256[],uint256[])"));

    mapping(uint64 => EpochData) private epochs;
    /// The last committed epoch (0: none; epochs start at 1).
    uint64 public lastCommittedEpoch;
    /// The latest finalized epoch (0: none).
    uint64 public latestEpoch;

    constructor(
        address admin,
        address segmentVerifier_,
        address listVerifier_,
        address governance_,
        Config memory cfg
    ) {
        if (
            admin == address(0) || segmentVerifier_.code.length == 0 || listVerifier_.code.length == 0
                || (governance_ != address(0) && governance_.code.length == 0)
                || cfg.assetSlots == 0 || cfg.assetSlots > MAX_ASSET_SLOTS || cfg.stressScenarios == 0
                || cfg.stressScenarios > MAX_ASSET_SLOTS || cfg.globalAssets == 0 || cfg.globalAssets > MAX_ASSET_SLOTS
                || cfg.lotsPerBatch == 0 || cfg.liabsPerBatch == 0 || cfg.lotsPerGlobalBatch == 0
        ) revert InvalidConfiguration();
        governance = governance_;
        segmentVerifier = segmentVerifier_;
        listVerifier = listVerifier_;
        assetSlots = cfg.assetSlots;
        stressScenarios = cfg.stressScenarios;
        globalAssets = cfg.globalAssets;
        uint256 sw = (uint256(cfg.stressScenarios) * cfg.assetSlots + FACTORS_PER_WORD - 1) / FACTORS_PER_WORD;
        stressWords = sw;
        uint256 cw = (uint256(cfg.globalAssets) + 1) / 2;
        capWords = cw;
        uint256 widest = cfg.lotsPerBatch > cfg.liabsPerBatch ? cfg.lotsPerBatch : cfg.liabsPerBatch;
        maxSegmentBatches = MAX_ENTRIES / widest;
        maxListBatches = MAX_ENTRIES / cfg.lotsPerGlobalBatch;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ------------------------------------------------------------------ commit

    /**
     * Commits the manifest of `epoch` (SPEC "Manifest and r"): stores what batch submission needs
     * and derives r = keccak256(abi.encode(epoch, keccak256(abi.encode(globalAssets, poolCaps,
     * segments, globalCommitments)))) mod p.
     *
     * Then, when the registry was deployed with one (address(0): an ungoverned development
     * registry, where the publisher's parameters stand), the governance contract checks the manifest against governed state (every active
     * segment listed and no other, margins, collateral factors, stress words, the asset table,
     * each slot price against its Chainlink feed at `roundIds[g]` (0: latest round) for global
     * asset g, custody balances covering the caps) and reverts with its own named error otherwise;
     * `roundIds` is not part of the manifest hash (the prices it justifies are).
     */
    function commitEpoch(
        uint64 epoch,
        AssetSlot[] calldata assetTable,
        uint256[] calldata poolCaps,
        SegmentEntry[] calldata segments,
        uint256[] calldata globalCommitments,
        uint80[] calldata /* roundIds: read by governance from this call's data */
    ) external onlyRole(PUBLISHER_ROLE) returns (bytes32 manifestHash, uint256 r) {
        EpochData storage e;
        (e, manifestHash, r) = _commit(epoch, assetTable, poolCaps, segments, globalCommitments);
        if (governance != address(0)) {
            _applyGovernance(e);
        } else {
            // ungoverned (development) deployment: the publisher's parameters stand, no age bound
            for (uint256 i = 0; i < e.segmentCount; i++) {
                e.segments[i].maxAge = type(uint64).max;
            }
        }
        emit EpochCommitted(epoch, manifestHash, r, segments.length, globalCommitments.length);
    }

    function _commit(
        uint64 epoch,
        AssetSlot[] calldata assetTable,
        uint256[] calldata poolCaps,
        SegmentEntry[] calldata segments,
        uint256[] calldata globalCommitments
    ) private returns (EpochData storage e, bytes32 manifestHash, uint256 r) {
        _checkEpochStep(epoch);
        if (segments.length == 0) revert EmptyManifest();
        if (globalCommitments.length == 0) revert ListHasNoBatch();
        if (globalCommitments.length > maxListBatches) {
            revert TooManyBatches(0, globalCommitments.length, maxListBatches);
        }

        manifestHash = keccak256(abi.encode(assetTable, poolCaps, segments, globalCommitments));
        r = uint256(keccak256(abi.encode(epoch, manifestHash))) % FIELD_P;

        lastCommittedEpoch = epoch;
        e = epochs[epoch];
        e.manifestHash = manifestHash;
        e.committedAt = uint40(block.timestamp);
        e.commitBlock = uint40(block.number);
        e.listCount = uint32(globalCommitments.length);
        e.listCursor = _rootsChain(globalCommitments);
        _checkPoolCaps(poolCaps);
        e.poolCapsHash = keccak256(abi.encodePacked(poolCaps));
        emit ListCommitted(epoch, poolCaps, globalCommitments);
        _checkAssetTable(assetTable);
        emit AssetTableCommitted(epoch, assetTable);

        for (uint256 i = 0; i < segments.length; i++) {
            SegmentEntry calldata s = segments[i];
            if (i > 0 && s.id <= segments[i - 1].id) revert SegmentsNotSorted(i, s.id);
            _storeSegment(e, s, assetTable);
            emit SegmentCommitted(epoch, s.id, s.batchRoots);
        }
    }

    /// lastCommittedEpoch < epoch <= lastCommittedEpoch + MAX_EPOCH_STEP.
    function _checkEpochStep(uint64 epoch) private view {
        uint64 last = lastCommittedEpoch;
        if (epoch <= last) revert EpochNotIncreasing(epoch, last);
        if (epoch - last > MAX_EPOCH_STEP) revert EpochStepTooLarge(epoch, last, MAX_EPOCH_STEP);
    }

    /// t_0 of the backward hash chain over `roots` (each checked < p): t_n = 0,
    /// t_i = keccak256(abi.encodePacked(roots[i], t_(i+1))).
    function _rootsChain(uint256[] calldata roots) private pure returns (bytes32) {
        for (uint256 i = 0; i < roots.length; i++) {
            _checkField(roots[i]);
        }
        return _chain(roots, bytes32(0));
    }

    /// The chain's head over `roots` followed by the chain `tail`.
    function _chain(uint256[] calldata roots, bytes32 tail) private pure returns (bytes32 t) {
        t = tail;
        for (uint256 i = roots.length; i > 0; i--) {
            t = _link(roots[i - 1], t);
        }
    }

    /// keccak256(abi.encodePacked(root, tail)), in scratch space.
    /// @dev t = keccak256(abi.encodePacked(root, tail)); memory-safe: writes only the scratch space.
    function _link(uint256 root, bytes32 tail) private pure returns (bytes32 t) {
        assembly ("memory-safe") {
            mstore(0, root)
            mstore(32, tail)
            t := keccak256(0, 64)
        }
    }

    /// The roots of a group and the chain's tail after them hash to `cursor` (the committed t_first).
    function _checkChain(bytes32 cursor, uint256[] calldata roots, bytes32 tail, uint64 epoch, uint256 first)
        private
        pure
    {
        if (_chain(roots, tail) != cursor) revert BatchRootsMismatch(epoch, first);
    }

    /// Forwards this call's arguments to `governance.checkEpoch` (same parameter list), bubbling
    /// its revert; stores each segment's governed version and maximum age, and the oldest price's
    /// timestamp.
    function _applyGovernance(EpochData storage e) private {
        bytes memory ret = _governanceCall(abi.encodePacked(ISegmentGovernance.checkEpoch.selector, msg.data[4:]));
        (uint256[] memory info, uint64 oldestPriceAt) = abi.decode(ret, (uint256[], uint64));
        e.oldestPriceAt = uint40(oldestPriceAt);
        uint256 n = e.segmentCount;
        if (info.length != n) revert InvalidConfiguration();
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage d = e.segments[i];
            d.govVersion = uint32(info[i]);
            d.maxAge = uint64(info[i] >> SEGMENT_INFO_MAX_AGE_SHIFT);
        }
    }

    /// A static call to governance, its revert bubbled unchanged.
    function _governanceCall(bytes memory data) private view returns (bytes memory ret) {
        bool ok;
        (ok, ret) = governance.staticcall(data);
        if (!ok) {
            // revert with `ret` as is (bubbling governance's error); memory-safe: reads `ret` only
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /// Validates one manifest segment against the profile and the asset table, and stores it.
    function _storeSegment(EpochData storage e, SegmentEntry calldata s, AssetSlot[] calldata assetTable) private {
        if (s.marginBps > MAX_MARGIN_BPS) revert MarginTooHigh(s.id, s.marginBps);
        uint256 batches = s.batchRoots.length;
        if (batches == 0) revert SegmentHasNoBatch(s.id);
        if (batches > maxSegmentBatches) revert TooManyBatches(s.id, batches, maxSegmentBatches);
        if (s.slots.length != assetSlots) revert InvalidParamsLength(s.id, s.slots.length, assetSlots);
        if (s.stress.length != stressWords) revert InvalidParamsLength(s.id, s.stress.length, stressWords);
        _checkSlots(assetTable, s);
        _checkStress(s.id, s.stress);
        SegmentData storage d = e.segments[e.segmentCount++];
        d.id = s.id;
        d.marginBps = s.marginBps;
        d.batchCount = uint32(batches);
        // _checkSlots: at most assetSlots (<= 16), each the table entry its slot word names
        d.assetCount = uint8(s.assets.length);
        d.rootsCursor = _rootsChain(s.batchRoots);
        uint256 a = assetSlots;
        for (uint256 k = 0; k < s.assets.length; k++) {
            d.words[k] = s.slots[k];
        }
        for (uint256 w = 0; w < s.stress.length; w++) {
            d.words[a + w] = s.stress[w];
        }
    }

    /// The epoch's asset table: at most GA assets, 1..32-byte symbols, decimals <= 30.
    function _checkAssetTable(AssetSlot[] calldata assetTable) private view {
        if (assetTable.length > globalAssets) revert InvalidGlobalAssets(assetTable.length);
        for (uint256 g = 0; g < assetTable.length; g++) {
            AssetSlot calldata a = assetTable[g];
            uint256 len = bytes(a.symbol).length;
            if (len == 0 || len > 32 || a.decimals > 30) revert InvalidGlobalAssets(g);
            // one entry per asset: a repeated symbol, or a repeated non-zero token, is refused
            for (uint256 h = 0; h < g; h++) {
                AssetSlot calldata b = assetTable[h];
                if (
                    keccak256(bytes(a.symbol)) == keccak256(bytes(b.symbol))
                        || (a.token != address(0) && a.token == b.token)
                ) revert InvalidGlobalAssets(g);
            }
        }
    }

    /// Slot words (SPEC "Packed public inputs"): slot k < assets.length has 1 <= price < 2^96,
    /// cf <= 10000, and a global asset index g whose table entry is exactly assets[k]; the slots
    /// after the segment's assets are the canonical unused word (price 1, everything else 0).
    function _checkSlots(AssetSlot[] calldata assetTable, SegmentEntry calldata s) private view {
        uint256 n = s.assets.length;
        if (n > assetSlots) revert InvalidAssetSlots(s.id, n);
        // each global asset at most once per segment: two slots of one asset would get two caps
        uint256 seen = 0;
        for (uint256 k = 0; k < assetSlots; k++) {
            uint256 w = s.slots[k];
            if (k >= n) {
                if (w != 1) revert InvalidSlotParams(s.id, k);
                continue;
            }
            // fields of the slot word (layout at SLOT_WORD_BITS): price, cf, global asset; the mask
            // on the left compiles to the same code as `(w >> 110) & 0xF` with literals
            uint256 g = SLOT_ASSET_MASK & (w >> SLOT_ASSET_SHIFT);
            if (w >> SLOT_WORD_BITS != 0 || w & MASK96 == 0 || SLOT_CF_MASK & (w >> SLOT_CF_SHIFT) > MAX_CF_BPS) {
                revert InvalidSlotParams(s.id, k);
            }
            if (g >= assetTable.length || seen & (1 << g) != 0 || !_sameAsset(assetTable[g], s.assets[k])) {
                revert InvalidAssetSlots(s.id, k);
            }
            seen |= 1 << g;
        }
    }

    function _sameAsset(AssetSlot calldata a, AssetSlot calldata b) private pure returns (bool) {
        return a.decimals == b.decimals && a.token == b.token && keccak256(bytes(a.symbol)) == keccak256(bytes(b.symbol));
    }

    /// Stress words: S*A factors of 15 bits, 16 per word; nothing above the last factor.
    function _checkStress(uint32 segmentId, uint256[] calldata stress) private view {
        uint256 factors = uint256(stressScenarios) * assetSlots;
        for (uint256 w = 0; w < stress.length; w++) {
            uint256 len = factors - w * FACTORS_PER_WORD;
            if (len > FACTORS_PER_WORD) len = FACTORS_PER_WORD;
            if (stress[w] >> (FACTOR_BITS * len) != 0) revert InvalidStressParams(segmentId, w);
        }
    }

    /// Pooled caps: ceil(GA/2) words of two 120-bit caps (an odd GA leaves the top half 0).
    function _checkPoolCaps(uint256[] calldata poolCaps) private view {
        if (poolCaps.length != capWords) revert InvalidPoolCaps(poolCaps.length, capWords);
        for (uint256 q = 0; q < poolCaps.length; q++) {
            uint256 w = poolCaps[q];
            bool oddTop = 2 * q + 1 >= globalAssets;
            if (w >> POOL_CAPS_WORD_BITS != 0 || (oddTop && w >> CAP_BITS != 0)) revert InvalidPoolCaps(q, capWords);
        }
    }

    // ------------------------------------------------------------------ submit

    /**
     * Verifies batches `g.firstBatch .. g.firstBatch + g.proofs.length - 1` of the segment at
     * `segmentIndex` (manifest order) in one `verifyBatch` call (one multi-pairing). The caller
     * supplies the proofs, the circuit's outputs and the group's committed roots with the chain's
     * tail after them (`SegmentGroup`), which must hash to the stored chain head before anything
     * is verified. Every other public input is derived from committed state, batch after batch:
     * batch t's prevState is batch t-1's nextState (nextStates[t-1]; for the first of the group,
     * the stored state), and only the group's last state is stored. A group of one is a single
     * submission.
     */
    function submitSegmentBatches(uint64 epoch, uint256 segmentIndex, SegmentGroup calldata g)
        external
        onlyRole(PUBLISHER_ROLE)
    {
        SegmentData storage s = _segmentGroup(epoch, segmentIndex, g);
        _checkChain(s.rootsCursor, g.batchRoots, g.rootsTail, epoch, g.firstBatch);
        _verifySegmentGroup(s, epoch, g);
        s.rootsCursor = g.rootsTail;
        _acceptSegmentGroup(s, epoch, g);
    }

    function _verifySegmentGroup(SegmentData storage s, uint64 epoch, SegmentGroup calldata g) private view {
        uint256[] memory base = _segmentBase(_r(epoch), s, epoch);
        (bytes memory data, uint256 sig) = _batchCall(g.proofs, base.length);
        _segmentGroupSignals(sig, s, base, g);
        if (!_staticVerify(segmentVerifier, data)) revert InvalidProof();
    }

    /// The batch-independent SPEC segment public signals: r, the meta word's id, margin and epoch
    /// (first/last flags left 0), slot and stress words (outputs, root and prevState left 0).
    function _segmentBase(uint256 r, SegmentData storage s, uint64 epoch) private view returns (uint256[] memory pub) {
        uint256[] memory slots = _slots(s);
        uint256[] memory stress = _stress(s);
        uint256 a = slots.length;
        pub = new uint256[](7 + a + stress.length);
        pub[4] = r;
        pub[6] = uint256(s.id) | (uint256(s.marginBps) << META_MARGIN_SHIFT) | (uint256(epoch) << META_EPOCH_SHIFT);
        for (uint256 k = 0; k < a; k++) {
            pub[7 + k] = slots[k];
        }
        for (uint256 w = 0; w < stress.length; w++) {
            pub[7 + a + w] = stress[w];
        }
    }

    /// Checks a group of segment batches (order, outputs, roots count, result bounds) and returns
    /// the segment.
    function _segmentGroup(uint64 epoch, uint256 segmentIndex, SegmentGroup calldata g)
        private
        view
        returns (SegmentData storage s)
    {
        EpochData storage e = _openEpoch(epoch);
        if (segmentIndex >= e.segmentCount) revert SegmentNotInManifest(epoch, segmentIndex);
        s = e.segments[segmentIndex];
        uint256 k = g.proofs.length;
        uint256 count = s.batchCount;
        _checkGroup(epoch, g.firstBatch, count, s.accepted, k, g.nextStates, g.batchRoots.length);
        _checkField(g.fingerprint);
        if (g.firstBatch + k != count && (g.result != 0 || g.fingerprint != 0)) {
            revert ResultOnNonLastBatch(g.firstBatch + k - 1);
        }
        // healthy (1 bit) | stress bits (S) | band (3 bits, <= 4)
        if (g.result >> (1 + stressScenarios) > 4) revert InvalidResult(g.result);
    }

    function _acceptSegmentGroup(SegmentData storage s, uint64 epoch, SegmentGroup calldata g) private {
        uint256 k = g.nextStates.length;
        uint256 first = g.firstBatch;
        bool endsLast = first + k == s.batchCount;
        s.accepted = uint32(first + k);
        if (endsLast) {
            s.result = uint24(g.result);
            s.state = g.fingerprint;
        } else {
            s.state = g.nextStates[k - 1];
        }
        emit SegmentBatchesAccepted(epoch, s.id, first, k, s.state, endsLast);
    }

    /**
     * Verifies list batches `g.firstBatch .. g.firstBatch + g.proofs.length - 1` in one
     * `verifyBatch` call, with every public input derived from committed state (chained in memory,
     * the last state stored) and the group's commitments checked against the stored chain head as
     * for segment roots; `g.fingerprint` must be 0 unless the group ends with the list's last batch.
     */
    function submitListBatches(uint64 epoch, ListGroup calldata g) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        uint256 count = e.listCount;
        uint256 k = g.proofs.length;
        _checkGroup(epoch, g.firstBatch, count, e.listAccepted, k, g.nextStates, g.commitments.length);
        bool endsLast = g.firstBatch + k == count;
        _checkField(g.fingerprint);
        if (!endsLast && g.fingerprint != 0) revert ResultOnNonLastBatch(g.firstBatch + k - 1);
        _checkChain(e.listCursor, g.commitments, g.commitmentsTail, epoch, g.firstBatch);
        if (keccak256(abi.encodePacked(g.poolCaps)) != e.poolCapsHash) revert PoolCapsMismatch(epoch);

        {
            uint256[] memory base = _listBase(epoch, g.poolCaps);
            (bytes memory data, uint256 sig) = _batchCall(g.proofs, base.length);
            _listGroupSignals(sig, base, g.firstBatch == 0 ? 0 : e.listState, count, g);
            if (!_staticVerify(listVerifier, data)) revert InvalidProof();
        }

        e.listCursor = g.commitmentsTail;
        e.listAccepted = uint32(g.firstBatch + k);
        uint256 state = endsLast ? g.fingerprint : g.nextStates[k - 1];
        e.listState = state;
        emit ListBatchesAccepted(epoch, g.firstBatch, k, state, endsLast);
    }

    /// Writes the public signals of the group's segment batches at `sig` (one after another,
    /// chained: batch t's prevState is batch t-1's nextState). `base` holds the batch-independent
    /// signals (r, the meta word's id, margin and epoch, slots, stress), read from storage once; the
    /// rest comes from the group, whose roots `_checkChain` has checked.
    function _segmentGroupSignals(uint256 sig, SegmentData storage s, uint256[] memory base, SegmentGroup calldata g)
        private
        view
    {
        // kept on the segment's last batch only
        base[2] = g.result;
        base[3] = g.fingerprint;
        uint256 first = g.firstBatch;
        _chainedSignals(sig, base, first == 0 ? 0 : s.state, s.batchCount, first, g.nextStates, g.batchRoots, SEGMENT_LAYOUT);
    }

    /// The batch-independent list public signals: r, the meta word's epoch (flags left 0), the
    /// pooled caps (checked against the committed hash).
    function _listBase(uint64 epoch, uint256[] calldata poolCaps) private view returns (uint256[] memory base) {
        base = new uint256[](6 + poolCaps.length);
        base[3] = _r(epoch);
        base[5] = uint256(epoch) << LIST_META_EPOCH_SHIFT;
        for (uint256 q = 0; q < poolCaps.length; q++) {
            base[6 + q] = poolCaps[q];
        }
    }

    /// Writes the public signals of the group's list batches at `sig`, chained as above; `prev` is
    /// the stored state (batch firstBatch's prevState) and `count` the list's batch count.
    function _listGroupSignals(uint256 sig, uint256[] memory base, uint256 prev, uint256 count, ListGroup calldata g)
        private
        pure
    {
        base[2] = g.fingerprint; // kept on the last batch only
        _chainedSignals(sig, base, prev, count, g.firstBatch, g.nextStates, g.commitments, LIST_LAYOUT);
    }

    /// Where a circuit's chained signals are (SPEC "Public signals"): prevState's word, the meta
    /// word, the output words after the root kept on the last batch only, the meta word's first-
    /// and last-batch flag bits; 8 bits each.
    uint256 private constant SEGMENT_LAYOUT = 5 | (6 << 8) | (2 << 16) | (48 << 24) | (49 << 32);
    uint256 private constant LIST_LAYOUT = 4 | (5 << 8) | (1 << 16) | (0 << 24) | (1 << 32);

    /// Writes the signals of batches first .. first + next.length - 1 at `sig`: for each, a copy of
    /// `base` (one MCOPY instead of a checked loop: about 10k gas per batch less, bench/gas.json)
    /// with its nextState (word 0), root or commitment (word 1), the outputs after it zeroed unless
    /// it is the last of `count`, prevState (the previous nextState; `prev` first) and the meta
    /// word's first/last flags, at the places `layout` gives. Few assembly variables: near the
    /// stack limit.
    /// @dev for t < next.length: p = sig + t * base.length words; p[..] = base; p[0] = next[t];
    /// p[1] = roots[t]; p[2 .. 2 + kept) = 0 unless last; p[prevState] = prev; p[meta] |= flags;
    /// prev = next[t]. Memory-safe: writes only inside the signals area `_batchCall` allocated.
    function _chainedSignals(
        uint256 sig,
        uint256[] memory base,
        uint256 prev,
        uint256 count,
        uint256 first,
        uint256[] calldata next,
        uint256[] calldata roots,
        uint256 layout
    ) private pure {
        assembly ("memory-safe") {
            for { let t := 0 } lt(t, next.length) { t := add(t, 1) } {
                let p := add(sig, mul(t, mul(mload(base), 32)))
                let isLast := eq(add(add(first, t), 1), count)
                mcopy(p, add(base, 32), mul(mload(base), 32))
                mstore(p, calldataload(add(next.offset, mul(t, 32))))
                mstore(add(p, 32), calldataload(add(roots.offset, mul(t, 32))))
                if iszero(isLast) {
                    for { let j := 0 } lt(j, and(shr(16, layout), 0xff)) { j := add(j, 1) } {
                        mstore(add(p, mul(add(2, j), 32)), 0)
                    }
                }
                mstore(add(p, mul(and(layout, 0xff), 32)), prev)
                let m := add(p, mul(and(shr(8, layout), 0xff), 32))
                let flags := or(shl(and(shr(24, layout), 0xff), iszero(add(first, t))), shl(and(shr(32, layout), 0xff), isLast))
                mstore(m, or(mload(m), flags))
                prev := mload(p)
            }
        }
    }

    /// A group of batches: at least one, one nextState and one root per proof (each state < p), in
    /// order from `accepted`, all inside the manifest.
    function _checkGroup(
        uint64 epoch,
        uint256 firstBatch,
        uint256 count,
        uint256 accepted,
        uint256 k,
        uint256[] calldata nextStates,
        uint256 roots
    ) private pure {
        if (k == 0) revert EmptyBatchGroup();
        if (nextStates.length != k) revert BatchGroupLengthMismatch(k, nextStates.length);
        _checkOrder(epoch, firstBatch, count, accepted);
        if (firstBatch + k > count) revert BatchNotInManifest(epoch, firstBatch + k - 1, count);
        if (roots != k) revert BatchRootsLengthMismatch(k, roots);
        for (uint256 t = 0; t < k; t++) {
            _checkField(nextStates[t]);
        }
    }

    /// The calldata of verifyBatch(proofs, pubSignals) for the group's proofs (8 words each,
    /// copied from calldata at once) and k x nPub signals, which the caller writes at `sig`.
    /// @dev data = abi.encodeWithSelector(VERIFY_BATCH_SELECTOR, proofWords, new uint256[](k * nPub))
    /// with the proof words copied from calldata at once; memory-safe: writes only inside `data`.
    function _batchCall(Proof[] calldata proofs, uint256 nPub) private pure returns (bytes memory data, uint256 sig) {
        uint256 k = proofs.length;
        uint256 pw = 8 * k;
        data = new bytes(4 + 32 * (4 + pw + k * nPub));
        bytes4 selector = VERIFY_BATCH_SELECTOR;
        assembly ("memory-safe") {
            let p := add(data, 32)
            mstore(p, selector)
            mstore(add(p, 4), 0x40)
            mstore(add(p, 36), add(0x60, mul(32, pw)))
            mstore(add(p, 68), pw)
            calldatacopy(add(p, 100), proofs.offset, mul(32, pw))
            mstore(add(p, add(100, mul(32, pw))), mul(k, nPub))
            sig := add(p, add(132, mul(32, pw)))
        }
    }

    /// True iff `verifier` returns 1 for `data` (a verifyBatch call).
    function _staticVerify(address verifier, bytes memory data) private view returns (bool) {
        (bool ok, bytes memory ret) = verifier.staticcall(data);
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    /// SPEC "Manifest and r": r = keccak256(abi.encode(epoch, manifestHash)) mod p (not stored).
    function _r(uint64 epoch) private view returns (uint256) {
        return uint256(keccak256(abi.encode(epoch, epochs[epoch].manifestHash))) % FIELD_P;
    }

    function _openEpoch(uint64 epoch) private view returns (EpochData storage e) {
        e = epochs[epoch];
        if (e.committedAt == 0) revert EpochNotCommitted(epoch);
        if (e.finalizedAt != 0) revert EpochAlreadyFinalized(epoch);
    }

    function _checkOrder(uint64 epoch, uint256 batchIndex, uint256 count, uint256 accepted) private pure {
        if (batchIndex >= count) revert BatchNotInManifest(epoch, batchIndex, count);
        if (batchIndex < accepted) revert BatchAlreadyAccepted(epoch, batchIndex);
        if (batchIndex > accepted) revert BatchOutOfOrder(epoch, batchIndex, accepted);
    }

    function _checkField(uint256 v) private pure {
        if (v >= FIELD_P) revert ValueNotInField(v);
    }

    // ------------------------------------------------------------------ finalize

    /**
     * Finalizes `epoch`: every batch of every segment and of the lot list accepted, and
     * prod(segment fingerprints) == list fingerprint (mod p); in a later block than the commit (a
     * flash loan cannot span blocks) and, on a governed registry, at least the governed minimum
     * number of blocks after it, with every custody cap (`poolCaps`: the committed pooled caps)
     * checked again against the balances now (`checkCustody`). The epoch then becomes the latest
     * finalized one: each of its segments' records becomes current (healthy or not, independently).
     */
    function finalizeEpoch(uint64 epoch, uint256[] calldata poolCaps) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        if (epoch <= latestEpoch) revert StaleEpoch(epoch, latestEpoch);
        if (keccak256(abi.encodePacked(poolCaps)) != e.poolCapsHash) revert PoolCapsMismatch(epoch);
        if (block.number <= e.commitBlock) revert FinalizeTooEarly(epoch, block.number, uint256(e.commitBlock) + 1);
        uint256 listCount = e.listCount;
        if (e.listAccepted != listCount) revert ListIncomplete(epoch, e.listAccepted, listCount);
        uint256 n = e.segmentCount;
        uint256 product = 1;
        uint256 unhealthy = 0;
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage s = e.segments[i];
            uint256 count = s.batchCount;
            if (s.accepted != count) revert SegmentIncomplete(epoch, s.id, s.accepted, count);
            product = mulmod(product, s.state, FIELD_P);
            if (s.result & 1 == 0) unhealthy++;
        }
        if (product != e.listState) revert FingerprintMismatch(epoch, product, e.listState);
        if (governance != address(0)) _recheckCustody(e, epoch, poolCaps);

        e.finalizedAt = uint40(block.timestamp);
        latestEpoch = epoch;
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage s = e.segments[i];
            (bool healthy, uint16 stressBits, uint8 band) = _decodeResult(s.result);
            emit SegmentRecorded(s.id, epoch, healthy, stressBits, band);
        }
        emit EpochFinalized(epoch, n, unhealthy);
    }

    /// `governance.checkCustody` on the epoch's committed caps, and its minimum block gap.
    function _recheckCustody(EpochData storage e, uint64 epoch, uint256[] calldata poolCaps) private view {
        uint256 n = e.segmentCount;
        uint32[] memory ids = new uint32[](n);
        uint32[] memory versions = new uint32[](n);
        uint256[][] memory slots = new uint256[][](n);
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage s = e.segments[i];
            ids[i] = s.id;
            versions[i] = s.govVersion;
            uint256[] memory w = new uint256[](s.assetCount);
            for (uint256 k = 0; k < w.length; k++) {
                w[k] = s.words[k];
            }
            slots[i] = w;
        }
        bytes memory ret = _governanceCall(
            abi.encodeCall(ISegmentGovernance.checkCustody, (epoch, ids, versions, slots, poolCaps))
        );
        uint256 earliest = uint256(e.commitBlock) + abi.decode(ret, (uint16));
        if (block.number < earliest) revert FinalizeTooEarly(epoch, block.number, earliest);
    }

    // ------------------------------------------------------------------ reads

    /// SPEC "Public signals": result = healthy | stress bits << 1 | band << (1 + S).
    function _decodeResult(uint256 result) private view returns (bool healthy, uint16 stressBits, uint8 band) {
        uint256 k = stressScenarios;
        healthy = result & 1 == 1;
        stressBits = uint16((result >> 1) & ((uint256(1) << k) - 1));
        band = uint8(result >> (1 + k));
    }

    /// True iff the segment is listed in the latest finalized epoch, was proven healthy there, and
    /// that epoch was committed at most the segment's governed maximum age ago
    /// (block.timestamp <= committedAt + maxAge: the one freshness rule, docs/CHAIN.md "Freshness").
    function isHealthy(uint32 segmentId) external view returns (bool) {
        return segmentHealth(segmentId).healthyNow;
    }

    /// @inheritdoc ISolvencyRegistry
    function segmentHealth(uint32 segmentId) public view returns (SegmentHealth memory h) {
        uint64 latest = latestEpoch;
        if (latest == 0) return h;
        EpochData storage e = epochs[latest];
        h.epoch = latest;
        h.committedAt = e.committedAt;
        h.finalizedAt = e.finalizedAt;
        h.oldestPriceAt = e.oldestPriceAt;
        (bool found, uint256 i) = _findSegment(e, segmentId);
        if (!found) return h;
        SegmentData storage s = e.segments[i];
        h.listed = true;
        (h.healthy, h.stressBits, h.band) = _decodeResult(s.result);
        h.maxAge = s.maxAge;
        h.governanceVersion = s.govVersion;
        h.fresh = block.timestamp <= uint256(e.committedAt) + s.maxAge;
        h.healthyNow = h.healthy && h.fresh;
    }

    /// The segment's current record; reverts when the latest finalized epoch does not list it.
    function segmentRecord(uint32 segmentId) external view returns (SegmentRecord memory rec) {
        uint64 latest = latestEpoch;
        if (latest == 0) revert NoFinalizedEpoch();
        EpochData storage e = epochs[latest];
        (bool found, uint256 i) = _findSegment(e, segmentId);
        if (!found) revert UnknownSegment(segmentId);
        SegmentData storage s = e.segments[i];
        (bool healthy, uint16 stressBits, uint8 band) = _decodeResult(s.result);
        rec = SegmentRecord({
            epoch: latest,
            healthy: healthy,
            stressBits: stressBits,
            band: band,
            marginBps: s.marginBps,
            finalizedAt: e.finalizedAt,
            batchCount: s.batchCount,
            slots: _slots(s),
            stress: _stress(s)
        });
    }

    /// @inheritdoc ISolvencyRegistry
    function segmentStatus(uint32 segmentId)
        external
        view
        returns (
            bool listed,
            bool healthy,
            bool fresh,
            uint64 epoch,
            uint64 committedAt,
            uint64 finalizedAt,
            uint64 maxAge,
            uint64 oldestPriceAt
        )
    {
        SegmentHealth memory h = segmentHealth(segmentId);
        return (h.listed, h.healthy, h.fresh, h.epoch, h.committedAt, h.finalizedAt, h.maxAge, h.oldestPriceAt);
    }

    /// Whole epoch in one call (committed or finalized); reverts when `epoch` was never committed.
    function getEpoch(uint64 epoch) public view returns (EpochView memory v) {
        EpochData storage e = epochs[epoch];
        if (e.committedAt == 0) revert EpochNotCommitted(epoch);
        v.epoch = epoch;
        v.manifestHash = e.manifestHash;
        v.r = _r(epoch);
        v.committedAt = e.committedAt;
        v.commitBlock = e.commitBlock;
        v.finalizedAt = e.finalizedAt;
        v.finalized = e.finalizedAt != 0;
        v.listAccepted = e.listAccepted;
        v.listCount = e.listCount;
        uint256 n = e.segmentCount;
        v.segments = new SegmentView[](n);
        for (uint256 i = 0; i < n; i++) {
            v.segments[i] = _segmentView(e.segments[i]);
        }
    }

    /// A segment's A slot words: the stored ones, then the unused word (1).
    function _slots(SegmentData storage s) private view returns (uint256[] memory w) {
        w = new uint256[](assetSlots);
        uint256 n = s.assetCount;
        for (uint256 k = 0; k < w.length; k++) {
            w[k] = k < n ? s.words[k] : 1;
        }
    }

    /// A segment's stress words.
    function _stress(SegmentData storage s) private view returns (uint256[] memory w) {
        w = new uint256[](stressWords);
        uint256 a = assetSlots;
        for (uint256 j = 0; j < w.length; j++) {
            w[j] = s.words[a + j];
        }
    }

    function _segmentView(SegmentData storage s) private view returns (SegmentView memory) {
        uint256 count = s.batchCount;
        bool complete = s.accepted == count;
        (bool healthy, uint16 stressBits, uint8 band) = _decodeResult(complete ? s.result : 0);
        return SegmentView({
            id: s.id,
            marginBps: s.marginBps,
            accepted: s.accepted,
            batchCount: uint32(count),
            complete: complete,
            healthy: complete && healthy,
            stressBits: stressBits,
            band: band,
            slots: _slots(s),
            stress: _stress(s),
            assetCount: s.assetCount
        });
    }

    /// The latest finalized epoch in one call: every segment's parameters and health.
    function latestEpochView() external view returns (EpochView memory) {
        if (latestEpoch == 0) revert NoFinalizedEpoch();
        return getEpoch(latestEpoch);
    }

    /// Binary search over the epoch's strictly increasing segment ids.
    function _findSegment(EpochData storage e, uint32 segmentId) private view returns (bool, uint256) {
        uint256 lo = 0;
        uint256 hi = e.segmentCount;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            uint32 id = e.segments[mid].id;
            if (id == segmentId) return (true, mid);
            if (id < segmentId) lo = mid + 1;
            else hi = mid;
        }
        return (false, 0);
    }
}
