// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ISolvencyRegistry
 * @notice What other contracts need from a bulkhead SolvencyRegistry: the health of a segment in
 * the latest finalized epoch, and how fresh that epoch is. `isHealthy` is false for a segment the latest finalized epoch does
 * not list (and before any epoch is finalized).
 */
interface ISolvencyRegistry {
    /// A segment's record in the latest finalized epoch, for consumers (`segmentHealth`).
    struct SegmentHealth {
        /// the latest finalized epoch lists the segment (false: no record; everything below but
        /// epoch, committedAt and finalizedAt is then zero)
        bool listed;
        /// proven healthy in that epoch
        bool healthy;
        /// that epoch was committed at most maxAge seconds ago
        bool fresh;
        /// healthy && fresh: what `isHealthy` returns
        bool healthyNow;
        /// the latest finalized epoch (0: none yet)
        uint64 epoch;
        /// when that epoch was committed (prices and custody were checked then) and finalized
        uint64 committedAt;
        uint64 finalizedAt;
        /// the segment's governed maximum proof age for that epoch, in seconds
        uint64 maxAge;
        /// bit k: healthy under stress scenario k
        uint16 stressBits;
        /// coverage band 0..4 (0 "<100%", 1 "100-110%", 2 "110-150%", 3 "150-200%", 4 ">=200%")
        uint8 band;
        /// the governed version of the segment that epoch was checked against
        uint32 governanceVersion;
    }

    /// True iff `segmentId` is listed in the latest finalized epoch, was proven healthy there, and
    /// that epoch is not older (since its commit) than the segment's governed maximum proof age.
    function isHealthy(uint32 segmentId) external view returns (bool);

    /// The segment's whole record in the latest finalized epoch; never reverts.
    function segmentHealth(uint32 segmentId) external view returns (SegmentHealth memory);

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
