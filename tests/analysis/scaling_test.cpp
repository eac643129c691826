// The scaling study's reduced run (two numbers per column of W) against descent::run on the full
// W (d = N = 12): the same step counts for every entrywise rule; and its fits and refusals.
#include <cmath>

#include "amflow/descent/descent.hpp"
#include "analysis/scaling.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using descent::rule_kind;

nlohmann::json zipf_identity(int N) {
  return {{"tokens", N},
          {"classes", N},
          {"dim", N},
          {"inputs", {{"kind", "orthonormal"}}},
          {"outputs", {{"kind", "orthonormal"}}},
          {"frequencies", {{"kind", "zipf"}, {"exponent", 1}}},
          {"target", {{"kind", "identity"}}},
          {"init", {{"kind", "zero"}}}};
}

TEST(scaling, reduced_run_gives_the_step_counts_of_the_full_memory) {
  const int N = 12;
  const auto pb = io::parse_problem<double>(zipf_identity(N));
  analysis::scaling_options o;
  o.eta = 0.1;
  o.target = 0.3;
  o.sizes = {N};
  for (rule_kind k : {rule_kind::gd, rule_kind::momentum, rule_kind::nesterov, rule_kind::sign,
                      rule_kind::adam}) {
    descent::rule_options<double> rule;
    rule.kind = k;
    rule.momentum = 0.5;
    const analysis::scaling_row reduced = analysis::scaling_run(o, rule, N);
    ASSERT_TRUE(reduced.steps_all_classes && reduced.steps_mean_loss) << descent::rule_name(k);
    // The full run: per-class losses from the logits at every step.
    descent::descent_options<double> d;
    d.eta = o.eta;
    d.steps = *reduced.steps_all_classes + 5;
    d.rule = rule;
    d.space = descent::space_kind::weights;
    long all = -1, mean = -1;
    std::vector<long> first(N, -1);
    d.on_record = [&](long step, const model::trajectory_sample<double>& s) {
      double L = 0;
      for (int x = 0; x < N; ++x) {
        const double top = s.Z.row(x).maxCoeff();
        double sum = 0;
        for (int y = 0; y < N; ++y) sum += std::exp(s.Z(x, y) - top);
        const double l = std::log(sum) + top - s.Z(x, x);
        L += pb.p(x) * l;
        if (first[x] < 0 && l <= o.target) first[x] = step;
      }
      if (mean < 0 && L <= o.target) mean = step;
    };
    const auto r = descent::run(pb, d);
    ASSERT_TRUE(r.ok()) << r.message;
    for (long f : first) all = std::max(all, f);
    EXPECT_EQ(*reduced.steps_all_classes, all) << descent::rule_name(k);
    EXPECT_EQ(*reduced.steps_mean_loss, mean) << descent::rule_name(k);
    EXPECT_GT(all, 10) << descent::rule_name(k);
    std::cout << "[ measured ] " << descent::rule_name(k) << ": " << all << " and " << mean
              << " steps\n";
  }
}

// GD on the rarest class: l = log(1 + (M - 1) e^-m) with m ~ log(p M eta k) for large k, so the
// steps to a small target grow like 1 / p(N - 1) = N H_N: the fitted exponent is a bit above 1;
// sign descent moves every margin by 2 eta per step whatever p, so its steps grow like log N.
TEST(scaling, gd_needs_about_n_log_n_steps_and_sign_descent_about_log_n) {
  analysis::scaling_options o;
  o.sizes = {10, 20, 40, 80};
  o.eta = 1;
  o.target = 0.1;
  descent::rule_options<double> gd, sign;
  sign.kind = rule_kind::sign;
  o.rules = {gd, sign};
  const auto r = analysis::scaling(o);
  ASSERT_EQ(r.rows.size(), 8u);
  const auto g = analysis::fit_exponent(r.rows, rule_kind::gd, false);
  const auto s = analysis::fit_exponent(r.rows, rule_kind::sign, false);
  EXPECT_EQ(g.points, 4);
  EXPECT_GT(g.exponent, 1.0);
  EXPECT_LT(g.exponent, 1.4);
  EXPECT_LT(s.exponent, 0.5);
  // Sign descent's count in closed form: the first k with log(1 + (N - 1) e^{-2 eta k}) <= target.
  for (const auto& row : r.rows) {
    if (row.rule != rule_kind::sign) continue;
    const double m = std::log((row.tokens - 1) / std::expm1(o.target));
    EXPECT_EQ(*row.steps_all_classes, static_cast<long>(std::ceil(m / (2 * o.eta))))
        << "N = " << row.tokens;
  }
}

TEST(scaling, refuses_what_it_cannot_reduce) {
  analysis::scaling_options o;
  o.sizes = {10};
  descent::rule_options<double> rule;
  rule.kind = rule_kind::normalized;
  o.rules = {rule};
  const auto field = [&] {
    try {
      o.validate();
    } catch (const input_error& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  EXPECT_EQ(field(), "rules");
  o.rules[0].kind = rule_kind::adam;
  EXPECT_EQ(field(), "accepted");
  o.sizes = {10, 5};
  EXPECT_EQ(field(), "sizes");
  o.sizes = {10};
  o.target = 0;
  EXPECT_EQ(field(), "target");
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
