// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Test-only attacker: a contract holding the registry's PUBLISHER_ROLE that runs a sequence of
/// calls in one transaction (borrow tokens into custody, commit, submit every batch, finalize,
/// return the tokens), bubbling the first revert. Window dressing of custody balances inside one
/// transaction; the registry must refuse it.
contract FlashPublisher {
    address private immutable _owner;

    error NotOwner();

    constructor() {
        _owner = msg.sender;
    }

    function run(address[] calldata targets, bytes[] calldata data) external {
        if (msg.sender != _owner) revert NotOwner();
        for (uint256 i = 0; i < targets.length; i++) {
            (bool ok, bytes memory ret) = targets[i].call(data[i]);
            if (!ok) {
                assembly ("memory-safe") {
                    revert(add(ret, 32), mload(ret))
                }
            }
        }
    }
}
