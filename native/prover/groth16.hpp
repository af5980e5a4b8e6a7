// Groth16 proving over BN254 with a loaded key and witness.
#pragma once

#include <string>
#include <vector>

#include "zkey.hpp"

namespace bulkhead {

struct Timings {
    double abcMs = 0;
    double fftMs = 0;
    double msmG1Ms = 0;
    double msmG2Ms = 0;
};

struct Proof {
    // decimal coordinates, affine
    std::string ax, ay;
    std::string bx0, bx1, by0, by1;
    std::string cx, cy;
    bool aZero = false, bZero = false, cZero = false;
};

// Proves with fresh random r, s; `threads` bounds the OpenMP threads of every parallel step.
Proof prove(const ProvingKey &key, const std::vector<Fr> &witness, unsigned threads, Timings &t);

// witness[1..nPublic] as decimal strings
std::vector<std::string> publicSignals(const ProvingKey &key, const std::vector<Fr> &witness);

}  // namespace bulkhead
