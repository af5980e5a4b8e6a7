// Uniform random scalars from the kernel CSPRNG.
#pragma once

#include <cstdint>

namespace bulkhead {

// A uniformly random non-zero element of BN254's scalar field, as 32 little-endian bytes in
// plain (non-Montgomery) form: 64 bytes from getrandom(2) reduced modulo r (bias below 2^-250).
void randomScalar(uint8_t out[32]);

}  // namespace bulkhead
