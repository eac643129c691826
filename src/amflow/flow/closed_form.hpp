// The closed-form gradient flow of orthogonal problems (P1 in shared/paper-notes.md): with
// orthonormal embeddings, orthonormal U and W0 = 0, every wrong logit of x stays equal and the
// margin solves
//     e^m + (M - 1) m = p(x) M tau + 1.
// This is both a reference result of amflow and the yardstick of its integrators.
#pragma once

#include <cmath>
#include <limits>

#include "amflow/errors.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::flow {

// The margin m(tau) >= 0 solving e^m + (M - 1) m = K, K = p M tau + 1, for p > 0, M >= 2, tau >= 0,
// to within a few units of the working precision. No overflow for any finite K: e^m <= K along the
// iteration. Newton's method from m = log K (above the root): f(m) = e^m + (M - 1) m - K is
// increasing and convex, so the iterates decrease monotonically to the root; the loop stops when a
// step no longer shrinks, i.e. at the working precision's floor.
template <class Real>
Real orthogonal_margin(const Real& p, int M, const Real& tau) {
  using std::abs;
  using std::exp;
  using std::log;
  if (!(p > 0) || M < 2 || !(tau >= 0)) {
    throw input_error("orthogonal_margin", "p, M, tau", "needs p > 0, M >= 2, tau >= 0");
  }
  const Real c(M - 1);
  const Real K = p * M * tau + 1;
  if (K == 1) return Real(0);
  Real m = log(K);
  Real last_step = std::numeric_limits<Real>::infinity();
  for (int iteration = 0; iteration < 10000; ++iteration) {
    const Real e = exp(m);
    // f(m) = (e^m - K) + c m, written so that the large terms cancel first.
    const Real step = ((e - K) + c * m) / (e + c);
    if (!(abs(step) < last_step)) break;  // no further progress: rounding floor reached
    m -= step;
    last_step = abs(step);
    if (step == 0) break;
  }
  return m;
}

// The time at which the orthogonal flow's margin reaches m (P2): tau = (e^m + (M - 1) m - 1) / (p
// M).
template <class Real>
Real orthogonal_time_to_margin(const Real& p, int M, const Real& m) {
  using std::exp;
  return (exp(m) + (M - 1) * m - 1) / (p * M);
}

}  // namespace amflow::flow
