// Far-time limits and their constants, checked at tau = 1e15 by the far-time stepper (auto: the
// Taylor series handing over to Radau IIA where the flow converges).
//
// The loss constant. On a separable problem, late in the flow only the hard-margin support
// constraints i = (x, y) carry loss, each about p(x) e^-m_i, so
//   dW/dtau = sum_i p(x) e^-m_i a_i,   a_i = (u_t - u_y) e_x^T,   L ~ sum_i p(x) e^-m_i.
// With W = W_hat log tau + W~ (W_hat the hard-margin memory, a_i . W_hat = 1 on the support),
// e^-m_i = e^(-a_i . W~) / tau, and dW/dtau = W_hat / tau asks sum_i p(x) e^(-a_i . W~) a_i =
// W_hat = sum_i alpha_i a_i (the KKT conditions): p(x) e^(-a_i . W~) = alpha_i. Hence
//   tau L(tau) -> sum_i alpha_i = |W_hat|_F^2   and   tau l_x(tau) -> sum_y alpha_xy / p(x)
// (l_x the loss of token x), with corrections O(log tau / tau). Pair problem: W_hat = c (u_0 - u_1)
// (e_0 - e_1)^T / 2 with margins c (1 - alpha) = 1, so |W_hat|^2 = 1 / (1 - alpha) = 20 at alpha =
// 0.95. Orthogonal problems: alpha_xy = 1 / M for every wrong class, so tau l_x -> (M - 1) / (M
// p(x)).
//
// A finite limit. The under-parameterised problem's flow converges to the minimiser W* (Newton's
// method, model::minimiser); the mixed problem's converging part to log(p0 / p1) + 2 / tau while
// its separable token's margin grows like log(3 tau / 8) (derived in tests/flow/radau_test.cpp).
#include <cmath>

#include "amflow/model/limits.hpp"
#include "amflow/model/quantities.hpp"
#include "analysis/claims_support.hpp"

namespace amflow::analysis {
namespace {

using namespace claims_detail;

// The far-time run: auto stepper, log time, the default tolerance, no error estimate (the claims'
// tolerances are far above it).
flow::flow_result<hp> far_flow(const model::problem<hp>& pb, std::vector<hp> times) {
  flow::flow_options<hp> o;
  o.stepper = flow::stepper_kind::automatic;
  o.time = flow::time_kind::log;
  o.estimate_error = false;
  o.rel_tol = o.abs_tol = flow::default_tolerance<hp>();
  o.step = hp(1) / 100;
  o.times = std::move(times);
  flow::flow_result<hp> r = flow::integrate(pb, o);
  if (!r.ok) throw std::runtime_error("the flow did not complete: " + r.message);
  return r;
}

// l_x = log(1 + sum_{y != t} e^(z_y - z_t)) (the loss of token x, without p(x)).
hp token_loss(const model::problem<hp>& pb, const model::matrix<hp>& Z, int x) {
  const int t = pb.target[x];
  hp sum(0);
  for (int y = 0; y < pb.classes; ++y) {
    if (y != t) sum += exp(hp(Z(x, y) - Z(x, t)));
  }
  return log1p(sum);
}

std::vector<check> pair_loss_constant(const verify_options& o) {
  const std::string alpha_text = "0.95";
  const auto pb = named<hp>("pair");
  const hp alpha = num<hp>(alpha_text);
  const model::hard_margin_result<hp> hm = model::hard_margin(pb);
  if (!hm.separable)
    throw std::runtime_error("the pair problem should be separable: " + hm.message);
  const hp predicted = 1 / (1 - alpha);
  const std::vector<std::string> taus = {"1e12", "1e15"};
  const auto r = far_flow(pb, {num<hp>(taus[0]), num<hp>(taus[1])});
  const auto tau_loss = [&](size_t i) { return hp(r.samples[i].tau * r.samples[i].loss); };
  const std::string where = "pair (alpha = " + alpha_text + "), " + digits_text(o) + ", ";
  const hp gap12 = abs(hp(tau_loss(0) - predicted)), gap15 = abs(hp(tau_loss(1) - predicted));
  return {
      near<hp>(where + "hard margin (dual ascent, then K_SS alpha = 1): |W_hat|^2 against "
                       "1 / (1 - alpha)",
               predicted, hm.norm2, num<hp>("1e-40")),
      near<hp>(where + "flow (auto) at tau = " + taus[1] + ": tau L(tau) against |W_hat|^2",
               predicted, tau_loss(1), num<hp>("1e-10"),
               "the constant, not only the rate; corrections O(log tau / tau) ~ 2e-11"),
      order_check<hp>(where + "(tau L - |W_hat|^2) at " + taus[0] + " / at " + taus[1],
                      comparison::greater, hp(500), hp(gap12 / gap15),
                      "falls like log tau / tau: 1000 x 27.6 / 34.5 = 800"),
  };
}

std::vector<check> class_loss_constants(const verify_options& o) {
  const std::string name = "zipf-orthogonal", tau_text = "1e15";
  const auto pb = named<hp>(name);
  const int M = pb.classes;
  const model::hard_margin_result<hp> hm = model::hard_margin(pb);
  if (!hm.separable) throw std::runtime_error(name + " should be separable: " + hm.message);
  const auto r = far_flow(pb, {num<hp>(tau_text)});
  const auto& s = r.samples.back();
  hp worst_flow(0), worst_dual(0);
  for (int x = 0; x < pb.tokens; ++x) {
    const hp predicted = hp(M - 1) / (hp(M) * pb.p(x));
    worst_flow = std::max(worst_flow, hp(abs(hp(s.tau * token_loss(pb, s.Z, x) - predicted))));
    hp sum(0);
    for (Eigen::Index a = 0; a < hm.alpha.size(); ++a) {
      if (hm.support[a].first == x) sum += hm.alpha(a);
    }
    worst_dual = std::max(worst_dual, hp(abs(hp(sum / pb.p(x) - predicted))));
  }
  const std::string where = name + " (N = M = d = " + std::to_string(M) + "), " + digits_text(o);
  return {
      near<hp>(where + ", hard margin: max_x |sum_y alpha_xy / p(x) - (M - 1) / (M p(x))|", hp(0),
               worst_dual, num<hp>("1e-40")),
      near<hp>(where + ", flow (auto) at tau = " + tau_text +
                   ": max_x |tau l_x(tau) - (M - 1) / (M p(x))|",
               hp(0), worst_flow, num<hp>("1e-10"),
               "every class's own constant; corrections O(log tau / tau)"),
  };
}

std::vector<check> far_minimiser(const verify_options& o) {
  const std::string name = "underparameterized", tau_text = "1e15";
  const auto pb = named<hp>(name);
  const model::minimiser_result<hp> w = model::minimiser(pb);
  if (!w.found) throw std::runtime_error("no minimiser: " + w.message);
  const auto r = far_flow(pb, {num<hp>(tau_text)});
  const model::vector<hp> limit = model::margins(pb, w.Z);
  hp worst(0);
  for (int x = 0; x < pb.tokens; ++x) {
    worst = std::max(worst, hp(abs(hp(r.samples.back().margins(x) - limit(x)))));
  }
  const std::string where = name + ", " + digits_text(o) + ", flow (auto) at tau = " + tau_text;
  return {
      near<hp>(where + ": max_x |m_x(tau) - m_x(W*)|, W* by Newton's method", hp(0), worst,
               num<hp>("1e-40"), "the flow reaches the minimiser"),
      count_check(where + ": steps beyond 200", 0, std::max(0L, r.run.steps - 200),
                  "the cost does not grow with tau (" + std::to_string(r.run.steps) + " steps, " +
                      std::to_string(r.run.radau_steps) + " by Radau IIA)"),
  };
}

std::vector<check> mixed_limit(const verify_options& o) {
  const std::string name = "mixed", tau_text = "1e15";
  const auto pb = named<hp>(name);
  const auto r = far_flow(pb, {num<hp>(tau_text)});
  const auto& s = r.samples.back();
  const hp p0 = pb.p(0), p1 = pb.p(1);
  const std::string where = name + ", " + digits_text(o) + ", flow (auto) at tau = " + tau_text;
  return {
      near<hp>(where + ": m_0 against log(p0 / p1) + 2 / tau", hp(log(hp(p0 / p1)) + 2 / s.tau),
               s.margins(0), num<hp>("1e-26"), "the converging part, with its 1 / tau correction"),
      near<hp>(where + ": m_2 against log(3 tau / 8)", hp(log(hp(3 * s.tau / 8))), s.margins(2),
               num<hp>("1e-12"), "the separable part; corrections O(log tau / tau)"),
  };
}

// This file's claims, registered below.
std::vector<claim> group() {
  return {{"loss-constant-pair", "beyond",
           "separable flow: tau L(tau) -> |W_hat|^2 (the hard margin's squared norm), pair to 1e15",
           pair_loss_constant},
          {"loss-constants-per-class", "beyond",
           "orthogonal embeddings: tau l_x(tau) -> (M - 1) / (M p(x)) for every class, to 1e15",
           class_loss_constants},
          {"far-time-minimiser", "P9",
           "under-parameterised: the flow reaches W* (Newton) at tau = 1e15 in a bounded number "
           "of steps",
           far_minimiser},
          {"mixed-limit", "beyond",
           "mixed problem: the converging part -> log(p0 / p1) + 2 / tau, the separable margin ~ "
           "log(3 tau / 8), to 1e15",
           mixed_limit}};
}

const claim_group registered(50, group);

}  // namespace
}  // namespace amflow::analysis
