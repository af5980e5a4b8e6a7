#include "random.hpp"

#include <gmp.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "alt_bn128.hpp"

namespace bulkhead {

static void fill(uint8_t *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
        }
        got += static_cast<size_t>(r);
    }
}

void randomScalar(uint8_t out[32]) {
    mpz_t x, prime;
    mpz_init(x);
    mpz_init(prime);
    mpz_import(prime, 4, -1, 8, -1, 0, Fr_rawq);
    uint8_t buf[64];
    do {
        fill(buf, sizeof buf);
        mpz_import(x, sizeof buf, -1, 1, -1, 0, buf);
        mpz_mod(x, x, prime);
    } while (mpz_sgn(x) == 0);
    std::memset(out, 0, 32);
    mpz_export(out, nullptr, -1, 1, -1, 0, x);
    std::memset(buf, 0, sizeof buf);
    mpz_clear(x);
    mpz_clear(prime);
}

}  // namespace bulkhead
