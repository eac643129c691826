#include "amflow/scalar/convert.hpp"

#include <mpfr.h>

#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "amflow/errors.hpp"

namespace amflow::scalar {
namespace {

constexpr long max_decimal_exponent = 100000;

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

// Rounds q to `bits` bits with MPFR (correctly rounded) and returns the MPFR value's decimal
// expansion, exact for that binary value, or throws when it overflows [min_exp, max_exp].
std::string round_to_bits(const rational& q, long bits, long max_exp, const std::string& field,
                          std::string_view text, const char* type) {
  mpfr_t x;
  mpfr_init2(x, bits);
  mpfr_set_q(x, q.backend().data(), MPFR_RNDN);
  if (!mpfr_zero_p(x) && mpfr_get_exp(x) > max_exp) {
    mpfr_clear(x);
    bad_number(field, text, std::string("out of range for ") + type);
  }
  // Enough digits to represent the binary value exactly once parsed back at `bits` bits.
  size_t n = static_cast<size_t>(std::ceil(static_cast<double>(bits) * 0.30103)) + 3;
  std::vector<char> buf(n + 64);
  mpfr_snprintf(buf.data(), buf.size(), "%.*Re", static_cast<int>(n), x);
  mpfr_clear(x);
  return std::string(buf.data());
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
double from_rational<double>(const rational& q, const std::string& field, std::string_view text) {
  return std::strtod(round_to_bits(q, 53, 1024, field, text, "double").c_str(), nullptr);
}

template <>
long double from_rational<long double>(const rational& q, const std::string& field,
                                       std::string_view text) {
  return std::strtold(round_to_bits(q, 64, 16384, field, text, "long double").c_str(), nullptr);
}

template <>
float128 from_rational<float128>(const rational& q, const std::string& field,
                                 std::string_view text) {
  return float128(round_to_bits(q, 113, 16384, field, text, "float128"));
}

template <>
mpfr_real from_rational<mpfr_real>(const rational& q, const std::string&, std::string_view) {
  mpfr_real x;  // at the current default precision
  mpfr_set_q(x.backend().data(), q.backend().data(), MPFR_RNDN);
  return x;
}

template <>
rational from_rational<rational>(const rational& q, const std::string&, std::string_view) {
  return q;
}

template <>
std::string to_text<double>(const double& x) {
  return scientific(x);
}
template <>
std::string to_text<long double>(const long double& x) {
  return scientific(x);
}
template <>
std::string to_text<float128>(const float128& x) {
  return x.str(max_digits10<float128>(), std::ios_base::scientific);
}
template <>
std::string to_text<mpfr_real>(const mpfr_real& x) {
  return x.str(max_digits10<mpfr_real>(), std::ios_base::scientific);
}
template <>
std::string to_text<rational>(const rational& x) {
  return x.str();
}

std::string round_text(const std::string& text, int significant) {
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
  if (text.find('.') == std::string::npos && exponent == 0 &&
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
  if (sci >= -4 && sci < significant) {
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
