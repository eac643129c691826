#include "amflow/certify/logistic.hpp"

#include <Eigen/LU>

#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/scalar/compat.hpp"

namespace amflow::certify {
namespace {

mpfr_real mid(const ball& b) {
  mpfr_real v;
  arf_get_mpfr(v.backend().data(), arb_midref(b.raw()), MPFR_RNDN);
  return v;
}

struct logistic {
  int N = 0, d = 0;
  std::vector<ball> E;  // N x d
  std::vector<ball> p;
  std::vector<int> s;

  ball margin(const std::vector<ball>& w, int x) const {
    ball m;
    for (int i = 0; i < d; ++i) m += E[x * d + i] * w[i];
    return s[x] > 0 ? m : -m;
  }
  // sigma(-m) = 1 / (1 + e^m)
  static ball sigma_minus(const ball& m) { return ball(1) / (ball(1) + exp(m)); }

  std::vector<ball> gradient(const std::vector<ball>& w) const {
    std::vector<ball> g(d);
    for (int x = 0; x < N; ++x) {
      const ball c = p[x] * sigma_minus(margin(w, x)) * ball(s[x]);
      for (int i = 0; i < d; ++i) g[i] -= c * E[x * d + i];
    }
    return g;
  }
  std::vector<ball> hessian(const std::vector<ball>& w) const {
    std::vector<ball> H(static_cast<size_t>(d) * d);
    for (int x = 0; x < N; ++x) {
      const ball m = margin(w, x);
      const ball c = p[x] * sigma_minus(m) * sigma_minus(-m);
      for (int i = 0; i < d; ++i) {
        for (int j = 0; j < d; ++j) H[i * d + j] += c * E[x * d + i] * E[x * d + j];
      }
    }
    return H;
  }
  ball loss(const std::vector<ball>& w) const {
    ball L;
    for (int x = 0; x < N; ++x) L += p[x] * log1p(exp(-margin(w, x)));
    return L;
  }
};

model::matrix<mpfr_real> mid_matrix(const std::vector<ball>& A, int n) {
  model::matrix<mpfr_real> M(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) M(i, j) = mid(A[i * n + j]);
  }
  return M;
}

}  // namespace

two_class_threshold certify_two_class_threshold(const nlohmann::json& spec) {
  two_class_threshold out;
  const ball_problem pb = ball_problem_of(spec);
  if (pb.classes != 2) {
    out.fail(reason::undefined, "the threshold is certified for two classes only");
    return out;
  }
  logistic f;
  f.N = pb.tokens;
  f.d = spec.at("dim").get<int>();
  f.E = ball_embeddings(spec, true);
  f.p = pb.p;
  for (int x = 0; x < f.N; ++x) f.s.push_back(pb.target[x] == 0 ? 1 : -1);
  const int d = f.d;

  // An approximate minimiser: Newton's method on the midpoints (damped while the loss does not
  // fall), at the working precision of the balls.
  std::vector<ball> w(d);
  for (int it = 0; it < 200; ++it) {
    std::vector<ball> g = f.gradient(w);
    const model::matrix<mpfr_real> H = mid_matrix(f.hessian(w), d);
    model::vector<mpfr_real> gv(d);
    for (int i = 0; i < d; ++i) gv(i) = mid(g[i]);
    const model::vector<mpfr_real> step = H.fullPivLu().solve(gv);
    const ball before = f.loss(w);
    ball t(1);
    std::vector<ball> next(d);
    for (int halvings = 0; halvings < 60; ++halvings, t /= ball(2)) {
      for (int i = 0; i < d; ++i) next[i] = (w[i] - t * ball::of(mpfr_real(step(i)))).midpoint();
      if (!arb_gt(f.loss(next).raw(), before.raw())) break;
    }
    w = next;
    mpfr_real size(0);
    for (int i = 0; i < d; ++i) size = std::max(size, mpfr_real(abs(step(i))));
    if (size <
        mpfr_real(ldexp(1.0, -static_cast<int>(std::min<long>(precision_scope::bits(), 1000) - 8))))
      break;
  }

  // Krawczyk: X = w~ +- r.
  const std::vector<ball> center = w;
  const model::matrix<mpfr_real> Y = mid_matrix(f.hessian(center), d).inverse();
  std::vector<ball> Yb(static_cast<size_t>(d) * d);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) Yb[i * d + j] = ball::of(mpfr_real(Y(i, j)));
  }
  const std::vector<ball> g0 = f.gradient(center);
  ball r(1);
  arb_mul_2exp_si(r.raw(), r.raw(), -(precision_scope::bits() / 3));
  std::vector<ball> X(d);
  for (int i = 0; i < d; ++i) {
    X[i] = center[i];
    X[i].add_error(r);
  }
  bool proven = false;
  for (int it = 0; it < 30; ++it) {
    const std::vector<ball> H = f.hessian(X);
    std::vector<ball> K(d);
    for (int i = 0; i < d; ++i) {
      ball k = center[i];
      for (int j = 0; j < d; ++j) k -= Yb[i * d + j] * g0[j];
      for (int j = 0; j < d; ++j) {
        ball m = ball(i == j ? 1 : 0);
        for (int l = 0; l < d; ++l) m -= Yb[i * d + l] * H[l * d + j];
        k += m * (X[j] - center[j]);
      }
      K[i] = k;
    }
    bool inside = true;
    for (int i = 0; i < d; ++i) inside = inside && arb_contains_interior(X[i].raw(), K[i].raw());
    if (!inside) {
      if (proven) break;  // K(X) is still an enclosure once X was proven to hold the zero
      out.fail(reason::not_enclosed,
               "the Krawczyk operator did not map the box into itself (separable data, or "
               "a singular Hessian)");
      return out;
    }
    double before = 0, after = 0;
    for (int i = 0; i < d; ++i) {
      before = std::max(before, X[i].radius());
      after = std::max(after, K[i].radius());
    }
    proven = true;
    X = K;
    ++out.iterations;
    if (!(after < before / 2)) break;
  }
  out.w = X;
  out.loss = f.loss(X);
  const ball lambda_w = largest_eigenvalue(f.hessian(X), d);
  const ball v2 = pb.G_U[0] + pb.G_U[3] - ball(2) * pb.G_U[1];  // |u_0 - u_1|^2
  out.sharpness = v2 * lambda_w;
  out.eta_c = ball(2) / out.sharpness;
  if (!out.eta_c.is_finite()) {
    out.fail(reason::not_enclosed,
             "the largest eigenvalue of the Hessian at the minimiser was not enclosed");
  }
  return out;
}

}  // namespace amflow::certify
