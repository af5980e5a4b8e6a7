// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {ISegmentGovernance} from "./ISegmentGovernance.sol";
import {ISegmentGovernanceErrors} from "./ISegmentGovernanceErrors.sol";
import {ISolvencyRegistry} from "./ISolvencyRegistry.sol";

/**
 * @title SolvencyRegistry
 * @notice On-chain registry of bulkhead solvency epochs (docs/SPEC.md is normative).
 *
 * Flow per epoch:
 *   1. `commitEpoch` fixes the manifest (the epoch's asset table and pooled custody caps; every
 *      segment's id, margin, packed slot words (price, collateral factor, global asset, custody
 *      cap), packed stress factors, batch roots and asset slots (symbol, decimals, token); the
 *      global lot list's batch commitments) and derives `r` from it.
 *   2. `submitSegmentBatch` / `submitListBatch` verify one Groth16 batch proof each, in order.
 *      Every public input the registry can derive (r, batch root / commitment, prevState, meta with
 *      epoch and first/last flags, slot words, stress words, pooled caps) is derived from stored
 *      state, never taken from the caller.
 *   3. `finalizeEpoch` checks that every batch arrived and that the product of the segments'
 *      fingerprints equals the global list's (no lot counted twice); then the epoch becomes the
 *      latest finalized one and its per-segment records become current.
 *
 * A segment's current record is its entry in the latest finalized epoch. A segment that the latest
 * finalized epoch does not list has no current record (`isHealthy` is false): a health proof of an
 * older epoch is never presented as current.
 *
 * Verifiers are snarkjs Groth16 verifiers:
 *   verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[K] pubSignals) returns (bool)
 * with K = 7 + A + ceil(S*A/16) for the segment circuit (S stress scenarios) and
 * K = 6 + ceil(GA/2) for the lot-list circuit. Because K depends on the deployment's profile, the
 * registry calls them with selectors computed once in the constructor.
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

    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// The admin role is OpenZeppelin's DEFAULT_ADMIN_ROLE (it administers PUBLISHER_ROLE).
    bytes32 public constant ADMIN_ROLE = DEFAULT_ADMIN_ROLE;

    uint256 private constant MASK96 = (uint256(1) << 96) - 1;
    uint256 private constant MASK120 = (uint256(1) << 120) - 1;
    /// A slot word is price (96) | cf (14) << 96 | global asset (4) << 110 | cap (120) << 114.
    uint256 private constant SLOT_WORD_BITS = 234;
    /// Stress words hold 16 price factors of 15 bits each.
    uint256 private constant FACTORS_PER_WORD = 16;
    uint256 private constant FACTOR_BITS = 15;

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
        /// packed result of the last batch: healthy | stress bits << 1 | band << (1 + S)
        /// (valid once accepted == batchRoots.length)
        uint256 result;
        /// nextState of the last accepted batch; replaced by the fingerprint once the last batch is in
        uint256 state;
        uint256[] slots;
        uint256[] stress;
        uint256[] batchRoots;
        AssetSlot[] assets;
    }

    struct EpochData {
        bytes32 manifestHash;
        uint256 r;
        uint64 committedAt;
        uint64 finalizedAt;
        uint32 listAccepted;
        /// nextState of the last accepted list batch; the list fingerprint once the last batch is in
        uint256 listState;
        uint256[] globalCommitments;
        uint256[] poolCaps;
        AssetSlot[] globalAssets;
        SegmentData[] segments;
    }

    /// A Groth16 proof as the snarkjs Solidity verifier takes it (b's coordinates already swapped,
    /// as `snarkjs.groth16.exportSolidityCallData` prints them).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// Read view of one segment of an epoch.
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
        uint256[] batchRoots;
        AssetSlot[] assets;
    }

    /// Read view of a whole epoch (everything receipts, status and resumable publishing need).
    struct EpochView {
        uint64 epoch;
        bytes32 manifestHash;
        uint256 r;
        uint64 committedAt;
        uint64 finalizedAt;
        bool finalized;
        uint32 listAccepted;
        uint256[] globalCommitments;
        uint256[] poolCaps;
        AssetSlot[] globalAssets;
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
        uint256[] slots;
        uint256[] stress;
        uint256[] batchRoots;
        AssetSlot[] assets;
    }

    // ------------------------------------------------------------------ errors

    error InvalidConfiguration();
    error EpochNotIncreasing(uint64 epoch, uint64 lastCommitted);
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

    // ------------------------------------------------------------------ events

    event EpochCommitted(
        uint64 indexed epoch, bytes32 manifestHash, uint256 r, uint256 segmentCount, uint256 listBatchCount
    );
    event SegmentBatchAccepted(
        uint64 indexed epoch, uint32 indexed segmentId, uint256 batchIndex, uint256 nextState, bool isLast
    );
    event ListBatchAccepted(uint64 indexed epoch, uint256 batchIndex, uint256 nextState, bool isLast);
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
    bytes4 private immutable segmentSelector;
    bytes4 private immutable listSelector;

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
        segmentSelector = _verifySelector(7 + uint256(cfg.assetSlots) + sw);
        listSelector = _verifySelector(6 + cw);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    function _verifySelector(uint256 k) private pure returns (bytes4) {
        return bytes4(
            keccak256(
                abi.encodePacked("verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[", Strings.toString(k), "])")
            )
        );
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
            for (uint256 i = 0; i < e.segments.length; i++) {
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
        if (epoch <= lastCommittedEpoch) revert EpochNotIncreasing(epoch, lastCommittedEpoch);
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
        e.r = r;
        e.committedAt = uint64(block.timestamp);

        for (uint256 i = 0; i < globalCommitments.length; i++) {
            _checkField(globalCommitments[i]);
        }
        e.globalCommitments = globalCommitments;
        _checkPoolCaps(poolCaps);
        e.poolCaps = poolCaps;
        _storeGlobalAssets(e, assetTable);

        for (uint256 i = 0; i < segments.length; i++) {
            SegmentEntry calldata s = segments[i];
            if (i > 0 && s.id <= segments[i - 1].id) revert SegmentsNotSorted(i, s.id);
            _storeSegment(e, s);
        }
    }

    /// Forwards this call's arguments to `governance.checkEpoch` (same parameter list), bubbling
    /// its revert; stores each segment's governed version and maximum age.
    function _applyGovernance(EpochData storage e) private {
        (bool ok, bytes memory ret) =
            governance.staticcall(abi.encodePacked(ISegmentGovernance.checkEpoch.selector, msg.data[4:]));
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        uint256[] memory info = abi.decode(ret, (uint256[]));
        uint256 n = e.segments.length;
        if (info.length != n) revert InvalidConfiguration();
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage d = e.segments[i];
            d.govVersion = uint32(info[i]);
            d.maxAge = uint64(info[i] >> 32);
        }
    }

    /// Validates one manifest segment against the profile and the asset table, and stores it.
    function _storeSegment(EpochData storage e, SegmentEntry calldata s) private {
        if (s.marginBps > MAX_MARGIN_BPS) revert MarginTooHigh(s.id, s.marginBps);
        uint256 batches = s.batchRoots.length;
        if (batches == 0) revert SegmentHasNoBatch(s.id);
        if (batches > maxSegmentBatches) revert TooManyBatches(s.id, batches, maxSegmentBatches);
        if (s.slots.length != assetSlots) revert InvalidParamsLength(s.id, s.slots.length, assetSlots);
        if (s.stress.length != stressWords) revert InvalidParamsLength(s.id, s.stress.length, stressWords);
        _checkSlots(e, s);
        _checkStress(s.id, s.stress);
        for (uint256 b = 0; b < batches; b++) {
            _checkField(s.batchRoots[b]);
        }
        SegmentData storage d = e.segments.push();
        d.id = s.id;
        d.marginBps = s.marginBps;
        d.slots = s.slots;
        d.stress = s.stress;
        d.batchRoots = s.batchRoots;
        for (uint256 k = 0; k < s.assets.length; k++) {
            AssetSlot calldata a = s.assets[k];
            d.assets.push(AssetSlot({symbol: a.symbol, decimals: a.decimals, token: a.token}));
        }
    }

    /// The epoch's asset table: at most GA assets, 1..32-byte symbols, decimals <= 30.
    function _storeGlobalAssets(EpochData storage e, AssetSlot[] calldata assetTable) private {
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
            e.globalAssets.push(AssetSlot({symbol: a.symbol, decimals: a.decimals, token: a.token}));
        }
    }

    /// Slot words (SPEC "Packed public inputs"): slot k < assets.length has 1 <= price < 2^96,
    /// cf <= 10000, and a global asset index g whose table entry is exactly assets[k]; the slots
    /// after the segment's assets are the canonical unused word (price 1, everything else 0).
    function _checkSlots(EpochData storage e, SegmentEntry calldata s) private view {
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
            uint256 g = (w >> 110) & 0xF;
            if (w >> SLOT_WORD_BITS != 0 || w & MASK96 == 0 || (w >> 96) & 0x3FFF > MAX_CF_BPS) {
                revert InvalidSlotParams(s.id, k);
            }
            if (g >= e.globalAssets.length || seen & (1 << g) != 0 || !_sameAsset(e.globalAssets[g], s.assets[k])) {
                revert InvalidAssetSlots(s.id, k);
            }
            seen |= 1 << g;
        }
    }

    function _sameAsset(AssetSlot storage a, AssetSlot calldata b) private view returns (bool) {
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
            if (w >> 240 != 0 || (oddTop && w >> 120 != 0)) revert InvalidPoolCaps(q, capWords);
        }
    }

    // ------------------------------------------------------------------ submit

    /**
     * Verifies batch `batchIndex` of the segment at `segmentIndex` (manifest order) of `epoch`.
     * The caller supplies only the proof and the circuit's outputs (nextState, result, fingerprint);
     * result and fingerprint must be 0 unless this is the segment's last batch.
     */
    function submitSegmentBatch(
        uint64 epoch,
        uint256 segmentIndex,
        uint256 batchIndex,
        Proof calldata proof,
        uint256 nextState,
        uint256 result,
        uint256 fingerprint
    ) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        if (segmentIndex >= e.segments.length) revert SegmentNotInManifest(epoch, segmentIndex);
        SegmentData storage s = e.segments[segmentIndex];
        uint256 count = s.batchRoots.length;
        _checkOrder(epoch, batchIndex, count, s.accepted);
        _checkField(nextState);
        _checkField(fingerprint);
        bool isLast = batchIndex + 1 == count;
        if (!isLast && (result != 0 || fingerprint != 0)) revert ResultOnNonLastBatch(batchIndex);
        // healthy (1 bit) | stress bits (S) | band (3 bits, <= 4)
        if (result >> (1 + stressScenarios) > 4) revert InvalidResult(result);

        uint256[] memory pub = _segmentSignals(e.r, s, epoch, batchIndex, isLast);
        pub[0] = nextState;
        pub[2] = result;
        pub[3] = fingerprint;
        if (!_verify(segmentVerifier, segmentSelector, proof, pub)) revert InvalidProof();

        s.accepted = uint32(batchIndex + 1);
        if (isLast) {
            s.result = result;
            s.state = fingerprint;
        } else {
            s.state = nextState;
        }
        emit SegmentBatchAccepted(epoch, s.id, batchIndex, nextState, isLast);
    }

    /// SPEC segment public signals with every derivable entry filled in (outputs 0, 2, 3 left to the caller).
    function _segmentSignals(uint256 r, SegmentData storage s, uint64 epoch, uint256 batchIndex, bool isLast)
        private
        view
        returns (uint256[] memory pub)
    {
        uint256 a = assetSlots;
        uint256 sw = stressWords;
        pub = new uint256[](7 + a + sw);
        pub[1] = s.batchRoots[batchIndex];
        pub[4] = r;
        pub[5] = batchIndex == 0 ? 0 : s.state;
        pub[6] = uint256(s.id) | (uint256(s.marginBps) << 32) | (batchIndex == 0 ? uint256(1) << 48 : 0)
            | (isLast ? uint256(1) << 49 : 0) | (uint256(epoch) << 50);
        for (uint256 k = 0; k < a; k++) {
            pub[7 + k] = s.slots[k];
        }
        for (uint256 w = 0; w < sw; w++) {
            pub[7 + a + w] = s.stress[w];
        }
    }

    /// Verifies batch `batchIndex` of the global lot list of `epoch`; fingerprint must be 0 unless last.
    function submitListBatch(
        uint64 epoch,
        uint256 batchIndex,
        Proof calldata proof,
        uint256 nextState,
        uint256 fingerprint
    ) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        uint256 count = e.globalCommitments.length;
        uint256 accepted = e.listAccepted;
        _checkOrder(epoch, batchIndex, count, accepted);
        _checkField(nextState);
        _checkField(fingerprint);
        bool isLast = batchIndex + 1 == count;
        if (!isLast && fingerprint != 0) revert ResultOnNonLastBatch(batchIndex);

        uint256 cw = capWords;
        uint256[] memory pub = new uint256[](6 + cw);
        pub[0] = nextState;
        pub[1] = e.globalCommitments[batchIndex];
        pub[2] = fingerprint;
        pub[3] = e.r;
        pub[4] = batchIndex == 0 ? 0 : e.listState;
        pub[5] = (batchIndex == 0 ? 1 : 0) | (isLast ? 2 : 0) | (uint256(epoch) << 2);
        for (uint256 q = 0; q < cw; q++) {
            pub[6 + q] = e.poolCaps[q];
        }
        if (!_verify(listVerifier, listSelector, proof, pub)) revert InvalidProof();

        e.listAccepted = uint32(accepted + 1);
        e.listState = isLast ? fingerprint : nextState;
        emit ListBatchAccepted(epoch, batchIndex, nextState, isLast);
    }

    /**
     * Verifies batches `firstBatch .. firstBatch + proofs.length - 1` of the segment at
     * `segmentIndex` in one `verifyBatch` call (one multi-pairing). Every public input is derived
     * from stored state exactly as `submitSegmentBatch` does, batch after batch: batch t's prevState
     * is batch t-1's nextState (nextStates[t-1]; for the first of the group, the stored state), and
     * only the group's last state is stored. `result` and `fingerprint` are the segment's last
     * batch's outputs and must be 0 unless the group ends with it.
     */
    function submitSegmentBatches(
        uint64 epoch,
        uint256 segmentIndex,
        uint256 firstBatch,
        Proof[] calldata proofs,
        uint256[] calldata nextStates,
        uint256 result,
        uint256 fingerprint
    ) external onlyRole(PUBLISHER_ROLE) {
        SegmentData storage s = _segmentGroup(epoch, segmentIndex, firstBatch, proofs.length, nextStates, result, fingerprint);
        _verifySegmentGroup(s, epoch, firstBatch, proofs, nextStates, result, fingerprint);
        _acceptSegmentGroup(s, epoch, firstBatch, nextStates, result, fingerprint);
    }

    function _verifySegmentGroup(
        SegmentData storage s,
        uint64 epoch,
        uint256 firstBatch,
        Proof[] calldata proofs,
        uint256[] calldata nextStates,
        uint256 result,
        uint256 fingerprint
    ) private view {
        uint256[] memory sigs;
        {
            uint256[] memory base = _segmentSignals(epochs[epoch].r, s, epoch, firstBatch, false);
            base[2] = result;
            base[3] = fingerprint;
            sigs = _segmentGroupSignals(s, base, firstBatch, nextStates);
        }
        if (!_verifyBatch(segmentVerifier, proofs, sigs)) revert InvalidProof();
    }

    /// Checks a group of segment batches (as `submitSegmentBatch` checks one) and returns the segment.
    function _segmentGroup(
        uint64 epoch,
        uint256 segmentIndex,
        uint256 firstBatch,
        uint256 k,
        uint256[] calldata nextStates,
        uint256 result,
        uint256 fingerprint
    ) private view returns (SegmentData storage s) {
        EpochData storage e = _openEpoch(epoch);
        if (segmentIndex >= e.segments.length) revert SegmentNotInManifest(epoch, segmentIndex);
        s = e.segments[segmentIndex];
        uint256 count = s.batchRoots.length;
        _checkGroup(epoch, firstBatch, count, s.accepted, k, nextStates);
        _checkField(fingerprint);
        if (firstBatch + k != count && (result != 0 || fingerprint != 0)) {
            revert ResultOnNonLastBatch(firstBatch + k - 1);
        }
        // healthy (1 bit) | stress bits (S) | band (3 bits, <= 4)
        if (result >> (1 + stressScenarios) > 4) revert InvalidResult(result);
    }

    function _acceptSegmentGroup(
        SegmentData storage s,
        uint64 epoch,
        uint256 firstBatch,
        uint256[] calldata nextStates,
        uint256 result,
        uint256 fingerprint
    ) private {
        uint256 k = nextStates.length;
        bool endsLast = firstBatch + k == s.batchRoots.length;
        s.accepted = uint32(firstBatch + k);
        if (endsLast) {
            s.result = result;
            s.state = fingerprint;
        } else {
            s.state = nextStates[k - 1];
        }
        for (uint256 t = 0; t < k; t++) {
            emit SegmentBatchAccepted(epoch, s.id, firstBatch + t, nextStates[t], endsLast && t + 1 == k);
        }
    }

    /**
     * Verifies list batches `firstBatch .. firstBatch + proofs.length - 1` in one `verifyBatch` call,
     * with every public input derived as `submitListBatch` does (chained in memory, the last state
     * stored); `fingerprint` must be 0 unless the group ends with the list's last batch.
     */
    function submitListBatches(
        uint64 epoch,
        uint256 firstBatch,
        Proof[] calldata proofs,
        uint256[] calldata nextStates,
        uint256 fingerprint
    ) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        uint256 count = e.globalCommitments.length;
        uint256 k = proofs.length;
        _checkGroup(epoch, firstBatch, count, e.listAccepted, k, nextStates);
        bool endsLast = firstBatch + k == count;
        _checkField(fingerprint);
        if (!endsLast && fingerprint != 0) revert ResultOnNonLastBatch(firstBatch + k - 1);

        uint256[] memory sigs = _listGroupSignals(e, epoch, firstBatch, nextStates, fingerprint);
        if (!_verifyBatch(listVerifier, proofs, sigs)) revert InvalidProof();

        e.listAccepted = uint32(firstBatch + k);
        e.listState = endsLast ? fingerprint : nextStates[k - 1];
        for (uint256 t = 0; t < k; t++) {
            emit ListBatchAccepted(epoch, firstBatch + t, nextStates[t], endsLast && t + 1 == k);
        }
    }

    /// The public signals of segment batches firstBatch.. (one after another), chained in memory.
    /// `base` holds the batch-independent signals (result and fingerprint at 2 and 3, r, the meta
    /// word's id, margin and epoch, slots, stress), read from storage once.
    function _segmentGroupSignals(
        SegmentData storage s,
        uint256[] memory base,
        uint256 firstBatch,
        uint256[] calldata nextStates
    ) private view returns (uint256[] memory sigs) {
        uint256 nPub = base.length;
        uint256 count = s.batchRoots.length;
        uint256 meta = base[6] & ~(uint256(3) << 48);
        sigs = new uint256[](nextStates.length * nPub);
        uint256 prev = firstBatch == 0 ? 0 : s.state;
        for (uint256 t = 0; t < nextStates.length; t++) {
            uint256 b = firstBatch + t;
            uint256 o = t * nPub;
            bool isLast = b + 1 == count;
            for (uint256 w = 4; w < nPub; w++) {
                sigs[o + w] = base[w];
            }
            sigs[o] = nextStates[t];
            sigs[o + 1] = s.batchRoots[b];
            if (isLast) {
                sigs[o + 2] = base[2];
                sigs[o + 3] = base[3];
            }
            sigs[o + 5] = prev;
            sigs[o + 6] = meta | (b == 0 ? uint256(1) << 48 : 0) | (isLast ? uint256(1) << 49 : 0);
            prev = nextStates[t];
        }
    }

    /// The public signals of list batches firstBatch.. (one after another), chained in memory.
    function _listGroupSignals(
        EpochData storage e,
        uint64 epoch,
        uint256 firstBatch,
        uint256[] calldata nextStates,
        uint256 fingerprint
    ) private view returns (uint256[] memory sigs) {
        // the batch-independent signals (r, pooled caps) read once, copied into every batch
        uint256 nPub = 6 + capWords;
        uint256[] memory base = new uint256[](nPub);
        base[3] = e.r;
        for (uint256 q = 6; q < nPub; q++) {
            base[q] = e.poolCaps[q - 6];
        }
        sigs = new uint256[](nextStates.length * nPub);
        uint256 prev = firstBatch == 0 ? 0 : e.listState;
        for (uint256 t = 0; t < nextStates.length; t++) {
            uint256 b = firstBatch + t;
            uint256 o = t * nPub;
            bool isLast = b + 1 == e.globalCommitments.length;
            for (uint256 w = 3; w < nPub; w++) {
                sigs[o + w] = base[w];
            }
            sigs[o] = nextStates[t];
            sigs[o + 1] = e.globalCommitments[b];
            if (isLast) sigs[o + 2] = fingerprint;
            sigs[o + 4] = prev;
            sigs[o + 5] = (b == 0 ? 1 : 0) | (isLast ? 2 : 0) | (uint256(epoch) << 2);
            prev = nextStates[t];
        }
    }

    /// A group of batches: at least one, one nextState per proof (each < p), in order from
    /// `accepted`, all inside the manifest.
    function _checkGroup(
        uint64 epoch,
        uint256 firstBatch,
        uint256 count,
        uint256 accepted,
        uint256 k,
        uint256[] calldata nextStates
    ) private pure {
        if (k == 0) revert EmptyBatchGroup();
        if (nextStates.length != k) revert BatchGroupLengthMismatch(k, nextStates.length);
        _checkOrder(epoch, firstBatch, count, accepted);
        if (firstBatch + k > count) revert BatchNotInManifest(epoch, firstBatch + k - 1, count);
        for (uint256 t = 0; t < k; t++) {
            _checkField(nextStates[t]);
        }
    }

    /// Calls verifyBatch(proofs as 8 words each, sigs) on `verifier`.
    function _verifyBatch(address verifier, Proof[] calldata proofs, uint256[] memory sigs)
        private
        view
        returns (bool)
    {
        uint256 k = proofs.length;
        uint256[] memory flat = new uint256[](8 * k);
        for (uint256 t = 0; t < k; t++) {
            Proof calldata p = proofs[t];
            uint256 o = 8 * t;
            flat[o] = p.a[0];
            flat[o + 1] = p.a[1];
            flat[o + 2] = p.b[0][0];
            flat[o + 3] = p.b[0][1];
            flat[o + 4] = p.b[1][0];
            flat[o + 5] = p.b[1][1];
            flat[o + 6] = p.c[0];
            flat[o + 7] = p.c[1];
        }
        (bool ok, bytes memory ret) = verifier.staticcall(abi.encodeWithSelector(VERIFY_BATCH_SELECTOR, flat, sigs));
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
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

    /// Calls verifyProof(a, b, c, pub) with pub as a fixed-size array (no length word).
    function _verify(
        address verifier,
        bytes4 selector,
        Proof calldata proof,
        uint256[] memory pub
    ) private view returns (bool) {
        (bool ok, bytes memory ret) =
            verifier.staticcall(abi.encodePacked(selector, proof.a, proof.b[0], proof.b[1], proof.c, pub));
        return ok && ret.length == 32 && abi.decode(ret, (uint256)) == 1;
    }

    // ------------------------------------------------------------------ finalize

    /**
     * Finalizes `epoch`: every batch of every segment and of the lot list accepted, and
     * prod(segment fingerprints) == list fingerprint (mod p). The epoch then becomes the latest
     * finalized one: each of its segments' records becomes current (healthy or not, independently).
     */
    function finalizeEpoch(uint64 epoch) external onlyRole(PUBLISHER_ROLE) {
        EpochData storage e = _openEpoch(epoch);
        if (epoch <= latestEpoch) revert StaleEpoch(epoch, latestEpoch);
        uint256 listCount = e.globalCommitments.length;
        if (e.listAccepted != listCount) revert ListIncomplete(epoch, e.listAccepted, listCount);
        uint256 n = e.segments.length;
        uint256 product = 1;
        uint256 unhealthy = 0;
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage s = e.segments[i];
            uint256 count = s.batchRoots.length;
            if (s.accepted != count) revert SegmentIncomplete(epoch, s.id, s.accepted, count);
            product = mulmod(product, s.state, FIELD_P);
            if (s.result & 1 == 0) unhealthy++;
        }
        if (product != e.listState) revert FingerprintMismatch(epoch, product, e.listState);

        e.finalizedAt = uint64(block.timestamp);
        latestEpoch = epoch;
        for (uint256 i = 0; i < n; i++) {
            SegmentData storage s = e.segments[i];
            (bool healthy, uint16 stressBits, uint8 band) = _decodeResult(s.result);
            emit SegmentRecorded(s.id, epoch, healthy, stressBits, band);
        }
        emit EpochFinalized(epoch, n, unhealthy);
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
    /// that epoch was committed at most the segment's governed maximum age ago.
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
            slots: s.slots,
            stress: s.stress,
            batchRoots: s.batchRoots,
            assets: s.assets
        });
    }

    /// @inheritdoc ISolvencyRegistry
    function segmentStatus(uint32 segmentId)
        external
        view
        returns (bool listed, bool healthy, uint64 epoch, uint64 finalizedAt)
    {
        epoch = latestEpoch;
        if (epoch == 0) return (false, false, 0, 0);
        EpochData storage e = epochs[epoch];
        (bool found, uint256 i) = _findSegment(e, segmentId);
        if (!found) return (false, false, epoch, e.finalizedAt);
        return (true, e.segments[i].result & 1 == 1, epoch, e.finalizedAt);
    }

    /// Whole epoch in one call (committed or finalized); reverts when `epoch` was never committed.
    function getEpoch(uint64 epoch) public view returns (EpochView memory v) {
        EpochData storage e = epochs[epoch];
        if (e.committedAt == 0) revert EpochNotCommitted(epoch);
        v.epoch = epoch;
        v.manifestHash = e.manifestHash;
        v.r = e.r;
        v.committedAt = e.committedAt;
        v.finalizedAt = e.finalizedAt;
        v.finalized = e.finalizedAt != 0;
        v.listAccepted = e.listAccepted;
        v.globalCommitments = e.globalCommitments;
        v.poolCaps = e.poolCaps;
        v.globalAssets = e.globalAssets;
        uint256 n = e.segments.length;
        v.segments = new SegmentView[](n);
        for (uint256 i = 0; i < n; i++) {
            v.segments[i] = _segmentView(e.segments[i]);
        }
    }

    function _segmentView(SegmentData storage s) private view returns (SegmentView memory) {
        uint256 count = s.batchRoots.length;
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
            slots: s.slots,
            stress: s.stress,
            batchRoots: s.batchRoots,
            assets: s.assets
        });
    }

    /// The latest finalized epoch in one call: every segment's roots, parameters and health.
    function latestEpochView() external view returns (EpochView memory) {
        if (latestEpoch == 0) revert NoFinalizedEpoch();
        return getEpoch(latestEpoch);
    }

    /// Binary search over the epoch's strictly increasing segment ids.
    function _findSegment(EpochData storage e, uint32 segmentId) private view returns (bool, uint256) {
        uint256 lo = 0;
        uint256 hi = e.segments.length;
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
