// Claims on two tokens with opposite labels and correlated embeddings (P7, P8) and on the order of
// GD against the flow and the modified flow (P10).
#include "amflow/certify/descent.hpp"
#include "amflow/certify/enclose.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/descent/descent.hpp"
#include "analysis/claims_support.hpp"

// A namespace of its own: the claim files are compiled together (AMFLOW_UNITY).
namespace amflow::analysis::pair_claims {
namespace {

using namespace claims_detail;

const char* const pair_setting = "pair (alpha 0.95, p0 3/4)";

// P7: dm_0/dtau = p0 - alpha p1 and dm_1/dtau = p1 - alpha p0 at W0 = 0.
std::vector<check> initial_velocity(const verify_options& o) {
  const auto pb = named<hp>("pair");
  const hp alpha = num<hp>("0.95"), p0 = num<hp>("0.75"), p1 = num<hp>("0.25");
  const hp predicted[2] = {hp(p0 - alpha * p1), hp(p1 - alpha * p0)};
  // The exact velocity -G_E R(0) G_U in balls: at W0 = 0, pi = (1/2, 1/2) and R = p (pi - Y).
  const certify::precision_scope bits(certify::bits_for_digits(o.digits + 20));
  const certify::ball_problem bp = certify::ball_problem_of(io::named_problem("pair"));
  std::vector<certify::ball> R(4);
  for (int x = 0; x < 2; ++x) {
    for (int y = 0; y < 2; ++y) {
      R[x * 2 + y] =
          bp.p[x] * (certify::ball::of(rational(1, 2)) - certify::ball(bp.target[x] == y ? 1 : 0));
    }
  }
  std::vector<check> out;
  for (int x = 0; x < 2; ++x) {
    check c = near(std::string(pair_setting) + "; dm_" + std::to_string(x) +
                       "/dtau at tau = 0 from the flow's right-hand side, " + digits_text(o),
                   predicted[x], margin_velocity(pb, pb.Z0, x), hp(100 * scalar::epsilon<hp>()));
    // dm_x/dtau = V(x, x) - V(x, other), V = -G_E R G_U (U = I here: G_U = I exactly).
    certify::ball v;
    for (int k = 0; k < 2; ++k) {
      v -= bp.G_E[x * 2 + k] * (R[k * 2 + x] - R[k * 2 + (1 - x)]);
    }
    certify_if(c, certify::is_identity(bp.G_U, 2) && both_within(c, v),
               "both within the tolerance of -G_E R(0) G_U in balls");
    out.push_back(c);
  }
  return out;
}

// P7: the rare token is first pushed to the wrong side iff alpha > p1/p0 (= 1/3 here): the sign of
// m_1 on the flow at tau = 1/100 across alpha.
std::vector<check> rare_token_criterion(const verify_options& o) {
  std::vector<check> out;
  for (const char* alpha : {"0.2", "0.3", "0.33", "0.34", "0.5", "0.95"}) {
    const auto pb = io::parse_problem<hp>(pair_spec(alpha, "3/4"));
    const bool wrong_predicted = num<hp>(alpha) > hp(1) / 3;
    const auto r = flow_at(pb, {hp(0), num<hp>("0.01")}, num<hp>("1e-30"));
    const hp m1 = r.samples.back().margins(1);
    check c = order_check("pair (alpha " + std::string(alpha) + ", p0 3/4); flow (" +
                              digits_text(o) + ") at tau = 0.01: m_1",
                          wrong_predicted ? comparison::less : comparison::greater, hp(0), m1,
                          wrong_predicted ? "alpha > p1/p0 = 1/3" : "alpha < p1/p0 = 1/3");
    // The sign of the exact flow's m_1 at tau = 1/100, from the validated enclosure.
    certify::enclose_options e;
    e.keep_precision = true;
    e.times = {rational(1, 100)};
    const auto enc = certify::enclose(pair_spec(alpha, "3/4"), e);
    const certify::sign_of sign =
        enc.ok() ? certify::sign(enc.rows.at(0).margins[1]) : certify::sign_of::undecided;
    certify_if(c,
               sign == (wrong_predicted ? certify::sign_of::negative : certify::sign_of::positive),
               "the sign of m_1(1/100) decided by the validated flow enclosure");
    out.push_back(c);
  }
  return out;
}

// P7: one GD step from 0 gives m = eta (p0 - alpha p1, p1 - alpha p0) exactly. alpha = 24/25 makes
// e_1 = (24/25, 7/25) rational, so the check is in exact rationals.
std::vector<check> pair_one_step(const verify_options&) {
  nlohmann::json spec = io::named_problem("pair");
  spec["inputs"] = {{"kind", "explicit"},
                    {"rows", nlohmann::json::array({nlohmann::json::array({"1", "0"}),
                                                    nlohmann::json::array({"24/25", "7/25"})})}};
  const auto pb = io::parse_problem<rational>(spec);
  const rational alpha(24, 25), p0(3, 4), p1(1, 4);
  std::vector<check> out;
  for (const char* eta_text : {"1/10", "1", "10"}) {
    const rational eta = scalar::parse_exact(eta_text, "eta");
    const model::vector<rational> m = model::margins(pb, model::one_step_from_zero(pb, eta));
    const rational e0 = abs(m(0) - eta * (p0 - alpha * p1));
    const rational e1 = abs(m(1) - eta * (p1 - alpha * p0));
    check c = exact_check("pair (alpha 24/25: e_1 = (24/25, 7/25), p0 3/4); one GD step eta = " +
                              std::string(eta_text) + " in exact rationals; m_1 shown",
                          rational(eta * (p1 - alpha * p0)), m(1),
                          "m = eta (p0 - alpha p1, p1 - alpha p0); the error is the larger of the "
                          "two tokens'");
    c.error = decimal(std::max(e0, e1));
    c.pass = e0 == 0 && e1 == 0;
    out.push_back(c);
  }
  return out;
}

// P7: the sharpness at W0 = 0 is (1 + sqrt(1 - 4 p0 p1 (1 - alpha^2))) / 4.
std::vector<check> sharpness_at_zero(const verify_options& o) {
  using std::sqrt;
  const auto pb = named<hp>("pair");
  const hp alpha = num<hp>("0.95"), p0 = num<hp>("0.75"), p1 = num<hp>("0.25");
  const hp predicted = (1 + sqrt(hp(1 - 4 * p0 * p1 * (1 - alpha * alpha)))) / 4;
  check c = near(
      std::string(pair_setting) + "; largest Hessian eigenvalue at W0 (" + digits_text(o) + ")",
      predicted, model::sharpness(pb, pb.Z0), hp(1e6 * scalar::epsilon<hp>()));
  // The exact Hessian's largest eigenvalue at W0, bracketed in balls (certify::sharpness).
  const certify::precision_scope bits(certify::bits_for_digits(o.digits + 10));
  const certify::ball_problem bp = certify::ball_problem_of(io::named_problem("pair"));
  certify_if(c, both_within(c, certify::sharpness(bp, bp.Z0)),
             "both within the tolerance of lambda_max enclosed by a Rayleigh quotient and a "
             "Cholesky factorisation in balls");
  return {c};
}

// P7: the rare token's margin goes negative, then recovers at a finite crossing time tau* > 0 of
// the flow; tau* found by Newton's method on flow runs at two tolerances.
std::vector<check> crossing_time(const verify_options& o) {
  const auto pb = named<hp>("pair");
  // Bracket: the first sample after the dip where m_1 is positive again.
  std::vector<hp> times = {hp(0)};
  for (int i = -20; i <= 30; ++i) times.push_back(pow(hp(10), hp(i) / 10));
  const auto scan = flow_at(pb, times, num<hp>("1e-20"), false);
  hp start(0);
  bool dipped = false;
  for (const auto& s : scan.samples) {
    if (s.margins(1) < 0) dipped = true;
    if (dipped && s.margins(1) > 0) {
      start = s.tau;
      break;
    }
  }
  if (!(start > 0)) throw std::runtime_error("m_1 did not recover before tau = 1000");
  const hp coarse = flow_time_to_margin(pb, 1, hp(0), start, num<hp>("1e-30"), num<hp>("1e-32"));
  const hp fine = flow_time_to_margin(pb, 1, hp(0), coarse, num<hp>("1e-33"), num<hp>("1e-35"));
  const hp tolerance = num<hp>("1e-26");
  check c = near(std::string(pair_setting) + "; flow (" + digits_text(o) +
                     "): m_1 < 0 after tau = 0, then m_1(tau*) = 0 (Newton on flow runs at tol "
                     "1e-30)",
                 fine, coarse, tolerance,
                 "the prediction is a finite tau* > 0; predicted shows the same root found at "
                 "tol 1e-33");
  c.pass = c.pass && dipped && coarse > 0;
  // The validated enclosure's events on (0, 100]: exactly one zero of m_1, upward, in a bracket
  // that both roots are within the tolerance of (m_1 < 0 before it: it has no other zero there and
  // its one turn is a minimum).
  certify::enclose_options e;
  e.keep_precision = true;
  e.times = {rational(100)};
  e.events = true;
  const auto enc = certify::enclose(io::named_problem("pair"), e);
  bool proven = enc.ok() && enc.events_complete && enc.crossings.size() == 1;
  if (proven) {
    const certify::event& x = enc.crossings[0];
    proven = x.token == 1 && x.direction == 1 && x.unique && both_within(c, x.tau);
    c.note += "; certified bracket [" + x.tau.lower(40) + ", " + x.tau.upper(40) + "]";
  }
  certify_if(c, proven,
             "the only zero of m_1 on (0, 100] is upward, and both roots are within the "
             "tolerance of every point of its bracket");
  return {c};
}

// P7: asymptotically m_x(k) ~ log(2 eta p(x) (1 - alpha) k) for GD.
std::vector<check> pair_asymptotic(const verify_options&) {
  const auto pb = named<double>("pair");
  const double eta = 1;
  const long steps = 1000000;
  const auto r = gd_run(pb, eta, steps);
  std::vector<check> out;
  const double alpha = 0.95;
  for (int x = 0; x < 2; ++x) {
    out.push_back(near<double>(
        std::string(pair_setting) + "; GD eta = 1 (double), m_" + std::to_string(x) +
            "(k) - log(2 eta p(x) (1 - alpha) k) at k = 10^6",
        0.0, r.samples.back().margins(x) - std::log(2 * eta * pb.p(x) * (1 - alpha) * steps),
        1e-3));
  }
  return out;
}

// P8: with eta = 10 the loss spikes above log 2, then reaches a lower loss and zero error within 35
// steps, while eta = 1 still misclassifies the rare token (the authors' spike experiment).
std::vector<check> benign_spikes(const verify_options& o) {
  using std::log;
  const auto pb = named<hp>("pair");
  // 34 steps: the authors' 35 recorded states.
  const auto fast = gd_run(pb, num<hp>("10"), 34), slow = gd_run(pb, num<hp>("1"), 34);
  const std::string where = std::string(pair_setting) + "; GD (" + digits_text(o) + ") ";
  const hp log2 = log(hp(2));
  const auto& f = fast.samples.back();
  const auto& s = slow.samples.back();
  std::vector<check> out = {
      order_check(where + "eta = 10, states 0..34: max loss", comparison::greater, log2,
                  fast.summary.max_loss, "predicted: log 2, the loss at W0"),
      near(where + "eta = 10: 0-1 loss at state 34", hp(0), f.zero_one_loss, hp(0)),
      order_check(where + "eta = 10 vs eta = 1: loss at state 34", comparison::less, s.loss, f.loss,
                  "predicted: the loss with eta = 1 at state 34"),
      near(where + "eta = 1: 0-1 loss at state 34 (the rare token)", pb.p(1), s.zero_one_loss,
           hp(0), "p1: the rare token is still wrong"),
  };
  // The same runs in ball arithmetic from the exact data: each verdict decided there.
  using certify::sign_of;
  const certify::precision_scope bits(certify::bits_for_digits(o.digits));
  const certify::ball_problem bp = certify::ball_problem_of(io::named_problem("pair"));
  const auto cf = certify::certified_gd(bp, certify::ball(10), 34);
  const auto cs = certify::certified_gd(bp, certify::ball(1), 34);
  if (cf.ok() && cs.ok() && cf.states.size() == 35 && cs.states.size() == 35) {
    bool above = false;
    for (const auto& st : cf.states) {
      above = above || certify::sign(st.loss - certify::log(certify::ball(2))) == sign_of::positive;
    }
    const auto& F = cf.states.back();
    const auto& S = cs.states.back();
    certify_if(out[0], above, "some state's loss is above log 2 in ball arithmetic");
    certify_if(out[1], F.perfect == certify::decision::yes,
               "every token right at state 34, decided in ball arithmetic");
    certify_if(out[2], certify::sign(F.loss - S.loss) == sign_of::negative,
               "the difference of the losses is negative in ball arithmetic");
    certify_if(out[3],
               certify::sign(S.margins[0]) == sign_of::positive &&
                   certify::sign(S.margins[1]) == sign_of::negative,
               "token 0 right and token 1 wrong at state 34, decided in ball arithmetic");
  }
  return out;
}

// P10: GD is first order against the flow and second order against the modified flow.
std::vector<check> orders(const verify_options&) {
  const auto pb = named<double>("pair");
  compare_options<double> c;
  c.etas = {0.125, 0.0625, 0.03125, 0.015625};
  c.t_end = 4;
  c.threads = 1;
  c.flow.rel_tol = c.flow.abs_tol = 1e-13;
  c.flow.step = 0.01;
  c.flow.time = flow::time_kind::linear;
  const auto r = compare(pb, c);
  if (!r.ok()) throw std::runtime_error(r.message);
  std::vector<check> out;
  for (size_t i = 1; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    const std::string where =
        std::string(pair_setting) +
        "; GD (double) eta = " + scalar::round_text(txt(r.rows[i - 1].eta), 6) + " -> " +
        scalar::round_text(txt(row.eta), 6) + ", max margin error over tau = eta k <= 4";
    out.push_back(
        near<double>(where + " vs the flow: observed order", 1.0, *row.flow.observed_order, 0.1));
    out.push_back(near<double>(where + " vs the modified flow: observed order", 2.0,
                               *row.modified->observed_order, 0.1));
  }
  return out;
}

}  // namespace

// This file's claims, registered below.
static std::vector<claim> group() {
  return {
      {"pair-initial-velocity", "P7", "dm/dtau at 0 = (p0 - alpha p1, p1 - alpha p0)",
       initial_velocity},
      {"pair-rare-token-criterion", "P7",
       "the rare token is first pushed to the wrong side iff alpha > p1/p0", rare_token_criterion},
      {"pair-one-step", "P7", "one GD step: m = eta (p0 - alpha p1, p1 - alpha p0)", pair_one_step},
      {"pair-sharpness-at-zero", "P7", "sharpness at 0 = (1 + sqrt(1 - 4 p0 p1 (1 - alpha^2)))/4",
       sharpness_at_zero},
      {"pair-crossing-time", "P7", "the rare token's margin recovers at a finite tau* > 0",
       crossing_time},
      {"pair-asymptotic-margins", "P7", "m_x(k) ~ log(2 eta p(x) (1 - alpha) k)", pair_asymptotic},
      {"benign-spikes", "P8",
       "eta = 10 spikes above log 2 yet ends lower with zero error; eta = 1 still errs",
       benign_spikes},
      {"gd-orders", "P10",
       "GD is O(eta) from the flow and O(eta^2) from the modified flow (observed orders 1 and 2)",
       orders},
  };
}

static const claim_group registered(20, group);

}  // namespace amflow::analysis::pair_claims
