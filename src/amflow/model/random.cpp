#include "amflow/model/random.hpp"

#include <mpfr.h>

#include <cmath>
#include <limits>
#include <random>

namespace amflow::model {
namespace detail {

double normal_by_mpfr(std::uint64_t a, std::uint64_t b) {
  mpfr_t u1, u2, r, c;
  mpfr_inits2(128, u1, u2, r, c, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_ui_2exp(u1, a + 1, -53, MPFR_RNDN);  // (0, 1], exact
  mpfr_set_ui_2exp(u2, b, -53, MPFR_RNDN);      // [0, 1), exact
  mpfr_log(r, u1, MPFR_RNDN);
  mpfr_mul_si(r, r, -2, MPFR_RNDN);
  mpfr_sqrt(r, r, MPFR_RNDN);
  mpfr_const_pi(c, MPFR_RNDN);
  mpfr_mul_2ui(c, c, 1, MPFR_RNDN);
  mpfr_mul(c, u2, c, MPFR_RNDN);
  mpfr_cos(c, c, MPFR_RNDN);
  mpfr_mul(r, r, c, MPFR_RNDN);
  const double out = mpfr_get_d(r, MPFR_RNDN);
  mpfr_clears(u1, u2, r, c, static_cast<mpfr_ptr>(nullptr));
  return out;
}

std::optional<double> normal_by_long_double(std::uint64_t a, std::uint64_t b) {
  if constexpr (std::numeric_limits<long double>::digits < 64) {
    return std::nullopt;  // no wider type than double here: MPFR decides every sample
  } else {
    const long double u1 = std::ldexp(static_cast<long double>(a + 1), -53);  // exact
    const long double r = std::sqrt(-2.0L * std::log(u1));
    // cos(2 pi u2) with u2 = k/4 + f, |f| <= 1/8 (exact in binary), so the argument 2 pi f of
    // cos or sin stays within pi/4 and carries an absolute error below 2^-63.
    const long double q = std::ldexp(static_cast<long double>(b), -51);  // 4 u2, exact
    const long double k = std::nearbyint(q);
    const long double t = 6.28318530717958647692528676655900577L * ((q - k) / 4);
    long double c;
    switch (static_cast<int>(k) % 4) {
      case 0:
        c = std::cos(t);
        break;
      case 1:
        c = -std::sin(t);
        break;
      case 2:
        c = -std::cos(t);
        break;
      default:
        c = std::sin(t);
        break;
    }
    const long double y = r * c;
    const long double bound = std::ldexp(r, -60);
    const double lo = static_cast<double>(y - bound), hi = static_cast<double>(y + bound);
    if (lo != hi || std::signbit(lo) != std::signbit(hi)) return std::nullopt;
    return lo;
  }
}

}  // namespace detail

std::vector<double> standard_normals(std::uint64_t seed, std::size_t count) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::uint64_t a = gen() >> 11;  // 53 bits
    const std::uint64_t b = gen() >> 11;
    const std::optional<double> fast = detail::normal_by_long_double(a, b);
    out[i] = fast ? *fast : detail::normal_by_mpfr(a, b);
  }
  return out;
}

}  // namespace amflow::model
