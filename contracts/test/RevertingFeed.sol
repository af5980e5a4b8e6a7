// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "../vendor/AggregatorV3Interface.sol";

/// Test-only AggregatorV3Interface whose round reads revert (a paused or broken feed): Chainlink's
/// MockV3Aggregator never reverts, so this one covers the registry's FeedUnavailable path.
contract RevertingFeed is AggregatorV3Interface {
    function decimals() external pure returns (uint8) {
        return 8;
    }

    function description() external pure returns (string memory) {
        return "reverting feed";
    }

    function version() external pure returns (uint256) {
        return 0;
    }

    function getRoundData(uint80) external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert("feed paused");
    }

    function latestRoundData() external pure returns (uint80, int256, uint256, uint256, uint80) {
        revert("feed paused");
    }
}
