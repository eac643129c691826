// The gradient flow of a factorised memory W = A B (A: d x r, B: r x d, both trained):
//   dA/dtau = -G B^T,   dB/dtau = -A^T G,   G = grad L(A B),
// integrated by the implicit midpoint rule
//   Y_{n+1} = Y_n + h f((Y_n + Y_{n+1}) / 2),   Y = (A, B),
// which is of order 2 and keeps every quadratic invariant of the flow exactly (up to the solve of
// its implicit equation and rounding). The flow has one: d/dtau (A^T A) = -(B G^T A + A^T G B^T) =
// d/dtau (B B^T), so A^T A - B B^T (r x r) is constant (balancedness), which GD on the factors
// keeps only to eta^2 (B G^T G B^T - A^T G G^T A) per step. The implicit equation is solved by
// fixed-point iteration (a contraction for h |f'| < 2) to a few units in the last place.
// Header-only: it is used by the claims and the tests at the scalars they need.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "amflow/errors.hpp"
#include "amflow/flow/sample_times.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/outcome.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow {

template <class Real>
struct factorised_sample {
  Real tau = Real(0);
  model::matrix<Real> A, B;
  Real loss = Real(0);
  model::vector<Real> margins;
};

template <class Real>
struct factorised_options {
  Real step = Real(1) / 100;  // the largest step h; each interval between samples in equal steps
  std::vector<Real> times;    // sample times: finite, >= 0, strictly increasing
  int max_iterations = 500;   // per step, for the implicit equation
};

// An outcome: no_convergence when the implicit midpoint equation does not converge.
template <class Real>
struct factorised_result : outcome {
  std::vector<factorised_sample<Real>> samples;
  long steps = 0;
  long iterations = 0;  // fixed-point iterations, all steps
};

namespace detail {

// f(A, B) = (-G B^T, -A^T G).
template <class Real>
void factorised_velocity(const model::problem<Real>& pb, const model::matrix<Real>& A,
                         const model::matrix<Real>& B, model::matrix<Real>& dA,
                         model::matrix<Real>& dB) {
  const model::matrix<Real> G = model::gradient(pb, model::matrix<Real>(A * B));
  dA = -(G * B.transpose());
  dB = -(A.transpose() * G);
}

template <class Real>
Real max_abs(const model::matrix<Real>& X) {
  return X.size() == 0 ? Real(0) : Real(X.cwiseAbs().maxCoeff());
}

}  // namespace detail

// Integrates the factorised flow from (A0, B0) and samples it at options.times. Invalid options
// throw input_error (fields step, times); a step whose implicit equation does not converge stops
// the run with ok = false.
template <class Real>
factorised_result<Real> integrate_factorised(const model::problem<Real>& pb, model::matrix<Real> A,
                                             model::matrix<Real> B,
                                             const factorised_options<Real>& o) {
  using std::ceil;
  if (!(o.step > 0) || !scalar::is_finite(o.step)) {
    throw input_error("step", scalar::to_text<Real>(o.step), "must be finite and positive");
  }
  check_sample_times(o.times);
  factorised_result<Real> r;
  const Real eps = scalar::epsilon<Real>();
  const auto sample = [&](const Real& tau) {
    const model::matrix<Real> Z = model::logits(pb, model::matrix<Real>(A * B));
    r.samples.push_back({tau, A, B, model::loss(pb, Z), model::margins(pb, Z)});
  };
  Real now(0);
  model::matrix<Real> dA, dB, A1, B1, A2, B2;
  for (const Real& next : o.times) {
    const Real span = next - now;
    const long n = span > 0 ? static_cast<long>(ceil(static_cast<double>(span / o.step))) : 0;
    for (long k = 0; k < n; ++k) {
      const Real h = span / Real(n);
      detail::factorised_velocity(pb, A, B, dA, dB);
      A1 = A + h * dA;  // explicit Euler as the first guess
      B1 = B + h * dB;
      bool converged = false;
      Real last_change(-1);
      for (int it = 0; it < o.max_iterations && !converged; ++it) {
        ++r.iterations;
        detail::factorised_velocity(pb, model::matrix<Real>((A + A1) / 2),
                                    model::matrix<Real>((B + B1) / 2), dA, dB);
        A2 = A + h * dA;
        B2 = B + h * dB;
        using std::max;
        const Real change = max(detail::max_abs<Real>(A2 - A1), detail::max_abs<Real>(B2 - B1));
        const Real size = max(detail::max_abs<Real>(A2), detail::max_abs<Real>(B2));
        // Converged at a few units in the last place, or where rounding stops the contraction
        // (the change no longer shrinks) within 1000 of them.
        converged = change <= 4 * eps * size ||
                    (last_change >= 0 && change >= last_change && change <= 1000 * eps * size);
        last_change = change;
        A1.swap(A2);
        B1.swap(B2);
      }
      if (!converged) {
        r.fail(reason::no_convergence, "the implicit midpoint equation did not converge in " +
                                           std::to_string(o.max_iterations) +
                                           " iterations at tau = " + scalar::to_text<Real>(now) +
                                           " (a smaller step helps)");
        return r;
      }
      A.swap(A1);
      B.swap(B1);
      ++r.steps;
      now += h;
    }
    now = next;
    sample(next);
  }
  return r;
}

}  // namespace amflow::flow
