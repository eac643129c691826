// Shared by the tests: the scalar types every typed test runs over, and small problem builders.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::testing {

using scalar_types = ::testing::Types<double, long double, float128, mpfr_real>;

// Readable typed-test names; mpfr_real always runs at 50 digits in the tests (see real_test).
struct scalar_names {
  template <class Real>
  static std::string GetName(int) {
    if constexpr (is_mpfr_v<Real>) {
      return "mpfr50";
    } else {
      return scalar::name<Real>();
    }
  }
};

// Base fixture for typed tests: sets MPFR to 50 digits before each test.
template <class Real>
class real_test : public ::testing::Test {
 protected:
  void SetUp() override { scalar::set_mpfr_digits(50); }
};

// A decimal or rational string at precision Real (exact parse, one rounding).
template <class Real>
Real num(const std::string& s) {
  return scalar::parse_real<Real>(s, "test");
}

// |a - b| as a double, for messages and comparisons against fixed thresholds.
template <class Real>
double diff(const Real& a, const Real& b) {
  using std::abs;
  return static_cast<double>(abs(a - b));
}

// The unit round-off of Real as a double, for bounds such as 40 * k * eps<Real>().
template <class Real>
double eps() {
  return static_cast<double>(scalar::epsilon<Real>());
}

// A random correlated problem: unit Gaussian input and output embeddings (sphere), Zipf(1)
// frequencies, a cyclic target and a Gaussian W0 of the given scale (a decimal string).
inline nlohmann::json correlated_spec(int N, int M, int d, int seed, const std::string& scale) {
  nlohmann::json spec = {{"tokens", N},
                         {"classes", M},
                         {"dim", d},
                         {"inputs", {{"kind", "sphere"}, {"seed", seed}}},
                         {"outputs", {{"kind", "sphere"}, {"seed", seed + 1000}}},
                         {"frequencies", {{"kind", "zipf"}, {"exponent", 1}}},
                         {"target", {{"kind", "mod"}, {"modulus", M}}},
                         {"init", {{"kind", "gaussian"}, {"seed", seed + 2000}, {"scale", scale}}}};
  return spec;
}

}  // namespace amflow::testing
