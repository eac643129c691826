// Shared by the tests: the scalar types every typed test runs over, and small problem builders.
#pragma once

#include <gtest/gtest.h>
#include <mpfr.h>

#include <string>

#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/types.hpp"

// Each test file keeps its helpers in `namespace AMFLOW_TEST_UNIT {`: an anonymous namespace when
// the file is compiled alone, a namespace of its own when the unity build (AMFLOW_UNITY) compiles
// several files as one unit (CMake defines the name per file, UNITY_BUILD_UNIQUE_ID).
#ifndef AMFLOW_TEST_UNIT
#define AMFLOW_TEST_UNIT
#endif

namespace amflow::testing {

#if AMFLOW_HAVE_FLOAT128
using scalar_types = ::testing::Types<double, long double, float128, mpfr_real>;
#else
using scalar_types = ::testing::Types<double, long double, mpfr_real>;
#endif

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

// The bits a value really carries (an MPFR value its own precision, whatever the default is now).
template <class Real>
long value_bits(const Real& x) {
  if constexpr (is_mpfr_v<Real>) {
    return static_cast<long>(mpfr_get_prec(x.backend().data()));
  } else {
    return scalar::bits<Real>();
  }
}

// |computed - reference| <= n_eps eps(Real) |reference| (absolute when the reference is 0), with
// the difference formed exactly in MPFR. A reference carrying fewer bits than the value checked is
// refused: it could not tell a right answer from a wrong one.
// An MPFR copy of x, exactly (an MPFR value keeps its own precision; others go through their text,
// which reads back to the same value).
template <class Real>
void exact_copy(mpfr_t out, const Real& x) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_set(out, x.backend().data(), MPFR_RNDN);
  } else {
    mpfr_set_str(out, scalar::to_text<Real>(x).c_str(), 10, MPFR_RNDN);
  }
}

template <class Reference, class Real>
::testing::AssertionResult close(const Reference& reference, const Real& computed, double n_eps) {
  const long ref_bits = value_bits(reference), bits = value_bits(computed);
  if (ref_bits < bits) {
    return ::testing::AssertionFailure()
           << "the reference carries " << ref_bits << " bits, fewer than the " << bits
           << " of the value checked";
  }
  mpfr_t r, c;
  mpfr_inits2(ref_bits + bits + 64, r, c, static_cast<mpfr_ptr>(nullptr));
  exact_copy(r, reference);
  exact_copy(c, computed);
  mpfr_sub(c, c, r, MPFR_RNDN);
  mpfr_abs(c, c, MPFR_RNDN);
  if (!mpfr_zero_p(r)) mpfr_div(c, c, r, MPFR_RNDN);
  mpfr_abs(c, c, MPFR_RNDN);
  const double error = mpfr_get_d(c, MPFR_RNDU);
  mpfr_clears(r, c, static_cast<mpfr_ptr>(nullptr));
  const double bound = n_eps * std::ldexp(1.0, static_cast<int>(1 - bits));
  if (error <= bound) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "relative error " << error << " > " << n_eps << " eps = " << bound << " (reference "
         << scalar::round_text(scalar::to_text<Reference>(reference), 20) << ", computed "
         << scalar::round_text(scalar::to_text<Real>(computed), 20) << ")";
}

// The caller's file and line by the builtins GCC and Clang share (Clang 14, which CI's clang-tidy
// runs, has no std::source_location).
template <class Reference, class Real>
void expect_close(const Reference& reference, const Real& computed, double n_eps,
                  const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  const ::testing::AssertionResult r = close(reference, computed, n_eps);
  if (!r) ADD_FAILURE_AT(file, line) << r.message();
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
