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

template <class Real>
std::vector<Real> parse_points(const std::string& spec, const std::string& field) {
  using std::pow;
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
  std::vector<Real> values;
  const size_t colon = spec.find(':');
  const std::string kind = colon == std::string::npos ? "list" : spec.substr(0, colon);
  const std::string body = colon == std::string::npos ? spec : spec.substr(colon + 1);
  if (kind == "list") {
    for (const std::string& item : split(body, ',')) {
      values.push_back(scalar::parse_real<Real>(item, field));
    }
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
  const rational n_exact = scalar::parse_exact(parts[2], field);
  if (denominator(n_exact) != 1 || n_exact < 1 || n_exact > 1000000) {
    throw input_error(field, spec, "n must be an integer in [1, 1000000]");
  }
  const long n = numerator(n_exact).convert_to<long>();
  if (n == 1 && a != b) throw input_error(field, spec, "n = 1 needs a = b");
  for (long i = 0; i < n; ++i) {
    const rational x = n == 1 ? a : rational(a + (b - a) * i / (n - 1));
    if (kind == "linspace") {
      values.push_back(scalar::from_rational<Real>(x, field, spec));
    } else if (denominator(x) == 1 && abs(numerator(x)) <= 100000) {
      values.push_back(scalar::parse_real<Real>("1e" + numerator(x).str(), field));
    } else {
      values.push_back(pow(Real(10), scalar::from_rational<Real>(x, field, spec)));
    }
  }
  return values;
}

}  // namespace amflow::io
