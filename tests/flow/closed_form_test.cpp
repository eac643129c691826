// The orthogonal closed form (P1) against independent computations: the residual and a Newton
// correction evaluated at twice the working precision, Boost.Math's Lambert W for M = 2, and P2's
// asymptotic expansion.
#include <boost/math/special_functions/lambert_w.hpp>

#include "amflow/flow/closed_form.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

template <class Real>
class closed_form_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(closed_form_test, testing::scalar_types, testing::scalar_names);

// The distance from m to the exact root, estimated at 2x the digits of Real by one Newton step
// f(m)/f'(m) (second-order accurate), relative to max(1, m).
template <class Real>
double newton_distance(const Real& m, const std::string& p_text, int M,
                       const std::string& tau_text) {
  const int digits = 2 * std::max(scalar::digits<Real>(), 18) + 10;
  const int saved = scalar::mpfr_digits();
  scalar::set_mpfr_digits(digits);
  const mpfr_real hm(scalar::to_text<Real>(m));  // m exactly, at high precision
  const mpfr_real p = testing::num<mpfr_real>(p_text), tau = testing::num<mpfr_real>(tau_text);
  const mpfr_real K = p * M * tau + 1;
  const mpfr_real e = exp(hm);
  const mpfr_real step = ((e - K) + (M - 1) * hm) / (e + (M - 1));
  const double out = static_cast<double>(abs(step) / std::max<mpfr_real>(mpfr_real(1), abs(hm)));
  scalar::set_mpfr_digits(saved);
  return out;
}

TYPED_TEST(closed_form_test, margin_is_the_root_to_working_precision) {
  using Real = TypeParam;
  const double eps = static_cast<double>(scalar::epsilon<Real>());
  for (const char* p : {"1/2", "3/10", "1/5", "1e-3"}) {
    for (int M : {2, 3, 10}) {
      for (const char* tau :
           {"0", "1e-3", "0.5", "1", "10", "1000", "1e6", "1e9", "1e12", "1e15"}) {
        const Real m = flow::orthogonal_margin(testing::num<Real>(p), M, testing::num<Real>(tau));
        EXPECT_GE(m, Real(0));
        EXPECT_LT(newton_distance(m, p, M, tau), 4 * eps)
            << "p " << p << " M " << M << " tau " << tau;
      }
    }
  }
}

TYPED_TEST(closed_form_test, time_to_margin_inverts_the_margin) {
  using Real = TypeParam;
  const Real p = testing::num<Real>("3/10");
  for (const char* tau : {"0.25", "7", "1e8"}) {
    const Real t = testing::num<Real>(tau);
    const Real m = flow::orthogonal_margin(p, 3, t);
    const Real back = flow::orthogonal_time_to_margin(p, 3, m);
    // d tau / d m = (e^m + M - 1) / (p M): the inverse amplifies m's rounding by that factor.
    using std::exp;
    const Real amplification = (exp(m) + 2) / (p * 3);
    EXPECT_LT(testing::diff(back, t),
              static_cast<double>(8 * scalar::epsilon<Real>() * amplification * (1 + m)))
        << tau;
  }
}

// M = 2: m = K - W0(e^K) (Lambert form in paper-notes P1), evaluated by Boost.Math in double.
TEST(closed_form, lambert_form_for_two_classes) {
  for (double tau : {0.0, 0.1, 1.0, 3.0, 10.0, 50.0, 200.0}) {
    for (double p : {0.5, 0.25, 0.9}) {
      const double K = 2 * p * tau + 1;
      const double lambert = K - boost::math::lambert_w0(std::exp(K));
      EXPECT_NEAR(flow::orthogonal_margin(p, 2, tau), lambert, 1e-13 * std::max(1.0, K))
          << "p " << p << " tau " << tau;
    }
  }
}

// P2: m - log(p M tau) = (1 - (M - 1) log(p M tau)) / (p M tau) + O((log K / K)^2).
TEST(closed_form, logarithmic_growth_and_its_next_term) {
  scalar::set_mpfr_digits(50);
  for (int M : {2, 5}) {
    for (const char* tau_text : {"1e6", "1e9", "1e12"}) {
      const mpfr_real p = testing::num<mpfr_real>("1/5"), tau = testing::num<mpfr_real>(tau_text);
      const mpfr_real m = flow::orthogonal_margin(p, M, tau);
      const mpfr_real x = p * M * tau;
      const mpfr_real predicted = log(x) + (1 - (M - 1) * log(x)) / x;
      const mpfr_real bound = 10 * M * M * pow(log(x) / x, 2);
      EXPECT_LT(abs(m - predicted), bound) << "M " << M << " tau " << tau_text;
      EXPECT_GT(abs(m - log(x)), bound) << "the next term must matter at this precision";
    }
  }
}

TEST(closed_form, refuses_invalid_arguments) {
  EXPECT_THROW(flow::orthogonal_margin(0.0, 2, 1.0), input_error);
  EXPECT_THROW(flow::orthogonal_margin(0.5, 1, 1.0), input_error);
  EXPECT_THROW(flow::orthogonal_margin(0.5, 2, -1.0), input_error);
  EXPECT_THROW(flow::orthogonal_margin(0.5, 2, std::nan("")), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
