// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// Test-only ERC-20 whose `decimals()` its owner can change after deployment (as an upgradeable
/// token could): the registry must notice at the next commit.
contract MutableDecimalsToken is ERC20 {
    uint8 private _decimals;

    event DecimalsSet(uint8 decimals);

    constructor(string memory name, string memory symbol, uint8 decimals_) ERC20(name, symbol) {
        _decimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _decimals;
    }

    function setDecimals(uint8 decimals_) external {
        _decimals = decimals_;
        emit DecimalsSet(decimals_);
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
