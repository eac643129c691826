// Moving values between the scalar types: exactly into a type that carries at least the source's
// significand (widen), or rounded into a narrower one (narrow, for error estimates).
#pragma once

#include <mpfr.h>

#include <cmath>
#include <type_traits>

#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

// x exactly in To, which carries at least From's significand: double -> long double -> float128
// -> MPFR (at >= 113 bits; the value takes the current precision).
template <class To, class From>
To widen(const From& x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (is_mpfr_v<To>) {
    // Scaled into double's range, the significand is the exact sum of three doubles.
    using std::frexp;
    using std::ldexp;
    int e = 0;
    const From m = frexp(x, &e);
    const double a = static_cast<double>(m);
    const From r = m - a;
    const double b = static_cast<double>(r);
    const double c = static_cast<double>(From(r - b));
    To y(a);
    y += To(b);
    y += To(c);
    return ldexp(y, e);
  } else {
    return To(x);
  }
}

// x rounded into To: to nearest between the fixed-size types, away from zero out of MPFR (MPFR ->
// MPFR: to the current precision; MPFR -> float128: through long double's 64 bits). For error
// estimates, which need a few digits only.
template <class To, class From>
To narrow(const From& x) {
  if constexpr (std::is_same_v<To, From>) {
    if constexpr (is_mpfr_v<To>) {
      To y;  // at the current precision
      mpfr_set(y.backend().data(), x.backend().data(), MPFR_RNDA);
      return y;
    } else {
      return x;
    }
  } else if constexpr (is_mpfr_v<From>) {
    return To(mpfr_get_ld(x.backend().data(), MPFR_RNDA));
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace amflow::scalar
