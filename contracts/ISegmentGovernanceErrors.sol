// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @notice Why `checkEpoch` (and so `commitEpoch`) rejects a manifest. The registry inherits these
 * so that its ABI decodes them.
 */
interface ISegmentGovernanceErrors {
    error AssetTableMismatch(uint256 index);
    error InvalidRoundIds(uint256 length, uint256 expected);
    error UngovernedSegment(uint32 segmentId);
    error InactiveSegment(uint32 segmentId);
    error MissingSegment(uint32 segmentId);
    error MarginMismatch(uint32 segmentId, uint16 marginBps, uint16 governed);
    error SlotMismatch(uint32 segmentId, uint256 slot);
    error StressMismatch(uint32 segmentId, uint256 word);
    error PriceMismatch(uint32 segmentId, uint256 slot, uint256 price, uint256 oraclePrice);
    error FeedUnavailable(uint256 asset, address feed);
    error RoundIncomplete(uint256 asset, uint80 roundId);
    error InvalidAnswer(uint256 asset, uint80 roundId, int256 answer);
    error StalePrice(uint256 asset, uint80 roundId, uint256 updatedAt, uint256 maxStaleness);
    error PriceDeviation(uint256 asset, uint80 roundId, int256 answer, int256 latestAnswer, uint16 maxDeviationBps);
    error InexactPrice(uint256 asset, int256 answer, uint8 feedDecimals);
    error CustodyUnavailable(address token, address account);
    error CustodyBelowCap(uint32 segmentId, uint256 slot, uint256 balance, uint256 cap);
    error PooledCustodyBelowCap(uint256 asset, uint256 balance, uint256 cap);
}
