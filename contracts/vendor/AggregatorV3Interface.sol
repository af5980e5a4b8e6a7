// SPDX-License-Identifier: MIT
// Chainlink's price feed interface, as published in @chainlink/contracts 1.2.0
// (src/v0.8/shared/interfaces/AggregatorV3Interface.sol, MIT): vendored so that installing
// bulkhead needs no Chainlink package; an interface only, the ABI every Chainlink feed answers.
pragma solidity ^0.8.0;

// solhint-disable-next-line interface-starts-with-i
interface AggregatorV3Interface {
  function decimals() external view returns (uint8);

  function description() external view returns (string memory);

  function version() external view returns (uint256);

  function getRoundData(
    uint80 _roundId
  ) external view returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

  function latestRoundData()
    external
    view
    returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);
}
