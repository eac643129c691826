// Exact conversions between text and scalars: decimal and rational strings are parsed exactly and
// rounded once to the working precision; values print with every digit the precision carries.
#pragma once

#include <string>
#include <string_view>

#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

// parse_exact reads decimal exponents up to this magnitude.
inline constexpr long max_decimal_exponent = 100000;
// Values whose binary exponent lies within +-readable_binary_exponent print with a decimal
// exponent below 99944 in magnitude, which parse_exact reads back.
inline constexpr long readable_binary_exponent = 332000;

// Parses "0.95", "-1.5e-3", "3", "1/3" or "2.5/7" into an exact rational. Throws input_error naming
// `field` when the text is not such a number (NaN and infinities are refused), or when its decimal
// exponent exceeds 100000 in magnitude.
rational parse_exact(std::string_view text, const std::string& field);

// Rounds an exact rational to Real, correctly (to nearest, subnormals included). Throws input_error
// naming `field` and `text` if the value overflows Real's range, or if it is not zero and rounds to
// zero (underflow: "1e-400" in double).
template <class Real>
Real from_rational(const rational& q, const std::string& field, std::string_view text);

// parse_exact followed by from_rational.
template <class Real>
Real parse_real(std::string_view text, const std::string& field) {
  return from_rational<Real>(parse_exact(text, field), field, text);
}

// True when x is finite and to_text(x) reads back through parse_exact: always for the fixed-size
// types, whose exponents are small; for MPFR, whose exponent range is 2^+-2^30, when x is zero or
// its binary exponent lies within +-readable_binary_exponent.
template <class Real>
bool readable(const Real& x) {
  return is_finite(x);
}
template <>
bool readable<mpfr_real>(const mpfr_real& x);

// Scientific notation with max_digits10<Real>() significant digits (reads back to the same value);
// exact rationals print as "p/q".
template <class Real>
std::string to_text(const Real& x);

// Rounds a number printed by to_text (or any decimal numeral) to `significant` digits for reading,
// e.g. "1.23456789012e-05" -> "1.2346e-05"; "nan", "inf" and non-numbers are returned unchanged.
// Fixed notation from 1e-4 to 10^significant, else exponent; `scientific`: exponent notation for
// every nonzero value ("1e+09", "2.5e-01"), as a table column does once one of its values needs it.
std::string round_text(const std::string& text, int significant, bool scientific = false);

}  // namespace amflow::scalar
