// Self-check of the multi-scalar multiplication, run after every build of the prover.
#pragma once

#include <string>

namespace bulkhead {

// Compares msmWindow with its definition (one scalar multiplication per pair, summed) on G1 and
// G2, for window widths 2..16 and 1 to 12 threads (windows split between tasks), on scalars and bases chosen for the edge cases:
// zero, one, r - 1, 2^256 - 1, powers of two and their neighbours at window borders, random
// 256- and 64-bit values, bases at infinity, a base repeated and a base beside its negation with
// equal scalars (doubling and cancelling inside one bucket). Returns an empty string when every
// case agrees, else what differs.
std::string msmSelfTest();

}  // namespace bulkhead
