// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../vendor/AggregatorV3Interface.sol";

/// Test-only Chainlink feed whose latest round is set field by field, so that a test can present a
/// round that carries an earlier round's answer over (answeredInRound < roundId), and whose round
/// reads revert while paused (a paused or broken feed: Chainlink's MockV3Aggregator never
/// reverts), for the registry's FeedUnavailable path.
contract ManualFeed is AggregatorV3Interface {
    uint80 private _roundId;
    int256 private _answer;
    uint256 private _updatedAt;
    uint80 private _answeredInRound;
    bool private _paused;

    event RoundSet(uint80 roundId, int256 answer, uint256 updatedAt, uint80 answeredInRound);
    event PausedSet(bool paused);

    function setPaused(bool paused) external {
        _paused = paused;
        emit PausedSet(paused);
    }

    function setRound(uint80 roundId, int256 answer, uint256 updatedAt, uint80 answeredInRound) external {
        (_roundId, _answer, _updatedAt, _answeredInRound) = (roundId, answer, updatedAt, answeredInRound);
        emit RoundSet(roundId, answer, updatedAt, answeredInRound);
    }

    function decimals() external pure returns (uint8) {
        return 8;
    }

    function description() external pure returns (string memory) {
        return "manual feed";
    }

    function version() external pure returns (uint256) {
        return 0;
    }

    function getRoundData(uint80 roundId) external view returns (uint80, int256, uint256, uint256, uint80) {
        if (_paused) revert("feed paused");
        return (roundId, _answer, _updatedAt, _updatedAt, _answeredInRound);
    }

    function latestRoundData() external view returns (uint80, int256, uint256, uint256, uint80) {
        if (_paused) revert("feed paused");
        return (_roundId, _answer, _updatedAt, _updatedAt, _answeredInRound);
    }
}
