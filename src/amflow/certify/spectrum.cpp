#include "amflow/certify/spectrum.hpp"

#include <Eigen/Eigenvalues>

#include "amflow/model/problem.hpp"
#include "amflow/scalar/compat.hpp"

namespace amflow::certify {
namespace {

// Whether S (n x n) has a Cholesky factorisation with every pivot decided positive.
bool positive_definite(const std::vector<ball>& S, int n) {
  std::vector<ball> L(static_cast<size_t>(n) * n);
  for (int j = 0; j < n; ++j) {
    ball d = S[j * n + j];
    for (int k = 0; k < j; ++k) d -= L[j * n + k] * L[j * n + k];
    if (sign(d) != sign_of::positive) return false;
    L[j * n + j] = sqrt(d);
    for (int i = j + 1; i < n; ++i) {
      ball t = S[i * n + j];
      for (int k = 0; k < j; ++k) t -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = t / L[j * n + j];
    }
  }
  return true;
}

}  // namespace

ball largest_eigenvalue(const std::vector<ball>& A, int n) {
  // An approximate top eigenvector from the midpoints (symmetrised).
  model::matrix<mpfr_real> M(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      mpfr_real a, b;
      arf_get_mpfr(a.backend().data(), arb_midref(A[i * n + j].raw()), MPFR_RNDN);
      arf_get_mpfr(b.backend().data(), arb_midref(A[j * n + i].raw()), MPFR_RNDN);
      M(i, j) = (a + b) / 2;
    }
  }
  Eigen::SelfAdjointEigenSolver<model::matrix<mpfr_real>> eig(M);
  std::vector<ball> v(n);
  for (int i = 0; i < n; ++i) v[i] = ball::of(mpfr_real(eig.eigenvectors()(i, n - 1)));
  ball num, den;
  for (int i = 0; i < n; ++i) {
    den += v[i] * v[i];
    ball row;
    for (int j = 0; j < n; ++j) row += A[i * n + j] * v[j];
    num += v[i] * row;
  }
  const ball rayleigh = num / den;
  ball lower;
  arb_get_lbound_arf(arb_midref(lower.raw()), rayleigh.raw(), precision_scope::bits());
  // Above: mu = the Rayleigh quotient's upper bound plus a gap growing from 2^-(prec - 24) of its
  // size until mu I - A is certainly positive definite.
  ball scale = ball::abs_upper(rayleigh);
  if (sign(scale) != sign_of::positive) scale = ball(1);
  ball gap = scale;
  arb_mul_2exp_si(gap.raw(), gap.raw(), -(precision_scope::bits() - 24));
  ball top = ball::abs_upper(rayleigh);  // an upper bound of the quotient (>= it)
  arb_get_ubound_arf(arb_midref(top.raw()), rayleigh.raw(), precision_scope::bits());
  for (int attempt = 0; attempt < 40; ++attempt, gap *= ball(16)) {
    const ball mu = top + gap;
    std::vector<ball> S(static_cast<size_t>(n) * n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) S[i * n + j] = (i == j ? mu : ball(0)) - A[i * n + j];
    }
    if (positive_definite(S, n)) {
      ball hi;
      arb_get_ubound_arf(arb_midref(hi.raw()), mu.raw(), precision_scope::bits());
      return ball::between(lower, hi);
    }
  }
  ball none;
  arb_indeterminate(none.raw());
  return none;
}

ball sharpness(const ball_problem& pb, const std::vector<ball>& Z) {
  const int N = pb.tokens, M = pb.classes, n = N * M;
  // B_x (M x M) per token.
  std::vector<std::vector<ball>> B(N, std::vector<ball>(static_cast<size_t>(M) * M));
  for (int x = 0; x < N; ++x) {
    ball top = Z[x * M];
    for (int y = 1; y < M; ++y) {
      if (arf_cmp(arb_midref(Z[x * M + y].raw()), arb_midref(top.raw())) > 0) top = Z[x * M + y];
    }
    top = top.midpoint();
    std::vector<ball> pi(M);
    ball sum;
    for (int y = 0; y < M; ++y) sum += pi[y] = exp(Z[x * M + y] - top);
    for (auto& q : pi) q /= sum;
    for (int y = 0; y < M; ++y) {
      const ball root = sqrt(pb.p[x] * pi[y]);
      for (int a = 0; a < M; ++a) B[x][y * M + a] = root * (ball(y == a ? 1 : 0) - pi[a]);
    }
  }
  // A_(x,y),(x',y') = G_E(x, x') (B_x G_U B_x'^T)(y, y').
  std::vector<ball> A(static_cast<size_t>(n) * n);
  for (int x = 0; x < N; ++x) {
    std::vector<ball> BG(static_cast<size_t>(M) * M);  // B_x G_U
    for (int y = 0; y < M; ++y) {
      for (int b = 0; b < M; ++b) {
        ball s;
        for (int a = 0; a < M; ++a) s += B[x][y * M + a] * pb.G_U[a * M + b];
        BG[y * M + b] = s;
      }
    }
    for (int x2 = 0; x2 < N; ++x2) {
      for (int y = 0; y < M; ++y) {
        for (int y2 = 0; y2 < M; ++y2) {
          ball s;
          for (int b = 0; b < M; ++b) s += BG[y * M + b] * B[x2][y2 * M + b];
          A[(x * M + y) * n + x2 * M + y2] = pb.G_E[x * N + x2] * s;
        }
      }
    }
  }
  return largest_eigenvalue(A, n);
}

}  // namespace amflow::certify
