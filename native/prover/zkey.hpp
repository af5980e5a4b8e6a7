// A Groth16 proving key for BN254 read from a snarkjs .zkey file, validated and kept in the form
// the prover uses: points in Montgomery form as stored in the file, and the A/B matrix
// coefficients grouped by (matrix, row) so that rows can be evaluated in parallel without locks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "alt_bn128.hpp"
#include "binfile.hpp"
#include "fft.hpp"

namespace bulkhead {

using G1A = AltBn128::G1PointAffine;
using G2A = AltBn128::G2PointAffine;
using Fr = AltBn128::FrElement;

struct Term {
    uint32_t signal;
    Fr coef;  // coefficient times R^2 (snarkjs's encoding): Montgomery-multiplying it by a
              // plain witness value gives the product in Montgomery form
};

struct ProvingKey {
    std::string path;
    FileStamp stamp;
    uint32_t nVars = 0;
    uint32_t nPublic = 0;
    uint32_t domainSize = 0;
    uint32_t domainPower = 0;
    uint64_t nCoefs = 0;

    G1A alpha1, beta1, delta1;
    G2A beta2, delta2;

    // rows [0, domainSize) of matrix A then of matrix B; row k's terms are
    // terms[rowStart[k] .. rowStart[k + 1])
    std::vector<uint64_t> rowStart;
    std::vector<Term> terms;

    std::vector<G1A> pointsA, pointsB1, pointsC, pointsH;
    std::vector<G2A> pointsB2;

    std::unique_ptr<FFT<AltBn128::Engine::Fr>> fft;  // roots up to 2 * domainSize
};

// Reads and validates a proving key (throws InputError naming the file and the problem).
std::unique_ptr<ProvingKey> loadProvingKey(const std::string &path);

}  // namespace bulkhead
