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
        /// (custody checked again then)
        uint64 committedAt;
        uint64 finalizedAt;
        /// the oldest `updatedAt` of the price rounds that epoch's commit used (0: ungoverned).
        /// While `fresh`, every price is at most block.timestamp - oldestPriceAt old, which is at
        /// most maxAge + the asset's governed maxStaleness.
        uint64 oldestPriceAt;
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
     * The freshness fields of `segmentHealth` as a tuple. Never reverts: before any finalized epoch
     * everything is zero/false; for a segment the latest epoch does not list, `listed`, `healthy`,
     * `fresh`, `maxAge` are zero and epoch, committedAt, finalizedAt, oldestPriceAt are the latest
     * epoch's. The one freshness rule (what `isHealthy` applies):
     * `listed && healthy && block.timestamp <= committedAt + maxAge` (`fresh` is the last part).
     */
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
        );
}
