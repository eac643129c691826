// P9: with d < N the cross-entropy minimiser can classify worse than the best linear classifier.
// Two classes: with u = u_0 - u_1 every memory's margins are s_x (u^T W e_x), s_x = +1 for class 0
// and -1 for class 1, and W = u w^T / |u|^2 reaches any w in R^d, so the loss is
//   L(w) = sum_x p(x) log(1 + exp(-s_x w.e_x)),
// strictly convex when the e_x span R^d. Its minimiser (finite when no w separates the data) is
// found by Newton's method at the working precision; the best 0-1 loss by enumerating the sign
// regions of the lines w.e_x = 0 in the plane (d = 2).
#include <Eigen/LU>
#include <algorithm>

#include "analysis/claims_support.hpp"

namespace amflow::analysis {
namespace {

using namespace claims_detail;

hp sigmoid(const hp& x) {
  using std::exp;
  return 1 / (1 + exp(hp(-x)));
}

std::vector<check> underparameterized(const verify_options& o) {
  using std::atan2;
  using std::cos;
  using std::sin;
  using std::sqrt;
  const auto pb = named<hp>("underparameterized");
  if (pb.classes != 2 || pb.dim != 2) throw std::runtime_error("P9's check needs M = 2, d = 2");
  const int N = pb.tokens;
  std::vector<int> s(N);
  for (int x = 0; x < N; ++x) s[x] = pb.target[x] == 0 ? 1 : -1;

  // Newton's method from w = 0.
  const auto loss = [&](const model::vector<hp>& w) {
    hp total(0);
    for (int x = 0; x < N; ++x) {
      total -= pb.p(x) * log(sigmoid(hp(s[x] * pb.E.row(x).dot(w))));
    }
    return total;
  };
  model::vector<hp> w = model::vector<hp>::Zero(2), g(2);
  const hp tol = pow(hp(10), hp(-(o.digits - 5)));
  hp gnorm(1);
  for (int it = 0; it < 200 && gnorm > tol; ++it) {
    g.setZero();
    model::matrix<hp> H = model::matrix<hp>::Zero(2, 2);
    for (int x = 0; x < N; ++x) {
      const model::vector<hp> e = pb.E.row(x).transpose();
      const hp m = s[x] * e.dot(w);
      g -= pb.p(x) * s[x] * sigmoid(hp(-m)) * e;
      H += pb.p(x) * sigmoid(m) * sigmoid(hp(-m)) * e * e.transpose();
    }
    gnorm = sqrt(g.squaredNorm());
    if (!(gnorm > tol)) break;
    const model::vector<hp> step = H.fullPivLu().solve(g);
    // Damped far from the minimiser; near it (|grad| < 1e-3) full steps, whose loss decrease
    // (|grad|^2) soon falls below the loss's own rounding.
    hp t(1);
    if (!(gnorm < hp(1) / 1000)) {
      const hp before = loss(w);
      while (t > tol && !(loss(model::vector<hp>(w - t * step)) < before)) t /= 2;
    }
    w -= t * step;
  }
  if (!(gnorm <= tol)) throw std::runtime_error("Newton's method did not converge (separable?)");

  const auto zero_one = [&](const model::vector<hp>& v) {
    hp err(0);
    for (int x = 0; x < N; ++x) {
      if (!(s[x] * pb.E.row(x).dot(v) > 0)) err += pb.p(x);
    }
    return err;
  };
  const hp ce_error = zero_one(w);

  // The sign regions: the lines w.e_x = 0 cut the circle of directions at the angles of the
  // normals of e_x; one direction strictly inside each arc between consecutive cuts.
  const hp pi = boost::math::constants::pi<hp>();
  std::vector<hp> cuts;
  for (int x = 0; x < N; ++x) {
    const hp a = atan2(pb.E(x, 1), pb.E(x, 0)) + pi / 2;
    for (const hp& c : {a, hp(a + pi)}) cuts.push_back(c - 2 * pi * floor(c / (2 * pi)));
  }
  std::sort(cuts.begin(), cuts.end());
  hp best(2);
  for (size_t i = 0; i < cuts.size(); ++i) {
    const hp next = i + 1 < cuts.size() ? cuts[i + 1] : hp(cuts[0] + 2 * pi);
    if (!(next > cuts[i])) continue;  // repeated cut: no arc
    const hp mid = (cuts[i] + next) / 2;
    model::vector<hp> v(2);
    v << cos(mid), sin(mid);
    best = std::min(best, zero_one(v));
  }

  const std::string where = "underparameterized; " + std::to_string(o.digits) + " digits";
  return {
      near(where + "; cross-entropy minimiser by Newton's method: |grad L|", hp(0), gnorm, tol),
      order_check(where + "; 0-1 loss of the CE minimiser vs the best over all " +
                      std::to_string(cuts.size()) + " sign regions",
                  comparison::greater, best, ce_error,
                  "predicted: the best 0-1 loss; the minimiser's excess is " +
                      scalar::round_text(txt(hp(ce_error - best)), 6)),
  };
}

}  // namespace

std::vector<claim> underparameterized_claims() {
  return {{"underparameterized", "P9",
           "d < N: the cross-entropy minimiser classifies worse than the best linear classifier",
           underparameterized}};
}

}  // namespace amflow::analysis
