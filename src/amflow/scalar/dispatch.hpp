// The one place where the runtime --digits choice becomes a compile-time scalar type.
//   15 -> double, 18 -> long double, 33 -> float128, any other D in [10, 10000] -> MPFR at D
//   digits (33 too in a build without float128: AMFLOW_HAVE_FLOAT128 = 0).
#pragma once

#include <string>

#include "amflow/errors.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

inline constexpr int min_digits = 10;
inline constexpr int max_digits = 10000;

// Throws input_error("digits", ...) unless digits is in [min_digits, max_digits].
inline void check_digits(long digits) {
  if (digits < min_digits || digits > max_digits) {
    throw input_error(
        "digits", std::to_string(digits),
        "must be in [" + std::to_string(min_digits) + ", " + std::to_string(max_digits) + "]");
  }
}

// Calls f.template operator()<Real>() with the scalar type that `digits` selects; for MPFR it first
// sets the process-wide default precision to `digits` decimal digits.
template <class F>
decltype(auto) with_scalar(long digits, F&& f) {
  check_digits(digits);
  switch (digits) {
    case 15:
      return f.template operator()<double>();
    case 18:
      return f.template operator()<long double>();
#if AMFLOW_HAVE_FLOAT128
    case 33:
      return f.template operator()<float128>();
#endif
    default:
      set_mpfr_digits(static_cast<int>(digits));
      return f.template operator()<mpfr_real>();
  }
}

}  // namespace amflow::scalar
