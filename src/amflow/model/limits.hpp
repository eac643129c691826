// Where the flow goes as tau -> infinity. A separable problem (some W puts every target ahead) has
// no minimiser: W(tau) / |W(tau)| tends to the hard-margin direction,
//   W_hat = argmin |W|_F^2  subject to  m_i(W) = (u_t - u_y)^T W e_x >= 1 for every constraint
//   i = (x, y), y != t = f*(x),
// and tau L(tau) -> |W_hat|_F^2 = sum_i alpha_i (alpha the dual weights; the derivation is in
// analysis/claims_limits.cpp). A non-separable problem whose loss attains its infimum has a
// minimiser W* (unique in the span the flow moves in), where the Hessian's largest eigenvalue sets
// GD's edge eta_c = 2 / lambda_max. Shapes as in model/problem.hpp.
#pragma once

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "amflow/model/particles.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/outcome.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::model {

// F with G = F F^T: E itself when it has no more columns than rows (d <= N), else the Gram
// matrix's eigenvectors above 100 n eps lambda_max scaled by the square roots of their eigenvalues
// (the rank the Gram matrix has beyond rounding).
template <class Real>
matrix<Real> gram_factor(const matrix<Real>& E, const matrix<Real>& gram) {
  using std::sqrt;
  if (E.cols() <= E.rows()) return E;
  const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(gram_of(E, gram));
  const Real top = eig.eigenvalues().maxCoeff();
  const Real floor = 100 * Real(gram.rows()) * scalar::epsilon<Real>() * top;
  std::vector<Eigen::Index> kept;
  for (Eigen::Index k = 0; k < gram.rows(); ++k) {
    if (eig.eigenvalues()(k) > floor) kept.push_back(k);
  }
  matrix<Real> F(gram.rows(), static_cast<Eigen::Index>(kept.size()));
  for (size_t j = 0; j < kept.size(); ++j) {
    F.col(j) = eig.eigenvectors().col(kept[j]) * sqrt(Real(eig.eigenvalues()(kept[j])));
  }
  return F;
}

// The Hessian of X -> L(Z0' + F X G^T) at logits Z (on vec(X), column-major, r_E r_U square):
//   H_X = sum_x p(x) (G^T S_x G) kron (f_x f_x^T),  S_x = diag(pi_x) - pi_x pi_x^T,
// f_x row x of F; each pi_y (1 - pi_y) formed from the other weights (no cancellation at large
// margins); exactly symmetric.
template <class Real>
matrix<Real> reduced_hessian(const problem<Real>& pb, const matrix<Real>& Z, const matrix<Real>& F,
                             const matrix<Real>& G) {
  const Eigen::Index rE = F.cols(), rU = G.cols(), r = rE * rU;
  const matrix<Real> P = softmax_rows(Z);
  matrix<Real> H = matrix<Real>::Zero(r, r);
  matrix<Real> S(pb.classes, pb.classes);
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      Real others(0);
      for (int z = 0; z < pb.classes; ++z) {
        S(y, z) = -P(x, y) * P(x, z);
        if (z != y) others += P(x, z);
      }
      S(y, y) = P(x, y) * others;
    }
    const matrix<Real> B = pb.p(x) * (G.transpose() * S * G);
    const vector<Real> f = F.row(x).transpose();
    const matrix<Real> ff = f * f.transpose();
    for (Eigen::Index j = 0; j < rU; ++j) {
      for (Eigen::Index l = 0; l < rU; ++l) H.block(j * rE, l * rE, rE, rE) += B(j, l) * ff;
    }
  }
  return (H + H.transpose()) / Real(2);
}

// K positive definite (its smallest eigenvalue > 0).
template <class Real>
bool eig_positive(const matrix<Real>& K) {
  const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(K, Eigen::EigenvaluesOnly);
  return eig.eigenvalues().minCoeff() > 0;
}

template <class Real>
struct hard_margin_result {
  bool separable = false;
  std::string message;  // why not, when not separable (or the solve failed)
  // The support: constraints (x, y) with alpha > 0, and their weights; W_hat = sum_i alpha_i
  // (u_t - u_y) e_x^T.
  std::vector<std::pair<int, int>> support;
  vector<Real> alpha;
  matrix<Real> W;                 // d x d, W_hat
  Real norm2 = Real(0);           // |W_hat|_F^2 = sum alpha
  matrix<Real> margins;           // N x M: (u_t - u_y)^T W_hat e_x (the target column 0)
  Real smallest_alpha = Real(0);  // min over the support (> 0 for a valid solution)
  Real slack = Real(0);      // min over constraints off the support of m_i - 1 (> 0, or none: 1)
  Real residual = Real(0);   // max over the support of |m_i - 1| (rounding)
  Real condition = Real(0);  // of K_SS: the weights' relative error is about condition (residual +
                             // eps), before the inputs' own rounding
  // The offset: W(tau) = W_hat log tau + W~ + o(1). On the support, p(x) e^(-a_i . W~ - k_i) =
  // alpha_i (a_i = (u_t - u_y) e_x^T, k_i = c_xt - c_xy the logit offsets' margin), which fixes W~
  // in the span of the support's a_i; when they span every direction the flow moves W in (the
  // gradients' span), W~ is that part plus W0's part outside the span, and the angle between W(tau)
  // and W_hat obeys
  //   tan(angle) (log tau + shift) -> angle_constant,
  // shift = <W~, W_hat> / |W_hat|^2, angle_constant = |W~ - shift W_hat| / |W_hat| (derived in
  // analysis/claims_limits.cpp). shift needs only the support; the rest needs offset_determined.
  bool offset_determined = false;
  matrix<Real> offset;            // d x d, W~ (when offset_determined)
  Real shift = Real(0);           // <W~, W_hat> / |W_hat|^2
  Real angle_constant = Real(0);  // |W~ - shift W_hat| / |W_hat| (when offset_determined)
  // How fast W(tau) - W_hat log tau approaches W~: the deviation obeys d(delta)/ds = -A delta in
  // log time, A = sum_i alpha_i a_i a_i^T on the support's span, so it decays like tau^-rate with
  // rate = lambda_min(A) = lambda_min(D K_SS D), D = diag(sqrt(alpha)), where that is below 1 (the
  // forcing by the next order of the loss gives log tau / tau otherwise).
  Real approach_rate = Real(0);
};

// The margin constraints i = (x, y), y != f*(x), token by token.
template <class Real>
std::vector<std::pair<int, int>> margin_constraints(const problem<Real>& pb) {
  std::vector<std::pair<int, int>> out;
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      if (y != pb.target[x]) out.push_back({x, y});
    }
  }
  return out;
}

// a_i . a_j for a_i = (u_t - u_y) e_x^T: G_E(x, x') (u_t - u_y) . (u_t' - u_y').
template <class Matrix>
typename Matrix::Scalar constraint_kernel(const Matrix& G_E, const Matrix& G_U,
                                          const std::vector<int>& target,
                                          const std::pair<int, int>& i,
                                          const std::pair<int, int>& j) {
  const auto [x, y] = i;
  const auto [x2, y2] = j;
  const int t = target[x], t2 = target[x2];
  return G_E(x, x2) * (G_U(t, t2) - G_U(t, y2) - G_U(y, t2) + G_U(y, y2));
}

// Coordinate ascent on max_{alpha >= 0} sum alpha - (1/2) alpha^T K alpha in double; false when
// it is unbounded (some nonnegative combination of the constraints vanishes), with `growth` (when
// given) the change of alpha over 1000 further sweeps: the combination's direction, where the
// bounded coordinates have settled. Unbounded: sum alpha > 1e8, or alpha grown past 1e4 while K
// alpha stays below 1e-6 |K| |alpha| (checked every 1000 sweeps and at the end: at a bounded
// optimum K alpha >= 1 on the support, so only a problem separable by a relative margin below
// ~1e-3 could be mistaken; the KKT checks at the working precision follow either way).
inline bool dual_ascent(const Eigen::MatrixXd& K, Eigen::VectorXd& alpha,
                        Eigen::VectorXd* growth = nullptr) {
  const Eigen::Index n = K.rows();
  alpha = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd Ka = Eigen::VectorXd::Zero(n);
  const double K_top = n > 0 ? K.cwiseAbs().maxCoeff() : 0.0;
  const auto sweep = [&] {
    double change = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(K(i, i) > 0)) continue;
      const double next = std::max(0.0, alpha(i) + (1 - Ka(i)) / K(i, i));
      const double d = next - alpha(i);
      if (d != 0) {
        Ka += d * K.col(i);
        alpha(i) = next;
        change = std::max(change, std::abs(d));
      }
    }
    return change;
  };
  const auto vanishing = [&] {
    return alpha.sum() > 1e4 &&
           (K * alpha).cwiseAbs().maxCoeff() <= 1e-6 * K_top * alpha.cwiseAbs().maxCoeff();
  };
  const auto unbounded = [&] {
    if (growth) {
      // sweep() changes alpha: the copy is needed (clang-tidy does not see through the lambda).
      // NOLINTNEXTLINE(performance-unnecessary-copy-initialization)
      const Eigen::VectorXd before = alpha;
      for (int k = 0; k < 1000; ++k) sweep();
      *growth = alpha - before;
    }
    return false;
  };
  const long sweeps = std::max<long>(2000, 100000000L / std::max<long>(1, n * n));
  for (long k = 0; k < sweeps; ++k) {
    if (k % 1000 == 999 && vanishing()) return unbounded();
    const double change = sweep();
    if (alpha.sum() > 1e8) return unbounded();
    if (change <= 1e-14 * std::max(1.0, alpha.maxCoeff())) return true;
  }
  return vanishing() ? unbounded() : true;
}

// The hard-margin memory. The support is identified by coordinate ascent on the dual
//   max_{alpha >= 0} sum alpha - (1/2) alpha^T K alpha,
//   K_ij = G_E(x, x') (u_t - u_y) . (u_t' - u_y')
// in double (an unbounded dual, sum alpha > 1e8, says the problem is not separable); then the
// active set's equations K_SS alpha_S = 1 are solved at the working precision and the KKT
// conditions are checked there: alpha_S > 0 and every other constraint strictly satisfied. A
// support that fails them is reported (separable = false with the reason), never returned as a
// solution.
// Longer than .clang-tidy's 120 lines: the support search, the solve and the KKT checks are to
// become steps of their own.
template <class Real>
// NOLINTNEXTLINE(readability-function-size)
hard_margin_result<Real> hard_margin(const problem<Real>& pb) {
  using std::abs;
  using std::log;
  using std::max;
  using std::min;
  using std::sqrt;
  const int N = pb.tokens, M = pb.classes;
  const std::vector<std::pair<int, int>> constraints = margin_constraints(pb);
  const auto n = static_cast<Eigen::Index>(constraints.size());
  const auto kernel = [&](const auto& G_E, const auto& G_U, Eigen::Index i, Eigen::Index j) {
    return constraint_kernel(G_E, G_U, pb.target, constraints[i], constraints[j]);
  };
  hard_margin_result<Real> result;
  const matrix<Real> G_E = input_gram(pb), G_U = output_gram(pb);
  // Dual coordinate ascent in double.
  const Eigen::MatrixXd GE = G_E.unaryExpr([](const Real& v) { return static_cast<double>(v); });
  const Eigen::MatrixXd GU = G_U.unaryExpr([](const Real& v) { return static_cast<double>(v); });
  Eigen::MatrixXd K(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) K(i, j) = kernel(GE, GU, i, j);
  }
  Eigen::VectorXd alpha;
  if (!dual_ascent(K, alpha)) {
    result.message = "not separable: the hard-margin dual is unbounded (by coordinate ascent)";
    return result;
  }
  const double top = alpha.maxCoeff();
  if (!(top > 0)) {
    result.message = "no constraint is active (every K_ii = 0: some target cannot be separated)";
    return result;
  }
  std::vector<Eigen::Index> S;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (alpha(i) > 1e-9 * top) S.push_back(i);
  }
  const auto s = static_cast<Eigen::Index>(S.size());
  matrix<Real> KS(s, s);
  for (Eigen::Index a = 0; a < s; ++a) {
    for (Eigen::Index b = 0; b < s; ++b) KS(a, b) = kernel(G_E, G_U, S[a], S[b]);
  }
  const vector<Real> ones = vector<Real>::Ones(s);
  const Eigen::LDLT<matrix<Real>> ldlt(KS);
  vector<Real> aS = ldlt.solve(ones);
  // One step of refinement at the working precision.
  aS += ldlt.solve(vector<Real>(ones - KS * aS));
  result.alpha = aS;
  result.smallest_alpha = aS.minCoeff();
  result.norm2 = aS.sum();
  matrix<Real> C = matrix<Real>::Zero(M, N);  // W_hat = U^T C E
  for (Eigen::Index a = 0; a < s; ++a) {
    const auto [x, y] = constraints[S[a]];
    result.support.push_back({x, y});
    C(pb.target[x], x) += aS(a);
    C(y, x) -= aS(a);
  }
  result.W = pb.U.transpose() * C * pb.E;
  // Margins of every constraint from the kernel: m_i = sum_{a in S} K_{i S_a} alpha_a.
  result.margins = matrix<Real>::Zero(N, M);
  Real slack(1), residual(0);
  for (Eigen::Index i = 0; i < n; ++i) {
    Real m(0);
    for (Eigen::Index a = 0; a < s; ++a) m += kernel(G_E, G_U, i, S[a]) * aS(a);
    const auto [x, y] = constraints[i];
    result.margins(x, y) = m;
    const bool on = std::find(S.begin(), S.end(), i) != S.end();
    if (on) {
      residual = max(residual, Real(abs(Real(m - 1))));
    } else {
      slack = min(slack, Real(m - 1));
    }
  }
  result.slack = slack;
  result.residual = residual;
  // The active set's equations must be well posed and hold: K_SS far from singular at this
  // precision (the dual ascent of a non-separable problem leaves a singular one, whose "solution"
  // is huge and does not solve them), every weight positive and every other margin > 1.
  {
    const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(KS, Eigen::EigenvaluesOnly);
    result.condition = eig.eigenvalues().maxCoeff() / abs(Real(eig.eigenvalues().minCoeff()));
  }
  const Real eps = scalar::epsilon<Real>();
  const bool posed = result.condition * eps < Real(1) / 1000 && eig_positive(KS);
  if (!posed || !(residual <= 1000 * Real(s) * eps * result.condition) ||
      !(result.smallest_alpha > 0) || !(slack > 0)) {
    result.message =
        "no hard-margin memory: the support found by dual ascent fails the KKT conditions (its "
        "equations singular or unsolved, a weight <= 0 or a margin off the support <= 1): not "
        "separable, or degenerate";
    return result;
  }
  result.separable = true;
  // The offset. K_SS beta = log(p(x) / alpha_i) gives the part of W~ in the support's span,
  // sum beta_i a_i (its margins on the support are exactly those logs); <W~, W_hat> = sum_i beta_i
  // (K_SS alpha = 1), without logit offsets. The support spans the gradients' span when the kernel
  // of every constraint has rank |S| (rank by eigenvalues above 1e-9 of the largest, in double).
  vector<Real> b(s), m0(s);
  for (Eigen::Index a = 0; a < s; ++a) {
    const auto [x, y] = constraints[S[a]];
    b(a) = log(Real(pb.p(x) / aS(a)));
    m0(a) = pb.Z0(x, pb.target[x]) - pb.Z0(x, y);
  }
  vector<Real> beta = ldlt.solve(b);
  beta += ldlt.solve(vector<Real>(b - KS * beta));
  // With logit offsets C the margins of W~ on the support are b_i - (c_xt - c_xy), and
  // <W~, W_hat> = sum_i alpha_i a_i . W~ = sum beta_i - sum_i alpha_i (c_xt - c_xy).
  Real through_offsets(0);
  if (pb.has_offsets()) {
    for (Eigen::Index a = 0; a < s; ++a) {
      const auto [x, y] = constraints[S[a]];
      through_offsets += aS(a) * (pb.C(x, pb.target[x]) - pb.C(x, y));
    }
  }
  result.shift = (beta.sum() - through_offsets) / result.norm2;
  {
    const vector<Real> root = aS.cwiseSqrt();
    const matrix<Real> A = root.asDiagonal() * KS * root.asDiagonal();
    const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(A, Eigen::EigenvaluesOnly);
    result.approach_rate = eig.eigenvalues().minCoeff();
  }
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> all(K, Eigen::EigenvaluesOnly);
  const double largest = all.eigenvalues().maxCoeff();
  Eigen::Index rank = 0;
  for (Eigen::Index i = 0; i < n; ++i) rank += all.eigenvalues()(i) > 1e-9 * largest ? 1 : 0;
  if (rank == s) {
    // W0's part in the span: sum gamma_i a_i with K_SS gamma = the margins a_i . W0.
    vector<Real> gamma = ldlt.solve(m0);
    gamma += ldlt.solve(vector<Real>(m0 - KS * gamma));
    matrix<Real> D = matrix<Real>::Zero(M, N);  // sum (beta - gamma)_i a_i = U^T D E
    for (Eigen::Index a = 0; a < s; ++a) {
      const auto [x, y] = constraints[S[a]];
      D(pb.target[x], x) += beta(a) - gamma(a);
      D(y, x) -= beta(a) - gamma(a);
    }
    result.offset = pb.U.transpose() * D * pb.E + pb.W0;
    result.offset_determined = true;
    const matrix<Real> perp = result.offset - result.shift * result.W;
    result.angle_constant = sqrt(Real(perp.squaredNorm() / result.norm2));
  }
  return result;
}

// An outcome: undefined when there is no finite minimiser, no_convergence when Newton stalls.
template <class Real>
struct minimiser_result : outcome {
  matrix<Real> Z;  // N x M logits at W*
  matrix<Real> W;  // d x d, the minimum-norm memory with those logits (weights_from_logits)
  Real loss = Real(0);
  Real gradient_norm = Real(0);  // |grad L(W*)|_F
  int iterations = 0;
  vector<Real> spectrum;  // eigenvalues of the Hessian of L at W* on vec(W), ascending (d^2)
  Real eta_c = Real(0);   // 2 / lambda_max
};

// W* by Newton's method in the coordinates the flow moves in (Z = Z0 + F X G^T, G_E = F F^T,
// G_U = G G^T), with the Hessian pseudo-inverted (eigenvalues below 1e3 eps lambda_max dropped:
// directions the loss does not see) and a backtracking line search on the loss; converged when
// the gradient is below 100 eps (relative to the first one) and the Newton decrement stops falling.
// A separable problem, or one whose infimum is not attained, makes Newton's iterates run away
// (an outcome of reason undefined, or no_convergence when Newton's method stalls).
template <class Real>
minimiser_result<Real> minimiser(const problem<Real>& pb, int max_iterations = 200) {
  using std::abs;
  using std::sqrt;
  const matrix<Real> F = gram_factor(pb.E, pb.G_E), G = gram_factor(pb.U, pb.G_U);
  const Eigen::Index rE = F.cols(), rU = G.cols(), r = rE * rU;
  const auto logits_of = [&](const matrix<Real>& X) {
    return matrix<Real>(pb.Z0 + F * X * G.transpose());
  };
  const Real eps = scalar::epsilon<Real>();
  minimiser_result<Real> result;
  matrix<Real> X = matrix<Real>::Zero(rE, rU);
  Real first_gradient(-1);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    const matrix<Real> Z = logits_of(X);
    const matrix<Real> g = F.transpose() * residual(pb, Z) * G;
    const Real gnorm = g.norm();
    if (first_gradient < 0) first_gradient = gnorm;
    result.iterations = iteration;
    if (gnorm <= 100 * eps * std::max(Real(1), first_gradient)) break;
    const matrix<Real> H = reduced_hessian(pb, Z, F, G);
    const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(H);
    const Real top = eig.eigenvalues().maxCoeff();
    const vector<Real> gv = Eigen::Map<const vector<Real>>(g.data(), r);
    const vector<Real> c = eig.eigenvectors().transpose() * gv;
    vector<Real> step = vector<Real>::Zero(r);
    for (Eigen::Index k = 0; k < r; ++k) {
      if (eig.eigenvalues()(k) > 1000 * eps * top) {
        step -= (c(k) / eig.eigenvalues()(k)) * eig.eigenvectors().col(k);
      }
    }
    const Real L0 = loss(pb, Z);
    Real t(1);
    matrix<Real> next;
    for (int halving = 0; halving < 60; ++halving) {
      next = X + t * Eigen::Map<const matrix<Real>>(step.data(), rE, rU);
      if (loss(pb, logits_of(next)) <= L0 + eps * abs(L0)) break;
      t /= 2;
    }
    X = next;
    if (!(X.cwiseAbs().maxCoeff() < 1e6)) {
      result.fail(
          reason::undefined,
          "Newton's iterates run away (|X| > 1e6): no finite minimiser (separable, or the infimum "
          "is not attained)");
      return result;
    }
  }
  result.Z = logits_of(X);
  // Directions the Newton steps dropped must be ones the loss cannot see: logit changes constant
  // along each row. Otherwise the loss is flat there only because the iterates ran off towards an
  // infimum that is not attained (the separable part of a mixed problem).
  {
    const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(reduced_hessian(pb, result.Z, F, G));
    const Real top = eig.eigenvalues().maxCoeff();
    for (Eigen::Index k = 0; k < r; ++k) {
      if (eig.eigenvalues()(k) > 1000 * eps * top) continue;
      const vector<Real> v = eig.eigenvectors().col(k);
      const matrix<Real> dZ = F * Eigen::Map<const matrix<Real>>(v.data(), rE, rU) * G.transpose();
      Real spread(0);
      for (int x = 0; x < pb.tokens; ++x) {
        spread = std::max(spread, Real(dZ.row(x).maxCoeff() - dZ.row(x).minCoeff()));
      }
      if (spread > 1000 * eps * std::max(Real(1), Real(dZ.cwiseAbs().maxCoeff()))) {
        result.fail(
            reason::undefined,
            "no finite minimiser: the loss flattens along a direction that changes the margins "
            "(its infimum is approached at infinity; the separable part of a mixed problem)");
        return result;
      }
    }
  }
  const matrix<Real> g = F.transpose() * residual(pb, result.Z) * G;
  result.gradient_norm = g.norm();
  if (!(result.gradient_norm <= 1000 * eps * std::max(Real(1), first_gradient))) {
    result.fail(reason::no_convergence,
                "Newton's method did not converge in " + std::to_string(max_iterations) +
                    " iterations (gradient " + scalar::to_text<Real>(result.gradient_norm) + ")");
    return result;
  }
  // With F = E and G = U (d <= N, M) the coordinates are the memory itself: W = W0 + X^T.
  result.W = F.cols() == pb.dim && G.cols() == pb.dim && pb.dim <= pb.tokens && pb.dim <= pb.classes
                 ? matrix<Real>(pb.W0 + X.transpose())
                 : weights_from_logits(pb, result.Z);
  result.loss = loss(pb, result.Z);
  const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(hessian(pb, result.W),
                                                        Eigen::EigenvaluesOnly);
  result.spectrum = eig.eigenvalues();
  result.eta_c = 2 / result.spectrum.maxCoeff();
  return result;
}

// A mixed problem (neither separable nor with a minimiser): the constraints split into a
// separable part S and a converging part J (Ji and Telgarsky 2019): J are those in some vanishing
// nonnegative combination sum lambda_j a_j = 0 (no W raises them all), S the rest, which some W
// raises while keeping every a_j . W = 0 on J. Late in the flow W(tau) = W_hat_S log tau + O(1),
// W_hat_S the hard margin of S in the complement of span{a_j : j in J} (K_SS replaced by its Schur
// complement), and J's margins converge to the minimiser of
//   L_J(m) = sum_x p(x) log(1 + sum_{y : (x, y) in J} e^(-m_xy))
// over the margins span{a_j} reaches (the terms of S vanish like 1 / tau), unique there; L(tau) ->
// L_J(m*). J is found by peeling: while the dual ascent on the remaining constraints (projected off
// span J) is unbounded, the constraints its growing direction uses join J.
template <class Real>
struct split_result : outcome {
  std::vector<std::pair<int, int>> converging;  // J
  vector<Real> converging_margins;              // their limits
  Real loss_limit = Real(0);                    // L_J at them: the limit of L(tau)
  Real gradient_norm = Real(0);                 // of L_J in the reduced coordinates, at the end
  Real smallest_curvature = Real(0);            // smallest eigenvalue of that Hessian
  int iterations = 0;                           // Newton's
  std::vector<std::pair<int, int>> separable;   // S
  std::vector<std::pair<int, int>> support;     // S's support, with its weights
  vector<Real> alpha;
  vector<Real> margins;  // W_hat_S's margins on S (in the order of separable)
  Real norm2 = Real(0);  // |W_hat_S|^2 = sum alpha
  Real residual = Real(0), slack = Real(0), condition = Real(0);
};

// Longer than .clang-tidy's 120 lines: the peeling, the hard margin off span J and J's Newton
// solve are to become steps of their own.
template <class Real>
// NOLINTNEXTLINE(readability-function-size)
split_result<Real> split_limit(const problem<Real>& pb, int max_iterations = 200) {
  using std::abs;
  using std::exp;
  using std::log;
  using std::sqrt;
  split_result<Real> result;
  const int N = pb.tokens;
  const std::vector<std::pair<int, int>> constraints = margin_constraints(pb);
  const auto n = static_cast<Eigen::Index>(constraints.size());
  const matrix<Real> G_E = input_gram(pb), G_U = output_gram(pb);
  matrix<Real> K(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < n; ++j) {
      K(i, j) = constraint_kernel(G_E, G_U, pb.target, constraints[i], constraints[j]);
    }
  }
  const Real eps = scalar::epsilon<Real>();
  // The kernel of the rows R projected off span{a_j : j in J}: K_RR - K_RJ K_JJ^+ K_JR, the
  // pseudo-inverse dropping eigenvalues below `floor` times the largest.
  const auto projected = [](const auto& Kfull, const std::vector<Eigen::Index>& R,
                            const std::vector<Eigen::Index>& J, const auto& floor) {
    using Matrix = std::decay_t<decltype(Kfull)>;
    using Scalar = typename Matrix::Scalar;
    const auto r = static_cast<Eigen::Index>(R.size()), m = static_cast<Eigen::Index>(J.size());
    Matrix KRR(r, r), KRJ(r, m), KJJ(m, m);
    for (Eigen::Index a = 0; a < r; ++a) {
      for (Eigen::Index b = 0; b < r; ++b) KRR(a, b) = Kfull(R[a], R[b]);
      for (Eigen::Index b = 0; b < m; ++b) KRJ(a, b) = Kfull(R[a], J[b]);
    }
    for (Eigen::Index a = 0; a < m; ++a) {
      for (Eigen::Index b = 0; b < m; ++b) KJJ(a, b) = Kfull(J[a], J[b]);
    }
    if (m == 0) return KRR;
    const Eigen::SelfAdjointEigenSolver<Matrix> eig(KJJ);
    const Scalar top = eig.eigenvalues().maxCoeff();
    Matrix pinv = Matrix::Zero(m, m);
    for (Eigen::Index k = 0; k < m; ++k) {
      if (eig.eigenvalues()(k) > floor * top) {
        pinv += (eig.eigenvectors().col(k) / eig.eigenvalues()(k)) *
                eig.eigenvectors().col(k).transpose();
      }
    }
    const Matrix P = KRR - KRJ * pinv * KRJ.transpose();
    return Matrix((P + P.transpose()) / Scalar(2));
  };
  // Peeling in double.
  const Eigen::MatrixXd Kd = K.unaryExpr([](const Real& v) { return static_cast<double>(v); });
  const double diagonal_top = Kd.diagonal().maxCoeff();
  std::vector<Eigen::Index> J, R;
  Eigen::VectorXd alpha;
  for (;;) {
    R.clear();
    for (Eigen::Index i = 0; i < n; ++i) {
      if (std::find(J.begin(), J.end(), i) == J.end()) R.push_back(i);
    }
    if (R.empty()) break;
    const Eigen::MatrixXd Kp = projected(Kd, R, J, 1e-9);
    // Constraints in span J cannot be raised either.
    std::vector<Eigen::Index> joining;
    for (size_t a = 0; a < R.size(); ++a) {
      if (!(Kp(a, a) > 1e-9 * diagonal_top)) joining.push_back(R[a]);
    }
    if (joining.empty()) {
      Eigen::VectorXd growth;
      if (dual_ascent(Kp, alpha, &growth)) break;
      const double top = growth.maxCoeff();
      for (size_t a = 0; a < R.size(); ++a) {
        if (growth(a) > 1e-3 * top) joining.push_back(R[a]);
      }
    }
    if (joining.empty()) {
      result.fail(reason::undefined,
                  "the split failed: an unbounded dual with no direction to peel");
      return result;
    }
    J.insert(J.end(), joining.begin(), joining.end());
    std::sort(J.begin(), J.end());
  }
  if (J.empty()) {
    result.fail(reason::undefined, "separable: no converging part (see the hard margin)");
    return result;
  }
  if (R.empty()) {
    result.fail(reason::undefined,
                "no separable part: every constraint converges (see the minimiser)");
    return result;
  }
  for (const Eigen::Index j : J) result.converging.push_back(constraints[j]);
  for (const Eigen::Index i : R) result.separable.push_back(constraints[i]);
  // S's hard margin at the working precision, in the complement of span J.
  const matrix<Real> Kp = projected(K, R, J, Real(1000 * eps));
  const double top = alpha.maxCoeff();
  std::vector<Eigen::Index> S;  // positions in R
  for (size_t a = 0; a < R.size(); ++a) {
    if (alpha(a) > 1e-9 * top) S.push_back(static_cast<Eigen::Index>(a));
  }
  const auto s = static_cast<Eigen::Index>(S.size());
  matrix<Real> KS(s, s);
  for (Eigen::Index a = 0; a < s; ++a) {
    for (Eigen::Index b = 0; b < s; ++b) KS(a, b) = Kp(S[a], S[b]);
  }
  const vector<Real> ones = vector<Real>::Ones(s);
  const Eigen::LDLT<matrix<Real>> ldlt(KS);
  vector<Real> aS = ldlt.solve(ones);
  aS += ldlt.solve(vector<Real>(ones - KS * aS));
  result.alpha = aS;
  result.norm2 = aS.sum();
  for (Eigen::Index a = 0; a < s; ++a) result.support.push_back(constraints[R[S[a]]]);
  result.margins = Kp(Eigen::all, S) * aS;
  Real slack(1), residual(0);
  for (size_t a = 0; a < R.size(); ++a) {
    const bool on = std::find(S.begin(), S.end(), static_cast<Eigen::Index>(a)) != S.end();
    const Real m = result.margins(static_cast<Eigen::Index>(a));
    if (on) {
      residual = std::max(residual, Real(abs(Real(m - 1))));
    } else {
      slack = std::min(slack, Real(m - 1));
    }
  }
  {
    const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(KS, Eigen::EigenvaluesOnly);
    result.condition = eig.eigenvalues().maxCoeff() / abs(Real(eig.eigenvalues().minCoeff()));
  }
  result.slack = slack;
  result.residual = residual;
  if (!(result.condition * eps < Real(1) / 1000) || !eig_positive(KS) ||
      !(residual <= 1000 * Real(s) * eps * result.condition) || !(aS.minCoeff() > 0) ||
      !(slack > 0)) {
    result.fail(reason::undefined,
                "the separable part's hard margin fails its KKT conditions (degenerate, or the "
                "split is wrong)");
    return result;
  }
  // J's limit: Newton on zeta with m = B zeta, B = V sqrt(Lambda) over K_JJ's range.
  const auto m = static_cast<Eigen::Index>(J.size());
  matrix<Real> KJJ(m, m);
  for (Eigen::Index a = 0; a < m; ++a) {
    for (Eigen::Index b = 0; b < m; ++b) KJJ(a, b) = K(J[a], J[b]);
  }
  const Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(KJJ);
  const Real top_J = eig.eigenvalues().maxCoeff();
  std::vector<Eigen::Index> kept;
  for (Eigen::Index k = 0; k < m; ++k) {
    if (eig.eigenvalues()(k) > 1000 * eps * top_J) kept.push_back(k);
  }
  matrix<Real> B(m, static_cast<Eigen::Index>(kept.size()));
  for (size_t k = 0; k < kept.size(); ++k) {
    B.col(static_cast<Eigen::Index>(k)) =
        eig.eigenvectors().col(kept[k]) * sqrt(Real(eig.eigenvalues()(kept[k])));
  }
  const auto loss_J = [&](const vector<Real>& margin) {
    Real total(0);
    for (int x = 0; x < N; ++x) {
      Real sum(0);
      bool any = false;
      for (Eigen::Index a = 0; a < m; ++a) {
        if (constraints[J[a]].first == x) {
          sum += exp(Real(-margin(a)));
          any = true;
        }
      }
      if (any) total += pb.p(x) * log1p(sum);
    }
    return total;
  };
  vector<Real> zeta = vector<Real>::Zero(B.cols());
  Real first(-1);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    const vector<Real> margin = B * zeta;
    vector<Real> g = vector<Real>::Zero(m);
    matrix<Real> H = matrix<Real>::Zero(m, m);
    for (int x = 0; x < N; ++x) {
      std::vector<Eigen::Index> own;
      Real sum(1);
      for (Eigen::Index a = 0; a < m; ++a) {
        if (constraints[J[a]].first == x) {
          own.push_back(a);
          sum += exp(Real(-margin(a)));
        }
      }
      for (const Eigen::Index a : own) {
        const Real qa = exp(Real(-margin(a))) / sum;
        g(a) = -pb.p(x) * qa;
        for (const Eigen::Index b : own) {
          const Real qb = exp(Real(-margin(b))) / sum;
          H(a, b) = pb.p(x) * ((a == b ? qa : Real(0)) - qa * qb);
        }
      }
    }
    const vector<Real> gz = B.transpose() * g;
    const matrix<Real> Hz = B.transpose() * H * B;
    result.gradient_norm = gz.norm();
    result.iterations = iteration;
    {
      const Eigen::SelfAdjointEigenSolver<matrix<Real>> curv(Hz, Eigen::EigenvaluesOnly);
      result.smallest_curvature = curv.eigenvalues().minCoeff();
    }
    if (first < 0) first = result.gradient_norm;
    if (result.gradient_norm <= 100 * eps * std::max(Real(1), first)) break;
    const vector<Real> step = -Hz.ldlt().solve(gz);
    const Real L0 = loss_J(margin);
    Real t(1);
    while (t > Real(1) / 1024 && !(loss_J(vector<Real>(B * (zeta + t * step))) <= L0)) t /= 2;
    zeta += t * step;
    if (iteration + 1 == max_iterations) {
      result.fail(reason::no_convergence,
                  "the converging part's Newton iteration did not converge");
      return result;
    }
  }
  result.converging_margins = B * zeta;
  result.loss_limit = loss_J(result.converging_margins);
  if (!(result.smallest_curvature > 0)) {
    result.fail(reason::undefined,
                "the converging part's loss is not strictly convex at its limit");
    return result;
  }
  return result;
}

}  // namespace amflow::model

// The far-time limits are compiled once per scalar type (the generated units limits_*.cpp): a
// command or claim that includes this header does not compile them again.
#define AMFLOW_INSTANTIATE_LIMITS(PREFIX, Real)                                             \
  PREFIX template amflow::model::hard_margin_result<Real> amflow::model::hard_margin<Real>( \
      const amflow::model::problem<Real>&);                                                 \
  PREFIX template amflow::model::minimiser_result<Real> amflow::model::minimiser<Real>(     \
      const amflow::model::problem<Real>&, int);                                            \
  PREFIX template amflow::model::split_result<Real> amflow::model::split_limit<Real>(       \
      const amflow::model::problem<Real>&, int);

AMFLOW_EXTERN_FOR_EACH_REAL(AMFLOW_INSTANTIATE_LIMITS)
