// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ISolvencyRegistry
 * @notice What other contracts need from a bulkhead SolvencyRegistry: the health of a segment in
 * the latest finalized epoch, and how fresh that epoch is. `isHealthy` is false for a segment the latest finalized epoch does
 * not list (and before any epoch is finalized).
 */
interface ISolvencyRegistry {
    /// True iff `segmentId` is listed in the latest finalized epoch and was proven healthy there.
    function isHealthy(uint32 segmentId) external view returns (bool);

    /// The latest finalized epoch (0 before the first).
    function latestEpoch() external view returns (uint64);

    /**
     * The segment's latest record, for consumers that must refuse stale health: whether the latest
     * finalized epoch lists it, its health there, that epoch, and when the epoch was finalized
     * (block timestamp). Never reverts: before any finalized epoch all four are zero/false; for a
     * segment the latest epoch does not list, `listed` and `healthy` are false and epoch and
     * finalizedAt are the latest epoch's. A consumer requiring freshness checks
     * `listed && healthy && block.timestamp - finalizedAt <= maxAge`.
     */
    function segmentStatus(uint32 segmentId)
        external
        view
        returns (bool listed, bool healthy, uint64 epoch, uint64 finalizedAt);
}
