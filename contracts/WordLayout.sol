// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// The bit layout of the packed words that the circuits take as public inputs and the registry and
// governance read: one definition for both contracts. src/spec/encoding.ts packs the same fields;
// test/unit/signal-layout.test.ts holds the two equal.

uint256 constant MASK96 = (uint256(1) << 96) - 1;
uint256 constant MASK120 = (uint256(1) << 120) - 1;

// A slot word: price (96) | cf (14) << 96 | global asset (4) << 110 | cap (120) << 114 |
// pooled (1) << 234.
uint256 constant SLOT_CF_SHIFT = 96;
uint256 constant SLOT_CF_MASK = 0x3FFF;
uint256 constant SLOT_ASSET_SHIFT = 110;
uint256 constant SLOT_ASSET_MASK = 0xF;
uint256 constant SLOT_CAP_SHIFT = 114;
uint256 constant SLOT_POOLED_SHIFT = 234;
uint256 constant SLOT_WORD_BITS = 235;

// A segment meta word: id (32) | marginBps (16) << 32 | isFirst << 48 | isLast << 49 |
// epoch (64) << 50; a list meta word: isFirst | isLast << 1 | epoch << 2.
uint256 constant META_MARGIN_SHIFT = 32;
uint256 constant META_EPOCH_SHIFT = 50;
uint256 constant LIST_META_EPOCH_SHIFT = 2;

// A pooled-caps word holds two caps of CAP_BITS bits: POOL_CAPS_WORD_BITS = 2 * CAP_BITS (written
// out: the product compiles to different bytecode).
uint256 constant CAP_BITS = 120;
uint256 constant POOL_CAPS_WORD_BITS = 240;

// A stress word holds FACTORS_PER_WORD price factors of FACTOR_BITS bits each.
uint256 constant FACTORS_PER_WORD = 16;
uint256 constant FACTOR_BITS = 15;
