// Multi-scalar multiplication sum(s_i * P_i) over an ffiasm curve (G1 or G2 of BN254):
// Pippenger's bucket method with signed window digits.
//
// Each scalar is recoded into W digits of c bits in [-2^(c-1) + 1, 2^(c-1)] (a digit above
// 2^(c-1) borrows 2^c from the next window), so a window needs 2^(c-1) buckets and a negative
// digit adds the negated base (negating an affine point is one field negation). Pairs with a
// zero scalar or a base at infinity are dropped first: a witness has many zero signals and a
// proving key many points at infinity.
//
// Work is split into tasks of one window over a range of the points, each task with its own
// buckets (no shared accumulators, no locks); the task results are combined by doubling.
//
// Cost, in curve additions: W * (m + 2 * 2^(c-1)) for m kept pairs (bucket additions are
// mixed, the running-sum reduction two full additions per bucket); c is chosen per call to
// minimise it. Memory: W * m digits of 4 bytes, plus 2^(c-1) points per thread.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace bulkhead {

namespace msm_detail {

constexpr unsigned kScalarBytes = 32;
// windows cover 257 bits: any 256-bit scalar, with room for the last borrow
constexpr unsigned kRecodedBits = 8 * kScalarBytes + 1;

inline unsigned windowCount(unsigned c) { return (kRecodedBits + c - 1) / c; }

// The window width that minimises the cost model above (full additions weighted 1.4 mixed).
inline unsigned windowBits(uint64_t m) {
    unsigned best = 2;
    double bestCost = 0;
    for (unsigned c = 2; c <= 16; c++) {
        const double buckets = static_cast<double>(uint64_t{1} << (c - 1));
        const double cost = windowCount(c) * (static_cast<double>(m) + 2.8 * buckets);
        if (c == 2 || cost < bestCost) {
            best = c;
            bestCost = cost;
        }
    }
    return best;
}

inline bool isZeroScalar(const uint8_t *s) {
    uint64_t w[4];
    std::memcpy(w, s, sizeof w);
    return (w[0] | w[1] | w[2] | w[3]) == 0;
}

// Bits [start, start + c) of a little-endian scalar held in 6 words (the top two are zero).
inline int64_t bitsAt(const uint64_t s[6], unsigned start, unsigned c) {
    const unsigned word = start / 64, offset = start % 64;
    uint64_t v = s[word] >> offset;
    if (offset + c > 64) v |= s[word + 1] << (64 - offset);
    return static_cast<int64_t>(v & ((uint64_t{1} << c) - 1));
}

// The W signed digits of one scalar, written `stride` apart.
inline void recode(const uint8_t *scalar, unsigned c, unsigned windows, int32_t *out, uint64_t stride) {
    uint64_t s[6] = {0, 0, 0, 0, 0, 0};
    std::memcpy(s, scalar, kScalarBytes);
    const int64_t half = int64_t{1} << (c - 1), full = int64_t{1} << c;
    int64_t borrow = 0;
    for (unsigned w = 0; w < windows; w++) {
        int64_t d = bitsAt(s, w * c, c) + borrow;
        borrow = d > half ? 1 : 0;
        if (borrow) d -= full;
        out[w * stride] = static_cast<int32_t>(d);
    }
}

}  // namespace msm_detail

// r = sum over i < n of scalars[i] * bases[i] with windows of c bits (2 <= c <= 16; 0: the cost
// model picks c); scalars are 32-byte little-endian integers (not Montgomery form), bases affine
// points as stored in a proving key; at most `threads` threads.
template <typename Curve>
void msmWindow(Curve &g, typename Curve::Point &r, const typename Curve::PointAffine *bases, const uint8_t *scalars,
               uint64_t n, unsigned threads, unsigned c) {
    using namespace msm_detail;
    using Point = typename Curve::Point;
    using Affine = typename Curve::PointAffine;
    auto base = [&](uint64_t i) -> Affine & { return const_cast<Affine &>(bases[i]); };

    std::vector<uint32_t> keep;
    keep.reserve(n);
    for (uint64_t i = 0; i < n; i++) {
        if (!isZeroScalar(scalars + i * kScalarBytes) && !g.isZero(base(i))) keep.push_back(static_cast<uint32_t>(i));
    }
    const uint64_t m = keep.size();
    g.copy(r, g.zero());
    if (m == 0) return;

    if (c == 0) c = windowBits(m);
    const unsigned windows = windowCount(c);
    const uint64_t nBuckets = uint64_t{1} << (c - 1);
    std::vector<int32_t> digits(windows * m);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (uint64_t j = 0; j < m; j++) recode(scalars + keep[j] * uint64_t{kScalarBytes}, c, windows, &digits[j], m);

    // enough tasks to keep every thread busy: split the points when windows are few
    const unsigned parts = std::max(1u, (2 * threads + windows - 1) / windows);
    const uint64_t tasks = uint64_t{windows} * parts;
    std::vector<Point> partial(tasks);
#pragma omp parallel num_threads(threads)
    {
        std::vector<Point> buckets(nBuckets);
#pragma omp for schedule(dynamic, 1)
        for (uint64_t t = 0; t < tasks; t++) {
            const uint64_t w = t / parts, part = t % parts;
            const uint64_t lo = m * part / parts, hi = m * (part + 1) / parts;
            for (auto &b : buckets) g.copy(b, g.zero());
            const int32_t *d = &digits[w * m];
            for (uint64_t j = lo; j < hi; j++) {
                const int32_t v = d[j];
                if (v > 0) {
                    g.add(buckets[v - 1], buckets[v - 1], base(keep[j]));
                } else if (v < 0) {
                    Affine neg;
                    g.neg(neg, base(keep[j]));
                    g.add(buckets[-v - 1], buckets[-v - 1], neg);
                }
            }
            // sum over k of (k + 1) * bucket[k], by running sums from the top bucket down
            Point running, sum;
            g.copy(running, g.zero());
            g.copy(sum, g.zero());
            for (uint64_t k = nBuckets; k-- > 0;) {
                g.add(running, running, buckets[k]);
                g.add(sum, sum, running);
            }
            g.copy(partial[t], sum);
        }
    }

    // windows from the top: r = r * 2^c + window
    for (uint64_t w = windows; w-- > 0;) {
        if (!g.isZero(r)) {
            for (unsigned k = 0; k < c; k++) g.dbl(r, r);
        }
        for (unsigned part = 0; part < parts; part++) g.add(r, r, partial[w * parts + part]);
    }
}

// msmWindow with the window that the cost model picks for the number of kept pairs.
template <typename Curve>
void msm(Curve &g, typename Curve::Point &r, const typename Curve::PointAffine *bases, const uint8_t *scalars,
         uint64_t n, unsigned threads) {
    msmWindow(g, r, bases, scalars, n, threads, 0);
}

}  // namespace bulkhead
