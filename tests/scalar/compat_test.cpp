// The compatibility shims work (tests/scalar/shim_needed.cmake proves that they are needed), and
// the runtime --digits dispatch selects the documented types.
#include <Eigen/Eigenvalues>
#include <boost/math/constants/constants.hpp>

#include "amflow/scalar/dispatch.hpp"
#include "amflow/scalar/odeint.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

template <class Real>
class compat_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(compat_test, testing::scalar_types, testing::scalar_names);

TYPED_TEST(compat_test, num_traits_are_complete_and_right) {
  using Real = TypeParam;
  using traits = Eigen::NumTraits<Real>;
  using std::isinf;
  using std::isnan;
  EXPECT_LT(traits::lowest(), Real(0));  // Boost 1.74's own lowest() is the smallest positive
  EXPECT_EQ(traits::lowest(), -traits::highest());
  EXPECT_TRUE(isinf(traits::infinity()));
  EXPECT_TRUE(isnan(traits::quiet_NaN()));
  EXPECT_EQ(traits::digits(), scalar::bits<Real>());
  EXPECT_GE(traits::digits10(), scalar::digits<Real>());
  EXPECT_EQ(Real(1) + traits::epsilon() / 2, Real(1));
  EXPECT_GT(Real(1) + traits::epsilon(), Real(1));
  EXPECT_LT(traits::min_exponent(), 0);
  EXPECT_GT(traits::max_exponent(), 0);
}

TYPED_TEST(compat_test, eigensolver_and_stable_norm) {
  using Real = TypeParam;
  using std::sqrt;
  Eigen::Matrix<Real, 3, 3> A;
  A << Real(2), Real(1), Real(0), Real(1), Real(2), Real(1), Real(0), Real(1), Real(2);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix<Real, 3, 3>> eig(A);
  // Eigenvalues 2 - sqrt 2, 2, 2 + sqrt 2.
  const Real r2 = sqrt(Real(2));
  const Real eps = scalar::epsilon<Real>();
  EXPECT_LT(testing::diff(eig.eigenvalues()(0), Real(2 - r2)), static_cast<double>(20 * eps));
  EXPECT_LT(testing::diff(eig.eigenvalues()(2), Real(2 + r2)), static_cast<double>(20 * eps));
  Eigen::Matrix<Real, 2, 1> v(Real(3), Real(4));
  EXPECT_LT(testing::diff(v.stableNorm(), Real(5)), static_cast<double>(4 * eps));
}

// Bulirsch-Stoer on an Eigen state: x' = x from 0 to 1 gives e.
TYPED_TEST(compat_test, odeint_bulirsch_stoer_on_eigen_state) {
  using Real = TypeParam;
  namespace ode = boost::numeric::odeint;
  using state = scalar::ode_state<Real>;
  const Real tol = 1000 * scalar::epsilon<Real>();
  ode::bulirsch_stoer<state, Real, state, Real, scalar::ode_algebra> stepper(tol, tol);
  state x(1);
  x(0) = Real(1);
  ode::integrate_adaptive(
      stepper, [](const state& y, state& dy, Real) { dy = y; }, x, Real(0), Real(1), Real(1) / 10);
  const Real e = boost::math::constants::e<Real>();
  EXPECT_LT(testing::diff(x(0), e), static_cast<double>(100 * tol));
  if constexpr (is_mpfr_v<Real>) {
    EXPECT_LT(testing::diff(x(0), e), 1e-40);
  }
}

TEST(dispatch, digits_select_the_documented_types) {
  EXPECT_EQ(scalar::with_scalar(15, []<class R>() { return scalar::name<R>(); }), "double");
  EXPECT_EQ(scalar::with_scalar(18, []<class R>() { return scalar::name<R>(); }), "long_double");
  // 33: float128, or MPFR at 33 digits in a build without it.
  EXPECT_EQ(scalar::with_scalar(33, []<class R>() { return scalar::name<R>(); }),
            have_float128 ? "float128" : "mpfr33");
  EXPECT_EQ(scalar::with_scalar(50, []<class R>() { return scalar::name<R>(); }), "mpfr50");
  EXPECT_EQ(scalar::with_scalar(10, []<class R>() { return scalar::name<R>(); }), "mpfr10");
  EXPECT_EQ(scalar::with_scalar(300, []<class R>() { return scalar::bits<R>() >= 997; }), true);
  EXPECT_EQ(scalar::with_scalar(10000, []<class R>() { return scalar::digits<R>(); }), 10000);
  for (long bad : {9L, 0L, -15L, 10001L}) {
    try {
      scalar::with_scalar(bad, []<class R>() { return 0; });
      ADD_FAILURE() << bad << " accepted";
    } catch (const input_error& e) {
      EXPECT_EQ(e.field(), "digits");  // the CLI shows it as --digits
      EXPECT_EQ(e.value(), std::to_string(bad));
    }
  }
  scalar::set_mpfr_digits(50);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
