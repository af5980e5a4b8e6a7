pragma circom 2.1.6;

// Shared gadgets of bulkhead. Encodings are fixed by docs/SPEC.md.
// Constraint costs are for `circom --O2` (linear constraints substituted away).

include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";

/// ceil(log2(n)) for n >= 1.
function log2ceil(n) {
    var r = 0;
    var c = 1;
    while (c < n) {
        r++;
        c *= 2;
    }
    return r;
}

/// @title RangeCheck
/// @notice Constrains `in < 2^n`.
/// @param n  bit width, 1 <= n <= 252 (Num2Bits is unambiguous below the field size)
/// @input in  value to check
/// @cost n constraints
template RangeCheck(n) {
    assert(n >= 1 && n <= 252);
    signal input in;
    component bits = Num2Bits(n);
    bits.in <== in;
}

/// @title SafeGreaterEqThan
/// @notice `out = (a >= b)` for inputs that the caller has ALREADY range-checked to `< 2^n`
///         (circomlib's LessThan is wrong on unchecked inputs; every caller here checks them).
/// @param n  bit width of both inputs, n <= 252
/// @input a, b  values < 2^n
/// @output out  1 iff a >= b
/// @cost n + 1 constraints
template SafeGreaterEqThan(n) {
    assert(n >= 1 && n <= 252);
    signal input a;
    signal input b;
    signal output out;
    component lt = LessThan(n);
    lt.in[0] <== a;
    lt.in[1] <== b;
    out <== 1 - lt.out;
}

/// @title Boolean
/// @notice Constrains `in` to {0, 1}.
/// @cost 1 constraint
template Boolean() {
    signal input in;
    in * (in - 1) === 0;
}

/// @title SlotSelect
/// @notice One-hot decomposition of an asset slot, gated by `active`.
///         active = 1: exactly one bit is set and `slot` is its index (so slot < A);
///         active = 0: every bit is 0 and slot must be 0 (padding selects no asset).
///         `active` must be boolean (checked by the caller).
/// @param A  number of asset slots, 1 <= A <= 16
/// @input slot  the slot index
/// @input active  1 for a real entry, 0 for padding
/// @output bits[A]  one-hot selector (all zero for padding)
/// @cost A constraints
template SlotSelect(A) {
    assert(A >= 1 && A <= 16);
    signal input slot;
    signal input active;
    signal output bits[A];
    var count = 0;
    var index = 0;
    for (var j = 0; j < A; j++) {
        bits[j] <-- (active == 1 && slot == j) ? 1 : 0;
        bits[j] * (bits[j] - 1) === 0;
        count += bits[j];
        index += j * bits[j];
    }
    count === active;
    index === slot;
}

/// @title MerkleTreeRoot
/// @notice Root of a complete binary Poseidon Merkle tree over 2^levels leaves,
///         node = Poseidon(left, right), leaf i at index i (docs/SPEC.md).
/// @param levels  tree depth, 0 <= levels <= 10
/// @input leaves[2^levels]
/// @output root
/// @cost (2^levels - 1) * 240 constraints (Poseidon(2))
template MerkleTreeRoot(levels) {
    assert(levels >= 0 && levels <= 10);
    var n = 1 << levels;
    signal input leaves[n];
    signal output root;
    if (levels == 0) {
        root <== leaves[0];
    } else {
        // nodes[0..n-2]: children of node k are (2k+1, 2k+2) in heap order, reversed build
        signal nodes[2 * n - 1];
        for (var i = 0; i < n; i++) {
            nodes[n - 1 + i] <== leaves[i];
        }
        component h[n - 1];
        for (var k = n - 2; k >= 0; k--) {
            h[k] = Poseidon(2);
            h[k].inputs[0] <== nodes[2 * k + 1];
            h[k].inputs[1] <== nodes[2 * k + 2];
            nodes[k] <== h[k].out;
        }
        root <== nodes[0];
    }
}

/// @title ListCommitment
/// @notice Chained Poseidon over chunks of up to 15 leaves:
///         h = 0; for each chunk: h = Poseidon(h, chunk...) (docs/SPEC.md).
/// @param n  number of leaves, 1 <= n <= 1024
/// @input leaves[n]
/// @output out
/// @cost about 40 constraints per leaf (one Poseidon(16) per 15 leaves)
template ListCommitment(n) {
    assert(n >= 1 && n <= 1024);
    var CHUNK = 15;
    var chunks = (n + CHUNK - 1) \ CHUNK;
    signal input leaves[n];
    signal output out;
    signal acc[chunks + 1];
    acc[0] <== 0;
    component h[chunks];
    for (var c = 0; c < chunks; c++) {
        var len = n - c * CHUNK;
        if (len > CHUNK) {
            len = CHUNK;
        }
        h[c] = Poseidon(len + 1);
        h[c].inputs[0] <== acc[c];
        for (var i = 0; i < len; i++) {
            h[c].inputs[i + 1] <== leaves[c * CHUNK + i];
        }
        acc[c + 1] <== h[c].out;
    }
    out <== acc[chunks];
}

/// @title FingerprintFactor
/// @notice factor = active ? (r - leafHash) : 1, and usedLeaf = active * leafHash.
///         Padding therefore contributes neither a fingerprint factor nor a leaf.
/// @input active  boolean (checked by the caller)
/// @input r  fingerprint challenge
/// @input leafHash  Poseidon leaf of the entry
/// @output factor, usedLeaf
/// @cost 2 constraints
template FingerprintFactor() {
    signal input active;
    signal input r;
    signal input leafHash;
    signal output factor;
    signal output usedLeaf;
    usedLeaf <== active * leafHash;
    signal ar <== active * r;
    factor <== 1 - active + ar - usedLeaf;
}

/// @title ChainStart
/// @notice Opens the previous chained state, or enforces the canonical empty state.
///         isFirst = 1: prevState must be 0 (the canonical empty state) and the opened values
///         must equal `emptyValues`; isFirst = 0: prevState must equal Poseidon(values..., salt).
/// @param k  number of state values (salt excluded), 1 <= k <= 15
/// @input isFirst  boolean (checked by the caller)
/// @input prevState  public chained-state commitment
/// @input values[k], salt  the opening
/// @input emptyValues[k]  constants of the empty state
/// @cost Poseidon(k+1) + k + 2 constraints
template ChainStart(k, emptyValues) {
    assert(k >= 1 && k <= 15);
    signal input isFirst;
    signal input prevState;
    signal input values[k];
    signal input salt;
    component h = Poseidon(k + 1);
    for (var i = 0; i < k; i++) {
        h.inputs[i] <== values[i];
        isFirst * (values[i] - emptyValues[i]) === 0;
    }
    h.inputs[k] <== salt;
    (1 - isFirst) * (h.out - prevState) === 0;
    isFirst * prevState === 0;
}
