// The scalar types amflow computes in, and what each one carries (bits, digits, epsilon).
// double (15 digits), long double (18), float128 (33) and MPFR at any precision chosen at run time.
// float128 exists when AMFLOW_HAVE_FLOAT128 is 1 (the default; CMake's AMFLOW_FLOAT128=OFF, or a
// compiler without __float128, sets it to 0 on amflow::core and everything that links it).
#pragma once

#ifndef AMFLOW_HAVE_FLOAT128
#define AMFLOW_HAVE_FLOAT128 1
#endif

#if AMFLOW_HAVE_FLOAT128
#include <boost/multiprecision/float128.hpp>
#endif
#include <boost/multiprecision/gmp.hpp>
#include <boost/multiprecision/mpfr.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

namespace amflow {

namespace mp = boost::multiprecision;

#if AMFLOW_HAVE_FLOAT128
// Quad precision (113-bit significand) through libquadmath.
using float128 = mp::float128;
#endif
inline constexpr bool have_float128 = AMFLOW_HAVE_FLOAT128;
// MPFR with its precision set at run time (scalar::set_mpfr_digits), expression templates off so
// that Eigen sees plain values.
using mpfr_real = mp::number<mp::mpfr_float_backend<0>, mp::et_off>;
// Exact rationals (GMP) for certified computations; not an integration type.
using rational = mp::number<mp::gmp_rational, mp::et_off>;

template <class Real>
inline constexpr bool is_mpfr_v = std::is_same_v<Real, mpfr_real>;
template <class Real>
inline constexpr bool is_exact_v = std::is_same_v<Real, rational>;
#if AMFLOW_HAVE_FLOAT128
template <class Real>
inline constexpr bool is_float128_v = std::is_same_v<Real, float128>;
#else
template <class Real>
inline constexpr bool is_float128_v = false;
#endif

namespace scalar {

// Sets the precision that new mpfr_real values get, in decimal digits (process-wide).
void set_mpfr_digits(int digits);
// Sets the process-wide mpfr_real precision to `digits` for its lifetime and then restores the
// one it found (digits 0: leaves the precision alone).
class mpfr_digits_scope {
 public:
  explicit mpfr_digits_scope(int digits);
  ~mpfr_digits_scope();
  mpfr_digits_scope(const mpfr_digits_scope&) = delete;
  mpfr_digits_scope& operator=(const mpfr_digits_scope&) = delete;

 private:
  int saved_;
};

// The current mpfr_real precision in decimal digits and in bits.
int mpfr_digits();
long mpfr_bits();

// Significand bits of Real (current precision for mpfr_real; 0 for exact rationals).
template <class Real>
long bits() {
  if constexpr (is_mpfr_v<Real>) {
    return mpfr_bits();
  } else if constexpr (is_exact_v<Real>) {
    return 0;
  } else {
    return std::numeric_limits<Real>::digits;
  }
}

// Decimal digits that Real guarantees (the --digits value that selects it).
template <class Real>
int digits() {
  if constexpr (is_mpfr_v<Real>) {
    return mpfr_digits();
  } else if constexpr (is_exact_v<Real>) {
    return 0;
  } else {
    return std::numeric_limits<Real>::digits10;
  }
}

// Decimal digits needed to print Real so that it reads back to the same value.
template <class Real>
int max_digits10() {
  if constexpr (is_exact_v<Real>) {
    return 0;
  } else {
    // ceil(bits * log10(2)) + 1, as std::numeric_limits defines max_digits10.
    return static_cast<int>(std::ceil(static_cast<double>(bits<Real>()) * 0.30102999566398120)) + 1;
  }
}

// Unit round-off 2^(1 - bits) at the working precision.
template <class Real>
Real epsilon() {
  static_assert(!is_exact_v<Real>, "exact rationals have no epsilon");
  using std::ldexp;
  return ldexp(Real(1), static_cast<int>(1 - bits<Real>()));
}

// Memory one number takes, in bytes (MPFR: the struct and its significand limbs).
template <class Real>
long bytes_per_number() {
  if constexpr (is_mpfr_v<Real>) {
    return static_cast<long>(sizeof(Real)) + (bits<Real>() + 63) / 64 * 8;
  } else {
    return static_cast<long>(sizeof(Real));
  }
}

// True unless x is NaN or infinite (exact rationals always are finite).
template <class Real>
bool is_finite(const Real& x) {
  if constexpr (is_mpfr_v<Real>) {
    return mpfr_number_p(x.backend().data()) != 0;
  } else if constexpr (is_exact_v<Real>) {
    return true;
  } else {
    using std::isfinite;  // and boost::multiprecision's, by argument-dependent lookup
    return static_cast<bool>(isfinite(x));
  }
}

// True when x is finite, nonzero and not subnormal: it carries every significant bit of Real.
// (MPFR has no subnormals: below its exponent range a value is 0.)
template <class Real>
bool is_normal(const Real& x) {
  if constexpr (is_mpfr_v<Real>) {
    return mpfr_regular_p(x.backend().data()) != 0;
  } else if constexpr (is_exact_v<Real>) {
    return x != 0;
  } else {
    using std::isnormal;  // and boost::multiprecision's, by argument-dependent lookup
    return static_cast<bool>(isnormal(x));
  }
}

// A short name: double, long_double, float128, mpfr50 (digits), rational; another type (a
// benchmark's fixed-precision MPFR) by its significand, "binary166".
template <class Real>
std::string name() {
  if constexpr (std::is_same_v<Real, float>) {
    return "float32";
  } else if constexpr (std::is_same_v<Real, double>) {
    return "double";
  } else if constexpr (std::is_same_v<Real, long double>) {
    return "long_double";
  } else if constexpr (is_float128_v<Real>) {
    return "float128";
  } else if constexpr (is_mpfr_v<Real>) {
    return "mpfr" + std::to_string(mpfr_digits());
  } else if constexpr (is_exact_v<Real>) {
    return "rational";
  } else {
    return "binary" + std::to_string(std::numeric_limits<Real>::digits);
  }
}

}  // namespace scalar
}  // namespace amflow

// Expands M(extern, T) for each floating-point scalar type T that amflow compiles its templates
// for: the explicit instantiation declarations each module's header ends with (the definitions are
// the generated units of cmake/AmflowInstantiate.cmake, one per module and type).
#if AMFLOW_HAVE_FLOAT128
#define AMFLOW_EXTERN_FOR_EACH_REAL(M) \
  M(extern, double) M(extern, long double) M(extern, amflow::float128) M(extern, amflow::mpfr_real)
#else
#define AMFLOW_EXTERN_FOR_EACH_REAL(M) \
  M(extern, double) M(extern, long double) M(extern, amflow::mpfr_real)
#endif
