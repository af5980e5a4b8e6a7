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

// y^2 = x^3 + b on the curve `G` over the field `F`; (0, 0) encodes the point at infinity in
// snarkjs files
template <typename Field, typename Curve, typename Affine>
bool onCurveOver(Field &F, Curve &G, Affine &p) {
    if (F.isZero(p.x) && F.isZero(p.y)) return true;
    typename Field::Element y2, x3;
    F.square(y2, p.y);
    F.square(x3, p.x);
    F.mul(x3, x3, p.x);
    F.add(x3, x3, G.b());
    return F.eq(y2, x3);
}

inline bool onCurve(AltBn128::G1PointAffine &p) {
    return fqValid(p.x) && fqValid(p.y) && onCurveOver(AltBn128::F1, AltBn128::G1, p);
}

inline bool onCurve(AltBn128::G2PointAffine &p) {
    return fqValid(p.x.a) && fqValid(p.x.b) && fqValid(p.y.a) && fqValid(p.y.b) &&
           onCurveOver(AltBn128::F2, AltBn128::G2, p);
}

}  // namespace bulkhead
