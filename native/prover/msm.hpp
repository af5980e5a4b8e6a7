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
// buckets (no shared accumulators, no locks); the task results are combined by doubling. Bucket
// additions are batched in affine coordinates (BucketSet below).
//
// Cost, in bucket additions: W * (m + 2.8 * 2^(c-1)) for m kept pairs, the running-sum
// reduction costing two projective additions per bucket (weight 2.8, measured: the chosen c
// matched the fastest fixed c within 1% on the default profile's circuits); c is chosen per
// call to minimise it. Memory: W * m digits of 4 bytes, plus per thread 2^(c-1) affine and
// 2^(c-1) projective points and the batch.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace bulkhead {

namespace msm_detail {

constexpr unsigned kScalarBytes = 32;
// windows cover 257 bits: any 256-bit scalar, with room for the last borrow
constexpr unsigned kRecodedBits = 8 * kScalarBytes + 1;

// affine bucket additions per field inversion
constexpr unsigned kAffineBatch = 256;

inline unsigned windowCount(unsigned c) { return (kRecodedBits + c - 1) / c; }

// The window width that minimises the cost model above.
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

// The buckets of one window task. A bucket holds an affine point, and additions into buckets are
// queued and done in batches in affine coordinates: one field inversion per batch (Montgomery's
// trick) instead of projective additions, about 5M + 1S per addition against 8M + 2S. An addition
// that cannot join the batch (its bucket already has one queued, or the bucket and the point
// share x: doubling or cancelling) goes to the bucket's projective overflow point instead, which
// ffiasm's general addition handles; a bucket's value is its affine point plus its overflow.
template <typename Curve>
class BucketSet {
    using Point = typename Curve::Point;
    using Affine = typename Curve::PointAffine;
    using Element = typename std::remove_reference_t<decltype(std::declval<Curve &>().F)>::Element;
  public:
    BucketSet(Curve &g, uint64_t n, unsigned batch)
        : g_(g), F_(g.F), point_(n), has_(n), stamp_(n), over_(n), batch_(batch), bucket_(batch), queue_(batch),
          den_(batch), prefix_(batch) {}

    void clear() {
        std::fill(has_.begin(), has_.end(), 0);
        std::fill(stamp_.begin(), stamp_.end(), 0);
        for (auto &o : over_) g_.copy(o, g_.zero());
        round_ = 1;
        queued_ = 0;
    }

    // bucket b += p (or -p)
    void add(uint32_t b, Affine &p, bool negate) {
        Affine q;
        if (negate) {
            g_.neg(q, p);
        } else {
            g_.copy(q, p);
        }
        if (!has_[b]) {
            g_.copy(point_[b], q);
            has_[b] = 1;
            return;
        }
        if (stamp_[b] == round_ || F_.eq(point_[b].x, q.x)) {
            g_.add(over_[b], over_[b], q);
            return;
        }
        stamp_[b] = round_;
        bucket_[queued_] = b;
        g_.copy(queue_[queued_], q);
        F_.sub(den_[queued_], q.x, point_[b].x);
        if (++queued_ == batch_) flush();
    }

    // sum over k of (k + 1) * bucket[k], by running sums from the top bucket down
    void weightedSum(Point &out) {
        flush();
        Point running, sum;
        g_.copy(running, g_.zero());
        g_.copy(sum, g_.zero());
        for (uint64_t k = point_.size(); k-- > 0;) {
            if (has_[k]) g_.add(running, running, point_[k]);
            g_.add(running, running, over_[k]);
            g_.add(sum, sum, running);
        }
        g_.copy(out, sum);
    }

  private:
    // every queued addition: lambda = (yq - yb) / (xq - xb), x3 = lambda^2 - xb - xq,
    // y3 = lambda (xb - x3) - yb, with the inverses of all denominators from one inversion
    void flush() {
        if (queued_ == 0) return;
        Element acc, inv, t, lambda, x3;
        F_.copy(acc, F_.one());
        for (unsigned i = 0; i < queued_; i++) {
            F_.copy(prefix_[i], acc);
            F_.mul(acc, acc, den_[i]);
        }
        F_.inv(inv, acc);
        for (unsigned i = queued_; i-- > 0;) {
            F_.mul(t, inv, prefix_[i]);  // 1 / den_i
            F_.mul(inv, inv, den_[i]);
            Affine &b = point_[bucket_[i]];
            Affine &q = queue_[i];
            F_.sub(lambda, q.y, b.y);
            F_.mul(lambda, lambda, t);
            F_.square(x3, lambda);
            F_.sub(x3, x3, b.x);
            F_.sub(x3, x3, q.x);
            F_.sub(t, b.x, x3);
            F_.mul(t, t, lambda);
            F_.sub(b.y, t, b.y);
            F_.copy(b.x, x3);
        }
        queued_ = 0;
        round_++;
    }

    Curve &g_;
    decltype(std::declval<Curve &>().F) F_;
    std::vector<Affine> point_;
    std::vector<uint8_t> has_;
    std::vector<uint32_t> stamp_;
    std::vector<Point> over_;
    const unsigned batch_;
    uint32_t round_ = 1;
    unsigned queued_ = 0;
    std::vector<uint32_t> bucket_;
    std::vector<Affine> queue_;
    std::vector<Element> den_;
    std::vector<Element> prefix_;
};

// r = sum over i < n of scalars[i] * bases[i] with windows of c bits (2 <= c <= 16; 0: the cost
// model picks c) and batches of `batch` affine bucket additions; scalars are 32-byte little-endian
// integers (not Montgomery form), bases affine points as stored in a proving key; at most
// `threads` threads.
template <typename Curve>
void msmWindow(Curve &g, typename Curve::Point &r, const typename Curve::PointAffine *bases, const uint8_t *scalars,
               uint64_t n, unsigned threads, unsigned c, unsigned batch) {
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
        BucketSet<Curve> buckets(g, nBuckets, batch);
#pragma omp for schedule(dynamic, 1)
        for (uint64_t t = 0; t < tasks; t++) {
            const uint64_t w = t / parts, part = t % parts;
            const uint64_t lo = m * part / parts, hi = m * (part + 1) / parts;
            buckets.clear();
            const int32_t *d = &digits[w * m];
            for (uint64_t j = lo; j < hi; j++) {
                const int32_t v = d[j];
                if (v > 0) {
                    buckets.add(static_cast<uint32_t>(v - 1), base(keep[j]), false);
                } else if (v < 0) {
                    buckets.add(static_cast<uint32_t>(-v - 1), base(keep[j]), true);
                }
            }
            buckets.weightedSum(partial[t]);
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
    msmWindow(g, r, bases, scalars, n, threads, 0, msm_detail::kAffineBatch);
}

}  // namespace bulkhead
