# Proves that each compatibility shim in src/amflow/scalar/compat.hpp is needed and works, by
# compiling two small programs twice each: with Boost's own support (must fail to compile) and
# with amflow's (must compile). Run by CTest as: cmake -DCXX=... -DINCLUDES=... -P shim_needed.cmake
set(dir "${WORK}/shim_needed")
file(MAKE_DIRECTORY "${dir}")
separate_arguments(include_flags UNIX_COMMAND "${INCLUDES}")

function(try_syntax name source expect_ok)
  file(WRITE "${dir}/${name}.cpp" "${source}")
  execute_process(COMMAND "${CXX}" -std=gnu++20 -fsyntax-only ${include_flags} "${dir}/${name}.cpp"
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "${name}: expected to compile with amflow's shim, but:\n${err}")
  elseif(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "${name}: compiled without amflow's shim; the shim may no longer be needed")
  endif()
  if(NOT expect_ok)
    string(REGEX MATCH "error: [^\n]*" first "${err}")
    message(STATUS "${name}: fails without the shim as expected: ${first}")
  else()
    message(STATUS "${name}: compiles with amflow's shim")
  endif()
endfunction()

set(mpfr_type "boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<0>, boost::multiprecision::et_off>")

# 1. Eigen NumTraits: Boost 1.74's eigen.hpp lacks infinity()/quiet_NaN()/digits()...
try_syntax(numtraits_boost "
#include <boost/multiprecision/mpfr.hpp>
#include <boost/multiprecision/eigen.hpp>
#include <Eigen/Dense>
using R = ${mpfr_type};
int main() {
  Eigen::Matrix<R, -1, -1> A = Eigen::Matrix<R, -1, -1>::Identity(3, 3);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix<R, -1, -1>> eig(A);
  return A.col(0).stableNorm() > 0 && eig.eigenvalues()(0) > 0 ? 0 : 1;
}" FALSE)
try_syntax(numtraits_amflow "
#include \"amflow/scalar/compat.hpp\"
#include <Eigen/Dense>
using R = amflow::mpfr_real;
int main() {
  Eigen::Matrix<R, -1, -1> A = Eigen::Matrix<R, -1, -1>::Identity(3, 3);
  Eigen::SelfAdjointEigenSolver<Eigen::Matrix<R, -1, -1>> eig(A);
  return A.col(0).stableNorm() > 0 && eig.eigenvalues()(0) > 0 ? 0 : 1;
}" TRUE)

# 2. odeint: Bulirsch-Stoer on std::vector<number> recurses in value_type deduction.
try_syntax(odeint_std_vector "
#include <boost/multiprecision/mpfr.hpp>
#include <boost/numeric/odeint.hpp>
#include <vector>
using R = ${mpfr_type};
using S = std::vector<R>;
int main() {
  S x(1, R(1));
  boost::numeric::odeint::bulirsch_stoer<S, R> bs(R(1e-20), R(1e-20));
  boost::numeric::odeint::integrate_adaptive(bs, [](const S& y, S& dy, R) { dy[0] = y[0]; }, x, R(0), R(1), R(0.1));
}" FALSE)
try_syntax(odeint_amflow "
#include \"amflow/scalar/odeint.hpp\"
using R = amflow::mpfr_real;
using S = amflow::scalar::ode_state<R>;
int main() {
  S x(1); x(0) = R(1);
  boost::numeric::odeint::bulirsch_stoer<S, R, S, R, amflow::scalar::ode_algebra> bs(R(1e-20), R(1e-20));
  boost::numeric::odeint::integrate_adaptive(bs, [](const S& y, S& dy, R) { dy = y; }, x, R(0), R(1), R(1) / 10);
}" TRUE)
