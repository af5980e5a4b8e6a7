// A witness read from a .wtns file: the signal values as plain (non-Montgomery) little-endian
// field elements, which is the scalar form the multi-exponentiations take.
#pragma once

#include <string>
#include <vector>

#include "zkey.hpp"

namespace bulkhead {

// Reads a witness and checks it against the proving key: same field, same number of signals,
// every value reduced, signal 0 equal to 1.
std::vector<Fr> loadWitness(const std::string &path, const ProvingKey &key);

}  // namespace bulkhead
