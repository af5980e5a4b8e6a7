// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {AggregatorV3Interface} from "./vendor/AggregatorV3Interface.sol";
import {ISegmentGovernance, SEGMENT_INFO_MAX_AGE_SHIFT} from "./ISegmentGovernance.sol";
import {SolvencyRegistry} from "./SolvencyRegistry.sol";
import {
    CAP_BITS,
    MASK96,
    MASK120,
    SLOT_ASSET_MASK,
    SLOT_ASSET_SHIFT,
    SLOT_CAP_SHIFT,
    SLOT_CF_MASK,
    SLOT_CF_SHIFT,
    SLOT_POOLED_SHIFT
} from "./WordLayout.sol";

/**
 * @title SegmentGovernance
 * @notice Governed state of a bulkhead deployment (docs/CHAIN.md "Trust model"): the asset table
 * (symbol, decimals, token, Chainlink price feed with staleness and deviation bounds), the pooled
 * custody account, and every segment (name, admitted assets with their collateral factors, margin,
 * stress scenarios, custody account, maximum proof age, active flag).
 *
 * GOVERNOR_ROLE changes it (deployed behind an OpenZeppelin TimelockController). Every change is a
 * new version that applies from the next committed epoch: its `fromEpoch` is the registry's
 * `lastCommittedEpoch() + 1` when the change is made, so a change made after epoch E is committed
 * never applies to E (E's parameters are also stored by the registry itself). Every version stays
 * readable (`segmentVersion`, `segmentAt`, `assetVersion`, `pooledCustodyVersion`).
 *
 * `checkEpoch` is what the registry calls from `commitEpoch` with the publisher's manifest: the
 * epoch lists every active segment (no more, no fewer), each with its governed margin, admitted
 * assets (slot k = the k-th admitted asset, ascending global index), collateral factors and stress
 * words; the asset table is the governed one; each slot price is the feed's answer in circuit units
 * (docs/SPEC.md "Prices in circuit units") for the round the publisher names (0: the latest), that
 * round fresh and within the governed deviation of the latest; each slot's pooled bit set exactly
 * when the segment has no custody account; each segment's custody caps are covered by ERC-20
 * balances at this block.
 */
contract SegmentGovernance is AccessControl, ISegmentGovernance {
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// SPEC: circuit price = price * 10^PRICE_DECIMALS * 10^(D - d).
    uint256 public constant PRICE_DECIMALS = 8;
    uint16 public constant MAX_CF_BPS = 10000;
    uint16 public constant MAX_MARGIN_BPS = 50000;
    uint16 public constant MAX_DEVIATION_BPS = 10000;
    uint8 public constant MAX_DECIMALS = 30;


    /// One governed asset of the epoch's asset table (index = global asset index g).
    struct Asset {
        string symbol;
        uint8 decimals;
        address token;
        AggregatorV3Interface feed;
        /// a named round must be at most this old (seconds) at commit
        uint32 maxStaleness;
        /// a named round must be within this many bps of the latest round's answer
        uint16 maxDeviationBps;
    }

    /// One version of a segment's governed configuration.
    struct SegmentConfig {
        string name;
        uint16 marginBps;
        /// a record older than this (seconds since its epoch was committed) is not healthy
        uint64 maxAge;
        /// custody account holding this segment's collateral; zero: the pooled account
        address custody;
        bool active;
        /// admitted global asset indices, strictly increasing (slot k holds assets[k])
        uint8[] assets;
        /// collateral factor (bps) of each admitted asset
        uint16[] cfBps;
        /// packed stress words exactly as docs/SPEC.md ("Packed public inputs", stress[w]) and the registry take them
        uint256[] stress;
    }

    struct CustodyVersion {
        address account;
        uint64 fromEpoch;
    }

    struct FinalizeBlocksVersion {
        uint16 blocks;
        uint64 fromEpoch;
    }

    // ------------------------------------------------------------------ errors

    // configuration
    error InvalidAdmin();
    error InvalidRegistry(address registry);
    error RegistryAlreadyBound(address registry);
    error RegistryNotBound();
    error TooManyAssets(uint256 count, uint256 max);
    error InvalidAsset(uint256 asset);
    error UnknownAsset(uint256 asset);
    error InvalidOracleParams(uint256 asset);
    error SegmentAlreadyRegistered(uint32 segmentId);
    error SegmentNotRegistered(uint32 segmentId);
    error InvalidSegmentAssets(uint32 segmentId, uint256 index);
    error InvalidCollateralFactor(uint32 segmentId, uint256 index, uint16 cfBps);
    error InvalidMargin(uint32 segmentId, uint16 marginBps);
    error InvalidMaxAge(uint32 segmentId);
    error InvalidStressWords(uint32 segmentId, uint256 word);
    error InvalidFinalizeBlocks();
    // commit-time errors: ISegmentGovernanceErrors

    // ------------------------------------------------------------------ events

    event RegistryBound(address indexed registry);
    event AssetAdded(uint256 indexed asset, string symbol, uint8 decimals, address token);
    event AssetOracleSet(
        uint256 indexed asset,
        uint32 version,
        uint64 fromEpoch,
        address feed,
        uint32 maxStaleness,
        uint16 maxDeviationBps
    );
    event SegmentConfigured(uint32 indexed segmentId, uint32 version, uint64 fromEpoch, bool active, string name);
    event PooledCustodySet(address indexed account, uint32 version, uint64 fromEpoch);
    event FinalizeBlocksSet(uint16 blocks, uint32 version, uint64 fromEpoch);

    // ------------------------------------------------------------------ state

    /// The registry whose epochs this governs (bound once, after both are deployed).
    address public registry;
    /// The registry's profile, copied when bound: asset slots per segment (A), stress scenarios
    /// (K), global assets (GA), stress words per segment (ceil(K*A/16)).
    uint16 public assetSlots;
    uint16 public stressScenarios;
    uint16 public globalAssets;
    uint256 public stressWords;

    /// asset g -> its versions (symbol, decimals and token never change; the oracle may)
    Asset[][] private _assets;
    uint64[][] private _assetFrom;
    mapping(uint32 => SegmentConfig[]) private _segments;
    mapping(uint32 => uint64[]) private _segmentFrom;
    /// every registered segment id, in registration order
    uint32[] private _segmentIds;
    uint256 public activeSegmentCount;
    CustodyVersion[] private _pooled;
    FinalizeBlocksVersion[] private _finalizeBlocks;

    constructor(address admin) {
        if (admin == address(0)) revert InvalidAdmin();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(GOVERNOR_ROLE, admin);
    }

    // ------------------------------------------------------------------ binding

    /// Binds the registry (once): it must name this contract as its governance.
    function bindRegistry(address registry_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (registry != address(0)) revert RegistryAlreadyBound(registry);
        if (registry_.code.length == 0 || SolvencyRegistry(registry_).governance() != address(this)) {
            revert InvalidRegistry(registry_);
        }
        SolvencyRegistry r = SolvencyRegistry(registry_);
        registry = registry_;
        assetSlots = r.assetSlots();
        stressScenarios = r.stressScenarios();
        globalAssets = r.globalAssets();
        stressWords = r.stressWords();
        emit RegistryBound(registry_);
    }

    /// The first epoch a change made now applies to.
    function nextEpoch() public view returns (uint64) {
        if (registry == address(0)) revert RegistryNotBound();
        return SolvencyRegistry(registry).lastCommittedEpoch() + 1;
    }

    // ------------------------------------------------------------------ assets

    /// Appends asset g = assetCount() to the asset table (applies from the next epoch).
    function addAsset(
        string calldata symbol,
        uint8 decimals,
        address token,
        AggregatorV3Interface feed,
        uint32 maxStaleness,
        uint16 maxDeviationBps
    ) external onlyRole(GOVERNOR_ROLE) returns (uint256 g) {
        uint64 from = nextEpoch();
        g = _assets.length;
        if (g >= globalAssets) revert TooManyAssets(g + 1, globalAssets);
        uint256 len = bytes(symbol).length;
        if (len == 0 || len > 32 || decimals > MAX_DECIMALS || token == address(0)) revert InvalidAsset(g);
        _checkTokenDecimals(g, token, decimals);
        _assets.push();
        _assetFrom.push();
        emit AssetAdded(g, symbol, decimals, token);
        _pushAsset(g, symbol, decimals, token, feed, maxStaleness, maxDeviationBps, from);
    }

    /// Replaces asset g's feed and bounds (a new version, from the next epoch).
    function setAssetOracle(uint256 g, AggregatorV3Interface feed, uint32 maxStaleness, uint16 maxDeviationBps)
        external
        onlyRole(GOVERNOR_ROLE)
    {
        uint64 from = nextEpoch();
        if (g >= _assets.length) revert UnknownAsset(g);
        Asset storage cur = _currentAsset(g);
        _pushAsset(g, cur.symbol, cur.decimals, cur.token, feed, maxStaleness, maxDeviationBps, from);
    }

    function _pushAsset(
        uint256 g,
        string memory symbol,
        uint8 decimals,
        address token,
        AggregatorV3Interface feed,
        uint32 maxStaleness,
        uint16 maxDeviationBps,
        uint64 from
    ) private {
        if (address(feed).code.length == 0 || maxStaleness == 0 || maxDeviationBps > MAX_DEVIATION_BPS) {
            revert InvalidOracleParams(g);
        }
        _assets[g].push(Asset(symbol, decimals, token, feed, maxStaleness, maxDeviationBps));
        _assetFrom[g].push(from);
        emit AssetOracleSet(g, uint32(_assets[g].length), from, address(feed), maxStaleness, maxDeviationBps);
    }

    function _currentAsset(uint256 g) private view returns (Asset storage) {
        Asset[] storage v = _assets[g];
        return v[v.length - 1];
    }

    function assetCount() external view returns (uint256) {
        return _assets.length;
    }

    /// Asset g's current version.
    function asset(uint256 g) external view returns (Asset memory) {
        if (g >= _assets.length) revert UnknownAsset(g);
        return _currentAsset(g);
    }

    /// Asset g's versions (1-based) and the epoch each applies from.
    function assetVersion(uint256 g, uint256 version) external view returns (Asset memory a, uint64 fromEpoch) {
        if (g >= _assets.length || version == 0 || version > _assets[g].length) revert UnknownAsset(g);
        return (_assets[g][version - 1], _assetFrom[g][version - 1]);
    }

    function assetVersionCount(uint256 g) external view returns (uint256) {
        return g < _assets.length ? _assets[g].length : 0;
    }

    // ------------------------------------------------------------------ pooled custody

    /// The pooled custody account (zero: none), from the next epoch.
    function setPooledCustody(address account) external onlyRole(GOVERNOR_ROLE) {
        uint64 from = nextEpoch();
        _pooled.push(CustodyVersion(account, from));
        emit PooledCustodySet(account, uint32(_pooled.length), from);
    }

    function pooledCustody() public view returns (address) {
        uint256 n = _pooled.length;
        return n == 0 ? address(0) : _pooled[n - 1].account;
    }

    /// The pooled custody account that applies to `epoch` (zero: none).
    function pooledCustodyAt(uint64 epoch) public view returns (address) {
        for (uint256 i = _pooled.length; i > 0; i--) {
            if (_pooled[i - 1].fromEpoch <= epoch) return _pooled[i - 1].account;
        }
        return address(0);
    }

    // ------------------------------------------------------------------ finalize delay

    /// The minimum number of blocks between an epoch's commit and its finalization (at least 1:
    /// the registry always requires a later block), from the next epoch.
    function setFinalizeBlocks(uint16 blocks) external onlyRole(GOVERNOR_ROLE) {
        uint64 from = nextEpoch();
        if (blocks == 0) revert InvalidFinalizeBlocks();
        _finalizeBlocks.push(FinalizeBlocksVersion(blocks, from));
        emit FinalizeBlocksSet(blocks, uint32(_finalizeBlocks.length), from);
    }

    /// The minimum commit-to-finalize gap in blocks that applies to `epoch` (1 when none is set).
    function finalizeBlocksAt(uint64 epoch) public view returns (uint16) {
        for (uint256 i = _finalizeBlocks.length; i > 0; i--) {
            if (_finalizeBlocks[i - 1].fromEpoch <= epoch) return _finalizeBlocks[i - 1].blocks;
        }
        return 1;
    }

    function finalizeBlocksVersionCount() external view returns (uint256) {
        return _finalizeBlocks.length;
    }

    function pooledCustodyVersion(uint256 version) external view returns (CustodyVersion memory) {
        return _pooled[version - 1];
    }

    function pooledCustodyVersionCount() external view returns (uint256) {
        return _pooled.length;
    }

    // ------------------------------------------------------------------ segments

    /// Registers a new segment (version 1, from the next epoch).
    function registerSegment(uint32 segmentId, SegmentConfig calldata cfg) external onlyRole(GOVERNOR_ROLE) {
        if (_segments[segmentId].length != 0) revert SegmentAlreadyRegistered(segmentId);
        _segmentIds.push(segmentId);
        _pushSegment(segmentId, cfg, false);
    }

    /// A new version of a registered segment (from the next epoch).
    function updateSegment(uint32 segmentId, SegmentConfig calldata cfg) external onlyRole(GOVERNOR_ROLE) {
        if (_segments[segmentId].length == 0) revert SegmentNotRegistered(segmentId);
        _pushSegment(segmentId, cfg, _currentSegment(segmentId).active);
    }

    /// A new version with only the active flag changed.
    function setSegmentActive(uint32 segmentId, bool active) external onlyRole(GOVERNOR_ROLE) {
        if (_segments[segmentId].length == 0) revert SegmentNotRegistered(segmentId);
        SegmentConfig memory cfg = _currentSegment(segmentId);
        bool was = cfg.active;
        cfg.active = active;
        _pushSegmentMem(segmentId, cfg, was);
    }

    function _pushSegment(uint32 segmentId, SegmentConfig calldata cfg, bool wasActive) private {
        _pushSegmentMem(segmentId, cfg, wasActive);
    }

    function _pushSegmentMem(uint32 segmentId, SegmentConfig memory cfg, bool wasActive) private {
        uint64 from = nextEpoch();
        _validateSegment(segmentId, cfg);
        _segments[segmentId].push(cfg);
        _segmentFrom[segmentId].push(from);
        if (cfg.active && !wasActive) activeSegmentCount++;
        if (!cfg.active && wasActive) activeSegmentCount--;
        emit SegmentConfigured(segmentId, uint32(_segments[segmentId].length), from, cfg.active, cfg.name);
    }

    function _validateSegment(uint32 id, SegmentConfig memory cfg) private view {
        uint256 n = cfg.assets.length;
        if (n == 0 || n > assetSlots || cfg.cfBps.length != n) revert InvalidSegmentAssets(id, n);
        for (uint256 k = 0; k < n; k++) {
            uint8 g = cfg.assets[k];
            if (g >= _assets.length || (k > 0 && g <= cfg.assets[k - 1])) revert InvalidSegmentAssets(id, k);
            if (cfg.cfBps[k] > MAX_CF_BPS) revert InvalidCollateralFactor(id, k, cfg.cfBps[k]);
        }
        if (cfg.marginBps > MAX_MARGIN_BPS) revert InvalidMargin(id, cfg.marginBps);
        if (cfg.maxAge == 0) revert InvalidMaxAge(id);
        uint256 sw = stressWords;
        if (cfg.stress.length != sw) revert InvalidStressWords(id, cfg.stress.length);
        uint256 factors = uint256(stressScenarios) * assetSlots;
        for (uint256 w = 0; w < sw; w++) {
            uint256 len = factors - w * 16;
            if (len > 16) len = 16;
            if (cfg.stress[w] >> (15 * len) != 0) revert InvalidStressWords(id, w);
        }
    }

    function _currentSegment(uint32 id) private view returns (SegmentConfig storage) {
        SegmentConfig[] storage v = _segments[id];
        return v[v.length - 1];
    }

    /// Every registered segment id (registration order).
    function segmentIds() external view returns (uint32[] memory) {
        return _segmentIds;
    }

    function segmentVersionCount(uint32 segmentId) external view returns (uint256) {
        return _segments[segmentId].length;
    }

    /// Version `version` (1-based) of a segment and the first epoch it applies to.
    function segmentVersion(uint32 segmentId, uint256 version)
        external
        view
        returns (SegmentConfig memory cfg, uint64 fromEpoch)
    {
        SegmentConfig[] storage v = _segments[segmentId];
        if (version == 0 || version > v.length) revert SegmentNotRegistered(segmentId);
        return (v[version - 1], _segmentFrom[segmentId][version - 1]);
    }

    /// The version of a segment that applies to `epoch` (0 when none does yet).
    function segmentAt(uint32 segmentId, uint64 epoch) external view returns (uint256 version) {
        uint64[] storage from = _segmentFrom[segmentId];
        for (uint256 i = from.length; i > 0; i--) {
            if (from[i - 1] <= epoch) return i;
        }
        return 0;
    }

    /// The current configuration of a segment.
    function segment(uint32 segmentId) external view returns (SegmentConfig memory) {
        if (_segments[segmentId].length == 0) revert SegmentNotRegistered(segmentId);
        return _currentSegment(segmentId);
    }

    // ------------------------------------------------------------------ commit check

    struct Ctx {
        /// D: the largest decimals in the asset table
        uint256 maxDecimals;
        /// circuit price per global asset, computed on first use (0: not yet)
        uint256[] prices;
        /// the oldest `updatedAt` of the rounds priced so far
        uint256 oldestPriceAt;
        /// the pooled custody account that applies to the epoch
        address pooled;
        Claims claims;
    }

    /// What an epoch's caps draw on each custody account (docs/SPEC.md "Custody"): per distinct
    /// account named by an own-custody segment, per global asset, the sum of those segments' caps.
    struct Claims {
        address[] accounts;
        uint256 count;
        /// own[i * GA' + g]: caps on accounts[i] for asset g (GA': the governed asset count)
        uint256[] own;
        /// the governed asset count
        uint256 na;
    }

    /// @inheritdoc ISegmentGovernance
    function checkEpoch(
        uint64 epoch,
        SolvencyRegistry.AssetSlot[] calldata assetTable,
        uint256[] calldata poolCaps,
        SolvencyRegistry.SegmentEntry[] calldata segments,
        uint256[] calldata,
        uint80[] calldata roundIds
    ) external view returns (uint256[] memory, uint64) {
        Ctx memory c = _newCtx(assetTable, segments.length, roundIds.length);
        c.pooled = pooledCustodyAt(epoch);
        uint256[] memory info = _checkSegments(c, segments, roundIds);
        _checkClaims(c.claims, poolCaps, c.pooled);
        return (info, c.oldestPriceAt == type(uint256).max ? 0 : uint64(c.oldestPriceAt));
    }

    function _newCtx(SolvencyRegistry.AssetSlot[] calldata assetTable, uint256 segments, uint256 rounds)
        private
        view
        returns (Ctx memory c)
    {
        uint256 na = _assets.length;
        uint256 d = _checkAssetTable(assetTable);
        if (rounds != na) revert InvalidRoundIds(rounds, na);
        c = Ctx({
            maxDecimals: d,
            prices: new uint256[](na),
            oldestPriceAt: type(uint256).max,
            pooled: address(0),
            claims: _newClaims(segments, na)
        });
    }

    /// Every manifest segment checked; the active set is exactly the listed one.
    function _checkSegments(Ctx memory c, SolvencyRegistry.SegmentEntry[] calldata segments, uint80[] calldata roundIds)
        private
        view
        returns (uint256[] memory info)
    {
        info = new uint256[](segments.length);
        for (uint256 i = 0; i < segments.length; i++) {
            info[i] = _checkSegment(c, segments[i], roundIds);
        }
        if (segments.length != activeSegmentCount) _revertMissing(segments);
    }

    /// @inheritdoc ISegmentGovernance
    function checkCustody(
        uint64 epoch,
        uint32[] calldata ids,
        uint32[] calldata versions,
        uint256[][] calldata slots,
        uint256[] calldata poolCaps
    ) external view returns (uint16 minBlocks) {
        Claims memory cl = _newClaims(ids.length, _assets.length);
        for (uint256 i = 0; i < ids.length; i++) {
            address custody = _segments[ids[i]][versions[i] - 1].custody;
            if (custody == address(0)) continue;
            uint256[] calldata w = slots[i];
            for (uint256 k = 0; k < w.length; k++) {
                _claim(cl, custody, SLOT_ASSET_MASK & (w[k] >> SLOT_ASSET_SHIFT), MASK120 & (w[k] >> SLOT_CAP_SHIFT));
            }
        }
        _checkClaims(cl, poolCaps, pooledCustodyAt(epoch));
        return finalizeBlocksAt(epoch);
    }

    /// The asset table equals the governed one, and each token's `decimals()` the governed
    /// decimals; returns D.
    function _checkAssetTable(SolvencyRegistry.AssetSlot[] calldata table) private view returns (uint256 d) {
        uint256 na = _assets.length;
        if (table.length != na) revert AssetTableMismatch(table.length < na ? table.length : na);
        for (uint256 g = 0; g < na; g++) {
            Asset storage a = _currentAsset(g);
            SolvencyRegistry.AssetSlot calldata t = table[g];
            if (t.decimals != a.decimals || t.token != a.token || keccak256(bytes(t.symbol)) != keccak256(bytes(a.symbol))) {
                revert AssetTableMismatch(g);
            }
            _checkTokenDecimals(g, a.token, a.decimals);
            if (a.decimals > d) d = a.decimals;
        }
    }

    /// The token answers `decimals()` with the governed decimals.
    function _checkTokenDecimals(uint256 g, address token, uint8 decimals) private view {
        try IERC20Metadata(token).decimals() returns (uint8 td) {
            if (td == decimals) return;
        } catch {}
        revert TokenDecimalsMismatch(g, token, decimals);
    }

    /// One manifest segment against its current governed version; returns version | maxAge <<
    /// SEGMENT_INFO_MAX_AGE_SHIFT.
    function _checkSegment(Ctx memory c, SolvencyRegistry.SegmentEntry calldata s, uint80[] calldata roundIds)
        private
        view
        returns (uint256)
    {
        uint256 nv = _segments[s.id].length;
        if (nv == 0) revert UngovernedSegment(s.id);
        SegmentConfig storage cfg = _segments[s.id][nv - 1];
        if (!cfg.active) revert InactiveSegment(s.id);
        if (s.marginBps != cfg.marginBps) revert MarginMismatch(s.id, s.marginBps, cfg.marginBps);
        uint256 n = cfg.assets.length;
        if (s.assets.length != n || s.slots.length < n) revert SlotMismatch(s.id, n);
        address custody = cfg.custody;
        for (uint256 k = 0; k < n; k++) {
            uint256 w = s.slots[k];
            uint256 g = SLOT_ASSET_MASK & (w >> SLOT_ASSET_SHIFT);
            if (g != cfg.assets[k] || SLOT_CF_MASK & (w >> SLOT_CF_SHIFT) != cfg.cfBps[k]) revert SlotMismatch(s.id, k);
            // the pooled bit: set exactly when the segment has no custody account of its own
            if ((w >> SLOT_POOLED_SHIFT == 1) != (custody == address(0))) revert CustodyModeMismatch(s.id, k);
            uint256 oracle = _price(c, g, roundIds[g]);
            if (w & MASK96 != oracle) revert PriceMismatch(s.id, k, w & MASK96, oracle);
            if (custody != address(0)) _claim(c.claims, custody, g, MASK120 & (w >> SLOT_CAP_SHIFT));
        }
        uint256 sw = cfg.stress.length;
        if (s.stress.length != sw) revert StressMismatch(s.id, s.stress.length);
        for (uint256 w = 0; w < sw; w++) {
            if (s.stress[w] != cfg.stress[w]) revert StressMismatch(s.id, w);
        }
        return nv | (uint256(cfg.maxAge) << SEGMENT_INFO_MAX_AGE_SHIFT);
    }

    /// Names the first active segment the manifest lacks (manifest ids are strictly increasing,
    /// each checked active, so a count mismatch means one is missing).
    function _revertMissing(SolvencyRegistry.SegmentEntry[] calldata segments) private view {
        for (uint256 i = 0; i < _segmentIds.length; i++) {
            uint32 id = _segmentIds[i];
            if (!_currentSegment(id).active) continue;
            bool found = false;
            for (uint256 j = 0; j < segments.length && !found; j++) {
                found = segments[j].id == id;
            }
            if (!found) revert MissingSegment(id);
        }
    }

    /// Room for `segments` own accounts and the pooled one.
    function _newClaims(uint256 segments, uint256 na) private pure returns (Claims memory cl) {
        cl.accounts = new address[](segments + 1);
        cl.own = new uint256[]((segments + 1) * na);
        cl.na = na;
    }

    /// The index of `account` in the claims, added when new.
    function _accountIndex(Claims memory cl, address account) private pure returns (uint256 i) {
        for (i = 0; i < cl.count; i++) {
            if (cl.accounts[i] == account) return i;
        }
        cl.accounts[i] = account;
        cl.count = i + 1;
    }

    /// An own-custody segment's cap of asset g on `account`.
    function _claim(Claims memory cl, address account, uint256 g, uint256 cap) private pure {
        cl.own[_accountIndex(cl, account) * cl.na + g] += cap;
    }

    /**
     * Every unit held in custody backs one cap. For each custody account and asset g:
     *   (sum of the caps of the segments naming the account) + (poolCap_g, if it is the pooled
     *   account) <= balanceOf(account).
     * The lot list totals against the pooled caps only the lots of pooled slots (the slot word's
     * pooled bit, checked above against the segment's custody and bound into each lot's
     * fingerprint tag), so a pooled cap is backed by the pooled account alone and an own cap by
     * its own account alone. An account named by several segments is split between them; the
     * pooled account being an own account is the same rule. Each (account, asset) balance is read
     * once.
     */
    function _checkClaims(Claims memory cl, uint256[] calldata poolCaps, address pooled) private view {
        uint256 na = cl.na;
        uint256[] memory draw = new uint256[](na);
        uint256 p = type(uint256).max;
        for (uint256 g = 0; g < na; g++) {
            draw[g] = (poolCaps[g / 2] >> (CAP_BITS * (g % 2))) & MASK120;
            if (draw[g] == 0) continue;
            if (pooled == address(0)) revert NoPooledCustody(g, draw[g]);
            if (p == type(uint256).max) p = _accountIndex(cl, pooled);
        }
        for (uint256 i = 0; i < cl.count; i++) {
            for (uint256 g = 0; g < na; g++) {
                uint256 own = cl.own[i * na + g];
                uint256 d = i == p ? draw[g] : 0;
                if (own + d == 0) continue;
                uint256 bal = _balance(_currentAsset(g).token, cl.accounts[i]);
                if (own + d > bal) revert CustodyOvercommitted(cl.accounts[i], g, bal, own, d);
            }
        }
    }

    function _balance(address token, address account) private view returns (uint256) {
        try IERC20(token).balanceOf(account) returns (uint256 b) {
            return b;
        } catch {
            revert CustodyUnavailable(token, account);
        }
    }

    /// Asset g's price in circuit units for `roundId` (0: the latest round), checked against the
    /// governed staleness and deviation bounds; cached in c.prices.
    function _price(Ctx memory c, uint256 g, uint80 roundId) private view returns (uint256 price) {
        price = c.prices[g];
        if (price != 0) return price;
        Asset storage a = _currentAsset(g);
        (int256 answer, uint256 updatedAt) = _checkedAnswer(g, a, roundId);
        if (updatedAt < c.oldestPriceAt) c.oldestPriceAt = updatedAt;
        price = _toCircuit(g, a.feed, answer, PRICE_DECIMALS + c.maxDecimals - a.decimals);
        c.prices[g] = price;
    }

    /// The answer of `roundId` (0: the latest round) and its `updatedAt`: complete (the latest
    /// round not carried over from an earlier one), positive, at most maxStaleness old and within
    /// maxDeviationBps of the latest round's answer.
    function _checkedAnswer(uint256 g, Asset storage a, uint80 roundId)
        private
        view
        returns (int256 answer, uint256 updatedAt)
    {
        (uint80 latestId, int256 latest, uint256 latestAt, uint80 inRound) = _latest(g, a.feed);
        if (latestAt == 0) revert RoundIncomplete(g, latestId);
        if (latest <= 0) revert InvalidAnswer(g, latestId, latest);
        answer = latest;
        updatedAt = latestAt;
        if (roundId == 0) {
            roundId = latestId;
            if (inRound < latestId) revert RoundCarriedOver(g, latestId, inRound);
        } else {
            (answer, updatedAt) = _round(g, a.feed, roundId);
            if (answer <= 0) revert InvalidAnswer(g, roundId, answer);
        }
        if (updatedAt + a.maxStaleness < block.timestamp) revert StalePrice(g, roundId, updatedAt, a.maxStaleness);
        uint256 diff = answer > latest ? uint256(answer - latest) : uint256(latest - answer);
        if (diff * 10000 > uint256(a.maxDeviationBps) * uint256(latest)) {
            revert PriceDeviation(g, roundId, answer, latest, a.maxDeviationBps);
        }
    }

    function _latest(uint256 g, AggregatorV3Interface feed)
        private
        view
        returns (uint80 id, int256 answer, uint256 updatedAt, uint80 answeredInRound)
    {
        try feed.latestRoundData() returns (uint80 rid, int256 ans, uint256, uint256 at, uint80 inRound) {
            return (rid, ans, at, inRound);
        } catch {
            revert FeedUnavailable(g, address(feed));
        }
    }

    /// A named round; incomplete (never updated, or answered in an earlier round) is an error.
    function _round(uint256 g, AggregatorV3Interface feed, uint80 roundId)
        private
        view
        returns (int256 answer, uint256 updatedAt)
    {
        try feed.getRoundData(roundId) returns (uint80, int256 ans, uint256, uint256 at, uint80 inRound) {
            if (at == 0 || inRound < roundId) revert RoundIncomplete(g, roundId);
            return (ans, at);
        } catch {
            revert FeedUnavailable(g, address(feed));
        }
    }

    /// answer / 10^feedDecimals * 10^scale, exactly (InexactPrice when the division leaves a remainder).
    function _toCircuit(uint256 g, AggregatorV3Interface feed, int256 answer, uint256 scale)
        private
        view
        returns (uint256)
    {
        uint8 fd;
        try feed.decimals() returns (uint8 d) {
            fd = d;
        } catch {
            revert FeedUnavailable(g, address(feed));
        }
        uint256 a = uint256(answer);
        // scale <= 8 + 30: below 2^128 the product cannot overflow (no circuit price is >= 2^96 anyway)
        if (a >> 128 != 0) revert InvalidAnswer(g, 0, answer);
        if (scale >= fd) return a * 10 ** (scale - fd);
        if (fd - scale > 77) revert InexactPrice(g, answer, fd);
        uint256 div = 10 ** (fd - scale);
        if (a % div != 0) revert InexactPrice(g, answer, fd);
        return a / div;
    }
}
