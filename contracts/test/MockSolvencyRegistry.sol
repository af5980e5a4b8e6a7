// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISolvencyRegistry} from "../ISolvencyRegistry.sol";

/// Test-only ISolvencyRegistry whose records are set directly, for consumer-contract tests that
/// need a healthy, unhealthy or stale record without proving an epoch. Freshness is computed as
/// the real registry does (block.timestamp <= committedAt + maxAge).
contract MockSolvencyRegistry is ISolvencyRegistry {
    uint64 public latestEpoch;
    mapping(uint32 => SegmentHealth) private _records;

    function setRecord(uint32 segmentId, uint64 epoch, bool healthy, uint64 committedAt, uint64 maxAge) external {
        latestEpoch = epoch;
        SegmentHealth storage h = _records[segmentId];
        h.listed = true;
        h.healthy = healthy;
        h.epoch = epoch;
        h.committedAt = committedAt;
        h.finalizedAt = committedAt;
        h.maxAge = maxAge;
        h.band = healthy ? 2 : 0;
    }

    function segmentHealth(uint32 segmentId) public view returns (SegmentHealth memory h) {
        h = _records[segmentId];
        h.fresh = h.listed && block.timestamp <= uint256(h.committedAt) + h.maxAge;
        h.healthyNow = h.healthy && h.fresh;
    }

    function isHealthy(uint32 segmentId) external view returns (bool) {
        return segmentHealth(segmentId).healthyNow;
    }

    function segmentStatus(uint32 segmentId)
        external
        view
        returns (bool, bool, bool, uint64, uint64, uint64, uint64, uint64)
    {
        SegmentHealth memory h = segmentHealth(segmentId);
        return (h.listed, h.healthy, h.fresh, h.epoch, h.committedAt, h.finalizedAt, h.maxAge, h.oldestPriceAt);
    }
}
