// Lists of numbers given on the command line (sample times, grid axes):
//   "a,b,c" or "list:a,b,c"   the values themselves
//   "linspace:a:b:n"          n equally spaced values from a to b
//   "logspace:a:b:n"          10^x for n equally spaced exponents x from a to b
// Every value is computed from the exact rationals a, b at the working precision (rounded once;
// integer exponents of logspace give exact powers of ten when representable).
#pragma once

#include <string>
#include <vector>

#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::io {

// One point of a list: an exact rational, or (logspace at a non-integer exponent) 10^exponent,
// which is irrational and known only through its exponent.
struct point {
  rational value;  // the point, or the exponent when power_of_ten
  bool power_of_ten = false;
};

// The points of a spec, exactly. Throws input_error naming `field` and the spec.
inline std::vector<point> parse_point_list(const std::string& spec, const std::string& field) {
  const auto split = [](const std::string& s, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == sep) {
        parts.push_back(s.substr(start, i - start));
        start = i + 1;
      }
    }
    return parts;
  };
  std::vector<point> values;
  const size_t colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? "list" : spec.substr(0, colon);
  const std::string body = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (kind == "list") {
    const std::vector<std::string> items = split(body, ',');
    if (items.size() > 1000000) throw input_error(field, spec, "more than 10^6 values");
    for (const std::string& item : items) values.push_back({scalar::parse_exact(item, field)});
    return values;
  }
  if (kind != "linspace" && kind != "logspace") {
    throw input_error(field, spec,
                      "expected a,b,c or list:a,b,c or linspace:a:b:n or logspace:a:b:n");
  }
  const std::vector<std::string> parts = split(body, ':');
  if (parts.size() != 3) throw input_error(field, spec, "expected " + kind + ":a:b:n");
  const rational a = scalar::parse_exact(parts[0], field);
  const rational b = scalar::parse_exact(parts[1], field);
  rational n_exact;
  try {
    n_exact = scalar::parse_exact(parts[2], field);
  } catch (const input_error&) {
    throw input_error(field, spec, "n must be an integer in [1, 1000000]");
  }
  if (denominator(n_exact) != 1 || n_exact < 1 || n_exact > 1000000) {
    throw input_error(field, spec, "n must be an integer in [1, 1000000]");
  }
  const long n = numerator(n_exact).convert_to<long>();
  if (n == 1 && a != b) throw input_error(field, spec, "n = 1 needs a = b");
  for (long i = 0; i < n; ++i) {
    const rational x = n == 1 ? a : rational(a + (b - a) * i / (n - 1));
    if (kind == "linspace") {
      values.push_back({x});
    } else if (denominator(x) == 1 && abs(numerator(x)) <= scalar::max_decimal_exponent) {
      values.push_back({scalar::parse_exact("1e" + numerator(x).str(), field)});
    } else {
      values.push_back({x, true});
    }
  }
  return values;
}

// The points at precision Real: each rational rounded once; 10^x as pow(10, x).
template <class Real>
std::vector<Real> parse_points(const std::string& spec, const std::string& field) {
  using std::pow;
  std::vector<Real> values;
  for (const point& p : parse_point_list(spec, field)) {
    values.push_back(p.power_of_ten
                         ? Real(pow(Real(10), scalar::from_rational<Real>(p.value, field, spec)))
                         : scalar::from_rational<Real>(p.value, field, spec));
  }
  return values;
}

}  // namespace amflow::io
