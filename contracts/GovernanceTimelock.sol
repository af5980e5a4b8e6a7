// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title GovernanceTimelock
 * @notice OpenZeppelin's TimelockController, unchanged, compiled with the project so that deploy
 * can install it as the holder of SegmentGovernance's GOVERNOR_ROLE and DEFAULT_ADMIN_ROLE: every
 * governance change is scheduled publicly and executes only after `minDelay` seconds.
 */
contract GovernanceTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
