// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISegmentGovernanceErrors} from "./ISegmentGovernanceErrors.sol";
import {SolvencyRegistry} from "./SolvencyRegistry.sol";

/**
 * @title ISegmentGovernance
 * @notice What the SolvencyRegistry asks its governance contract at `commitEpoch`. `checkEpoch`
 * takes exactly `commitEpoch`'s arguments (the registry forwards its own calldata), reverts with
 * a named error when the manifest disagrees with governed state (segment set, parameters, asset
 * table, oracle prices, custody), and otherwise returns, per manifest segment, its governed
 * version (low 32 bits) and maximum proof age in seconds (bits 32..95).
 */
interface ISegmentGovernance is ISegmentGovernanceErrors {
    function checkEpoch(
        uint64 epoch,
        SolvencyRegistry.AssetSlot[] calldata assetTable,
        uint256[] calldata poolCaps,
        SolvencyRegistry.SegmentEntry[] calldata segments,
        uint256[] calldata globalCommitments,
        uint80[] calldata roundIds
    ) external view returns (uint256[] memory info);
}
