// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ISolvencyRegistry
 * @notice What other contracts need from a bulkhead SolvencyRegistry: the health of a segment in
 * the latest finalized epoch. `isHealthy` is false for a segment the latest finalized epoch does
 * not list (and before any epoch is finalized).
 */
interface ISolvencyRegistry {
    /// True iff `segmentId` is listed in the latest finalized epoch and was proven healthy there.
    function isHealthy(uint32 segmentId) external view returns (bool);

    /// The latest finalized epoch (0 before the first).
    function latestEpoch() external view returns (uint64);
}
