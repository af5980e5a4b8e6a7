pragma circom 2.1.6;

// Shared gadgets of bulkhead. Encodings are fixed by docs/SPEC.md.
// Constraint costs are for `circom --O2` (linear constraints substituted away).

include "poseidon.circom";
include "bitify.circom";
include "comparators.circom";

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
/// @notice `out = (a >= b)` for inputs that the caller has ALREADY bounded to `< 2^n`
///         (circomlib's LessThan is wrong on unbounded inputs; every caller states its bound).
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

/// @title ListCommitment
/// @notice Chained Poseidon over chunks of up to 15 items:
///         h = 0; for each chunk: h = Poseidon(h, chunk...) (docs/SPEC.md "Sponge").
///         Used for batch commitments (leaves, padding 0) and for chained states.
/// @param n  number of items, 1 <= n <= 1024
/// @input leaves[n]
/// @output out
/// @cost about 41 constraints per item (one Poseidon(16), 612 constraints, per 15 items)
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

/// @title Challenges
/// @notice The second fingerprint challenge: gamma = Poseidon(r), and gamma^2. The lot tuple
///         (lotId, amount, asset) is fingerprinted as r - (lotId + gamma*amount + gamma^2*asset).
/// @input r  public fingerprint challenge
/// @output gamma, gamma2
/// @cost 217 constraints
template Challenges() {
    signal input r;
    signal output gamma;
    signal output gamma2;
    component h = Poseidon(1);
    h.inputs[0] <== r;
    gamma <== h.out;
    gamma2 <== gamma * gamma;
}

/// @title TupleFactor
/// @notice factor = active ? r - tuple : 1 (padding contributes factor 1).
/// @input active  boolean (checked by the caller)
/// @input r, tuple
/// @output factor
/// @cost 1 constraint
template TupleFactor() {
    signal input active;
    signal input r;
    signal input tuple;
    signal output factor;
    signal at <== active * (r - tuple);
    factor <== 1 - active + at;
}

/// @title ChainStart
/// @notice Opens the previous chained state, or enforces the canonical empty state.
///         isFirst = 1: prevState must be 0 (the canonical empty state) and the opened values
///         must equal `emptyValues`; isFirst = 0: prevState must equal
///         ListCommitment(values..., salt).
/// @param k  number of state values (salt excluded), 1 <= k <= 64
/// @input isFirst  boolean (checked by the caller)
/// @input prevState  public chained-state commitment
/// @input values[k], salt  the opening
/// @input emptyValues[k]  constants of the empty state
/// @cost ListCommitment(k+1) + k + 2 constraints
template ChainStart(k, emptyValues) {
    assert(k >= 1 && k <= 64);
    signal input isFirst;
    signal input prevState;
    signal input values[k];
    signal input salt;
    component h = ListCommitment(k + 1);
    for (var i = 0; i < k; i++) {
        h.leaves[i] <== values[i];
        isFirst * (values[i] - emptyValues[i]) === 0;
    }
    h.leaves[k] <== salt;
    (1 - isFirst) * (h.out - prevState) === 0;
    isFirst * prevState === 0;
}

/// @title Unpack
/// @notice Splits a packed public word into fields of the given widths (low bits first); the
///         decomposition also range-checks every field and forces the unused high bits to 0.
/// @param n  number of fields, 1 <= n <= 32
/// @param widths[n]  field widths, total <= 252
/// @input in  the packed word
/// @output out[n]  the fields, out[i] < 2^widths[i]
/// @cost sum(widths) constraints
template Unpack(n, widths) {
    assert(n >= 1 && n <= 32);
    var total = 0;
    for (var i = 0; i < n; i++) {
        assert(widths[i] >= 1);
        total += widths[i];
    }
    assert(total <= 252);
    signal input in;
    signal output out[n];
    component bits = Num2Bits(total);
    bits.in <== in;
    var at = 0;
    for (var i = 0; i < n; i++) {
        var v = 0;
        for (var b = 0; b < widths[i]; b++) {
            v += bits.out[at + b] * (1 << b);
        }
        out[i] <== v;
        at += widths[i];
    }
}

/// @title CapBound
/// @notice total <= cap, for total < 2^n and cap < 2^n: cap - total is a non-negative integer
///         below 2^n exactly when the bound holds (a negative difference wraps to p - x > 2^n).
///         A hard constraint: a batch over its cap has no proof.
/// @param n  bit width of both values, n <= 251
/// @input total, cap
/// @cost n constraints
template CapBound(n) {
    assert(n >= 1 && n <= 251);
    signal input total;
    signal input cap;
    component rc = RangeCheck(n);
    rc.in <== cap - total;
}

/// @title CoverageBand
/// @notice The public coverage band of coverage = coll / req (haircut collateral over required
///         value, margin included), with the fixed band floors of docs/SPEC.md in basis points:
///           band 0: < 100%, 1: [100%, 110%), 2: [110%, 150%), 3: [150%, 200%), 4: >= 200%
///         (req = 0 is band 4). The prover names the band; the circuit checks
///         floor_b * req <= 10000 * coll < floor_{b+1} * req (no upper check for band 4).
///         covered = (band >= 1) = (coll >= req), the health rule.
/// @input coll  < 2^234 (bounded by the caller)
/// @input req   < 2^237 (bounded by the caller)
/// @output band  0..4
/// @output covered  1 iff coll >= req
/// @cost 2 * 252 + 8 constraints
template CoverageBand() {
    signal input coll;
    signal input req;
    signal output band;
    signal output covered;
    var FLOOR[5] = [0, 10000, 11000, 15000, 20000];
    signal bits[5];
    // witness: the largest band whose floor is met (values < 2^252 < p/2 compare as integers)
    var b = 0;
    for (var i = 1; i < 5; i++) {
        if (10000 * coll >= FLOOR[i] * req) {
            b = i;
        }
    }
    var count = 0;
    var index = 0;
    var lo = 0;
    var hi = 0;
    for (var i = 0; i < 5; i++) {
        bits[i] <-- (b == i) ? 1 : 0;
        bits[i] * (bits[i] - 1) === 0;
        count += bits[i];
        index += i * bits[i];
        lo += FLOOR[i] * bits[i];
        if (i < 4) {
            hi += FLOOR[i + 1] * bits[i];
        }
    }
    count === 1;
    band <== index;
    // floor_b * req <= 10000 * coll: 10000 * coll < 2^248, floor * req < 2^252
    signal loReq <== lo * req;
    component loCheck = RangeCheck(252);
    loCheck.in <== 10000 * coll - loReq;
    // 10000 * coll < floor_{b+1} * req unless b = 4
    signal hiReq <== hi * req;
    signal upper <== (1 - bits[4]) * (hiReq - 10000 * coll - 1);
    component hiCheck = RangeCheck(252);
    hiCheck.in <== upper;
    covered <== 1 - bits[0];
}
