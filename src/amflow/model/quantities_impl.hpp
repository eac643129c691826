// Definitions for quantities.hpp: included where its templates are instantiated (the per-scalar
// units that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its
// own); other code sees the extern declarations.
#pragma once

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <boost/math/special_functions/log1p.hpp>
#include <cmath>
#include <random>

#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::model {

// C + E W^T U^T, the product in the cheaper order: (E W^T) U^T costs N d^2 + N d M multiplications,
// E (W^T U^T) d^2 M + N d M; the second when M < N (N = 10^4, M = 5, d = 100: 20x fewer), else the
// first.
template <class Real>
void logits_into(const problem<Real>& pb, const matrix<Real>& W, matrix<Real>& Z, matrix<Real>& T) {
  if (pb.classes < pb.tokens) {
    T.noalias() = W.transpose() * pb.U.transpose();
    Z.noalias() = pb.E * T;
  } else {
    T.noalias() = pb.E * W.transpose();
    Z.noalias() = T * pb.U.transpose();
  }
  if (pb.has_offsets()) Z += pb.C;
}

template <class Real>
matrix<Real> logits(const problem<Real>& pb, const matrix<Real>& W) {
  matrix<Real> Z, T;
  logits_into(pb, W, Z, T);
  return Z;
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
// keeps full relative precision at any margin. Returns the row's sum of exp(z - top), and sets top
// and others (the same sum without the target's term), from which row_loss forms the loss.
template <class Real>
Real residual_row(const problem<Real>& pb, const matrix<Real>& Z, Eigen::Index x, const Real& w,
                  matrix<Real>& R, Real& top, Real& others) {
  using std::exp;
  const Eigen::Index t = pb.target[x];
  top = Z.row(x).maxCoeff();
  others = 0;
  Real sum(0);
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

// The loss of a row, logsumexp(z) - z_t = (top - z_t) + log(sum): when the target leads (top = z_t,
// sum = 1 + others) it is log1p(others), which keeps full relative precision as the loss goes to
// 0; when it trails, the loss is at least log 2 and the plain form is exact enough.
template <class Real>
Real row_loss(const Real& top, const Real& z_target, const Real& others, const Real& sum) {
  using std::log;
  if (z_target != top) return (top - z_target) + log(sum);
  if constexpr (is_float128_v<Real>) {
    return log1pq(others.backend().value());  // quadmath's own (Boost's generic one is slower)
  } else {
    return Real(boost::math::log1p(others));
  }
}

}  // namespace detail

template <class Real>
matrix<Real> residual(const problem<Real>& pb, const matrix<Real>& Z) {
  matrix<Real> R(Z.rows(), Z.cols());
  Real top, others;
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    detail::residual_row(pb, Z, x, pb.p(x), R, top, others);
  }
  return R;
}

template <class Real>
Real residual_and_loss(const problem<Real>& pb, const matrix<Real>& Z, const vector<Real>& w,
                       matrix<Real>& R) {
  R.resize(Z.rows(), Z.cols());
  Real total(0), top, others;
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    const Real sum = detail::residual_row(pb, Z, x, w(x), R, top, others);
    total += pb.p(x) * detail::row_loss(top, Z(x, pb.target[x]), others, sum);
  }
  return total;
}

template <class Real>
Real loss(const problem<Real>& pb, const matrix<Real>& Z) {
  matrix<Real> R;
  return residual_and_loss(pb, Z, pb.p, R);
}

namespace detail {

// The predicted class of row x: the first largest logit (ties keep the lower index, as argmax).
template <class Real>
int predicted(const matrix<Real>& Z, Eigen::Index x) {
  Eigen::Index best = 0;
  for (Eigen::Index y = 1; y < Z.cols(); ++y) {
    if (Z(x, y) > Z(x, best)) best = y;
  }
  return static_cast<int>(best);
}

}  // namespace detail

template <class Real>
std::vector<int> predictions(const matrix<Real>& Z) {
  std::vector<int> f(static_cast<size_t>(Z.rows()));
  for (Eigen::Index x = 0; x < Z.rows(); ++x) f[x] = detail::predicted(Z, x);
  return f;
}

template <class Real>
Real zero_one_loss(const problem<Real>& pb, const matrix<Real>& Z) {
  // Row by row, no allocation (GD calls this every step).
  Real total(0);
  for (Eigen::Index x = 0; x < Z.rows(); ++x) {
    if (detail::predicted(Z, x) != pb.target[x]) total += pb.p(x);
  }
  return total;
}

template <class Real>
vector<Real> margins(const problem<Real>& pb, const matrix<Real>& Z) {
  vector<Real> m(Z.rows());
  margins_into(pb, Z, m);
  return m;
}

template <class Real>
void margins_into(const problem<Real>& pb, const matrix<Real>& Z, vector<Real>& m) {
  m.resize(Z.rows());
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
}

template <class Real>
matrix<Real> gradient(const problem<Real>& pb, const matrix<Real>& W) {
  return gradient_of_residual(pb, residual(pb, logits(pb, W)));
}

// U^T R^T E in the cheaper order, as logits: U^T (R^T E) when M < N.
template <class Real>
void gradient_of_residual_into(const problem<Real>& pb, const matrix<Real>& R, matrix<Real>& G,
                               matrix<Real>& S) {
  if (pb.classes < pb.tokens) {
    S.noalias() = R.transpose() * pb.E;
    G.noalias() = pb.U.transpose() * S;
  } else {
    S.noalias() = pb.U.transpose() * R.transpose();
    G.noalias() = S * pb.E;
  }
}

template <class Real>
matrix<Real> gradient_of_residual(const problem<Real>& pb, const matrix<Real>& R) {
  matrix<Real> G, S;
  gradient_of_residual_into(pb, R, G, S);
  return G;
}

namespace detail {

// The softmax of each row of Z with what the precision-sensitive forms need: pi (N x M), the
// leading class c of each row and rest = 1 - pi_c summed from the other weights (full relative
// precision when pi_c is 1 - O(e^-m)).
template <class Real>
struct softmax_parts {
  matrix<Real> pi;
  std::vector<Eigen::Index> top;
  vector<Real> rest;

  explicit softmax_parts(const matrix<Real>& Z) : pi(Z.rows(), Z.cols()), rest(Z.rows()) {
    using std::exp;
    top.resize(static_cast<size_t>(Z.rows()));
    for (Eigen::Index x = 0; x < Z.rows(); ++x) {
      Eigen::Index c = 0;
      for (Eigen::Index y = 1; y < Z.cols(); ++y) {
        if (Z(x, y) > Z(x, c)) c = y;
      }
      top[x] = c;
      Real sum(0), others(0);
      for (Eigen::Index y = 0; y < Z.cols(); ++y) {
        pi(x, y) = exp(Z(x, y) - Z(x, c));
        sum += pi(x, y);
        if (y != c) others += pi(x, y);
      }
      pi.row(x) /= sum;
      rest(x) = others / sum;
    }
  }

  // pi_y (1 - pi_y) for row x.
  Real variance(Eigen::Index x, Eigen::Index y) const {
    return pi(x, y) * (y == top[x] ? rest(x) : Real(1 - pi(x, y)));
  }
};

// A = B K B^T (N M x N M, on N x M matrices), the symmetric form of the Hessian (see
// sharpness_with_error), applied matrix-free.
template <class Real>
class hessian_operator {
 public:
  hessian_operator(const problem<Real>& pb, const matrix<Real>& Z)
      : pb_(pb), parts_(Z), root_(Z.rows(), Z.cols()) {
    using std::sqrt;
    for (Eigen::Index x = 0; x < Z.rows(); ++x) {
      for (Eigen::Index y = 0; y < Z.cols(); ++y)
        root_(x, y) = sqrt(Real(pb.p(x) * parts_.pi(x, y)));
    }
  }

  // (B V)(x, y) = sqrt(p pi_y) (v_y - pi . v), with pi . v = v_c + sum_{y != c} pi_y (v_y - v_c).
  matrix<Real> apply_b(const matrix<Real>& V) const {
    matrix<Real> out(V.rows(), V.cols());
    for (Eigen::Index x = 0; x < V.rows(); ++x) {
      const Eigen::Index c = parts_.top[x];
      Real mean(0);
      for (Eigen::Index y = 0; y < V.cols(); ++y) {
        if (y != c) mean += parts_.pi(x, y) * (V(x, y) - V(x, c));
      }
      for (Eigen::Index y = 0; y < V.cols(); ++y) {
        out(x, y) = root_(x, y) * Real((V(x, y) - V(x, c)) - mean);
      }
    }
    return out;
  }

  // (B^T U)(x, .) = (I - pi 1^T) t, t_y = sqrt(p pi_y) u_y; the leading entry as
  // t_c rest - pi_c sum_{y != c} t_y.
  matrix<Real> apply_bt(const matrix<Real>& U) const {
    matrix<Real> out(U.rows(), U.cols());
    for (Eigen::Index x = 0; x < U.rows(); ++x) {
      const Eigen::Index c = parts_.top[x];
      Real others(0);
      for (Eigen::Index y = 0; y < U.cols(); ++y) {
        out(x, y) = root_(x, y) * U(x, y);
        if (y != c) others += out(x, y);
      }
      const Real tc = out(x, c);
      for (Eigen::Index y = 0; y < U.cols(); ++y) {
        if (y != c) out(x, y) -= parts_.pi(x, y) * Real(tc + others);
      }
      out(x, c) = tc * parts_.rest(x) - parts_.pi(x, c) * others;
    }
    return out;
  }

  matrix<Real> operator()(const matrix<Real>& V) const {
    return apply_b(interact(pb_, apply_bt(V)));
  }

  // A bound on || |B| |K| |B^T| ||_2, the scale of the rounding errors in applying A: each block
  // has || |B_x| ||^2 <= 4 (sqrt(M) + 1) p(x) rest_x (rest_x = 1 - pi_c, its entries being
  // sqrt(p pi_y) (delta - pi)), and || |K| || <= || |G_E| ||_inf || |G_U| ||_inf (through the
  // embeddings' absolute values where a Gram matrix was not formed: model::gram_abs_bound).
  Real rounding_scale() const {
    using std::sqrt;
    Real b(0);
    for (Eigen::Index x = 0; x < parts_.pi.rows(); ++x) {
      const Real bx = pb_.p(x) * parts_.rest(x);
      if (bx > b) b = bx;
    }
    return 4 * (sqrt(Real(pb_.classes)) + 1) * b * gram_abs_bound(pb_.E, pb_.G_E) *
           gram_abs_bound(pb_.U, pb_.G_U);
  }

 private:
  const problem<Real>& pb_;
  softmax_parts<Real> parts_;
  matrix<Real> root_;  // sqrt(p(x) pi_x(y))
};

}  // namespace detail

template <class Real>
matrix<Real> hessian(const problem<Real>& pb, const matrix<Real>& W) {
  const int d = pb.dim;
  const detail::softmax_parts<Real> parts(logits(pb, W));
  matrix<Real> H = matrix<Real>::Zero(d * d, d * d);
  for (int x = 0; x < pb.tokens; ++x) {
    const vector<Real> pi = parts.pi.row(x).transpose();
    matrix<Real> S = -pi * pi.transpose();
    for (int y = 0; y < pb.classes; ++y) S(y, y) = parts.variance(x, y);
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
sharpness_result<Real> sharpness_with_error(const problem<Real>& pb, const matrix<Real>& Z) {
  using std::abs;
  using std::max;
  const Eigen::Index N = pb.tokens, M = pb.classes, n = N * M;
  const detail::hessian_operator<Real> A(pb, Z);
  const Real eps = scalar::epsilon<Real>();
  const auto as_matrix = [&](const vector<Real>& v) {
    return matrix<Real>(Eigen::Map<const matrix<Real>>(v.data(), N, M));
  };
  const auto as_vector = [&](const matrix<Real>& V) {
    return vector<Real>(Eigen::Map<const vector<Real>>(V.data(), n));
  };
  // The result for a unit vector v with Rayleigh quotient theta: the residual |A v - theta v|, plus
  // the rounding errors of computing it.
  const Real rounding = (N + M + 16) * eps * A.rounding_scale();
  const auto result = [&](const Real& theta, const vector<Real>& v, int iterations) {
    sharpness_result<Real> r;
    r.value = theta;
    const vector<Real> residual = as_vector(A(as_matrix(v))) - theta * v;
    r.error = Real(residual.norm() + rounding + 4 * eps * abs(theta));
    r.lanczos_iterations = iterations;
    return r;
  };

  if (n <= dense_sharpness_limit) {
    matrix<Real> dense(n, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      vector<Real> unit = vector<Real>::Zero(n);
      unit(j) = 1;
      dense.col(j) = as_vector(A(as_matrix(unit)));
    }
    const matrix<Real> sym = (dense + dense.transpose()) / Real(2);
    Eigen::SelfAdjointEigenSolver<matrix<Real>> eig(sym);
    Eigen::Index k;
    eig.eigenvalues().maxCoeff(&k);
    return result(eig.eigenvalues()(k), eig.eigenvectors().col(k), 0);
  }

  // Lanczos with full reorthogonalisation; the start is a fixed seeded vector (the same on every
  // machine), so the result is deterministic.
  const long bytes = scalar::bytes_per_number<Real>() * static_cast<long>(n);
  const long fit = std::max<long>(10, (512L << 20) / std::max<long>(bytes, 1));
  const int max_iterations = static_cast<int>(std::min<long>({500L, static_cast<long>(n), fit}));
  std::vector<vector<Real>> Q;
  std::vector<Real> alpha, beta;
  {
    std::mt19937_64 gen(20240705);
    vector<Real> q(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      q(i) = Real(static_cast<double>(gen() >> 11) * 0x1.0p-52 - 1);  // in [-1, 1)
    }
    q /= q.norm();
    Q.push_back(std::move(q));
  }
  Real theta(0);
  vector<Real> ritz;
  for (int k = 0; k < max_iterations; ++k) {
    vector<Real> w = as_vector(A(as_matrix(Q[k])));
    alpha.push_back(Q[k].dot(w));
    for (int pass = 0; pass < 2; ++pass) {
      for (const auto& q : Q) w -= q.dot(w) * q;
    }
    const Real b = w.norm();
    // The tridiagonal's largest eigenpair: theta and the estimate |beta_k s_k| of its residual.
    const int m = k + 1;
    vector<Real> diag(m), sub(std::max(m - 1, 1));
    for (int i = 0; i < m; ++i) diag(i) = alpha[i];
    for (int i = 0; i + 1 < m; ++i) sub(i) = beta[i];
    Eigen::SelfAdjointEigenSolver<matrix<Real>> tri;
    tri.computeFromTridiagonal(diag, sub.head(m - 1), Eigen::ComputeEigenvectors);
    Eigen::Index top;
    tri.eigenvalues().maxCoeff(&top);
    theta = tri.eigenvalues()(top);
    const vector<Real> s = tri.eigenvectors().col(top);
    const Real estimate = abs(Real(b * s(m - 1)));
    const bool converged = estimate <= 1000 * eps * max(abs(theta), Real(eps));
    if (converged || m == max_iterations || b == 0 || m == n) {
      ritz = vector<Real>::Zero(n);
      for (int i = 0; i < m; ++i) ritz += s(i) * Q[i];
      ritz /= ritz.norm();
      return result(theta, ritz, m);
    }
    beta.push_back(b);
    Q.push_back(w / b);
  }
  return result(theta, Q[0], 0);  // not reached: the loop returns at its last iteration
}

template <class Real>
Real sharpness(const problem<Real>& pb, const matrix<Real>& Z) {
  return sharpness_with_error(pb, Z).value;
}

}  // namespace amflow::model
