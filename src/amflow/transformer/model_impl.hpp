// Definitions of transformer/model.hpp's templates, compiled once per scalar type
// (cmake/AmflowInstantiate.cmake: transformer_<type>.cpp).
#pragma once

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>

#include "amflow/descent/rules_impl.hpp"
#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/model/dense.hpp"
#include "amflow/parallel.hpp"
#include "amflow/transformer/model.hpp"

namespace amflow::transformer {
namespace detail {

// Sequences per chunk: the unit of work of a thread and of the ordered sums.
inline constexpr int chunk_sequences = 16;

template <class Real>
void mul(matrix<Real>& C, const matrix<Real>& A, bool ta, const matrix<Real>& B, bool tb) {
  model::multiply_into(C, A, ta, B, tb);
}

// Attention matrices are kept transposed, At(j, i) for key j and query i, so that a query's
// column is contiguous (its softmax vectorises); query i sees keys 0..last[i] (last ascending: a
// causal mask, or the loss positions' rows of one). Products run over blocks of 32 queries up to
// their last key, about half the work of the full square; MPFR multiplies whole (multiply_into,
// exact dots), the masked entries being zero.
inline constexpr int query_block = 32;

template <class F>
void for_query_blocks(Eigen::Index queries, const std::vector<int>& last, F&& f) {
  for (Eigen::Index c0 = 0; c0 < queries; c0 += query_block) {
    const Eigen::Index n = std::min<Eigen::Index>(query_block, queries - c0);
    f(c0, n, static_cast<Eigen::Index>(last[c0 + n - 1]) + 1);
  }
}

// At = K Q^T where it is not masked (the masked entries are left unspecified).
template <class Real>
void scores(matrix<Real>& At, const matrix<Real>& Q, const matrix<Real>& K,
            const std::vector<int>& last) {
  if constexpr (is_mpfr_v<Real>) {
    mul(At, K, false, Q, true);
  } else {
    At.resize(K.rows(), Q.rows());
    for_query_blocks(Q.rows(), last, [&](Eigen::Index c0, Eigen::Index n, Eigen::Index r) {
      At.block(0, c0, r, n).noalias() = K.topRows(r) * Q.middleRows(c0, n).transpose();
    });
  }
}

// C = At^T X (one row per query), At zero where masked.
template <class Real>
void per_query(matrix<Real>& C, const matrix<Real>& At, const matrix<Real>& X,
               const std::vector<int>& last) {
  if constexpr (is_mpfr_v<Real>) {
    mul(C, At, true, X, false);
  } else {
    C.resize(At.cols(), X.cols());
    for_query_blocks(At.cols(), last, [&](Eigen::Index c0, Eigen::Index n, Eigen::Index r) {
      C.middleRows(c0, n).noalias() = At.block(0, c0, r, n).transpose() * X.topRows(r);
    });
  }
}

// C = At X (one row per key), At zero where masked.
template <class Real>
void per_key(matrix<Real>& C, const matrix<Real>& At, const matrix<Real>& X,
             const std::vector<int>& last) {
  if constexpr (is_mpfr_v<Real>) {
    mul(C, At, false, X, false);
  } else {
    C = matrix<Real>::Zero(At.rows(), X.cols());
    for_query_blocks(At.cols(), last, [&](Eigen::Index c0, Eigen::Index n, Eigen::Index r) {
      C.topRows(r).noalias() += At.block(0, c0, r, n) * X.middleRows(c0, n);
    });
  }
}

// The softmax of each query's column over its keys 0..last[i], in place; masked entries become 0.
template <class Real>
void causal_softmax(matrix<Real>& At, const std::vector<int>& last) {
  for (Eigen::Index i = 0; i < At.cols(); ++i) {
    auto x = At.col(i).head(last[i] + 1).array();
    const Real m = x.maxCoeff();
    x = (x - m).exp();
    x /= x.sum();
    At.col(i).tail(At.rows() - last[i] - 1).setZero();
  }
}

// dS = A o (dA - sum(A o dA)) per query (the softmax's backward), in place in dAt; 0 where masked.
template <class Real>
void softmax_backward(matrix<Real>& dAt, const matrix<Real>& At, const std::vector<int>& last) {
  for (Eigen::Index i = 0; i < At.cols(); ++i) {
    const Eigen::Index k = last[i] + 1;
    const auto a = At.col(i).head(k).array();
    auto g = dAt.col(i).head(k).array();
    const Real s = (a * g).sum();
    g = a * (g - s);
    dAt.col(i).tail(At.rows() - k).setZero();
  }
}

template <class Real>
struct chunk_sums {
  Real loss = 0;
  matrix<Real> gWK1, gWK2, gWO2;
  std::vector<matrix<Real>> Z, Pr;  // per loss position, when wo2_block
  std::vector<matrix<Real>> C;      // per loss position, when wo2_problem
  std::vector<int> Y;               // per loss position, when wo2_problem
};

// One sequence's forward and backward, added into `sums`; `scale` = 1 / n (the batch's count).
template <class Real>
void sequence_pass(const weights<Real>& w, const batch& b, int s, const step_options& o,
                   const Real& scale, chunk_sums<Real>& sums) {
  using std::log;
  using std::sqrt;
  const int T = b.length, d = w.dim, N = w.tokens;
  const Real inv_sqrt_d = Real(1) / sqrt(Real(d));
  std::vector<int> sel;
  for (int t = 0; t < T; ++t) {
    if (o.positions == loss_positions::all || b.at(b.outs, s, t) >= 2) sel.push_back(t);
  }
  if (sel.empty()) return;
  const int n = static_cast<int>(sel.size());
  std::vector<int> every(T);
  for (int t = 0; t < T; ++t) every[t] = t;

  matrix<Real> H0(T, d);
  for (int t = 0; t < T; ++t) H0.row(t) = w.E.row(b.at(b.x, s, t)) + w.P.row(t);
  // Layer 1 (all positions), attention kept transposed: A1t(j, i) = softmax_j(h_i . k_j / sqrt d).
  matrix<Real> K1, V1, A1t, Z1, H1, tmp;
  mul(K1, H0, false, w.WK1, true);
  mul(V1, H0, false, w.WV1, true);
  scores(A1t, H0, K1, every);
  A1t *= inv_sqrt_d;
  causal_softmax(A1t, every);
  per_query(Z1, A1t, V1, every);
  mul(tmp, Z1, false, w.WO1, true);
  H1 = H0 + tmp;
  // Layer 2, only at the loss positions (queries), over every key before them.
  matrix<Real> K2, V2, Q2(n, d);
  mul(K2, H1, false, w.WK2, true);
  mul(V2, H1, false, w.WV2, true);
  for (int i = 0; i < n; ++i) Q2.row(i) = H1.row(sel[i]);
  matrix<Real> A2t, Z2, H2, logits;
  scores(A2t, Q2, K2, sel);
  A2t *= inv_sqrt_d;
  causal_softmax(A2t, sel);
  per_query(Z2, A2t, V2, sel);
  mul(tmp, Z2, false, w.WO2, true);
  H2 = Q2 + tmp;
  mul(logits, H2, false, w.WU, true);  // n x N
  matrix<Real> C;
  if (o.wo2_problem) mul(C, Q2, false, w.WU, true);  // c_t = W_U h1_t, n x N
  // Loss and G = d loss / d logits = (softmax - onehot) / n_batch.
  matrix<Real> G(n, N);
  for (int i = 0; i < n; ++i) {
    using std::exp;
    Real m = logits(i, 0);
    for (int j = 1; j < N; ++j) m = std::max(m, logits(i, j));
    Real sum = 0;
    for (int j = 0; j < N; ++j) {
      G(i, j) = exp(logits(i, j) - m);
      sum += G(i, j);
    }
    const int y = b.at(b.y, s, sel[i]);
    sums.loss += (log(sum) + m - logits(i, y)) * scale;
    for (int j = 0; j < N; ++j) G(i, j) /= sum;
    if (o.wo2_block || o.wo2_problem) {
      sums.Z.push_back(Z2.row(i).transpose());
      sums.Pr.push_back(G.row(i).transpose());
    }
    if (o.wo2_problem) {
      sums.C.push_back(C.row(i).transpose());
      sums.Y.push_back(y);
    }
    G(i, y) -= 1;
  }
  if (!o.gradients) return;
  G *= scale;
  matrix<Real> dH2;
  mul(dH2, G, false, w.WU, false);  // n x d
  mul(tmp, dH2, true, Z2, false);   // d x d
  sums.gWO2 += tmp;
  if (o.trained == trained_set::wo2) return;
  // Layer 2.
  matrix<Real> dZ2, dA2t, dV2, dQ2, dK2, dH1;
  mul(dZ2, dH2, false, w.WO2, false);  // n x d
  scores(dA2t, dZ2, V2, sel);          // dA2t(j, i) = dz_i . v_j
  per_key(dV2, A2t, dZ2, sel);         // T x d
  softmax_backward(dA2t, A2t, sel);    // dS2
  dA2t *= inv_sqrt_d;
  per_query(dQ2, dA2t, K2, sel);   // n x d
  per_key(dK2, dA2t, Q2, sel);     // T x d
  mul(tmp, dK2, true, H1, false);  // d x d
  sums.gWK2 += tmp;
  mul(dH1, dK2, false, w.WK2, false);
  mul(tmp, dV2, false, w.WV2, false);
  dH1 += tmp;
  for (int i = 0; i < n; ++i) dH1.row(sel[i]) += dH2.row(i) + dQ2.row(i);
  // Layer 1.
  matrix<Real> dZ1, dA1t, dK1;
  mul(dZ1, dH1, false, w.WO1, false);  // T x d
  scores(dA1t, dZ1, V1, every);        // T x T
  softmax_backward(dA1t, A1t, every);
  dA1t *= inv_sqrt_d;
  per_key(dK1, dA1t, H0, every);   // T x d
  mul(tmp, dK1, true, H0, false);  // d x d
  sums.gWK1 += tmp;
}

}  // namespace detail

template <class Real>
step_result<Real> loss_and_gradients(const weights<Real>& w, const batch& b,
                                     const step_options& o) {
  const int d = w.dim;
  long n = 0;
  for (int s = 0; s < b.sequences; ++s) {
    for (int t = 0; t < b.length; ++t) {
      if (o.positions == loss_positions::all || b.at(b.outs, s, t) >= 2) ++n;
    }
  }
  step_result<Real> r;
  r.selected = n;
  const bool all = o.trained == trained_set::all;
  if (o.gradients) {
    r.gWO2 = matrix<Real>::Zero(d, d);
    if (all) r.gWK1 = r.gWK2 = matrix<Real>::Zero(d, d);
  }
  if (n == 0) return r;
  const Real scale = Real(1) / Real(n);
  const long chunks = (b.sequences + detail::chunk_sequences - 1) / detail::chunk_sequences;
  std::vector<detail::chunk_sums<Real>> sums(chunks);
  parallel_for(chunks, o.threads, [&](long c) {
    detail::chunk_sums<Real>& acc = sums[c];
    if (o.gradients) {
      acc.gWO2 = matrix<Real>::Zero(d, d);
      if (all) acc.gWK1 = acc.gWK2 = matrix<Real>::Zero(d, d);
    }
    const int first = static_cast<int>(c) * detail::chunk_sequences;
    const int last = std::min(b.sequences, first + detail::chunk_sequences);
    for (int s = first; s < last; ++s) detail::sequence_pass(w, b, s, o, scale, acc);
  });
  long column = 0;
  const bool block = o.wo2_block || o.wo2_problem;
  if (block) {
    r.Z.resize(d, n);
    r.Pr.resize(w.tokens, n);
  }
  if (o.wo2_problem) {
    r.C.resize(w.tokens, n);
    r.Y.reserve(n);
  }
  for (detail::chunk_sums<Real>& acc : sums) {
    r.loss += acc.loss;
    if (o.gradients) {
      r.gWO2 += acc.gWO2;
      if (all) {
        r.gWK1 += acc.gWK1;
        r.gWK2 += acc.gWK2;
      }
    }
    for (size_t i = 0; i < acc.Z.size(); ++i, ++column) {
      r.Z.col(column) = acc.Z[i];
      r.Pr.col(column) = acc.Pr[i];
      if (o.wo2_problem) {
        r.C.col(column) = acc.C[i];
        r.Y.push_back(acc.Y[i]);
      }
    }
  }
  return r;
}

namespace detail {
template <class Real>
std::vector<Real> diagonal_margins(const matrix<Real>& S) {
  std::vector<Real> m(S.rows());
  for (Eigen::Index i = 0; i < S.rows(); ++i) {
    bool any = false;
    Real best = 0;
    for (Eigen::Index j = 0; j < S.cols(); ++j) {
      if (j == i) continue;
      if (!any || S(i, j) > best) best = S(i, j);
      any = true;
    }
    m[i] = S(i, i) - best;
  }
  return m;
}
}  // namespace detail

template <class Real>
std::vector<Real> wo1_margins(const weights<Real>& w) {
  // Row k: the scores of token k, e_k^T W_V2^T W_O2^T W_U^T.
  matrix<Real> a, b, S;
  detail::mul(a, w.E, false, w.WV2, true);
  detail::mul(b, a, false, w.WO2, true);
  detail::mul(S, b, false, w.WU, true);
  return detail::diagonal_margins(S);
}

template <class Real>
std::vector<Real> wk1_margins(const weights<Real>& w, const std::vector<int>& probe) {
  const int k = static_cast<int>(probe.size());
  matrix<Real> Et(k, w.dim);
  for (int i = 0; i < k; ++i) Et.row(i) = w.E.row(probe[i]);
  // keys_j = W_K2 W_O1 W_V1 e_j (rows: e_j^T W_V1^T W_O1^T W_K2^T); S = Et keys^T.
  matrix<Real> a, b, keys, S;
  detail::mul(a, Et, false, w.WV1, true);
  detail::mul(b, a, false, w.WO1, true);
  detail::mul(keys, b, false, w.WK2, true);
  detail::mul(S, Et, false, keys, true);
  return detail::diagonal_margins(S);
}

template <class Real>
optimizer<Real>::optimizer(trained_set trained, const descent::rule_options<Real>& rule,
                           const Real& lr, const Real& weight_decay)
    : trained_(trained), lr_(lr), weight_decay_(weight_decay) {
  rule.validate();
  const int matrices = trained == trained_set::all ? 3 : 1;
  for (int i = 0; i < matrices; ++i) rules_.push_back(descent::make_rule(rule));
}

template <class Real>
std::string optimizer<Real>::step(weights<Real>& w, const step_result<Real>& g) {
  std::vector<matrix<Real>*> W = {&w.WO2};
  std::vector<const matrix<Real>*> G = {&g.gWO2};
  if (trained_ == trained_set::all) {
    W.insert(W.end(), {&w.WK1, &w.WK2});
    G.insert(G.end(), {&g.gWK1, &g.gWK2});
  }
  std::vector<matrix<Real>> D(W.size());
  for (size_t i = 0; i < W.size(); ++i) {
    matrix<Real> grad = *G[i];
    if (weight_decay_ != 0) grad += weight_decay_ * *W[i];
    std::string why = rules_[i]->direction(grad, D[i]);
    if (!why.empty()) return why;
  }
  for (size_t i = 0; i < W.size(); ++i) *W[i] -= lr_ * D[i];
  return "";
}

template <class Real>
std::vector<std::vector<matrix<Real>>> optimizer<Real>::state() const {
  std::vector<std::vector<matrix<Real>>> s;
  for (const auto& r : rules_) s.push_back(r->state());
  return s;
}

template <class Real>
void optimizer<Real>::set_state(const std::vector<std::vector<matrix<Real>>>& s) {
  for (size_t i = 0; i < rules_.size() && i < s.size(); ++i) {
    if (!s[i].empty()) rules_[i]->set_state(s[i]);
  }
}

template <class Real>
sharpness_estimate wo2_sharpness(const weights<Real>& w, const step_result<Real>& block,
                                 Eigen::MatrixXd& start, int max_iterations, double rel_tol,
                                 int threads) {
  const auto to_double = [](const matrix<Real>& m) {
    return Eigen::MatrixXd(m.unaryExpr([](const Real& x) { return double(x); }));
  };
  const Eigen::MatrixXd Z = to_double(block.Z), Pr = to_double(block.Pr), WU = to_double(w.WU);
  const int d = w.dim;
  const long n = Z.cols();
  // H[X] = W_U^T B Z^T / n with A = W_U X Z and B = p o A - p (p^T A) per column (position),
  // summed over fixed blocks of positions in order (the same whatever the thread count).
  const long parts = std::max<long>(1, std::min<long>(8, n / 256));
  const auto apply = [&](const Eigen::MatrixXd& X) {
    std::vector<Eigen::MatrixXd> partial(parts);
    parallel_for(parts, threads, [&](long part) {
      const long from = n * part / parts, to = n * (part + 1) / parts;
      const auto Zp = Z.middleCols(from, to - from);
      const auto Pp = Pr.middleCols(from, to - from);
      const Eigen::MatrixXd A = WU * (X * Zp);
      const Eigen::RowVectorXd pa = (Pp.array() * A.array()).colwise().sum();
      const Eigen::MatrixXd Bm = Pp.array() * A.array() - Pp.array().rowwise() * pa.array();
      partial[part] = Bm * Zp.transpose();
    });
    Eigen::MatrixXd sum = partial[0];
    for (long part = 1; part < parts; ++part) sum += partial[part];
    return Eigen::MatrixXd(WU.transpose() * sum / double(n));
  };
  // Lanczos with full reorthogonalisation from `start` (the last Ritz vector when warm): the
  // largest Ritz value theta of the tridiagonal T_j, whose residual |H y - theta y| =
  // beta_j |s_j| (s the eigenvector of T_j, y its Ritz vector) bounds the distance from theta to
  // an eigenvalue of H (symmetric).
  if (start.rows() != d || start.cols() != d || start.norm() == 0) {
    start = Eigen::MatrixXd::Ones(d, d);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) start(i, j) += 0.01 * std::sin(1.0 + i * 7.0 + j * 13.0);
    }
  }
  std::vector<Eigen::MatrixXd> V = {start / start.norm()};
  std::vector<double> alpha, beta;
  sharpness_estimate e;
  Eigen::VectorXd s;
  for (int j = 0; j < max_iterations; ++j) {
    Eigen::MatrixXd r = apply(V[j]);
    alpha.push_back((V[j].array() * r.array()).sum());
    for (int pass = 0; pass < 2; ++pass) {
      for (const Eigen::MatrixXd& v : V) r -= (v.array() * r.array()).sum() * v;
    }
    beta.push_back(r.norm());
    const int m = j + 1;
    Eigen::MatrixXd T = Eigen::MatrixXd::Zero(m, m);
    for (int i = 0; i < m; ++i) {
      T(i, i) = alpha[i];
      if (i + 1 < m) T(i, i + 1) = T(i + 1, i) = beta[i];
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(T);
    e.value = eig.eigenvalues()(m - 1);
    s = eig.eigenvectors().col(m - 1);
    e.error = beta[j] * std::abs(s(m - 1));
    e.iterations = m;
    if (e.error <= rel_tol * std::abs(e.value) || beta[j] == 0 || m == d * d) break;
    V.push_back(r / beta[j]);
  }
  start.setZero(d, d);
  for (int i = 0; i < e.iterations; ++i) start += s(i) * V[i];
  return e;
}

template <class Real>
model::problem<problem_real<Real>> wo2_problem(const weights<Real>& w, const batch& b,
                                               const step_options& options) {
  using Out = problem_real<Real>;
  step_options o = options;
  o.gradients = false;
  o.wo2_block = false;
  o.wo2_problem = true;
  const step_result<Real> r = loss_and_gradients(w, b, o);
  if (r.selected == 0) {
    throw input_error("--export", "batch", "the batch has no loss position: nothing to export");
  }
  const auto out = [](const matrix<Real>& m) { return matrix<Out>(m.template cast<Out>()); };
  const long n = r.selected;
  model::vector<Out> p = model::vector<Out>::Constant(n, Out(1) / Out(n));
  return model::make_problem<Out>(out(r.Z.transpose()), out(w.WU), std::move(p), r.Y, out(w.WO2),
                                  out(r.C.transpose()));
}

}  // namespace amflow::transformer
