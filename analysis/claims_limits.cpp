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
// The implicit-bias angle. With W = W_hat log tau + W~ + o(1), the leading equation above fixes
// W~'s margins on the support, a_i . W~ = log(p(x) / alpha_i); the next order, in log time s,
// is d(delta)/ds = -K delta + O(e^-s) on the support's span (K the support kernel scaled by
// alpha), so delta = O(s e^-s) and W~ is the limit when the support spans every direction the flow
// moves in (otherwise the rest of W~ depends on the path). Split W~ = shift W_hat + W~_perp
// (W~_perp orthogonal to W_hat): W(tau) = (log tau + shift) W_hat + W~_perp + o(1), so
//   tan(angle(W(tau), W_hat)) (log tau + shift) -> |W~_perp| / |W_hat| = angle_constant,
// the angle itself decaying like 1 / log tau. Pair problem (W = (u_0 - u_1) v^T / 2, v a logistic
// regression on z_0 = e_0, z_1 = -e_1 with weights 2 p(x), |z_x| = 1, z_0 . z_1 = -alpha): both
// constraints are support, alpha_x = 1 / (2 (1 - alpha)), v_hat = (z_0 + z_1) / (1 - alpha), and
// v~ . z_x = b_x = log(2 p(x) (1 - alpha)). z_0 - z_1 is orthogonal to z_0 + z_1, so
//   shift = (b_0 + b_1) / 2,   angle_constant = |log(p0 / p1)| / 2 sqrt((1 - alpha) / (1 + alpha))
// (0.0879569... at alpha = 0.95, p = (3/4, 1/4)); the corrections to the product are O(1 / tau).
//
// GD's loss constant. GD's margins on the pair problem (m_x <- m_x + eta sum_y G_xy 2 p(y)
// sigma(-m_y), G the Gram matrix of z_0 = e_0, z_1 = -e_1) follow, in tau = eta k, the modified
// flow dm/dtau = F - (eta / 2) DF F + O(eta^2 / tau^3); late, F_x = 1 / tau and DF F = -1 / tau^2
// on the support. Write m_x = log tau + b_x + eps_x, c0 = 1 / (1 - alpha) = 2 p(x) e^(-b_x): in
// log time s, eps along (1, 1) (the mode of rate 1) obeys d(eps)/ds = -eps - e^-s ((1 - alpha) (q_0
// + q_1) / 2 - eta / 2), q_y = c0^2 / (2 p(y)) (from sigma(-m) = e^-m - e^-2m), resonant, so eps =
// -(...) s e^-s; with tau L = c0 - c0 eps_+ + O(1 / tau),
//   tau L(tau) = |W_hat|^2 + (c_eta log tau + B) / tau + ...,
//   c_eta = (1 / p0 + 1 / p1) / (4 (1 - alpha)^2) - eta / (2 (1 - alpha)).
// So eta k L_k -> |W_hat|^2 for every eta (above the edge of stability too), the flow's constant,
// and GD's approach differs from the flow's by -eta / (2 (1 - alpha)) log tau / tau: with g(tau) =
// tau (tau L - |W_hat|^2), g_GD - g_flow grows by -eta / (2 (1 - alpha)) per unit of log tau
// (terms of order s^2 / tau, common to both, cancel to first order). At eta = 0 the flow's slope
// 533.33... is checked in loss-constant-pair (1e12 .. 1e15). Measured in python in double
// (a check of the derivation, not part of amflow): slopes of g_GD - g_flow over 1e5 .. 1e6 of
// -0.99, -9.91, -98.2 at eta = 0.1, 1, 10 (predicted -1, -10, -100).
//
// The edge-of-stability split (Wu, Braverman, Lee 2023). Above eta = 2 / lambda_max(H(W0)) GD's
// loss spikes early, yet its projection on W_hat grows like log(eta k) while the rest converges to
// W~_perp = W~ - shift W_hat, the perpendicular part of the offset above: since a_i . W_hat = 1 on
// the support, p(x) e^(-a_i . W~) = alpha_i reads sum_i p(x) e^(-a_i . W~_perp) P a_i = e^shift P
// W_hat = 0 (P the projection orthogonal to W_hat), so W~_perp minimises the strongly convex
// potential sum_i p(x) e^(-a_i . w) over w orthogonal to W_hat (the potential of their theorem).
// The step size leaves it unchanged. Pair: |W~_perp| = angle_constant |W_hat|, i.e. m_0 - m_1 ->
// log(p0 / p1).
//
// The flip bifurcation at eta_c. GD is the map g(W) = W - eta grad L(W), with W* a fixed point and
// Dg(W*) = I - eta H; at eta_c = 2 / lambda_max its eigenvalue along the top eigenvector passes
// through -1. On the centre manifold the map reads x -> -(1 + mu) x + c x^3 + ... (the quadratic
// term removed by a change of coordinates), mu proportional to eta - eta_c: its period-2 points
// solve (1 + mu) - c x^2 = 1 + O(mu x^2), so for c > 0 (supercritical, the cycle stable) GD
// settles into a period-2 cycle of amplitude sqrt(mu / c), growing like (eta - eta_c)^(1/2).
// Measured in double on the under-parameterised problem: below eta_c GD reaches W*, above it
// alternates between two points, and the half-difference of consecutive margins fitted against
// eta / eta_c - 1 on a log-log scale has slope 1/2.
//
// A finite limit. The under-parameterised problem's flow converges to the minimiser W* (Newton's
// method, model::minimiser); the mixed problem's converging part to log(p0 / p1) + 2 / tau while
// its separable token's margin grows like log(3 tau / 8) (derived in tests/flow/radau_test.cpp).
#include <cmath>
#include <utility>

#include "amflow/model/limits.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "analysis/claims_support.hpp"

// A namespace of its own: the claim files are compiled together (AMFLOW_UNITY).
namespace amflow::analysis::limits_claims {
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
  if (!r.ok()) throw std::runtime_error("the flow did not complete: " + r.message);
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
  const auto g = [&](size_t i) { return hp(r.samples[i].tau * (tau_loss(i) - predicted)); };
  const hp p0 = pb.p(0), p1 = pb.p(1);
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
      near_relative<hp>(where + "slope of tau (tau L - |W_hat|^2) in log tau over " + taus[0] +
                            " .. " + taus[1] + " against (1 / p0 + 1 / p1) / (4 (1 - alpha)^2)",
                        hp((1 / p0 + 1 / p1) / (4 * (1 - alpha) * (1 - alpha))),
                        hp((g(1) - g(0)) / log(hp(r.samples[1].tau / r.samples[0].tau))),
                        num<hp>("1e-7")),
  };
}

std::vector<check> implicit_bias_pair(const verify_options& o) {
  const std::string alpha_text = "0.95";
  const auto pb = named<hp>("pair");
  const hp alpha = num<hp>(alpha_text), p0 = pb.p(0), p1 = pb.p(1);
  const model::hard_margin_result<hp> hm = model::hard_margin(pb);
  if (!hm.separable || !hm.offset_determined)
    throw std::runtime_error("the pair problem's offset should be determined: " + hm.message);
  const hp predicted = abs(hp(log(hp(p0 / p1)))) / 2 * sqrt(hp((1 - alpha) / (1 + alpha)));
  const hp shift = (log(hp(2 * p0 * (1 - alpha))) + log(hp(2 * p1 * (1 - alpha)))) / 2;
  const std::vector<std::string> taus = {"1e9", "1e15"};
  const auto r = far_flow(pb, {num<hp>(taus[0]), num<hp>(taus[1])});
  // tan(angle) (log tau + shift), W(tau) the minimum-norm memory with the logits (W0 = 0 and the
  // flow moves W in that span).
  const auto product = [&](size_t i) {
    const model::matrix<hp> W = model::weights_from_logits(pb, r.samples[i].Z);
    const hp along = (W.cwiseProduct(hm.W)).sum() / hm.norm2;
    const hp across = (W - along * hm.W).norm();
    return hp(across / (along * sqrt(hm.norm2)) * (log(r.samples[i].tau) + shift));
  };
  const std::string where = "pair (alpha = " + alpha_text + ", p = (" +
                            brief(static_cast<double>(p0)) + ", " + brief(static_cast<double>(p1)) +
                            ")), " + digits_text(o) + ", ";
  const hp at9 = product(0), at15 = product(1);
  const hp gap9 = abs(hp(at9 - predicted)), gap15 = abs(hp(at15 - predicted));
  return {
      near<hp>(where + "hard margin's offset: angle constant against |log(p0 / p1)| / 2 "
                       "sqrt((1 - alpha) / (1 + alpha))",
               predicted, hm.angle_constant, num<hp>("1e-40")),
      near<hp>(where + "hard margin's offset: shift against (log(2 p0 (1 - alpha)) + log(2 p1 "
                       "(1 - alpha))) / 2",
               shift, hm.shift, num<hp>("1e-40")),
      near<hp>(where + "flow (auto) at tau = " + taus[1] +
                   ": tan(angle(W, W_hat)) (log tau + shift) against the constant",
               predicted, at15, num<hp>("1e-12"),
               "the implicit bias's constant, not only the 1 / log tau rate"),
      order_check<hp>(where + "|product - constant| at " + taus[0] + " / at " + taus[1],
                      comparison::greater, hp(100000), hp(gap9 / gap15),
                      "corrections O(1 / tau): a ratio near 1e6"),
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
  if (!w.ok()) throw std::runtime_error("no minimiser: " + w.message);
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

// GD in double in particle coordinates from W0 for `steps` steps; the margins at the last two.
std::pair<model::vector<double>, model::vector<double>> gd_last_two(
    const model::problem<double>& pb, double eta, long steps) {
  model::particle_state<double> s = model::initial_state(pb);
  for (long k = 0; k + 1 < steps; ++k) model::gd_step(pb, s, eta);
  const model::vector<double> before = model::margins(pb, s.Z);
  model::gd_step(pb, s, eta);
  return {before, model::margins(pb, s.Z)};
}

std::vector<check> flip_bifurcation(const verify_options& o) {
  const std::string name = "underparameterized";
  const auto hpb = named<hp>(name);
  const model::minimiser_result<hp> w = model::minimiser(hpb);
  if (!w.ok()) throw std::runtime_error("no minimiser: " + w.message);
  const auto pb = named<double>(name);
  const double eta_c = static_cast<double>(w.eta_c);
  const model::vector<hp> limit_hp = model::margins(hpb, w.Z);
  model::vector<double> limit(limit_hp.size());
  for (Eigen::Index x = 0; x < limit.size(); ++x) limit(x) = static_cast<double>(limit_hp(x));
  const long steps = 100000;
  const auto gap = [](const model::vector<double>& a, const model::vector<double>& b) {
    return (a - b).cwiseAbs().maxCoeff();
  };
  const auto below = gd_last_two(pb, 0.99 * eta_c, steps);
  const auto above = gd_last_two(pb, 1.01 * eta_c, steps);
  const auto above2 = gd_last_two(pb, 1.01 * eta_c, steps + 2);
  // Amplitudes at eta = (1 + delta) eta_c and the least-squares slope of log A on log delta.
  const std::vector<double> deltas = {8e-3, 4e-3, 2e-3, 1e-3};
  std::vector<double> xs, ys;
  std::string amplitudes;
  for (const double delta : deltas) {
    const auto [a, b] = gd_last_two(pb, (1 + delta) * eta_c, 4 * steps);
    const double amplitude = gap(a, b) / 2;
    xs.push_back(std::log(delta));
    ys.push_back(std::log(amplitude));
    amplitudes += (amplitudes.empty() ? "" : ", ") + txt(amplitude);
  }
  const double n = static_cast<double>(xs.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sx += xs[i];
    sy += ys[i];
    sxx += xs[i] * xs[i];
    sxy += xs[i] * ys[i];
  }
  const double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  std::string delta_text;
  for (const double d : deltas) delta_text += (delta_text.empty() ? "" : ", ") + txt(d);
  const std::string where = name + ", GD in double, eta_c = 2 / lambda_max(H(W*)) = " + txt(eta_c) +
                            " (Newton at " + digits_text(o) + "), ";
  return {
      near<double>(
          where + "eta = 0.99 eta_c, " + std::to_string(steps) + " steps: max_x |m_x - m_x(W*)|", 0,
          gap(below.second, limit), 1e-10, "converges"),
      near<double>(where + "eta = 1.01 eta_c, steps " + std::to_string(steps) + " and " +
                       std::to_string(steps + 2) + ": max_x |m_x(k + 2) - m_x(k)|",
                   0, gap(above.second, above2.second), 1e-12, "a period-2 orbit"),
      order_check<double>(where + "eta = 1.01 eta_c: max_x |m_x(k + 1) - m_x(k)|",
                          comparison::greater, 1e-3, gap(above.first, above.second),
                          "not a fixed point"),
      near<double>(where + "amplitudes " + amplitudes + " at eta / eta_c - 1 = " + delta_text +
                       " (" + std::to_string(4 * steps) + " steps): fitted exponent",
                   0.5, slope, 0.02, "a flip bifurcation: amplitude ~ (eta - eta_c)^(1/2)"),
  };
}

// g(tau) = tau (tau L - |W_hat|^2) from GD in Real at step eta, at the step counts in ks.
template <class Real>
std::vector<Real> gd_loss_gaps(const model::problem<Real>& pb, const Real& eta,
                               const std::vector<long>& ks, const Real& norm2) {
  model::particle_state<Real> s = model::initial_state(pb);
  std::vector<Real> out;
  long k = 0;
  for (const long target : ks) {
    for (; k < target; ++k) model::gd_step(pb, s, eta);
    const Real tau = eta * Real(k);
    out.push_back(tau * (tau * model::loss(pb, s.Z) - norm2));
  }
  return out;
}

std::vector<check> gd_loss_constant(const verify_options& o) {
  const std::string alpha_text = "0.95";
  const auto hpb = named<hp>("pair");
  const auto pb = named<double>("pair");
  const hp alpha = num<hp>(alpha_text), p0 = hpb.p(0), p1 = hpb.p(1);
  const model::hard_margin_result<hp> hm = model::hard_margin(hpb);
  if (!hm.separable) throw std::runtime_error("pair should be separable: " + hm.message);
  const double norm2 = static_cast<double>(hm.norm2);
  // The flow's g at 1e4, 1e5, 1e6.
  const auto flow = far_flow(hpb, {num<hp>("1e4"), num<hp>("1e5"), num<hp>("1e6")});
  std::vector<hp> g_flow;
  for (const auto& s : flow.samples) g_flow.push_back(s.tau * (s.tau * s.loss - hm.norm2));
  const std::string where = "pair (alpha = " + alpha_text + ", p = (" +
                            brief(static_cast<double>(p0)) + ", " + brief(static_cast<double>(p1)) +
                            ")), ";
  const auto slope_predicted = [&](double eta) { return -eta / (2 * (1 - 0.95)); };
  std::vector<check> out;
  const double log10 = std::log(10.0);
  for (const double eta : {1.0, 10.0}) {
    const long k5 = std::lround(1e5 / eta), k6 = std::lround(1e6 / eta);
    const std::vector<double> g = gd_loss_gaps<double>(pb, eta, {k5, k6}, norm2);
    const double slope = ((g[1] - g[0]) - static_cast<double>(hp(g_flow[2] - g_flow[1]))) / log10;
    const std::string at = where + "GD in double, eta = " + brief(eta) + ", ";
    out.push_back(near<double>(at + "k = " + std::to_string(k6) + ": eta k L_k against |W_hat|^2",
                               norm2, norm2 + g[1] / 1e6, 1e-2,
                               "the flow's constant for every step; corrections (c log tau + B) / "
                               "tau ~ 5e-3 at 1e6"));
    out.push_back(near_relative<double>(
        at + "tau = 1e5 .. 1e6: slope of g_GD - g_flow in log tau against -eta / (2 (1 - alpha))",
        slope_predicted(eta), slope, 0.03));
  }
  // 50 digits to tau = 1e5 at eta = 1.
  const hp eta(1);
  const std::vector<hp> g = gd_loss_gaps<hp>(hpb, eta, {10000, 100000}, hm.norm2);
  const hp slope = (hp(g[1] - g[0]) - hp(g_flow[1] - g_flow[0])) / log(hp(10));
  const std::string at = where + "GD at " + digits_text(o) + ", eta = 1, ";
  out.push_back(near<hp>(at + "k = 100000: eta k L_k against |W_hat|^2", hm.norm2,
                         hp(hm.norm2 + g[1] / 100000), num<hp>("0.05"),
                         "corrections (c log tau + B) / tau ~ 4e-2 at 1e5"));
  out.push_back(near_relative<hp>(
      at + "tau = 1e4 .. 1e5: slope of g_GD - g_flow in log tau against -eta / (2 (1 - alpha))",
      hp(-eta / (2 * (1 - alpha))), slope, num<hp>("0.06")));
  return out;
}

std::vector<check> edge_of_stability_split(const verify_options& o) {
  const std::string alpha_text = "0.95";
  const auto hpb = named<hp>("pair");
  const auto pb = named<double>("pair");
  const model::hard_margin_result<hp> hm = model::hard_margin(hpb);
  if (!hm.separable || !hm.offset_determined)
    throw std::runtime_error("the pair problem's offset should be determined: " + hm.message);
  const auto to_double = [](const model::matrix<hp>& A) {
    return model::matrix<double>(A.unaryExpr([](const hp& v) { return static_cast<double>(v); }));
  };
  const model::matrix<double> W_hat = to_double(hm.W);
  const model::matrix<double> perp_limit = to_double(hm.offset - hm.shift * hm.W);
  const double norm2 = static_cast<double>(hm.norm2), shift = static_cast<double>(hm.shift);
  const double edge = 2 / static_cast<double>(model::sharpness(hpb, hpb.Z0));
  const hp closed = abs(hp(log(hp(hpb.p(0) / hpb.p(1))))) / 2 *
                    sqrt(hp((1 - num<hp>(alpha_text)) / (1 + num<hp>(alpha_text))));
  std::vector<check> out;
  out.push_back(near<hp>("pair (alpha = " + alpha_text + "), " + digits_text(o) +
                             ": |W~_perp| / |W_hat| against |log(p0 / p1)| / 2 sqrt((1 - alpha) / "
                             "(1 + alpha))",
                         closed, hp((hm.offset - hm.shift * hm.W).norm() / sqrt(hm.norm2)),
                         num<hp>("1e-40"), "the minimiser of the potential, by the KKT route"));
  const long steps = 1000000;
  for (const double factor : {2.5, 5.0}) {
    const double eta = factor * edge;
    model::particle_state<double> s = model::initial_state(pb);
    double before = model::loss(pb, s.Z);
    long rises = 0;
    for (long k = 0; k < steps; ++k) {
      model::gd_step(pb, s, eta);
      const double now = model::loss(pb, s.Z);
      if (now > before) ++rises;
      before = now;
    }
    const model::matrix<double> W = model::weights(pb, s.Q);
    const double along = W.cwiseProduct(W_hat).sum() / norm2;
    const double perp_gap = (W - along * W_hat - perp_limit).norm();
    const std::string at = "pair, GD in double, eta = " + brief(factor) +
                           " x 2 / lambda_max(H(0)) = " + brief(eta) + ", " +
                           std::to_string(steps) + " steps: ";
    out.push_back(order_check<double>(at + "steps where the loss rises", comparison::greater, 0,
                                      static_cast<double>(rises),
                                      "beyond the edge of stability: not a descent"));
    out.push_back(near<double>(at + "|W_perp - W~_perp| (W~_perp from the hard margin's offset)", 0,
                               perp_gap, 1e-5, "the orthogonal part converges, O(1 / k)"));
    out.push_back(near<double>(at + "<W, W_hat> / |W_hat|^2 - log(eta k) against the shift", shift,
                               along - std::log(eta * static_cast<double>(steps)), 5e-4,
                               "the projection grows like log(eta k), with the flow's shift"));
  }
  return out;
}

// This file's claims, registered below.
std::vector<claim> group() {
  return {{"loss-constant-pair", "beyond",
           "separable flow: tau L(tau) -> |W_hat|^2 (the hard margin's squared norm), pair to 1e15",
           pair_loss_constant},
          {"implicit-bias-pair", "beyond",
           "separable flow: W(tau) turns to W_hat with tan(angle) (log tau + shift) -> a constant "
           "derived in closed form, pair to 1e15",
           implicit_bias_pair},
          {"gd-loss-constant", "beyond",
           "GD on a separable problem: eta k L_k -> |W_hat|^2 for every step size, approached "
           "differently from the flow by -eta / (2 (1 - alpha)) log tau / tau",
           gd_loss_constant},
          {"edge-of-stability-split", "beyond",
           "GD above 2 / lambda_max(H(0)): the projection on W_hat grows like log(eta k), the "
           "orthogonal part converges to the potential's minimiser",
           edge_of_stability_split},
          {"loss-constants-per-class", "beyond",
           "orthogonal embeddings: tau l_x(tau) -> (M - 1) / (M p(x)) for every class, to 1e15",
           class_loss_constants},
          {"far-time-minimiser", "P9",
           "under-parameterised: the flow reaches W* (Newton) at tau = 1e15 in a bounded number "
           "of steps",
           far_minimiser},
          {"flip-bifurcation", "P9",
           "GD converges below eta_c and settles into a period-2 cycle above it, of amplitude "
           "~ (eta - eta_c)^(1/2)",
           flip_bifurcation},
          {"mixed-limit", "beyond",
           "mixed problem: the converging part -> log(p0 / p1) + 2 / tau, the separable margin ~ "
           "log(3 tau / 8), to 1e15",
           mixed_limit}};
}

const claim_group registered(50, group);

}  // namespace
}  // namespace amflow::analysis::limits_claims
