// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISegmentGovernanceErrors} from "./ISegmentGovernanceErrors.sol";
import {SolvencyRegistry} from "./SolvencyRegistry.sol";

// `checkEpoch` returns per segment its governed version | maxAge << SEGMENT_INFO_MAX_AGE_SHIFT.
uint256 constant SEGMENT_INFO_MAX_AGE_SHIFT = 32;

/**
 * @title ISegmentGovernance
 * @notice What the SolvencyRegistry asks its governance contract at `commitEpoch`. `checkEpoch`
 * takes exactly `commitEpoch`'s arguments (the registry forwards its own calldata), reverts with
 * a named error when the manifest disagrees with governed state (segment set, parameters, asset
 * table, oracle prices, custody), and otherwise returns, per manifest segment, its governed
 * version (low 32 bits) and maximum proof age in seconds (bits 32..95), and the oldest `updatedAt`
 * of the price rounds it checked. `checkCustody` is what the registry asks at `finalizeEpoch`:
 * the epoch's custody caps (each segment's slot words, with the governed version it was committed
 * against, and the pooled caps) checked again against the balances at that block; it returns the
 * governed minimum number of blocks between the epoch's commit and its finalization.
 */
interface ISegmentGovernance is ISegmentGovernanceErrors {
    function checkEpoch(
        uint64 epoch,
        SolvencyRegistry.AssetSlot[] calldata assetTable,
        uint256[] calldata poolCaps,
        SolvencyRegistry.SegmentEntry[] calldata segments,
        uint256[] calldata globalCommitments,
        uint80[] calldata roundIds
    ) external view returns (uint256[] memory info, uint64 oldestPriceAt);

    function checkCustody(
        uint64 epoch,
        uint32[] calldata ids,
        uint32[] calldata versions,
        uint256[][] calldata slots,
        uint256[] calldata poolCaps
    ) external view returns (uint16 minBlocks);
}
