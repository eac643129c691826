// Exact conversions between text and scalars: decimal and rational strings are parsed exactly and
// rounded once to the working precision; values print with every digit the precision carries.
#pragma once

#include <string>
#include <string_view>

#include "amflow/scalar/types.hpp"

namespace amflow::scalar {

// Parses "0.95", "-1.5e-3", "3", "1/3" or "2.5/7" into an exact rational. Throws input_error naming
// `field` when the text is not such a number (NaN and infinities are refused), or when its decimal
// exponent exceeds 100000 in magnitude.
rational parse_exact(std::string_view text, const std::string& field);

// Rounds an exact rational to Real, correctly (to nearest). Throws input_error naming `field` and
// `text` if the value overflows Real's range.
template <class Real>
Real from_rational(const rational& q, const std::string& field, std::string_view text);

// parse_exact followed by from_rational.
template <class Real>
Real parse_real(std::string_view text, const std::string& field) {
  return from_rational<Real>(parse_exact(text, field), field, text);
}

// Scientific notation with max_digits10<Real>() significant digits (reads back to the same value);
// exact rationals print as "p/q".
template <class Real>
std::string to_text(const Real& x);

// Rounds a number printed by to_text (or any decimal numeral) to `significant` digits for reading,
// e.g. "1.23456789012e-05" -> "1.2346e-05"; "nan", "inf" and non-numbers are returned unchanged.
std::string round_text(const std::string& text, int significant);

}  // namespace amflow::scalar
