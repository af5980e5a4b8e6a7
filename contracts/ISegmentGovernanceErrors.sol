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
    /// A slot word's pooled bit disagrees with the segment's custody: it must be set exactly when
    /// the segment has no custody account of its own.
    error CustodyModeMismatch(uint32 segmentId, uint256 slot);
    error StressMismatch(uint32 segmentId, uint256 word);
    error PriceMismatch(uint32 segmentId, uint256 slot, uint256 price, uint256 oraclePrice);
    error FeedUnavailable(uint256 asset, address feed);
    error RoundIncomplete(uint256 asset, uint80 roundId);
    error InvalidAnswer(uint256 asset, uint80 roundId, int256 answer);
    error StalePrice(uint256 asset, uint80 roundId, uint256 updatedAt, uint256 maxStaleness);
    error PriceDeviation(uint256 asset, uint80 roundId, int256 answer, int256 latestAnswer, uint16 maxDeviationBps);
    error InexactPrice(uint256 asset, int256 answer, uint8 feedDecimals);
    error CustodyUnavailable(address token, address account);
    /// The caps drawn on one custody account for one asset exceed its balance: `ownCaps` is the
    /// sum of the caps of every segment naming the account, `pooledDraw` the pooled cap (0 unless
    /// it is the pooled account).
    error CustodyOvercommitted(address account, uint256 asset, uint256 balance, uint256 ownCaps, uint256 pooledDraw);
    /// The pooled cap of an asset is not 0 and no pooled account is governed.
    error NoPooledCustody(uint256 asset, uint256 pooledDraw);
    /// The latest round (round id 0) carries an answer over from an earlier round.
    error RoundCarriedOver(uint256 asset, uint80 roundId, uint80 answeredInRound);
    /// The token's `decimals()` differs from the governed decimals (or it does not answer).
    error TokenDecimalsMismatch(uint256 asset, address token, uint8 governed);
}
