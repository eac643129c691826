#include "amflow/model/random.hpp"

#include <mpfr.h>

#include <random>

namespace amflow::model {

std::vector<double> standard_normals(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(count);
  mpfr_t u1, u2, r, c, two_pi;
  mpfr_inits2(128, u1, u2, r, c, two_pi, static_cast<mpfr_ptr>(nullptr));
  mpfr_const_pi(two_pi, MPFR_RNDN);
  mpfr_mul_2ui(two_pi, two_pi, 1, MPFR_RNDN);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t a = gen() >> 11;  // 53 bits
    const std::uint64_t b = gen() >> 11;
    mpfr_set_ui_2exp(u1, a + 1, -53, MPFR_RNDN);  // (0, 1], exact
    mpfr_set_ui_2exp(u2, b, -53, MPFR_RNDN);      // [0, 1), exact
    mpfr_log(r, u1, MPFR_RNDN);
    mpfr_mul_si(r, r, -2, MPFR_RNDN);
    mpfr_sqrt(r, r, MPFR_RNDN);
    mpfr_mul(c, u2, two_pi, MPFR_RNDN);
    mpfr_cos(c, c, MPFR_RNDN);
    mpfr_mul(r, r, c, MPFR_RNDN);
    out[i] = mpfr_get_d(r, MPFR_RNDN);
  }
  mpfr_clears(u1, u2, r, c, two_pi, static_cast<mpfr_ptr>(nullptr));
  return out;
}

}  // namespace amflow::model
