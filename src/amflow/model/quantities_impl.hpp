// Definitions for quantities.hpp; included only by the per-scalar instantiation units.
#pragma once

#include <Eigen/Eigenvalues>
#include <cmath>

#include "amflow/model/quantities.hpp"

namespace amflow::model {

template <class Real>
matrix<Real> logits(const problem<Real>& pb, const matrix<Real>& W) {
  return pb.E * W.transpose() * pb.U.transpose();
}

template <class Real>
matrix<Real> softmax_rows(const matrix<Real>& Z) {
  using std::exp;
  matrix<Real> P(Z.rows(), Z.cols());
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    const Real top = Z.row(x).maxCoeff();
    Real sum(0);
    for (Eigen::Index y = 0; y < Z.cols(); ++y) {
      P(x, y) = exp(Z(x, y) - top);
      sum += P(x, y);
    }
    P.row(x) /= sum;
  }
  return P;
}

namespace detail {

// Row x of the residual with weight w: R(x, .) = w (pi_x - y_x), the target entry pi_t - 1 written
// as -(sum of the other classes' weights) / sum: once x is learned pi_t is 1 - O(e^-m), and
// subtracting 1 would lose m / log(10) digits (all of them in double by tau = 1e16); this form
// keeps full relative precision at any margin. Returns the row's sum of exp(z - top) and sets top.
template <class Real>
Real residual_row(const problem<Real>& pb, const matrix<Real>& Z, Eigen::Index x, const Real& w,
                  matrix<Real>& R, Real& top) {
  using std::exp;
  const Eigen::Index t = pb.target[x];
  top = Z.row(x).maxCoeff();
  Real others(0), sum(0);  // sum in index order, as loss() adds it
  for (Eigen::Index y = 0; y < Z.cols(); ++y) {
    R(x, y) = exp(Z(x, y) - top);
    sum += R(x, y);
    if (y != t) others += R(x, y);
  }
  const Real scale = w / sum;
  R.row(x) *= scale;
  R(x, t) = -others * scale;
  return sum;
}

}  // namespace detail

template <class Real>
matrix<Real> residual(const problem<Real>& pb, const matrix<Real>& Z) {
  matrix<Real> R(Z.rows(), Z.cols());
  Real top;
  for (Eigen::Index x = 0; x < Z.rows(); ++x) detail::residual_row(pb, Z, x, pb.p(x), R, top);
  return R;
}

template <class Real>
Real residual_and_loss(const problem<Real>& pb, const matrix<Real>& Z, const vector<Real>& w,
                       matrix<Real>& R) {
  using std::log;
  R.resize(Z.rows(), Z.cols());
  Real total(0), top;
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    const Real sum = detail::residual_row(pb, Z, x, w(x), R, top);
    // As in loss(): (top - z_target) first, exact when the target leads.
    total += pb.p(x) * ((top - Z(x, pb.target[x])) + log(sum));
  }
  return total;
}

template <class Real>
Real loss(const problem<Real>& pb, const matrix<Real>& Z) {
  using std::exp;
  using std::log;
  Real total(0);
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    const Real top = Z.row(x).maxCoeff();
    Real sum(0);
    for (Eigen::Index y = 0; y < Z.cols(); ++y) sum += exp(Z(x, y) - top);
    // (top - z_target) first: exact when the target leads, and no cancellation against |top|.
    total += pb.p(x) * ((top - Z(x, pb.target[x])) + log(sum));
  }
  return total;
}

template <class Real>
std::vector<int> predictions(const matrix<Real>& Z) {
  std::vector<int> f(static_cast<size_t>(Z.rows()));
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    int best = 0;
    for (Eigen::Index y = 1; y < Z.cols(); ++y) {
      if (Z(x, y) > Z(x, best)) best = static_cast<int>(y);  // strict: ties keep the lower index
    }
    f[x] = best;
  }
  return f;
}

template <class Real>
Real zero_one_loss(const problem<Real>& pb, const matrix<Real>& Z) {
  const std::vector<int> f = predictions(Z);
  Real total(0);
  for (int x = 0; x < pb.tokens; ++x) {
    if (f[x] != pb.target[x]) total += pb.p(x);
  }
  return total;
}

template <class Real>
vector<Real> margins(const problem<Real>& pb, const matrix<Real>& Z) {
  vector<Real> m(Z.rows());
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    const int t = pb.target[x];
    bool first = true;
    Real other(0);
    for (Eigen::Index y = 0; y < Z.cols(); ++y) {
      if (y == t) continue;
      if (first || Z(x, y) > other) other = Z(x, y);
      first = false;
    }
    m(x) = Z(x, t) - other;
  }
  return m;
}

template <class Real>
matrix<Real> gradient(const problem<Real>& pb, const matrix<Real>& W) {
  return pb.U.transpose() * residual(pb, logits(pb, W)).transpose() * pb.E;
}

template <class Real>
matrix<Real> hessian(const problem<Real>& pb, const matrix<Real>& W) {
  const int d = pb.dim;
  const matrix<Real> P = softmax_rows(logits(pb, W));
  matrix<Real> H = matrix<Real>::Zero(d * d, d * d);
  for (int x = 0; x < pb.tokens; ++x) {
    const vector<Real> pi = P.row(x).transpose();
    const matrix<Real> S = matrix<Real>(pi.asDiagonal()) - pi * pi.transpose();
    const matrix<Real> B = pb.p(x) * (pb.U.transpose() * S * pb.U);  // d x d
    const matrix<Real> A = pb.E.row(x).transpose() * pb.E.row(x);    // e_x e_x^T
    for (int a = 0; a < d; ++a) {
      for (int b = 0; b < d; ++b) {
        if (A(a, b) == Real(0)) continue;
        H.block(a * d, b * d, d, d) += A(a, b) * B;
      }
    }
  }
  return H;
}

template <class Real>
Real largest_eigenvalue(const matrix<Real>& S) {
  Eigen::SelfAdjointEigenSolver<matrix<Real>> solver(S, Eigen::EigenvaluesOnly);
  return solver.eigenvalues().maxCoeff();
}

template <class Real>
Real sharpness(const problem<Real>& pb, const matrix<Real>& Z) {
  using std::sqrt;
  const int N = pb.tokens, M = pb.classes;
  const matrix<Real> P = softmax_rows(Z);
  // D^{1/2}, block by block: each block p(x) (diag pi - pi pi^T) is symmetric positive
  // semidefinite.
  matrix<Real> root = matrix<Real>::Zero(N * M, N * M);
  for (int x = 0; x < N; ++x) {
    const vector<Real> pi = P.row(x).transpose();
    const matrix<Real> B = pb.p(x) * (matrix<Real>(pi.asDiagonal()) - pi * pi.transpose());
    Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(B);
    vector<Real> s = eig.eigenvalues();
    for (int i = 0; i < M; ++i) s(i) = s(i) > Real(0) ? sqrt(s(i)) : Real(0);
    root.block(x * M, x * M, M, M) =
        eig.eigenvectors() * s.asDiagonal() * eig.eigenvectors().transpose();
  }
  // G_E kron G_U in the same (x, y) -> x * M + y ordering.
  matrix<Real> K(N * M, N * M);
  for (int x = 0; x < N; ++x) {
    for (int x2 = 0; x2 < N; ++x2) K.block(x * M, x2 * M, M, M) = pb.G_E(x, x2) * pb.G_U;
  }
  const matrix<Real> S = root * K * root;
  return largest_eigenvalue(matrix<Real>((S + S.transpose()) / Real(2)));
}

}  // namespace amflow::model
