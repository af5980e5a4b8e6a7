#include "zkey.hpp"

#include <omp.h>

#include <atomic>
#include <cstring>

#include "field.hpp"

namespace bulkhead {

namespace {

constexpr uint32_t kN8 = 32;
constexpr uint32_t kG1Size = 2 * kN8;
constexpr uint32_t kG2Size = 4 * kN8;
constexpr uint32_t kCoefSize = 12 + kN8;
// FFT over the coset needs 2 * domainSize-th roots of unity; BN254's Fr has 2-adicity 28
constexpr uint32_t kMaxDomainPower = 27;

enum Section : uint32_t {
    kHeader = 1,
    kGroth16Header = 2,
    kIC = 3,
    kCoefs = 4,
    kPointsA = 5,
    kPointsB1 = 6,
    kPointsB2 = 7,
    kPointsC = 8,
    kPointsH = 9,
};

void checkPrime(const BinFile &f, Cursor &c, const uint64_t prime[4], const char *name) {
    const uint32_t n8 = c.u32();
    if (n8 != kN8) f.fail(std::string(name) + " has " + std::to_string(n8) + " bytes, BN254 needs 32: not a bn128 key");
    if (std::memcmp(c.bytes(kN8), prime, kN8) != 0) f.fail(std::string(name) + " is not BN254's: not a bn128 key");
}

template <typename P>
void readPoint(Cursor &c, P &p) {
    std::memcpy(&p, c.bytes(sizeof(P)), sizeof(P));
}

template <typename P>
std::vector<P> readPoints(const BinFile &f, uint32_t id, uint64_t count, const char *name) {
    static_assert(sizeof(P) == kG1Size || sizeof(P) == kG2Size, "packed point layout");
    const uint8_t *src = f.section(id, count * sizeof(P), name);
    std::vector<P> pts(count);
    std::memcpy(pts.data(), src, count * sizeof(P));
    std::atomic<int64_t> bad{-1};
#pragma omp parallel for schedule(static)
    for (uint64_t i = 0; i < count; i++) {
        if (!onCurve(pts[i])) {
            int64_t none = -1;
            bad.compare_exchange_strong(none, static_cast<int64_t>(i));
        }
    }
    if (bad >= 0) f.fail("section " + std::to_string(id) + " (" + name + ") point " + std::to_string(bad.load()) + " is not on the curve (corrupted key)");
    return pts;
}

void readHeaders(const BinFile &f, ProvingKey &k) {
    Cursor h(f, f.section(kHeader, 4, "key type"), 4, "section 1");
    const uint32_t protocol = h.u32();
    if (protocol != 1) f.fail("protocol " + std::to_string(protocol) + " is not groth16 (1)");

    const uint64_t size = 4 + kN8 + 4 + kN8 + 12 + 3 * kG1Size + 3 * kG2Size;
    Cursor c(f, f.section(kGroth16Header, size, "groth16 header"), size, "section 2");
    checkPrime(f, c, Fq_rawq, "base field prime");
    checkPrime(f, c, Fr_rawq, "scalar field prime");
    k.nVars = c.u32();
    k.nPublic = c.u32();
    k.domainSize = c.u32();
    readPoint(c, k.alpha1);
    readPoint(c, k.beta1);
    readPoint(c, k.beta2);
    G2A gamma2;
    readPoint(c, gamma2);
    readPoint(c, k.delta1);
    readPoint(c, k.delta2);
    if (k.nVars == 0 || k.nPublic >= k.nVars) {
        f.fail("header has " + std::to_string(k.nVars) + " signals and " + std::to_string(k.nPublic) + " public inputs");
    }
    if (k.domainSize < 2 || (k.domainSize & (k.domainSize - 1)) != 0) {
        f.fail("domain size " + std::to_string(k.domainSize) + " is not a power of two");
    }
    while ((1u << k.domainPower) < k.domainSize) k.domainPower++;
    if (k.domainPower > kMaxDomainPower) f.fail("domain size 2^" + std::to_string(k.domainPower) + " is too large");
    if (!onCurve(k.alpha1) || !onCurve(k.beta1) || !onCurve(k.delta1) || !onCurve(k.beta2) || !onCurve(gamma2) ||
        !onCurve(k.delta2)) {
        f.fail("a verification key point in the groth16 header is not on the curve (corrupted key)");
    }
    f.section(kIC, static_cast<uint64_t>(k.nPublic + 1) * kG1Size, "IC");
}

// Every section's size against the header, before anything is allocated from the header's
// counts (a corrupted count then cannot make the loader allocate more than the file holds).
void checkSizes(const BinFile &f, const ProvingKey &k) {
    const uint64_t coefsSize = f.sectionSize(kCoefs);
    if (coefsSize < 4) f.fail("section 4 (coefficients) is too short");
    Cursor c(f, f.section(kCoefs, coefsSize, "coefficients"), coefsSize, "section 4");
    const uint64_t nCoefs = c.u32();
    if (coefsSize != 4 + nCoefs * kCoefSize) {
        f.fail("section 4 (coefficients) has " + std::to_string(coefsSize) + " bytes, " + std::to_string(nCoefs) +
               " coefficients need " + std::to_string(4 + nCoefs * kCoefSize));
    }
    const uint64_t nVars = k.nVars;
    f.section(kPointsA, nVars * kG1Size, "A");
    f.section(kPointsB1, nVars * kG1Size, "B1");
    f.section(kPointsB2, nVars * kG2Size, "B2");
    f.section(kPointsC, (nVars - k.nPublic - 1) * kG1Size, "C");
    f.section(kPointsH, static_cast<uint64_t>(k.domainSize) * kG1Size, "H");
}

// Groups the coefficients by target row with a counting sort: rows 0..domainSize-1 are matrix
// A, the next domainSize rows matrix B.
void readCoefs(const BinFile &f, ProvingKey &k) {
    const uint64_t size = f.sectionSize(kCoefs);
    Cursor c(f, f.section(kCoefs, size, "coefficients"), size, "section 4");
    k.nCoefs = c.u32();
    const uint8_t *base = c.bytes(k.nCoefs * kCoefSize);
    const uint64_t nRows = 2ULL * k.domainSize;
    k.rowStart.assign(nRows + 1, 0);
    for (uint64_t i = 0; i < k.nCoefs; i++) {
        uint32_t mcs[3];
        std::memcpy(mcs, base + i * kCoefSize, 12);
        if (mcs[0] > 1 || mcs[1] >= k.domainSize || mcs[2] >= k.nVars) {
            f.fail("coefficient " + std::to_string(i) + " (matrix " + std::to_string(mcs[0]) + ", row " +
                   std::to_string(mcs[1]) + ", signal " + std::to_string(mcs[2]) + ") is out of range");
        }
        k.rowStart[static_cast<uint64_t>(mcs[0]) * k.domainSize + mcs[1] + 1]++;
    }
    for (uint64_t r = 0; r < nRows; r++) k.rowStart[r + 1] += k.rowStart[r];
    std::vector<uint64_t> fill(k.rowStart.begin(), k.rowStart.end() - 1);
    k.terms.resize(k.nCoefs);
    for (uint64_t i = 0; i < k.nCoefs; i++) {
        const uint8_t *p = base + i * kCoefSize;
        uint32_t mcs[3];
        std::memcpy(mcs, p, 12);
        Term &t = k.terms[fill[static_cast<uint64_t>(mcs[0]) * k.domainSize + mcs[1]]++];
        t.signal = mcs[2];
        std::memcpy(&t.coef, p + 12, kN8);
        if (!frValid(t.coef)) f.fail("coefficient " + std::to_string(i) + " is not below the scalar field prime");
    }
}

}  // namespace

std::unique_ptr<ProvingKey> loadProvingKey(const std::string &path) {
    BinFile f(path, "proving key", "zkey", 1);
    auto k = std::make_unique<ProvingKey>();
    k->path = path;
    k->stamp = f.stamp();
    readHeaders(f, *k);
    checkSizes(f, *k);
    readCoefs(f, *k);
    k->pointsA = readPoints<G1A>(f, kPointsA, k->nVars, "A");
    k->pointsB1 = readPoints<G1A>(f, kPointsB1, k->nVars, "B1");
    k->pointsB2 = readPoints<G2A>(f, kPointsB2, k->nVars, "B2");
    k->pointsC = readPoints<G1A>(f, kPointsC, k->nVars - k->nPublic - 1, "C");
    k->pointsH = readPoints<G1A>(f, kPointsH, k->domainSize, "H");
    k->fft = std::make_unique<FFT<AltBn128::Engine::Fr>>(2ULL * k->domainSize);
    return k;
}

}  // namespace bulkhead
