// Radau IIA collocation for the flow far in time: included by integrate_impl.hpp and its test.
//
// Near a finite limit (the minimiser of a non-separable problem, or the converging directions of a
// mixed one) the linearised flow decays at the rates c(t) mu_k, mu_k the eigenvalues of the
// Hessian there and c = 1 in linear time, e^s in log time. An explicit stepper's step is then held
// by its stability region to about 1 / (c mu_max): tau = 1e15 costs ~1e15 mu_max steps whatever
// the tolerance. The s-stage Radau IIA method (collocation at the right Radau points of [0, 1]:
// the zeros of P_s(2x - 1) - P_{s-1}(2x - 1), c_s = 1) has order 2s - 1 and is L-stable (its
// stability function is the (s - 1, s) Pade approximant of e^z: |R(z)| < 1 for Re z < 0 and
// R(-inf) = 0), so its step is set by accuracy alone: once the transient has died the steps grow
// geometrically and tau = 1e15 costs a few dozen of them.
//
// Coordinates. The logits move in span(F ⊗ G): Z = Zb + F X G^T with F (N x r_E) and G (M x r_U)
// factors of the Gram matrices, G_E = F F^T and G_U = G G^T (F = E, G = U when d <= N, M; else
// from the Gram matrix's eigenvectors above 100 N eps lambda_max). Then
//   dX/dt = -c(t) F^T R(Z) G = -c(t) grad_X L,
// a gradient flow whose Jacobian -c H_X is symmetric:
//   H_X = sum_x p(x) (G^T S_x G) ⊗ (f_x f_x^T)  on vec(X) (column-major),
// S_x = diag(pi_x) - pi_x pi_x^T, f_x row x of F.
//
// The stage equations D_i = h sum_j a_ij f(t0 + c_j h, X0 + D_j) are solved by simplified Newton
// with the Jacobian frozen at X0 (and the exact time factors c_j = c(t0 + c_j h)):
//   (I + h (A diag(c_j)) ⊗ H_X) dD = -residual.
// In the eigenbasis of H_X = Q diag(mu) Q^T this splits into r_E r_U systems of size s,
//   (I_s + h mu_k A diag(c_j)) eta_k = -rho_k,
// so an iteration costs s gradients, two changes of basis and r s x s solves.
//
// Error control: the same step is taken by the (s - 1)-stage method (order 2s - 3) and the
// difference of the two end points, in the logits (relative to max(1, |Z|)), is the local error
// estimate of the lower one: a step is accepted when it is at most the tolerance and the higher one
// is kept. The next step is h (0.9 (tol / err)^(1/(2s - 2))), within [h / 5, 4 h].
#pragma once

#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <cmath>
#include <string>
#include <vector>

#include "amflow/flow/drive.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/model/dense.hpp"
#include "amflow/model/limits.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow::detail {

// The s-stage Radau IIA method: nodes c (s), coefficients A (s x s); b = the last row of A.
template <class Real>
struct radau_tableau {
  int stages = 0;
  model::vector<Real> c;
  model::matrix<Real> A;
  // 1 / (c_j prod_{m != j} (c_j - c_m)): the Lagrange basis on the nodes {0, c_1 .. c_s} at theta
  // is l_j(theta) = theta prod_{m != j} (theta - c_m) lagrange_scale_j (l_0 is not needed).
  model::vector<Real> lagrange_scale;
};

// The weights l_j(theta) (j = 1 .. s) of the collocation polynomial through 0 at node 0: prefix and
// suffix products, 3 s multiplications and no division.
template <class Real>
model::vector<Real> lagrange_weights(const radau_tableau<Real>& tab, const Real& theta) {
  const int s = tab.stages;
  model::vector<Real> w(s);
  Real prefix = theta;
  for (int j = 0; j < s; ++j) {
    w(j) = prefix;
    prefix *= theta - tab.c(j);
  }
  Real suffix(1);
  for (int j = s - 1; j >= 0; --j) {
    w(j) *= suffix * tab.lagrange_scale(j);
    suffix *= theta - tab.c(j);
  }
  return w;
}

// P_s(xi) - P_{s-1}(xi) and its derivative in x, xi = 2 x - 1 (three-term recurrences).
template <class Real>
void radau_polynomial(int s, const Real& x, Real& q, Real& dq, Real& p_before) {
  const Real xi = 2 * x - 1;
  Real p0(1), p1 = xi, d0(0), d1(1);
  if (s == 1) {
    q = p1 - p0;
    dq = 2 * (d1 - d0);
    p_before = p0;
    return;
  }
  for (int n = 1; n < s; ++n) {
    // (n + 1) P_{n+1} = (2n + 1) xi P_n - n P_{n-1};  P'_{n+1} = P'_{n-1} + (2n + 1) P_n
    const Real p2 = ((2 * n + 1) * xi * p1 - n * p0) / (n + 1);
    const Real d2 = d0 + (2 * n + 1) * p1;
    p0 = p1;
    p1 = p2;
    d0 = d1;
    d1 = d2;
  }
  q = p1 - p0;
  dq = 2 * (d1 - d0);
  p_before = p0;  // P_{s-1}(xi)
}

// The tableau at the working precision. The s - 1 interior nodes are bracketed on a grid clustered
// at both ends (where the nodes cluster, ~1/s^2 apart) and polished by Newton's method; the weights
// are b_i = (1 + xi_i) / (2 s^2 P_{s-1}(xi_i)^2) (b_s = 1 / s^2), and
//   a_ij = int_0^{c_i} l_j = c_i sum_k b_k l_j(c_i c_k)
// (the Radau rule is exact for degree 2s - 2 and the Lagrange polynomial l_j has degree s - 1).
template <class Real>
radau_tableau<Real> make_radau_tableau(int s) {
  using std::abs;
  radau_tableau<Real> tab;
  tab.stages = s;
  tab.c.resize(s);
  std::vector<double> brackets;
  const int grid = 64 * s;
  const auto q_double = [s](double x) {
    double q, dq, pb;
    radau_polynomial<double>(s, x, q, dq, pb);
    return q;
  };
  double x_prev = 0, q_prev = q_double(0);
  for (int k = 1; k < grid; ++k) {
    const double x = (1 - std::cos(M_PI * k / grid)) / 2;
    const double q = q_double(x);
    if ((q_prev < 0) != (q < 0)) {
      double lo = x_prev, hi = x;
      for (int it = 0; it < 200 && hi - lo > 1e-16; ++it) {
        const double mid = (lo + hi) / 2;
        if ((q_double(mid) < 0) == (q_prev < 0)) {
          lo = mid;
        } else {
          hi = mid;
        }
      }
      brackets.push_back((lo + hi) / 2);
    }
    x_prev = x;
    q_prev = q;
  }
  if (static_cast<int>(brackets.size()) != s - 1) {
    throw std::logic_error("radau: found " + std::to_string(brackets.size()) +
                           " interior nodes for " + std::to_string(s) + " stages");
  }
  const Real eps = scalar::epsilon<Real>();
  for (int i = 0; i + 1 < s; ++i) {
    Real x(brackets[i]);
    for (int it = 0; it < 100; ++it) {
      Real q, dq, pb;
      radau_polynomial<Real>(s, x, q, dq, pb);
      const Real step = q / dq;
      x -= step;
      if (abs(step) <= 4 * eps) break;
    }
    tab.c(i) = x;
  }
  tab.c(s - 1) = Real(1);
  model::vector<Real> b(s);
  for (int i = 0; i + 1 < s; ++i) {
    Real q, dq, pb;
    radau_polynomial<Real>(s, tab.c(i), q, dq, pb);
    b(i) = tab.c(i) / (Real(s) * s * pb * pb);  // (1 + xi) / 2 = c
  }
  b(s - 1) = Real(1) / (Real(s) * s);
  const auto lagrange = [&](int j, const Real& x) {
    Real v(1);
    for (int m = 0; m < s; ++m) {
      if (m != j) v *= (x - tab.c(m)) / (tab.c(j) - tab.c(m));
    }
    return v;
  };
  tab.lagrange_scale.resize(s);
  for (int j = 0; j < s; ++j) {
    Real d = tab.c(j);
    for (int m = 0; m < s; ++m) {
      if (m != j) d *= tab.c(j) - tab.c(m);
    }
    tab.lagrange_scale(j) = 1 / d;
  }
  tab.A.resize(s, s);
  for (int i = 0; i < s; ++i) {
    for (int j = 0; j < s; ++j) {
      Real sum(0);
      for (int k = 0; k < s; ++k) sum += b(k) * lagrange(j, Real(tab.c(i) * tab.c(k)));
      tab.A(i, j) = tab.c(i) * sum;
    }
  }
  return tab;
}

// The stages for a tolerance: s = max(3, ceil(-log10(tol) / 3)) (order 2s - 1: double's 1e-13
// takes 5 stages, order 9; 50 digits' 1e-43 takes 15, order 29).
template <class Real>
int radau_stages(const Real& tol) {
  using std::log10;
  const double digits = -static_cast<double>(log10(tol));
  return std::max(3, static_cast<int>(std::ceil(digits / 3)));
}

template <class Real>
class radau_stepper {
  using matrix_t = model::matrix<Real>;

 public:
  radau_stepper(const model::problem<Real>& pb, const model::matrix<Real>& Zb, bool log_time,
                const Real& tol)
      : pb_(pb),
        Zb_(Zb),
        log_time_(log_time),
        tol_(tol),
        F_(model::gram_factor(pb.E, pb.G_E)),
        G_(model::gram_factor(pb.U, pb.G_U)),
        high_(make_radau_tableau<Real>(radau_stages(tol))),
        low_(make_radau_tableau<Real>(radau_stages(tol) - 1)) {
    X_ = model::matrix<Real>::Zero(F_.cols(), G_.cols());
    low_from_high_.resize(high_.stages, low_.stages);
    for (int j = 0; j < low_.stages; ++j)
      low_from_high_.col(j) = lagrange_weights(high_, low_.c(j));
  }

  int stages() const { return high_.stages; }
  model::matrix<Real> logits(const model::matrix<Real>& X) const {
    return Zb_ + F_ * X * G_.transpose();
  }
  model::matrix<Real> logits() const { return logits(X_); }

  // One step of size h from t: on success X and t advance, h becomes the proposed next step and
  // true is returned; otherwise h is the shorter step to try.
  bool try_step(Real& t, Real& h, run_stats& stats) {
    using std::abs;
    using std::max;
    using std::min;
    using std::pow;
    if (!frozen_) freeze();
    // Starting stages: the last step's collocation polynomial carried on (when the step has not
    // grown more than twofold, so that it is not extrapolated far), else X0; the lower method's
    // from the higher one's polynomial over this step (exact to its stage order s). A step's
    // polynomial at theta (in units of the step from its start) is its stage increments D times
    // the Lagrange weights on the nodes {0, c_1 .. c_s} (D is 0 at node 0).
    const int s = high_.stages;
    matrix_t guess = matrix_t::Zero(X_.size(), s);
    if (last_h_ > 0 && h <= 2 * last_h_) {
      matrix_t weights(s, s);  // column j: the weights at theta = 1 + c_j h / last_h
      for (int j = 0; j < s; ++j) {
        weights.col(j) = lagrange_weights(high_, Real(1 + high_.c(j) * h / last_h_));
      }
      model::multiply_into(guess, last_D_, false, weights, false);
      for (int j = 0; j < s; ++j) {
        for (Eigen::Index i = 0; i < guess.rows(); ++i) {
          model::sub_into(guess(i, j), guess(i, j), last_D_(i, s - 1));
        }
      }
    }
    matrix_t high_D, low_D, low_guess;
    if (!solve(high_, t, h, guess, high_D, stats)) {
      h /= 2;
      return false;
    }
    model::multiply_into(low_guess, high_D, false, low_from_high_, false);
    if (!solve(low_, t, h, low_guess, low_D, stats)) {
      h /= 2;
      return false;
    }
    const auto end_of = [&](const matrix_t& D) {
      return matrix_t(X_ +
                      Eigen::Map<const matrix_t>(D.col(D.cols() - 1).data(), X_.rows(), X_.cols()));
    };
    const matrix_t high = end_of(high_D), low = end_of(low_D);
    const matrix_t Z_high = logits(high);
    const matrix_t gap = F_ * (high - low) * G_.transpose();
    const Real scale = max(Real(1), Real(Z_high.cwiseAbs().maxCoeff()));
    const Real err = Real(gap.cwiseAbs().maxCoeff()) / scale;
    const int p = 2 * high_.stages - 2;  // the lower method's local error is O(h^p)
    Real factor = err > 0 ? Real(pow(Real(tol_ / err), Real(1) / p) * 9 / 10) : Real(4);
    factor = min(Real(4), max(Real(1) / 5, factor));
    if (!(err <= tol_)) {
      h *= min(factor, Real(9) / 10);
      return false;
    }
    X_ = high;
    last_D_ = high_D;
    last_h_ = h;
    t += h;
    h *= factor;
    frozen_ = false;
    return true;
  }

 private:
  Real time_factor(const Real& t) const {
    using std::exp;
    return log_time_ ? Real(exp(t)) : Real(1);
  }

  // grad_X L = F^T R(Z) G at X, into g (Z = Zb + (F X) G^T; the buffers are the workspace's).
  struct workspace;
  void gradient(const matrix_t& X, matrix_t& g, workspace& w) const {
    model::multiply_into(w.FX, F_, false, X, false);
    model::multiply_into(w.Z, w.FX, false, G_, true);
    for (Eigen::Index i = 0; i < w.Z.size(); ++i) model::add_into(w.Z(i), w.Z(i), Zb_(i));
    const matrix_t R = model::residual(pb_, w.Z);
    model::multiply_into(w.FR, F_, true, R, false);
    model::multiply_into(g, w.FR, false, G_, false);
  }

  // H_X at X_ (model::reduced_hessian) and its eigenpairs.
  void freeze() {
    const Eigen::SelfAdjointEigenSolver<matrix_t> eig(
        model::reduced_hessian(pb_, logits(X_), F_, G_));
    Q_ = eig.eigenvectors();
    mu_ = eig.eigenvalues();
    frozen_ = true;
  }

  // The buffers of one tableau's Newton iteration (kept between steps: with them the iteration
  // allocates nothing, model/dense.hpp).
  struct workspace {
    model::vector<Real> C, minus_C;
    matrix_t hAT, AC, M, FX, Z, FR, Xj, g, V, residual, rho, eta, delta;
    model::vector<Real> b, x;
    std::vector<model::small_lu<Real>> modes;
  };

  // Simplified Newton for the stages of `tab` over [t, t + h] from the increments `guess`; the
  // increments into D.
  bool solve(const radau_tableau<Real>& tab, const Real& t, const Real& h, const matrix_t& guess,
             matrix_t& D, run_stats& stats) {
    using std::max;
    workspace& w = tab.stages == high_.stages ? high_work_ : low_work_;
    const int s = tab.stages;
    const Eigen::Index rE = F_.cols(), rU = G_.cols(), r = rE * rU;
    w.C.resize(s);
    w.minus_C.resize(s);
    for (int j = 0; j < s; ++j) {
      w.C(j) = time_factor(Real(t + tab.c(j) * h));
      w.minus_C(j) = w.C(j);
      model::negate(w.minus_C(j));
    }
    w.hAT.resize(s, s);
    w.AC.resize(s, s);
    w.M.resize(s, s);
    for (int j = 0; j < s; ++j) {
      for (int i = 0; i < s; ++i) {
        model::mul_into(w.hAT(i, j), h, tab.A(j, i));
        model::mul_into(w.AC(i, j), tab.A(i, j), w.C(j));
      }
    }
    // The mode systems I + h mu_k A diag(C), factored once per call.
    w.modes.resize(r);
    Real h_mu;
    for (Eigen::Index k = 0; k < r; ++k) {
      model::mul_into(h_mu, h, mu_(k));
      for (Eigen::Index i = 0; i < w.M.size(); ++i) model::mul_into(w.M(i), h_mu, w.AC(i));
      for (int i = 0; i < s; ++i) w.M(i, i) += 1;
      if (!w.modes[k].factor(w.M)) return false;
    }
    const Real eps = scalar::epsilon<Real>();
    const Real x_scale = max(Real(1), model::max_abs(X_));
    D = guess;
    w.V.resize(r, s);
    w.eta.resize(r, s);
    w.b.resize(s);
    w.Xj.resize(rE, rU);
    Real previous(-1);
    for (int iteration = 0; iteration < 30; ++iteration) {
      for (int j = 0; j < s; ++j) {
        for (Eigen::Index i = 0; i < r; ++i) model::add_into(w.Xj(i), X_(i), D(i, j));
        gradient(w.Xj, w.g, w);
        ++stats.radau_gradients;
        for (Eigen::Index i = 0; i < r; ++i) model::mul_into(w.V(i, j), w.minus_C(j), w.g(i));
      }
      // residual = D - h V A^T, into the eigenbasis of H_X, each mode's s x s system solved.
      model::multiply_into(w.residual, w.V, false, w.hAT, false);
      for (Eigen::Index i = 0; i < D.size(); ++i) {
        model::sub_into(w.residual(i), D(i), w.residual(i));
      }
      model::multiply_into(w.rho, Q_, true, w.residual, false);
      for (Eigen::Index k = 0; k < r; ++k) {
        for (int j = 0; j < s; ++j) w.b(j) = w.rho(k, j);
        w.modes[k].solve(w.b, w.x);
        for (int j = 0; j < s; ++j) {
          w.eta(k, j) = w.x(j);
          model::negate(w.eta(k, j));
        }
      }
      model::multiply_into(w.delta, Q_, false, w.eta, false);
      for (Eigen::Index i = 0; i < D.size(); ++i) {
        model::add_into(D(i), D(i), w.delta(i));
        if (!scalar::is_finite(D(i))) return false;
      }
      const Real size = model::max_abs(w.delta) / x_scale;
      if (size <= 8 * eps) break;
      if (previous > 0) {
        const Real theta = size / previous;
        if (!(theta < 1)) return false;
        if (theta / (1 - theta) * size <= tol_ / 1000) break;
      }
      if (iteration == 29) return false;
      previous = size;
    }
    return true;
  }

  const model::problem<Real>& pb_;
  matrix_t Zb_;
  bool log_time_;
  Real tol_;
  matrix_t F_, G_;  // G_E = F F^T, G_U = G G^T
  radau_tableau<Real> high_, low_;
  matrix_t low_from_high_;  // column j: the high method's Lagrange weights at the low one's c_j
  matrix_t X_;              // Z = Zb + F X G^T
  matrix_t last_D_;         // the last accepted step's stage increments
  Real last_h_ = Real(0);   // and its size (0: none yet)
  bool frozen_ = false;
  matrix_t Q_;  // eigenvectors of H_X at X_
  model::vector<Real> mu_;
  workspace high_work_, low_work_;
};

// The Radau run from (Zstart, t) through targets[next..], recording the logits at each (steps are
// shortened to land on them). h: the first trial step. Returns "" or why it stopped.
template <class Real, class Record>
outcome radau_drive(const model::problem<Real>& pb, const model::matrix<Real>& Zstart, Real t,
                    Real h, const std::vector<Real>& targets, size_t next, const Real& tol,
                    long max_steps, bool log_time, run_stats& stats,
                    const run_control<Real>& control, Record&& record) {
  radau_stepper<Real> stepper(pb, Zstart, log_time, tol);
  const drive_setup setup{
      .stepper = "radau", .max_steps = max_steps, .max_rejections = 200, .log_time = log_time};
  return drive(
      t, h, targets, next, setup, stats, control,
      [&](Real& time, Real& step) {
        if (!stepper.try_step(time, step, stats)) return false;
        ++stats.radau_steps;
        return true;
      },
      [] { return true; },  // try_step refuses a non-finite state
      [&](size_t i) { record(i, stepper.logits()); });
}

}  // namespace amflow::flow::detail
