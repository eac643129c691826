// Claims on update rules beyond plain GD (statements of the surrounding literature, derived in
// the comments): sign descent on axis-aligned embeddings, Adam with betas (0, 0) as sign descent,
// normalised GD's linear margins on orthogonal problems, and momentum's order-one approach to its
// limit flow.
#include <cmath>

#include "amflow/descent/descent.hpp"
#include "amflow/flow/factorised.hpp"
#include "amflow/flow/sign_flow.hpp"
#include "analysis/claims_support.hpp"
#include "analysis/compare.hpp"

// A namespace of its own: the claim files are compiled together (AMFLOW_UNITY).
namespace amflow::analysis::rules_claims {
namespace {

using namespace claims_detail;

// K steps of a rule on W at the claim's precision; every state goes to on_state(k, margins, W).
template <class OnState>
void rule_run(const model::problem<hp>& pb, descent::rule_options<hp> rule, const hp& eta, long K,
              OnState&& on_state) {
  descent::descent_options<hp> d;
  d.eta = eta;
  d.steps = K;
  d.rule = std::move(rule);
  d.weights = true;
  d.on_record = [&](long k, const model::trajectory_sample<hp>& s) {
    on_state(k, s.margins, *s.W);
  };
  const descent::descent_result<hp> r = descent::run(pb, d);
  if (!r.ok()) throw std::runtime_error(descent::rule_name(d.rule.kind) + ": " + r.message);
}

// Sign descent from W = 0 with E = U = I (the orthogonal problem): G = U^T R^T E = R^T, and along
// the run R(x, f*(x)) < 0 < R(x, y) for y != f*(x) (softmax entries lie strictly in (0, 1)), so
// sign(G) = -(2 I - 1 1^T) at every step: W_k = eta k (2 I - 1 1^T) and every margin is
// m_x = W(x, x) - W(y, x) = 2 eta k exactly, whatever p.
std::vector<check> sign_descent(const verify_options& o) {
  const auto pb = named<hp>("orthogonal");
  const hp eta = num<hp>("0.25");
  const long K = 1000;
  long off = 0;  // states whose margins are not exactly 2 eta k
  hp last(0);
  rule_run(pb, {.kind = descent::rule_kind::sign}, eta, K,
           [&](long k, const model::vector<hp>& m, const model::matrix<hp>&) {
             for (Eigen::Index x = 0; x < m.size(); ++x) {
               if (m(x) != hp(2 * eta * k)) ++off;
             }
             last = m.minCoeff();
           });
  const std::string setting =
      "orthogonal (E = U = I, p = (1/2, 3/10, 1/5)), sign descent, eta = " + std::string("1/4") +
      ", " + digits_text(o);
  check every = near<hp>(
      setting + ": states k = 0.." + std::to_string(K) + " with a margin other than 2 eta k", hp(0),
      hp(off), hp(0));
  every.how = comparison::count;
  return {every, near<hp>(setting + ": min_x m_x at k = " + std::to_string(K), hp(2 * eta * K),
                          last, hp(0), "2 eta K, exactly (W_k = eta k (2 I - 1 1^T))")};
}

// Adam with betas (0, 0) and epsilon = 0: m = G, v = G.^2 and the bias corrections are 1, so
// D = G ./ sqrt(G.^2) = sign(G) (0 where G = 0): sign descent, step for step.
std::vector<check> adam_as_sign(const verify_options& o) {
  const auto pb = named<hp>("large-memory");
  const hp eta = num<hp>("0.1");
  const long K = 200;
  std::vector<model::matrix<hp>> sign_w;
  rule_run(
      pb, {.kind = descent::rule_kind::sign}, eta, K,
      [&](long, const model::vector<hp>&, const model::matrix<hp>& W) { sign_w.push_back(W); });
  descent::rule_options<hp> adam{.kind = descent::rule_kind::adam};
  adam.beta1 = adam.beta2 = adam.epsilon = hp(0);
  hp worst(0);
  rule_run(pb, adam, eta, K, [&](long k, const model::vector<hp>&, const model::matrix<hp>& W) {
    using std::max;
    worst = max(worst, hp((W - sign_w[static_cast<size_t>(k)]).cwiseAbs().maxCoeff()));
  });
  return {near<hp>("large-memory (N = M = d = 5, random embeddings), eta = 0.1, " +
                       std::to_string(K) + " steps, " + digits_text(o) +
                       ": max_k |W_k(adam, betas 0, epsilon 0) - W_k(sign)|",
                   hp(0), worst, hp(0), "the same steps, to the last bit")};
}

// Normalised GD, D = G / |G|_F, on the orthogonal problem (E = U = I, W0 = 0). Each token's
// non-target logits stay equal, so with a_x = e^{-m_x}: R(x, target) = -p_x (M - 1) / (e^{m_x} +
// M - 1), R(x, y) = p_x / (e^{m_x} + M - 1), |G|_F^2 = sum_x p_x^2 M (M - 1) / (e^{m_x} + M - 1)^2
// and each step adds eta p_x M / ((e^{m_x} + M - 1) |G|_F) to m_x. Margins m_x = c k + g_x with
// a common slope c solve this for large m when p_x e^{-g_x} is the same for every x, which gives
// c = eta M / sqrt(M (M - 1) N) = eta sqrt(M / (N (M - 1))) and gaps m_x - m_x' -> log(p_x / p_x'):
// linear growth, where GD's is logarithmic. At k = 2000 the margins are about 1414: e^{-m} is
// far below double's smallest number, so only MPFR can run this.
std::vector<check> normalized_gd(const verify_options& o) {
  using std::log;
  using std::sqrt;
  const auto pb = named<hp>("orthogonal");
  const hp eta(1);
  const long K = 2000;
  model::vector<hp> before, after;
  rule_run(pb, {.kind = descent::rule_kind::normalized}, eta, K,
           [&](long k, const model::vector<hp>& m, const model::matrix<hp>&) {
             if (k == K - 1) before = m;
             if (k == K) after = m;
           });
  const int N = pb.tokens, M = pb.classes;
  const hp slope = eta * sqrt(hp(hp(M) / hp(N * (M - 1))));
  const std::string setting =
      "orthogonal (N = M = 3, p = (1/2, 3/10, 1/5)), normalised GD, eta = 1, " + digits_text(o) +
      ", k = " + std::to_string(K);
  // The approach to the asymptote is geometric (the slopes agree to every digit from k = 1000 on);
  // what is left at k = 2000 is rounding on margins near 1414.
  const hp tolerance = num<hp>("1e-" + std::to_string(o.digits - 10));
  std::vector<check> out;
  for (int x = 0; x < N; ++x) {
    out.push_back(near<hp>(
        setting + ": m_" + std::to_string(x) + "(K) - m_" + std::to_string(x) + "(K - 1)", slope,
        hp(after(x) - before(x)), tolerance, "eta sqrt(M / (N (M - 1))) = 1 / sqrt(2)"));
  }
  for (int x = 1; x < N; ++x) {
    out.push_back(near<hp>(setting + ": m_0 - m_" + std::to_string(x),
                           hp(log(hp(pb.p(0) / pb.p(x)))), hp(after(0) - after(x)), tolerance,
                           "log(p_0 / p_" + std::to_string(x) + ")"));
  }
  return out;
}

// Heavy ball and Nesterov with a fixed mu: the buffer b_k = sum_j mu^(k-j) G_j tends to
// G / (1 - mu) as the steps shrink (G moves by O(eta) per step, the buffer forgets in O(1 / (1 -
// mu)) steps), and Nesterov's G + mu b to the same, so W_k follows dW/dtau = -grad L / (1 - mu)
// at tau = eta k with an O(eta) error (the buffer's start at 0, and the lag of the average behind
// G). compare measures it against that flow (double, Taylor reference with its own error
// estimate); the observed order between eta = 1/128 and 1/256 is the claim. The maximum over
// the run converges to order 1 more slowly than the final error (the start-up of the buffer,
// about 1 / (1 - mu) steps, weighs most there), hence its wider tolerance.
std::vector<check> momentum_order(const verify_options&) {
  const auto pb = named<double>("pair");
  std::vector<check> out;
  for (const descent::rule_kind kind :
       {descent::rule_kind::momentum, descent::rule_kind::nesterov}) {
    compare_options<double> c;
    c.etas = {1.0 / 128, 1.0 / 256};
    c.t_end = 4;
    c.rule.kind = kind;
    c.rule.momentum = 0.5;
    c.modified = false;
    c.threads = 1;
    c.flow.rel_tol = c.flow.abs_tol = 1e-13;
    c.flow.step = 0.01;
    c.flow.time = flow::time_kind::linear;
    c.flow.stepper = flow::stepper_kind::taylor;
    const auto r = compare(pb, c);
    if (!r.ok()) throw std::runtime_error(r.message);
    const auto& a = r.rows.at(0);
    const auto& b = r.rows.at(1);
    const std::string setting = "pair (alpha = 0.95, p = (3/4, 1/4)), " + descent::rule_name(kind) +
                                " mu = 1/2 (double) vs dW/dtau = -2 grad L at tau = eta k <= 4, "
                                "eta = 1/128 -> 1/256: observed order of the ";
    const double final_order =
        std::log(a.flow.final_margin_error / b.flow.final_margin_error) / std::log(2.0);
    out.push_back(near<double>(setting + "final margin error", 1.0, final_order, 0.05,
                               "errors " + scalar::round_text(txt(a.flow.final_margin_error), 3) +
                                   ", " + scalar::round_text(txt(b.flow.final_margin_error), 3)));
    out.push_back(near<double>(setting + "max margin error", 1.0, *b.flow.observed_order, 0.1,
                               "errors " + scalar::round_text(txt(a.flow.max_margin_error), 3) +
                                   ", " + scalar::round_text(txt(b.flow.max_margin_error), 3)));
  }
  return out;
}

// Layer norm before the unembedding: o_x = h_x / sqrt(|h_x|^2 + eps) has |o_x| < 1, so
//   m_x = min_{y != t} (u_t - u_y) . o_x < min_{y != t} |u_t - u_y|     (t = f*(x))
// whatever W: the margins stay bounded and the loss has a floor (no log growth). With orthonormal
// U the largest margin a vector of norm <= 1 reaches is sqrt(M / (M - 1)) (o_t = sqrt((M - 1) / M),
// o_y = -o_t / (M - 1) for the others; a Lagrange multiplier on a^2 + (M - 1) b^2 = 1), below
// |u_t - u_y| = sqrt(2); GD drives |h_x| up and the margins up to it. Measured in double to tau =
// 10^6 (eta = 100, 10^4 steps; the radial growth of W is then below its rounding, so the margins
// stop 1e-13 short), next to plain GD's log growth at the same tau.
std::vector<check> layer_norm_margins(const verify_options&) {
  using std::sqrt;
  std::vector<check> out;
  const auto run_to = [](const model::problem<double>& pb, double eta, long K, bool ln,
                         std::vector<double>& worst_gap, const std::vector<double>& bound) {
    descent::descent_options<double> d;
    d.eta = eta;
    d.steps = K;
    d.layer_norm = ln;
    d.on_record = [&](long, const model::trajectory_sample<double>& s) {
      for (Eigen::Index x = 0; x < s.margins.size(); ++x) {
        worst_gap[x] = std::max(worst_gap[x], s.margins(x) - bound[x]);
      }
    };
    const descent::descent_result<double> r = descent::run(pb, d);
    if (!r.ok()) throw std::runtime_error("GD with layer norm: " + r.message);
    return r.last.margins;
  };
  {
    const auto pb = named<double>("orthogonal");
    const int M = pb.classes;
    const double top = sqrt(double(M) / (M - 1));
    std::vector<double> gap(pb.tokens, -1e300);
    const model::vector<double> last =
        run_to(pb, 100, 10000, true, gap, std::vector<double>(pb.tokens, top));
    const std::string setting =
        "orthogonal (E = U = I, N = M = 3); GD with layer norm (eps = 1e-5), eta = 100 (double)";
    for (int x = 0; x < pb.tokens; ++x) {
      out.push_back(order_check<double>(
          setting + ": max over k <= 10^4 of m_" + std::to_string(x) + "(k) - sqrt(M / (M - 1))",
          comparison::less, 0.0, gap[x],
          "the largest margin of a vector of norm < 1 (|u_y - u_z| = sqrt(2) is larger)"));
      out.push_back(near<double>(setting + ": m_" + std::to_string(x) + " at tau = 10^6", top,
                                 last(x), 1e-9, "sqrt(M / (M - 1)), approached from below"));
    }
    std::vector<double> none(pb.tokens, -1e300);
    const model::vector<double> plain =
        run_to(pb, 100, 10000, false, none, std::vector<double>(pb.tokens, 0.0));
    out.push_back(order_check<double>(
        "orthogonal (E = U = I, N = M = 3); plain GD (no layer norm), eta = 100: min_x m_x at "
        "tau = 10^6",
        comparison::greater, 10.0, plain.minCoeff(),
        "no bound: the flow's margins are about log(p M tau) = 13.3 .. 14.2 there and GD is "
        "ahead of the flow (P5)"));
  }
  {
    // Random unit embeddings (N = M = d = 5): the bound min_{y != t} |u_t - u_y| per token.
    const auto pb = named<double>("large-memory");
    std::vector<double> bound(pb.tokens);
    for (int x = 0; x < pb.tokens; ++x) {
      const int t = pb.target[x];
      double b = 1e300;
      for (int y = 0; y < pb.classes; ++y) {
        if (y != t) b = std::min(b, (pb.U.row(t) - pb.U.row(y)).norm());
      }
      bound[x] = b;
    }
    std::vector<double> gap(pb.tokens, -1e300);
    run_to(pb, 10, 100000, true, gap, bound);
    double worst = -1e300;
    for (double g : gap) worst = std::max(worst, g);
    out.push_back(order_check<double>(
        "large-memory (N = M = d = 5, random unit embeddings, Zipf(1)); GD with layer norm, eta = "
        "10 (double), k <= 10^5 (tau = 10^6): max over k, x of m_x(k) - min_{y != f*(x)} |u_f*(x) "
        "- u_y|",
        comparison::less, 0.0, worst, "Cauchy-Schwarz with |o_x| < 1"));
  }
  return out;
}

// Factorised W = A B: along the flow dA/dtau = -G B^T, dB/dtau = -A^T G, d/dtau (A^T A) = -(B G^T A
// + A^T G B^T) = d/dtau (B B^T), so C = A^T A - B B^T is constant; a GD step on the factors
// moves it by exactly eta^2 (B G^T G B^T - A^T G G^T A) (the first-order terms cancel), so one
// step's drift has order 2 in eta and the drift at a fixed time tau = eta k has order 1. The flow
// is integrated by the implicit midpoint rule (flow/factorised.hpp), which keeps quadratic
// invariants of the flow, and only those, to rounding: a wrong gradient for either factor makes
// the drift O(1) (measured: 7.5 with dB = -A^T G^T).
std::vector<check> factorised_balancedness(const verify_options& o) {
  using std::log2;
  const auto pb = named<hp>("large-memory");
  descent::factorisation<hp> f;
  f.rank = 3;
  f.scale = num<hp>("0.5");
  const auto [A0, B0] = descent::initial_factors(f, pb.dim);
  const auto C = [](const model::matrix<hp>& A, const model::matrix<hp>& B) {
    return model::matrix<hp>(A.transpose() * A - B * B.transpose());
  };
  const auto max_abs = [](const model::matrix<hp>& X) { return hp(X.cwiseAbs().maxCoeff()); };
  const model::matrix<hp> C0 = C(A0, B0);
  const std::string setting =
      "large-memory (N = M = d = 5), W = A B, r = 3, A0, B0 = 0.5 N(0, 1) "
      "(seeds 0, 1), " +
      digits_text(o);
  std::vector<check> out;
  flow::factorised_options<hp> fo;
  fo.step = num<hp>("0.1");
  fo.times = {hp(1), hp(10)};
  const auto flow_run = flow::integrate_factorised(pb, A0, B0, fo);
  if (!flow_run.ok()) throw std::runtime_error("the factorised flow: " + flow_run.message);
  hp drift(0);
  for (const auto& s : flow_run.samples) drift = std::max(drift, max_abs(C(s.A, s.B) - C0));
  out.push_back(
      near<hp>(setting + "; flow (implicit midpoint, h = 1/10) to tau = 10: max |C(tau) - C(0)|",
               hp(0), drift, hp(max_abs(C0) * num<hp>("1e-" + std::to_string(o.digits - 4))),
               "C = A^T A - B B^T is conserved (tolerance 1e4 eps |C(0)|)"));
  // GD on the factors: one step at eta and eta / 2, and the drift at tau = 10.
  const auto gd_drift = [&](const hp& eta, long K) {
    descent::descent_options<hp> d;
    d.eta = eta;
    d.steps = K;
    d.factors = f;
    d.record = false;
    const auto r = descent::run(pb, d);
    if (!r.ok()) throw std::runtime_error("GD on the factors: " + r.message);
    return max_abs(C(r.A, r.B) - C0);
  };
  const hp eta = num<hp>("0.1");
  const hp one = gd_drift(eta, 1), half = gd_drift(eta / 2, 1);
  out.push_back(
      near<hp>(setting + "; GD, one step at eta = 1/10 and 1/20: observed order of the "
                         "drift of C",
               hp(2), hp(log2(hp(one / half))), num<hp>("1e-" + std::to_string(o.digits - 10)),
               "exactly eta^2 (B G^T G B^T - A^T G G^T A): order 2; drifts " +
                   scalar::round_text(txt(one), 3) + ", " + scalar::round_text(txt(half), 3)));
  const hp at_10 = gd_drift(eta, 100), at_10_half = gd_drift(eta / 2, 200);
  out.push_back(near<hp>(setting + "; GD to tau = 10 at eta = 1/10 and 1/20: observed order of the "
                                   "drift of C",
                         hp(1), hp(log2(hp(at_10 / at_10_half))), num<hp>("0.05"),
                         "O(eta^2) per step over 10 / eta steps: order 1; drifts " +
                             scalar::round_text(txt(at_10), 3) + ", " +
                             scalar::round_text(txt(at_10_half), 3)));
  return out;
}

// The sign flow dW/dtau = -sign(grad L) on the pair problem (e_0 = (1, 0), e_1 = (a, s), U = I,
// p = (3/4, 1/4)) from W = 0: the signs of G(0) = R^T E make W = tau [[1, -1], [-1, 1]], so m_0 =
// 2 tau and m_1 = 2 (s - a) tau, until G(0, 0) = -p0 sigma(-m_0) + a p1 sigma(-m_1) (= -G(1, 0))
// reaches 0 at the root tau* of p0 sigma(-2 tau) = a p1 sigma(2 (a - s) tau). There the new signs
// would lower m_0 and raise m_1, which moves G(0, 0) back below 0 on both sides: the flow would
// slide along G(0, 0) = 0 and is not defined classically past tau* (sign descent chatters there).
// Before tau*, sign descent at any eta is the flow exactly (a constant direction).
std::vector<check> sign_flow_pair(const verify_options& o) {
  using std::exp;
  using std::sqrt;
  const auto pb = named<hp>("pair");
  const hp a = num<hp>("0.95"), s = sqrt(hp(1 - a * a));
  const hp p0 = pb.p(0), p1 = pb.p(1);
  const auto sigma = [](const hp& z) { return hp(1 / (1 + exp(hp(-z)))); };
  const auto f = [&](const hp& t) {
    return hp(p0 * sigma(hp(-2 * t)) - a * p1 * sigma(hp(2 * (a - s) * t)));
  };
  hp lo(0), hi(2);
  for (int i = 0; i < 4 * o.digits; ++i) {
    const hp mid = (lo + hi) / 2;
    (f(mid) > 0 ? lo : hi) = mid;
  }
  flow::sign_flow_options<hp> fo;
  fo.times = {hp(1)};
  const auto r = flow::integrate_sign_flow(pb, fo);
  const std::string setting =
      "pair (alpha = 0.95, p = (3/4, 1/4)), sign flow from W = 0, " + digits_text(o);
  std::vector<check> out;
  if (r.events.empty()) throw std::runtime_error("the sign flow found no event on the pair");
  check at = near<hp>(setting + ": the time where it stops being defined", hi, r.events[0].tau,
                      num<hp>("1e-" + std::to_string(o.digits - 5)),
                      "the root of p0 sigma(-2 tau) = a p1 sigma(2 (a - s) tau)");
  at.pass = at.pass && !r.ok() && r.events.size() == 1 &&
            r.message.find("not defined past") != std::string::npos;
  out.push_back(at);
  // Sign descent at eta = 1/64 up to tau*: the flow's margins 2 eta k and 2 (s - a) eta k.
  const hp eta = num<hp>("1/64");
  const long K = static_cast<long>(static_cast<double>(hi / eta));
  hp worst(0);
  rule_run(pb, {.kind = descent::rule_kind::sign}, eta, K,
           [&](long k, const model::vector<hp>& m, const model::matrix<hp>&) {
             using std::abs;
             using std::max;
             worst = max(worst, hp(abs(hp(m(0) - 2 * eta * k))));
             worst = max(worst, hp(abs(hp(m(1) - 2 * (s - a) * eta * k))));
           });
  out.push_back(near<hp>(setting + "; sign descent eta = 1/64, k <= " + std::to_string(K) +
                             " (tau < tau*): max_k |m(GD, k) - m(flow, eta k)|",
                         hp(0), worst, num<hp>("1e-" + std::to_string(o.digits - 5)),
                         "a constant direction before tau*: GD is the flow"));
  return out;
}

}  // namespace

// This file's claims, registered below.
static std::vector<claim> group() {
  return {
      {"sign-descent-margins", "beyond",
       "sign descent on axis-aligned orthonormal embeddings moves every margin by exactly "
       "2 eta per step",
       sign_descent},
      {"adam-betas-zero", "beyond",
       "Adam with betas (0, 0) and epsilon 0 is sign descent, step for step", adam_as_sign},
      {"normalized-gd-linear-margins", "beyond",
       "normalised GD on orthogonal problems: margins grow linearly, slope eta sqrt(M / (N (M "
       "- 1))), gaps log(p(x) / p(x'))",
       normalized_gd},
      {"momentum-flow-order-one", "beyond",
       "heavy-ball and Nesterov momentum mu follow the gradient flow at speed 1 / (1 - mu) to "
       "O(eta): observed order 1",
       momentum_order},
      {"layer-norm-bounded-margins", "beyond",
       "with layer norm before the unembedding the margins stay below min_y |u_f*(x) - u_y| "
       "(orthonormal U: they rise to sqrt(M / (M - 1))), no log growth, to tau = 1e6",
       layer_norm_margins},
      {"factorised-balancedness", "beyond",
       "W = A B: the gradient flow conserves A^T A - B B^T to rounding; GD moves it by O(eta^2) "
       "per step (order 2), O(eta) at a fixed time (order 1)",
       factorised_balancedness},
      {"sign-flow-pair", "beyond",
       "the sign flow of the pair problem is linear until the root of p0 sigma(-2 tau) = a p1 "
       "sigma(2 (a - s) tau), where it would slide (not defined past it); sign descent is the "
       "flow before it",
       sign_flow_pair}};
}

static const claim_group registered(40, group);

}  // namespace amflow::analysis::rules_claims
