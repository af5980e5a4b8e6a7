#include "wtns.hpp"

#include <cstring>

#include "field.hpp"

namespace bulkhead {

std::vector<Fr> loadWitness(const std::string &path, const ProvingKey &key) {
    BinFile f(path, "witness", "wtns", 2);
    const uint64_t headerSize = 4 + 32 + 4;
    const uint64_t size1 = f.sectionSize(1);
    Cursor c(f, f.section(1, size1, "header"), size1, "section 1 (header)");
    const uint32_t n8 = c.u32();
    if (n8 != 32) f.fail("field elements have " + std::to_string(n8) + " bytes, BN254 needs 32: a witness of another curve?");
    if (size1 != headerSize) f.fail("section 1 (header) has " + std::to_string(size1) + " bytes, expected " + std::to_string(headerSize));
    if (std::memcmp(c.bytes(32), Fr_rawq, 32) != 0) f.fail("field prime is not BN254's scalar field: a witness of another curve?");
    const uint32_t nSignals = c.u32();
    if (nSignals != key.nVars) {
        f.fail("witness has " + std::to_string(nSignals) + " signals, proving key " + key.path + " expects " +
               std::to_string(key.nVars) + ": a key of another circuit?");
    }
    const uint8_t *src = f.section(2, static_cast<uint64_t>(nSignals) * 32, "signal values");
    std::vector<Fr> w(nSignals);
    std::memcpy(w.data(), src, static_cast<uint64_t>(nSignals) * 32);
    for (uint32_t i = 0; i < nSignals; i++) {
        if (!frValid(w[i])) f.fail("signal " + std::to_string(i) + " is not below the scalar field prime");
    }
    const Fr one = {{1, 0, 0, 0}};
    if (std::memcmp(&w[0], &one, sizeof(Fr)) != 0) f.fail("signal 0 is not 1 (corrupted witness)");
    return w;
}

}  // namespace bulkhead
