// Claims on orthogonal embeddings (P1 to P6): the closed form, logarithmic margins and their gaps,
// time to a margin, the loss law for flow and GD, the exact first step, GD ahead of the flow, no
// loss increase at any step size, and the descent lemma with correlated embeddings.
#include <algorithm>

#include "amflow/certify/closed_form.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/descent/descent.hpp"
#include "amflow/flow/closed_form.hpp"
#include "analysis/claims_support.hpp"

// A namespace of its own: the claim files are compiled together (AMFLOW_UNITY).
namespace amflow::analysis::orthogonal_claims {
namespace {

using namespace claims_detail;

const char* const orthogonal_setting = "orthogonal";

// P1: every margin of the flow against e^m + (M-1) m = p M tau + 1 (closed form solved by Newton at
// the working precision) at tau = 1, 1e3, 1e6, 1e12.
std::vector<check> closed_form(const verify_options& o) {
  const auto pb = named<hp>("orthogonal");
  const hp tol = num<hp>("1e-42");
  const std::vector<hp> times = {hp(0), hp(1), num<hp>("1e3"), num<hp>("1e6"), num<hp>("1e12")};
  const auto r = flow_at(pb, times, tol);
  const rational p[3] = {rational(1, 2), rational(3, 10), rational(1, 5)};
  const certify::precision_scope bits(certify::bits_for_digits(o.digits + 20));
  std::vector<check> out;
  for (size_t i = 1; i < r.samples.size(); ++i) {
    const auto& s = r.samples[i];
    hp worst(0), predicted(0), measured(0);
    const hp bound = 100 * tol;
    // Certified: every token's flow value and Newton root within the bound of the exact margin,
    // enclosed through Lambert W (the sample times are integers, exact at this precision).
    bool proven = true;
    for (int x = 0; x < pb.tokens; ++x) {
      const hp exact = flow::orthogonal_margin(pb.p(x), pb.classes, s.tau);
      worst = std::max(worst, hp(abs(s.margins(x) - exact)));
      const certify::ball ball =
          certify::orthogonal_margin(p[x], pb.classes, scalar::parse_exact(txt(s.tau), "tau"));
      proven = proven && certainly_within(ball, txt(exact), txt(bound)) &&
               certainly_within(ball, txt(s.margins(x)), txt(bound));
      if (x == pb.tokens - 1) {
        predicted = exact;
        measured = s.margins(x);
      }
    }
    check c = near(std::string(orthogonal_setting) + "; flow (taylor, tol 1e-42, " +
                       digits_text(o) + ") at tau = " + scalar::round_text(txt(s.tau), 3),
                   predicted, measured, bound, "m_2 shown; the error is the largest over tokens");
    c.error = txt(worst);
    c.pass = worst <= bound;
    certify_if(c, proven,
               "every token's flow value and root within the tolerance of P1's closed form (an "
               "exact solution of the flow) enclosed by Lambert W");
    out.push_back(c);
  }
  return out;
}

// P2 and P3 from one flow run to tau = 1e12: m_x - log tau -> log(p M) (with and without the next
// term of the expansion), the gaps m_x - m_x' -> log(p(x)/p(x')), and tau L -> N (M-1)/M.
struct far_flow {
  model::problem<hp> pb = named<hp>("orthogonal");
  hp tau = num<hp>("1e12");
  model::trajectory_sample<hp> at;
  explicit far_flow() { at = flow_at(pb, {hp(0), tau}, num<hp>("1e-30")).samples.back(); }
  std::string where(const verify_options& o) const {
    return std::string(orthogonal_setting) + "; flow (tol 1e-30, " + digits_text(o) +
           ") at tau = 1e12";
  }
};

std::vector<check> log_margins(const verify_options& o) {
  using std::log;
  const far_flow f;
  const int M = f.pb.classes;
  std::vector<check> out;
  for (int x = 0; x < f.pb.tokens; ++x) {
    const hp pM = f.pb.p(x) * M;
    const hp limit = log(pM);
    const hp measured = f.at.margins(x) - log(f.tau);
    out.push_back(near(f.where(o) + "; m_" + std::to_string(x) + " - log tau -> log(p M)", limit,
                       measured, num<hp>("1e-9")));
    const hp next = (1 - (M - 1) * log(pM * f.tau)) / (pM * f.tau);
    out.push_back(near(f.where(o) + "; with the next term (1 - (M-1) log(p M tau))/(p M tau)",
                       hp(limit + next), measured, num<hp>("1e-18")));
  }
  return out;
}

std::vector<check> margin_gaps(const verify_options& o) {
  using std::log;
  const far_flow f;
  std::vector<check> out;
  for (int x = 1; x < f.pb.tokens; ++x) {
    out.push_back(near(f.where(o) + "; m_0 - m_" + std::to_string(x) + " -> log(p_0 / p_" +
                           std::to_string(x) + ")",
                       hp(log(f.pb.p(0) / f.pb.p(x))), hp(f.at.margins(0) - f.at.margins(x)),
                       num<hp>("1e-9")));
  }
  return out;
}

std::vector<check> loss_law_flow(const verify_options& o) {
  const far_flow f;
  const hp predicted = hp(f.pb.tokens * (f.pb.classes - 1)) / f.pb.classes;
  return {near_relative(f.where(o) + "; tau L(tau) -> N (M-1)/M", predicted, hp(f.tau * f.at.loss),
                        num<hp>("1e-8"))};
}

// P2: the flow reaches margin m at tau = (e^m + (M-1) m - 1) / (p M), found here by Newton's method
// on flow runs (started at twice the prediction), for m = 15 and every token: times proportional
// to 1/p.
std::vector<check> time_to_margin(const verify_options& o) {
  using std::exp;
  const auto pb = named<hp>("orthogonal");
  const hp level(15);
  std::vector<check> out;
  for (int x = 0; x < pb.tokens; ++x) {
    const hp predicted = flow::orthogonal_time_to_margin(pb.p(x), pb.classes, level);
    const hp measured =
        flow_time_to_margin(pb, x, level, hp(2 * predicted), num<hp>("1e-30"), num<hp>("1e-28"));
    check c = near_relative(std::string(orthogonal_setting) + "; token " + std::to_string(x) +
                                " reaches m = 15 (Newton on flow runs, " + "tol 1e-30, " +
                                digits_text(o) + ")",
                            predicted, measured, num<hp>("1e-25"));
    // The exact time (e^15 + (M-1) 15 - 1) / (p M), in balls.
    const certify::precision_scope bits(certify::bits_for_digits(o.digits + 20));
    const rational px[3] = {rational(1, 2), rational(3, 10), rational(1, 5)};
    const certify::ball m(15), M(pb.classes);
    const certify::ball exact = (certify::exp(m) + (M - certify::ball(1)) * m - certify::ball(1)) /
                                (certify::ball::of(px[x]) * M);
    certify_if(c,
               certainly_within_relative(exact, c.measured, c.tolerance) &&
                   certainly_within_relative(exact, c.predicted, c.tolerance),
               "both within the tolerance of the exact time (e^m + (M-1) m - 1)/(p M) in balls "
               "(P1's closed form solves the flow exactly)");
    out.push_back(c);
  }
  return out;
}

// P3 for GD: eta k L_k -> N (M-1)/M (double, eta = 1, k = 10^6).
std::vector<check> loss_law_gd(const verify_options&) {
  const auto pb = named<double>("orthogonal");
  const double eta = 1;
  const long steps = 1000000;
  const auto r = gd_run(pb, eta, steps);
  const double predicted = double(pb.tokens * (pb.classes - 1)) / pb.classes;
  return {near_relative<double>(
      std::string(orthogonal_setting) + "; GD eta = 1 (double), eta k L_k at k = 10^6 -> N (M-1)/M",
      predicted, eta * steps * r.samples.back().loss, 1e-3)};
}

// P4: from W0 = 0 one GD step gives m_x = eta p(x) > 0 exactly (exact rationals).
std::vector<check> one_step_exact(const verify_options&) {
  std::vector<check> out;
  for (const char* name : {"orthogonal", "zipf-orthogonal"}) {
    const auto pb = named<rational>(name);
    for (const char* eta_text : {"1/1000", "7/3", "1000000"}) {
      const rational eta = scalar::parse_exact(eta_text, "eta");
      const model::vector<rational> m = model::margins(pb, model::one_step_from_zero(pb, eta));
      rational worst(0), smallest = m(0);
      for (int x = 0; x < pb.tokens; ++x) {
        worst = std::max(worst, rational(abs(m(x) - eta * pb.p(x))));
        smallest = std::min(smallest, m(x));
      }
      rational predicted = eta * pb.p(0);
      for (int x = 1; x < pb.tokens; ++x) predicted = std::min(predicted, rational(eta * pb.p(x)));
      check c = exact_check(std::string(name) + ", W0 = 0, one GD step eta = " + eta_text +
                                " in exact rationals; smallest margin shown",
                            predicted, smallest,
                            "m_x = eta p(x) > 0 for every x; the error is the largest over tokens",
                            smallest > 0);
      c.error = decimal(worst);
      c.pass = worst == 0 && smallest > 0;
      out.push_back(c);
    }
  }
  return out;
}

std::vector<check> one_step_loss(const verify_options& o) {
  using std::exp;
  using std::log;
  const auto pb = named<hp>("orthogonal");
  const hp eta = num<hp>("7/3");
  hp predicted(0);
  for (int x = 0; x < pb.tokens; ++x) {
    predicted += pb.p(x) * log(1 + (pb.classes - 1) * exp(hp(-eta * pb.p(x))));
  }
  const hp measured = model::loss(pb, model::one_step_from_zero(pb, eta));
  check c = near(std::string(orthogonal_setting) + "; L(W_1) = sum p log(1 + (M-1) e^(-eta p)), " +
                     "eta = 7/3, " + digits_text(o),
                 predicted, measured, hp(1000 * scalar::epsilon<hp>()));
  // The exact loss after one exact GD step, in balls (certified GD on the problem's exact data,
  // independent of the formula).
  const certify::precision_scope bits(certify::bits_for_digits(o.digits + 20));
  const auto run = certify::certified_gd(certify::ball_problem_of(io::named_problem("orthogonal")),
                                         certify::ball::of(rational(7, 3)), 1);
  certify_if(c, run.ok() && both_within(c, run.states.at(1).loss),
             "both within the tolerance of the loss after one GD step in ball arithmetic");
  return {c};
}

// P5: GD is never behind the flow at matched time (compare, double, against the flow's own
// error estimate), and m_k - log(eta p M k) -> 0.
std::vector<check> gd_ahead(const verify_options&) {
  const auto pb = named<double>("orthogonal");
  compare_options<double> c;
  c.etas = {4, 2, 1, 0.5, 0.25};
  c.t_end = 8;
  c.modified = false;
  c.threads = 1;
  c.flow.rel_tol = c.flow.abs_tol = 1e-13;
  c.flow.step = 0.01;
  c.flow.time = flow::time_kind::linear;
  const auto r = compare(pb, c);
  if (!r.ok()) throw std::runtime_error(r.message);
  std::vector<check> out;
  for (const auto& row : r.rows) {
    const double lead = row.min_margin_lead;
    out.push_back({.setting = std::string(orthogonal_setting) +
                              "; GD eta = " + scalar::round_text(txt(row.eta), 6) +
                              " vs flow at tau = eta k <= 8 (double); min over k >= 1, x of "
                              "m(GD) - m(flow)",
                   .how = comparison::at_least,
                   .predicted = "0",
                   .measured = txt(lead),
                   .error = txt(std::max(0.0, -lead)),
                   .tolerance = txt(row.flow.reference_error),
                   .note = "the tolerance is the flow's own error estimate",
                   .pass = lead >= -row.flow.reference_error});
  }
  return out;
}

std::vector<check> gd_log_law(const verify_options&) {
  const auto pb = named<double>("orthogonal");
  const double eta = 0.5;
  const long steps = 1000000;
  const auto r = gd_run(pb, eta, steps);
  std::vector<check> out;
  for (int x = 0; x < pb.tokens; ++x) {
    std::string what = orthogonal_setting;  // appended in place: GCC 12 misreads a + chain here
    what += "; GD eta = 1/2 (double), m_" + std::to_string(x) + "(k) - log(eta p M k) at k = 10^6";
    out.push_back(near<double>(
        what, 0.0, r.samples.back().margins(x) - std::log(eta * pb.p(x) * pb.classes * steps),
        1e-4));
  }
  return out;
}

// P6: with orthogonal embeddings and outputs the GD loss never increases, for any eta and W0.
std::vector<check> no_spikes_orthogonal(const verify_options&) {
  std::vector<check> out;
  for (const char* name : {"orthogonal", "zipf-orthogonal"}) {
    for (const bool random_init : {false, true}) {
      nlohmann::json spec = io::named_problem(name);
      if (random_init) spec["init"] = {{"kind", "gaussian"}, {"seed", 1}, {"scale", "3"}};
      const auto pb = io::parse_problem<double>(spec);
      long increases = 0;
      for (const char* eta : {"0.01", "1", "100", "1e4", "1e6"}) {
        increases += gd_run(pb, num<double>(eta), 300).summary.loss_increases;
      }
      out.push_back(count_check(std::string(name) +
                                    (random_init ? ", W0 Gaussian (scale 3)" : ", W0 = 0") +
                                    "; GD (double) with eta = 0.01, 1, 100, 1e4, 1e6, 300 steps "
                                    "each: loss increases",
                                0, increases));
    }
  }
  return out;
}

// P6, correlated: the loss cannot increase while eta < 4 / (lambda_max(sum p e e^T)
// lambda_max(U^T U)) (the descent lemma; the softmax Hessian is at most 1/2).
std::vector<check> descent_lemma(const verify_options&) {
  const auto pb = named<double>("large-memory");
  const model::matrix<double> S = pb.E.transpose() * pb.p.asDiagonal() * pb.E;
  const double bound =
      4 / (model::largest_eigenvalue(S) * model::largest_eigenvalue(model::output_gram(pb)));
  std::vector<check> out;
  for (const double f : {0.25, 0.5, 0.9, 0.99}) {
    const double eta = f * bound;
    const auto r = gd_run(pb, eta, 500);
    out.push_back(count_check("large-memory; GD (double) eta = " + scalar::round_text(txt(f), 3) +
                                  " x bound = " + scalar::round_text(txt(eta), 6) +
                                  ", 500 steps: loss increases",
                              0, r.summary.loss_increases,
                              "eta < 4 / (lambda_max(sum p e e^T) lambda_max(U^T U)) = " +
                                  scalar::round_text(txt(bound), 6)));
  }
  return out;
}

}  // namespace

// This file's claims, registered below.
static std::vector<claim> group() {
  return {
      {"orthogonal-closed-form", "P1",
       "flow margins solve e^m + (M-1) m = p M tau + 1 (orthogonal, W0 = 0)", closed_form},
      {"log-margins", "P2",
       "m_x(tau) - log tau -> log(p(x) M), next term (1 - (M-1) log(pM tau))/(pM tau)",
       log_margins},
      {"margin-gaps", "P2", "m_x - m_x' -> log(p(x) / p(x'))", margin_gaps},
      {"time-to-margin", "P2", "the flow reaches margin m at tau = (e^m + (M-1) m - 1)/(p M)",
       time_to_margin},
      {"loss-law-flow", "P3", "tau L(tau) -> N (M-1)/M whatever p is", loss_law_flow},
      {"loss-law-gd", "P3", "eta k L_k -> N (M-1)/M", loss_law_gd},
      {"one-step-exact", "P4", "one GD step from 0 gives m_x = eta p(x) > 0 exactly",
       one_step_exact},
      {"one-step-loss", "P4", "L(W_1) = sum_x p(x) log(1 + (M-1) e^(-eta p(x)))", one_step_loss},
      {"gd-ahead-of-flow", "P5", "GD is never behind the flow at matched time tau = eta k",
       gd_ahead},
      {"gd-log-law", "P5", "m_k - log(eta p M k) -> 0", gd_log_law},
      {"no-spikes-orthogonal", "P6", "orthogonal embeddings: the GD loss never increases",
       no_spikes_orthogonal},
      {"descent-lemma", "P6",
       "correlated: no loss increase while eta < 4 / (lambda_max(sum p e e^T) lambda_max(U^T U))",
       descent_lemma},
  };
}

static const claim_group registered(10, group);

}  // namespace amflow::analysis::orthogonal_claims
