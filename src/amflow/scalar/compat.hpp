// The one place where Boost 1.74 multiprecision types are made to work with Eigen 3.4 and odeint.
// Include this header (not Eigen or odeint directly) wherever Eigen meets a multiprecision type.
//
// 1. Eigen::NumTraits. Boost 1.74's boost/multiprecision/eigen.hpp defines NumTraits<number<...>>
//    without infinity(), quiet_NaN(), digits(), min_exponent() or max_exponent(), so
//    SelfAdjointEigenSolver and stableNorm() do not compile, and its lowest() returns the smallest
//    *positive* value. We never include that header and specialise NumTraits fully instead.
// 2. odeint. Its adaptive steppers and Bulirsch-Stoer do not compile on std::vector<number<...>>
//    states (the value_type deduction recurses into number's own value_type). amflow's states are
//    Eigen::Matrix<Real, Dynamic, 1> with vector_space_algebra and odeint's Eigen support, which
//    needs the NumTraits above for lpNorm<Infinity>(); see flow_state and flow_algebra below.
#pragma once

#include <Eigen/Core>
#include <limits>

#include "amflow/scalar/types.hpp"

namespace amflow::scalar::detail {

// Every member Eigen 3.4's GenericNumTraits offers, computed at the working precision.
template <class Real>
struct mp_num_traits {
  using Literal = Real;
  using NonInteger = Real;
  using Nested = Real;
  enum {
    IsComplex = 0,
    IsInteger = 0,
    IsSigned = 1,
    RequireInitialization = 1,
    ReadCost = 1,
    AddCost = 4,
    MulCost = 8,
  };
  static Real epsilon() { return amflow::scalar::epsilon<Real>(); }
  static Real dummy_precision() { return 1000 * epsilon(); }
  static Real highest() { return (std::numeric_limits<Real>::max)(); }
  static Real lowest() { return -highest(); }
  static Real infinity() { return std::numeric_limits<Real>::infinity(); }
  static Real quiet_NaN() { return std::numeric_limits<Real>::quiet_NaN(); }
  static int digits10() { return amflow::scalar::digits<Real>(); }
  static int digits() { return static_cast<int>(amflow::scalar::bits<Real>()); }
  static int min_exponent() { return std::numeric_limits<Real>::min_exponent; }
  static int max_exponent() { return std::numeric_limits<Real>::max_exponent; }
};

}  // namespace amflow::scalar::detail

namespace Eigen {

template <>
struct NumTraits<amflow::mpfr_real> : amflow::scalar::detail::mp_num_traits<amflow::mpfr_real> {
  using Real = amflow::mpfr_real;
};

#if AMFLOW_HAVE_FLOAT128
template <>
struct NumTraits<amflow::float128> : amflow::scalar::detail::mp_num_traits<amflow::float128> {
  using Real = amflow::float128;
};
#endif

}  // namespace Eigen
