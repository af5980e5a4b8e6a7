#include "groth16.hpp"

#include <gmp.h>

#include <chrono>
#include <cstring>

#include "msm.hpp"
#include "random.hpp"

namespace bulkhead {

namespace {

using Clock = std::chrono::steady_clock;
using AltBn128::F1;
using AltBn128::G1;
using AltBn128::G2;
using G1P = AltBn128::G1Point;
using G2P = AltBn128::G2Point;

double msSince(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

uint8_t *scalars(const std::vector<Fr> &v) { return reinterpret_cast<uint8_t *>(const_cast<Fr *>(v.data())); }

// Evaluations of A·w and B·w on the domain (Montgomery form), and their product.
void evaluateABC(const ProvingKey &k, const std::vector<Fr> &w, std::vector<Fr> &a, std::vector<Fr> &b,
                 std::vector<Fr> &c) {
    auto &F = AltBn128::Fr;
    const uint64_t n = k.domainSize;
#pragma omp parallel for schedule(dynamic, 1024)
    for (uint64_t row = 0; row < n; row++) {
        Fr aux;
        Fr sums[2];
        for (int m = 0; m < 2; m++) {
            F.copy(sums[m], F.zero());
            const uint64_t r = static_cast<uint64_t>(m) * n + row;
            for (uint64_t i = k.rowStart[r]; i < k.rowStart[r + 1]; i++) {
                const Term &t = k.terms[i];
                F.mul(aux, w[t.signal], t.coef);
                F.add(sums[m], sums[m], aux);
            }
        }
        F.copy(a[row], sums[0]);
        F.copy(b[row], sums[1]);
        F.mul(c[row], sums[0], sums[1]);
    }
}

// Moves evaluations on the domain to evaluations on the coset shifted by a primitive
// 2·domainSize-th root of unity: iFFT, multiply coefficient i by the root's i-th power, FFT.
void toCoset(const ProvingKey &k, std::vector<Fr> &v) {
    auto &F = AltBn128::Fr;
    auto &fft = *k.fft;
    const uint64_t n = k.domainSize;
    fft.ifft(v.data(), n);
#pragma omp parallel for schedule(static)
    for (uint64_t i = 0; i < n; i++) F.mul(v[i], v[i], fft.root(k.domainPower + 1, i));
    fft.fft(v.data(), n);
}

// Coefficients of h for the H points: (A·B - C) on the coset, in plain form.
void quotient(const ProvingKey &k, std::vector<Fr> &a, const std::vector<Fr> &b, const std::vector<Fr> &c) {
    auto &F = AltBn128::Fr;
    const uint64_t n = k.domainSize;
#pragma omp parallel for schedule(static)
    for (uint64_t i = 0; i < n; i++) {
        F.mul(a[i], a[i], b[i]);
        F.sub(a[i], a[i], c[i]);
        F.fromMontgomery(a[i], a[i]);
    }
}

// r·s mod the scalar field prime, as plain little-endian bytes
void mulScalars(uint8_t out[32], const uint8_t r[32], const uint8_t s[32]) {
    mpz_t x, y, p;
    mpz_inits(x, y, p, nullptr);
    mpz_import(x, 32, -1, 1, -1, 0, r);
    mpz_import(y, 32, -1, 1, -1, 0, s);
    mpz_import(p, 4, -1, 8, -1, 0, Fr_rawq);
    mpz_mul(x, x, y);
    mpz_mod(x, x, p);
    std::memset(out, 0, 32);
    mpz_export(out, nullptr, -1, 1, -1, 0, x);
    mpz_clears(x, y, p, nullptr);
}

void mulAdd(G1P &acc, G1A &base, uint8_t *scalar) {
    G1P t;
    G1.mulByScalar(t, base, scalar, 32);
    G1.add(acc, acc, t);
}

void mulAdd(G1P &acc, G1P &base, uint8_t *scalar) {
    G1P t;
    G1.mulByScalar(t, base, scalar, 32);
    G1.add(acc, acc, t);
}

void toDecimal(G1P &p, std::string &x, std::string &y, bool &zero) {
    G1A q;
    G1.copy(q, p);
    zero = G1.isZero(p);
    x = F1.toString(q.x);
    y = F1.toString(q.y);
}

}  // namespace

Proof prove(const ProvingKey &k, const std::vector<Fr> &w, unsigned threads, Timings &t) {
    const uint64_t nPriv = k.nVars - k.nPublic - 1;
    G1P pa, pb1, pc, ph;
    G2P pb;

    auto t0 = Clock::now();
    msm(G1, pa, k.pointsA.data(), scalars(w), k.nVars, threads);
    msm(G1, pb1, k.pointsB1.data(), scalars(w), k.nVars, threads);
    msm(G1, pc, k.pointsC.data(), scalars(w) + (k.nPublic + 1) * sizeof(Fr), nPriv, threads);
    t.msmG1Ms += msSince(t0);

    t0 = Clock::now();
    msm(G2, pb, k.pointsB2.data(), scalars(w), k.nVars, threads);
    t.msmG2Ms += msSince(t0);

    t0 = Clock::now();
    std::vector<Fr> a(k.domainSize), b(k.domainSize), c(k.domainSize);
    evaluateABC(k, w, a, b, c);
    t.abcMs += msSince(t0);

    t0 = Clock::now();
    toCoset(k, a);
    toCoset(k, b);
    toCoset(k, c);
    quotient(k, a, b, c);
    t.fftMs += msSince(t0);

    t0 = Clock::now();
    msm(G1, ph, k.pointsH.data(), scalars(a), k.domainSize, threads);
    t.msmG1Ms += msSince(t0);

    uint8_t r[32], s[32], rs[32];
    randomScalar(r);
    randomScalar(s);
    mulScalars(rs, r, s);

    G1A alpha1 = k.alpha1, beta1 = k.beta1, delta1 = k.delta1;
    G2A beta2 = k.beta2, delta2 = k.delta2;

    // A = alpha + sum(w_i A_i) + r delta
    G1.add(pa, pa, alpha1);
    mulAdd(pa, delta1, r);
    // B = beta + sum(w_i B_i) + s delta, in G2 and in G1
    G2P t2;
    G2.add(pb, pb, beta2);
    G2.mulByScalar(t2, delta2, s, 32);
    G2.add(pb, pb, t2);
    G1.add(pb1, pb1, beta1);
    mulAdd(pb1, delta1, s);
    // C = sum(w_i C_i) + h(x)t(x)/delta + s A + r B1 - r s delta
    G1.add(pc, pc, ph);
    mulAdd(pc, pa, s);
    mulAdd(pc, pb1, r);
    G1P t1;
    G1.mulByScalar(t1, delta1, rs, 32);
    G1.sub(pc, pc, t1);

    std::memset(r, 0, 32);
    std::memset(s, 0, 32);
    std::memset(rs, 0, 32);

    Proof out;
    toDecimal(pa, out.ax, out.ay, out.aZero);
    toDecimal(pc, out.cx, out.cy, out.cZero);
    G2A qb;
    G2.copy(qb, pb);
    out.bZero = G2.isZero(pb);
    out.bx0 = F1.toString(qb.x.a);
    out.bx1 = F1.toString(qb.x.b);
    out.by0 = F1.toString(qb.y.a);
    out.by1 = F1.toString(qb.y.b);
    return out;
}

std::vector<std::string> publicSignals(const ProvingKey &k, const std::vector<Fr> &w) {
    std::vector<std::string> out;
    mpz_t x;
    mpz_init(x);
    for (uint32_t i = 1; i <= k.nPublic; i++) {
        mpz_import(x, 4, -1, 8, -1, 0, w[i].v);
        char *s = mpz_get_str(nullptr, 10, x);
        out.emplace_back(s);
        free(s);
    }
    mpz_clear(x);
    return out;
}

}  // namespace bulkhead
