// P9: with d < N the cross-entropy minimiser can classify worse than the best linear classifier.
// Two classes: with u = u_0 - u_1 every memory's margins are s_x (u^T W e_x), s_x = +1 for class 0
// and -1 for class 1, and W = u w^T / |u|^2 reaches any w in R^d, so the loss is
//   L(w) = sum_x p(x) log(1 + exp(-s_x w.e_x)),
// strictly convex when the e_x span R^d. Its minimiser (finite when no w separates the data) is
// found by Newton's method at the working precision; the best 0-1 loss by enumerating the sign
// regions of the lines w.e_x = 0 in the plane (d = 2, model::best_zero_one_on_plane).
#include <Eigen/LU>
#include <algorithm>

#include "amflow/certify/logistic.hpp"
#include "amflow/model/plane.hpp"
#include "analysis/claims_support.hpp"

// A namespace of its own: the claim files are compiled together (AMFLOW_UNITY).
namespace amflow::analysis::underparameterized_claims {
namespace {

using namespace claims_detail;

hp sigmoid(const hp& x) {
  using std::exp;
  return 1 / (1 + exp(hp(-x)));
}

std::vector<check> underparameterized(const verify_options& o) {
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

  // The sign regions of the plane (model::best_zero_one_on_plane).
  const model::best_region<hp> regions = model::best_zero_one_on_plane(pb);
  const hp best = regions.zero_one_loss;

  const std::string where = "underparameterized; " + std::to_string(o.digits) + " digits";
  return {
      near(where + "; cross-entropy minimiser by Newton's method: |grad L|", hp(0), gnorm, tol),
      order_check(where + "; 0-1 loss of the CE minimiser vs the best over all " +
                      std::to_string(regions.regions) + " sign regions",
                  comparison::greater, best, ce_error,
                  "predicted: the best 0-1 loss; the minimiser's excess is " +
                      scalar::round_text(txt(hp(ce_error - best)), 6)),
  };
}

// Beyond the paper (Meng, Orvieto, Cao, De Sa 2024): GD converges to the minimiser for
// eta < eta_c = 2 / lambda_max(H(W*)) and not above it. eta_c is certified (the minimiser proven
// unique in a box by the Krawczyk operator, the eigenvalue bracketed by a Rayleigh quotient and a
// Cholesky factorisation); GD runs in double at 0.999 and 1.001 eta_c.
std::vector<check> threshold(const verify_options& o) {
  const nlohmann::json spec = io::named_problem("underparameterized");
  const certify::precision_scope bits(certify::bits_for_digits(o.digits));
  const certify::two_class_threshold t = certify::certify_two_class_threshold(spec);
  if (!t.ok()) throw std::runtime_error("eta_c was not certified: " + t.message);
  const auto mid = [](const certify::ball& b) {
    hp v;
    arf_get_mpfr(v.backend().data(), arb_midref(b.raw()), MPFR_RNDN);
    return v;
  };
  // amflow's own sharpness (model::sharpness, floating point) at the logits of W* = u w*^T / |u|^2:
  // z_x,0 = w*.e_x / 2 = -z_x,1 (U = I).
  const auto pb = named<hp>("underparameterized");
  const hp w0 = mid(t.w[0]), w1 = mid(t.w[1]);
  model::matrix<hp> Z(pb.tokens, 2);
  for (int x = 0; x < pb.tokens; ++x) {
    const hp m = pb.E(x, 0) * w0 + pb.E(x, 1) * w1;
    Z(x, 0) = m / 2;
    Z(x, 1) = -m / 2;
  }
  const hp measured = 2 / model::sharpness(pb, Z);
  const std::string where = "underparameterized; ";
  check c = near_relative(where + "eta_c = 2 / lambda_max(H(W*)): certified (" + digits_text(o) +
                              ") vs model::sharpness at the minimiser",
                          mid(t.eta_c), measured, num<hp>("1e-30"));
  c.note =
      "predicted: the certified eta_c, in [" + t.eta_c.lower(40) + ", " + t.eta_c.upper(40) + "]";
  certify_if(c,
             certainly_within_relative(t.eta_c, c.measured, c.tolerance) &&
                 certainly_within_relative(t.eta_c, c.predicted, c.tolerance),
             "eta_c enclosed (Krawczyk, Rayleigh and Cholesky in balls)");

  // GD from W0 = 0, 20000 steps, at 0.999 and 1.001 eta_c: |L_K - L*|. (At the working precision:
  // in double, particle coordinates of a problem with a singular G_E drift off the logits any W
  // reaches by rounding, and the loss settles 3e-13 from L*.)
  const hp eta_c = mid(t.eta_c), best = mid(t.loss);
  const long steps = 20000;
  const auto below = gd_run(pb, hp(eta_c * num<hp>("0.999")), steps);
  const auto above = gd_run(pb, hp(eta_c * num<hp>("1.001")), steps);
  const hp gap_below = abs(below.samples.back().loss - best);
  const hp gap_above = abs(above.samples.back().loss - best);
  const std::string run = "GD (" + digits_text(o) + ") at ";
  return {
      c,
      near<hp>(where + run + "0.999 eta_c, 20000 steps: |L_K - L*|", hp(0), gap_below,
               num<hp>("1e-30"), "converges: L* = the certified least loss"),
      order_check<hp>(where + run + "1.001 eta_c, 20000 steps: |L_K - L*|", comparison::greater,
                      num<hp>("1e-5"), gap_above,
                      "does not converge (a period-2 cycle around the minimiser)"),
  };
}

}  // namespace

// This file's claims, registered below.
static std::vector<claim> group() {
  return {{"underparameterized", "P9",
           "d < N: the cross-entropy minimiser classifies worse than the best linear classifier",
           underparameterized},
          {"step-size-threshold", "P9",
           "GD converges below eta_c = 2 / lambda_max(H(W*)) and not above (eta_c certified)",
           threshold}};
}

static const claim_group registered(30, group);

}  // namespace amflow::analysis::underparameterized_claims
