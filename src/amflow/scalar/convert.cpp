#include "amflow/scalar/convert.hpp"

#include <mpfr.h>

#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "amflow/errors.hpp"

namespace amflow::scalar {
namespace {

[[noreturn]] void bad_number(const std::string& field, std::string_view text,
                             const std::string& why) {
  throw input_error(field, "\"" + std::string(text) + "\"", why);
}

// One decimal numeral: [+-] digits [. digits] [(e|E) [+-] digits], as an exact rational.
rational parse_decimal(std::string_view s, const std::string& field, std::string_view whole) {
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;
  long exponent = 0;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    digits += s[i++];
    ++int_digits;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      digits += s[i++];
      ++frac_digits;
    }
  }
  if (int_digits + frac_digits == 0) bad_number(field, whole, "not a decimal or rational number");
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (exponent > max_decimal_exponent) bad_number(field, whole, "decimal exponent too large");
      exponent = exponent * 10 + (s[i++] - '0');
    }
    if (i == start) bad_number(field, whole, "not a decimal or rational number");
    if (exp_negative) exponent = -exponent;
  }
  if (i != s.size()) bad_number(field, whole, "not a decimal or rational number");
  exponent -= static_cast<long>(frac_digits);
  if (exponent > max_decimal_exponent || exponent < -max_decimal_exponent) {
    bad_number(field, whole, "decimal exponent too large");
  }
  // Leading zeros would make Boost read the digits as octal.
  const size_t nonzero = digits.find_first_not_of('0');
  const mp::mpz_int mantissa(nonzero == std::string::npos ? std::string("0")
                                                          : digits.substr(nonzero));
  mp::mpz_int scale = mp::pow(mp::mpz_int(10), static_cast<unsigned>(std::labs(exponent)));
  rational q = exponent >= 0 ? rational(mantissa * scale) : rational(mantissa, scale);
  return negative ? rational(-q) : q;
}

// The binary format of a fixed-size type: significand bits and MPFR's exponent range for it (a
// value is m 2^e with 1/2 <= m < 1, so double's smallest subnormal 2^-1074 has e = -1073).
struct binary_format {
  long bits;
  long emin, emax;
  const char* name;
  const char* smallest;  // the smallest positive (subnormal) value, for messages
  const char* largest;
};

constexpr binary_format float_format{24, -148, 128, "float32", "1.4e-45", "3.4e38"};
constexpr binary_format double_format{53, -1073, 1024, "double", "4.9e-324", "1.8e308"};
constexpr binary_format long_double_format{64,          -16444,    16384, "long double",
                                           "3.6e-4951", "1.2e4932"};
#if AMFLOW_HAVE_FLOAT128
constexpr binary_format float128_format{113, -16493, 16384, "float128", "6.5e-4966", "1.2e4932"};
#endif

// Rounds q once, correctly (to nearest, subnormals included), into the format f and returns the
// result as a decimal string that reads back exactly; throws when a nonzero q rounds to zero
// (underflow) or beyond the largest finite value (overflow).
std::string round_to_format(const rational& q, const binary_format& f, const std::string& field,
                            std::string_view text) {
  const mpfr_exp_t saved_emin = mpfr_get_emin(), saved_emax = mpfr_get_emax();
  mpfr_t x;
  mpfr_init2(x, f.bits);
  mpfr_set_emin(f.emin);
  mpfr_set_emax(f.emax);
  const int inexact = mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  mpfr_subnormalize(x, mpfr_check_range(x, inexact, MPFR_RNDN), MPFR_RNDN);
  mpfr_set_emin(saved_emin);
  mpfr_set_emax(saved_emax);
  const bool underflow = mpfr_zero_p(x) && q != 0;
  const bool overflow = mpfr_inf_p(x);
  std::string out;
  if (!underflow && !overflow) {
    // Enough digits to represent the binary value exactly once parsed back at f.bits bits.
    const size_t n = static_cast<size_t>(std::ceil(static_cast<double>(f.bits) * 0.30103)) + 3;
    std::vector<char> buf(n + 64);
    mpfr_snprintf(buf.data(), buf.size(), "%.*Re", static_cast<int>(n), x);
    out = buf.data();
  }
  mpfr_clear(x);
  if (underflow) {
    bad_number(field, text,
               std::string("underflows to 0 in ") + f.name + " (the smallest positive value is " +
                   f.smallest + "); use more digits");
  }
  if (overflow) {
    bad_number(field, text,
               std::string("out of range for ") + f.name + " (the largest is " + f.largest + ")");
  }
  return out;
}

template <class Real>
std::string scientific(const Real& x) {
  std::ostringstream out;
  out << std::scientific << std::setprecision(max_digits10<Real>() - 1) << x;
  return out.str();
}

}  // namespace

rational parse_exact(std::string_view text, const std::string& field) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  if (s.empty()) bad_number(field, text, "empty number");
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return parse_decimal(s, field, text);
  rational num = parse_decimal(s.substr(0, slash), field, text);
  rational den = parse_decimal(s.substr(slash + 1), field, text);
  if (den == 0) bad_number(field, text, "division by zero");
  return num / den;
}

template <>
float from_rational<float>(const rational& q, const std::string& field, std::string_view text) {
  return std::strtof(round_to_format(q, float_format, field, text).c_str(), nullptr);
}

template <>
double from_rational<double>(const rational& q, const std::string& field, std::string_view text) {
  return std::strtod(round_to_format(q, double_format, field, text).c_str(), nullptr);
}

template <>
long double from_rational<long double>(const rational& q, const std::string& field,
                                       std::string_view text) {
  return std::strtold(round_to_format(q, long_double_format, field, text).c_str(), nullptr);
}

#if AMFLOW_HAVE_FLOAT128
template <>
float128 from_rational<float128>(const rational& q, const std::string& field,
                                 std::string_view text) {
  return float128(round_to_format(q, float128_format, field, text));
}
#endif

template <>
mpfr_real from_rational<mpfr_real>(const rational& q, const std::string&, std::string_view) {
  mpfr_real x;  // at the current default precision
  mpfr_set_q(x.backend().data(), q.backend().data(), MPFR_RNDN);
  return x;
}

template <>
bool readable<mpfr_real>(const mpfr_real& x) {
  const mpfr_srcptr v = x.backend().data();
  if (!mpfr_number_p(v)) return false;
  if (mpfr_zero_p(v)) return true;
  const mpfr_exp_t e = mpfr_get_exp(v);
  return e >= -readable_binary_exponent && e <= readable_binary_exponent;
}

template <>
rational from_rational<rational>(const rational& q, const std::string&, std::string_view) {
  return q;
}

template <>
std::string to_text<float>(const float& x) {
  return scientific(x);
}
template <>
std::string to_text<double>(const double& x) {
  return scientific(x);
}
template <>
std::string to_text<long double>(const long double& x) {
  return scientific(x);
}
#if AMFLOW_HAVE_FLOAT128
template <>
std::string to_text<float128>(const float128& x) {
  return x.str(max_digits10<float128>(), std::ios_base::scientific);
}
#endif
template <>
std::string to_text<mpfr_real>(const mpfr_real& x) {
  return x.str(max_digits10<mpfr_real>(), std::ios_base::scientific);
}
template <>
std::string to_text<rational>(const rational& x) {
  return x.str();
}

std::string round_text(const std::string& text, int significant, bool scientific) {
  // Split into sign, digit string (decimal point removed) and the position of the point.
  size_t i = 0;
  std::string sign;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    if (text[i] == '-') sign = "-";
    ++i;
  }
  std::string digits;
  long point = -1;
  for (; i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.');
       ++i) {
    if (text[i] == '.') {
      if (point >= 0) return text;
      point = static_cast<long>(digits.size());
    } else {
      digits += text[i];
    }
  }
  if (digits.empty()) return text;
  if (point < 0) point = static_cast<long>(digits.size());
  long exponent = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    try {
      size_t used = 0;
      exponent = std::stol(text.substr(i + 1), &used);
      i += 1 + used;
    } catch (...) {
      return text;
    }
  }
  if (i != text.size()) return text;
  if (!scientific && text.find('.') == std::string::npos && exponent == 0 &&
      static_cast<long>(digits.size()) <= significant) {
    return text;  // a small integer stays as it is
  }
  // Normalise: drop leading zeros so digits[0] != '0'; value = 0.d1d2... * 10^(point + exponent).
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return sign + "0";
  long exp10 = point + exponent - static_cast<long>(first);
  digits = digits.substr(first);
  if (static_cast<long>(digits.size()) > significant) {
    bool up = digits[significant] >= '5';
    digits.resize(significant);
    for (long k = significant - 1; up && k >= 0; --k) {
      if (digits[k] == '9') {
        digits[k] = '0';
      } else {
        ++digits[k];
        up = false;
      }
    }
    if (up) {
      digits.insert(digits.begin(), '1');
      digits.pop_back();
      ++exp10;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  long sci = exp10 - 1;  // d1.d2... * 10^sci
  std::ostringstream out;
  out << sign;
  if (!scientific && sci >= -4 && sci < significant) {
    // Fixed notation.
    if (sci < 0) {
      out << "0." << std::string(static_cast<size_t>(-sci - 1), '0') << digits;
    } else if (static_cast<long>(digits.size()) <= sci + 1) {
      out << digits << std::string(static_cast<size_t>(sci + 1 - digits.size()), '0');
    } else {
      out << digits.substr(0, sci + 1) << "." << digits.substr(sci + 1);
    }
  } else {
    out << digits[0];
    if (digits.size() > 1) out << "." << digits.substr(1);
    out << "e" << (sci < 0 ? "-" : "+") << (std::labs(sci) < 10 ? "0" : "") << std::labs(sci);
  }
  return out.str();
}

}  // namespace amflow::scalar
