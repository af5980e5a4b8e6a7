// Checks on raw field elements and curve points as they are stored in the key files.
#pragma once

#include <cstdint>
#include <cstring>

#include "alt_bn128.hpp"

namespace bulkhead {

// true when the 4-limb little-endian value is below the limbs of `prime`
inline bool below(const uint64_t v[4], const uint64_t prime[4]) {
    for (int i = 3; i >= 0; i--) {
        if (v[i] != prime[i]) return v[i] < prime[i];
    }
    return false;
}

inline bool fqValid(const AltBn128::F1Element &e) { return below(e.v, Fq_rawq); }
inline bool frValid(const AltBn128::FrElement &e) { return below(e.v, Fr_rawq); }

// (0, 0) encodes the point at infinity in snarkjs files
inline bool onCurve(AltBn128::G1PointAffine &p) {
    auto &F = AltBn128::F1;
    if (!fqValid(p.x) || !fqValid(p.y)) return false;
    if (F.isZero(p.x) && F.isZero(p.y)) return true;
    AltBn128::F1Element y2, x3;
    F.square(y2, p.y);
    F.square(x3, p.x);
    F.mul(x3, x3, p.x);
    F.add(x3, x3, AltBn128::G1.b());
    return F.eq(y2, x3);
}

inline bool onCurve(AltBn128::G2PointAffine &p) {
    auto &F = AltBn128::F2;
    if (!fqValid(p.x.a) || !fqValid(p.x.b) || !fqValid(p.y.a) || !fqValid(p.y.b)) return false;
    if (F.isZero(p.x) && F.isZero(p.y)) return true;
    AltBn128::F2Element y2, x3;
    F.square(y2, p.y);
    F.square(x3, p.x);
    F.mul(x3, x3, p.x);
    F.add(x3, x3, AltBn128::G2.b());
    return F.eq(y2, x3);
}

}  // namespace bulkhead
