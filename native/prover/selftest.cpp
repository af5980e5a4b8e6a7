#include "selftest.hpp"

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include "alt_bn128.hpp"
#include "msm.hpp"

namespace bulkhead {

namespace {

using Scalar = std::array<uint8_t, 32>;

Scalar fromWords(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3) {
    Scalar s;
    const uint64_t w[4] = {w0, w1, w2, w3};
    std::memcpy(s.data(), w, sizeof w);
    return s;
}

Scalar powerOfTwo(unsigned k, bool minusOne) {
    uint64_t w[4] = {0, 0, 0, 0};
    if (minusOne) {
        for (unsigned b = 0; b < k; b++) w[b / 64] |= uint64_t{1} << (b % 64);
    } else {
        w[k / 64] = uint64_t{1} << (k % 64);
    }
    return fromWords(w[0], w[1], w[2], w[3]);
}

std::vector<Scalar> testScalars(unsigned n, std::mt19937_64 &rng) {
    std::vector<Scalar> s;
    s.push_back(fromWords(0, 0, 0, 0));
    s.push_back(fromWords(1, 0, 0, 0));
    s.push_back(fromWords(Fr_rawq[0] - 1, Fr_rawq[1], Fr_rawq[2], Fr_rawq[3]));
    s.push_back(fromWords(~0ull, ~0ull, ~0ull, ~0ull));
    s.push_back(powerOfTwo(255, false));
    for (unsigned k = 1; k < 256 && s.size() + 2 < n / 2; k += 13) {
        s.push_back(powerOfTwo(k, false));
        s.push_back(powerOfTwo(k, true));
    }
    while (s.size() < n) {
        if (s.size() % 3 == 0) {
            s.push_back(fromWords(rng(), 0, 0, 0));
        } else {
            s.push_back(fromWords(rng(), rng(), rng(), rng()));
        }
    }
    return s;
}

template <typename Curve>
std::string checkCurve(Curve &g, const char *name) {
    using Point = typename Curve::Point;
    using Affine = typename Curve::PointAffine;
    std::mt19937_64 rng(20261205);
    const unsigned n = 600;
    std::vector<Scalar> scalars = testScalars(n, rng);
    std::vector<Affine> bases(n);
    for (unsigned i = 0; i < n; i++) {
        Point t;
        const Scalar k = fromWords(rng() % 1000 + 1, 0, 0, 0);
        g.mulByScalar(t, g.one(), const_cast<uint8_t *>(k.data()), 32);
        g.copy(bases[i], t);
    }
    g.copy(bases[10], g.zeroAffine());
    g.copy(bases[12], bases[11]);
    scalars[12] = scalars[11];
    g.neg(bases[14], bases[13]);
    scalars[14] = scalars[13];

    Point want;
    g.copy(want, g.zero());
    for (unsigned i = 0; i < n; i++) {
        Point t;
        g.mulByScalar(t, bases[i], scalars[i].data(), 32);
        g.add(want, want, t);
    }
    std::vector<uint8_t> flat(n * 32);
    for (unsigned i = 0; i < n; i++) std::memcpy(&flat[i * 32], scalars[i].data(), 32);
    for (unsigned c = 0; c <= 16; c++) {
        if (c == 1) continue;
        // 12 threads split the points of a window between tasks; batches of 3 fill up and flush
        const unsigned threads = std::array<unsigned, 4>{1, 2, 3, 12}[c % 4];
        for (const unsigned batch : {msm_detail::kAffineBatch, 3u}) {
            Point got;
            msmWindow(g, got, bases.data(), flat.data(), n, threads, c, batch);
            if (!g.eq(got, want)) {
                return std::string(name) + ", window " + std::to_string(c) + ", threads " + std::to_string(threads) +
                       ", batch " + std::to_string(batch) + ": the result differs from the sum of scalar multiplications";
            }
        }
    }
    return "";
}

}  // namespace

std::string msmSelfTest() {
    std::string why = checkCurve(AltBn128::G1, "G1");
    if (why.empty()) why = checkCurve(AltBn128::G2, "G2");
    return why;
}

}  // namespace bulkhead
