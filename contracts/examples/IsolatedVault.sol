// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ISolvencyRegistry} from "../ISolvencyRegistry.sol";

/**
 * @title IsolatedVault (example consumer)
 * @notice Lends one token per segment and refuses new borrowing in a segment whose bulkhead
 * record is missing, unhealthy, or older than the segment's governed maximum age. Repaying is
 * always allowed (it only lowers risk). An example of the intended use of
 * `ISolvencyRegistry.segmentHealth`; it keeps no collateral accounting of its own.
 */
contract IsolatedVault {
    using SafeERC20 for IERC20;

    ISolvencyRegistry public immutable registry;
    IERC20 public immutable loanToken;
    /// segment => borrower => debt
    mapping(uint32 => mapping(address => uint256)) public debtOf;

    error NoSolvencyRecord(uint32 segmentId);
    error SegmentUnhealthy(uint32 segmentId, uint64 epoch);
    error SolvencyRecordStale(uint32 segmentId, uint64 committedAt, uint64 maxAge);
    error RepayTooMuch(uint32 segmentId, uint256 debt, uint256 amount);

    event Borrowed(uint32 indexed segmentId, address indexed borrower, uint256 amount, uint64 epoch);
    event Repaid(uint32 indexed segmentId, address indexed borrower, uint256 amount);

    constructor(ISolvencyRegistry registry_, IERC20 loanToken_) {
        registry = registry_;
        loanToken = loanToken_;
    }

    /// Whether new borrowing in `segmentId` is open now (the registry's `isHealthy`).
    function canBorrow(uint32 segmentId) external view returns (bool) {
        return registry.segmentHealth(segmentId).healthyNow;
    }

    function borrow(uint32 segmentId, uint256 amount) external {
        ISolvencyRegistry.SegmentHealth memory h = registry.segmentHealth(segmentId);
        if (!h.listed) revert NoSolvencyRecord(segmentId);
        if (!h.healthy) revert SegmentUnhealthy(segmentId, h.epoch);
        if (!h.fresh) revert SolvencyRecordStale(segmentId, h.committedAt, h.maxAge);
        debtOf[segmentId][msg.sender] += amount;
        emit Borrowed(segmentId, msg.sender, amount, h.epoch);
        loanToken.safeTransfer(msg.sender, amount);
    }

    function repay(uint32 segmentId, uint256 amount) external {
        uint256 debt = debtOf[segmentId][msg.sender];
        if (amount > debt) revert RepayTooMuch(segmentId, debt, amount);
        debtOf[segmentId][msg.sender] = debt - amount;
        emit Repaid(segmentId, msg.sender, amount);
        loanToken.safeTransferFrom(msg.sender, address(this), amount);
    }
}
