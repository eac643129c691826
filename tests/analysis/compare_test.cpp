// Convergence tables: GD is first order against the gradient flow and second order against the
// modified flow (P10) on the pair problem; on an orthogonal problem GD is never behind the flow
// (P5); the table does not depend on the thread count.
#include <cmath>

#include "amflow/descent/descent.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "analysis/instantiate.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

template <class Real>
analysis::compare_options<Real> options(const std::string& etas, const std::string& t_end,
                                        const std::string& tol) {
  analysis::compare_options<Real> o;
  o.etas = io::parse_points<Real>(etas, "test");
  o.t_end = testing::num<Real>(t_end);
  o.flow.time = flow::time_kind::linear;
  o.flow.rel_tol = o.flow.abs_tol = testing::num<Real>(tol);
  o.flow.step = Real(1) / 100;
  o.threads = 2;
  return o;
}

TEST(compare, pair_problem_is_first_order_against_the_flow_and_second_against_the_modified_flow) {
  const auto pb = io::parse_problem<double>(io::named_problem("pair"));
  const auto r = analysis::compare(pb, options<double>("list:1/8,1/16,1/32,1/64", "4", "1e-13"));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.rows.size(), 4u);
  EXPECT_EQ(r.rows[0].steps, 32);
  EXPECT_EQ(r.rows[3].steps, 256);
  for (size_t i = 1; i < r.rows.size(); ++i) {
    const auto& row = r.rows[i];
    ASSERT_TRUE(row.flow.observed_order && row.modified && row.modified->observed_order);
    EXPECT_GT(*row.flow.observed_order, 0.9) << "eta = " << row.eta;
    EXPECT_LT(*row.flow.observed_order, 1.1) << "eta = " << row.eta;
    EXPECT_GT(*row.modified->observed_order, 1.9) << "eta = " << row.eta;
    EXPECT_LT(*row.modified->observed_order, 2.1) << "eta = " << row.eta;
    // The references are far more accurate than the differences measured.
    EXPECT_LT(row.flow.reference_error, 1e-6 * row.modified->max_margin_error);
  }
  // The oscillating rare token falls behind the flow at some step: GD does not lead everywhere.
  EXPECT_LT(r.rows[0].min_margin_lead, 0);
}

TEST(compare, orthogonal_gd_is_never_behind_the_flow_at_50_digits) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<mpfr_real>(io::named_problem("orthogonal"));
  auto o = options<mpfr_real>("list:2,1,1/2", "8", "1e-40");
  o.modified = false;
  const auto r = analysis::compare(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  for (const auto& row : r.rows) {
    EXPECT_GT(row.min_margin_lead, 0) << "eta = " << row.eta;
    EXPECT_LT(row.flow.reference_error, mpfr_real("1e-38"));
  }
  ASSERT_TRUE(r.rows[2].flow.observed_order);
  EXPECT_NEAR(static_cast<double>(*r.rows[2].flow.observed_order), 1.0, 0.15);
}

TEST(compare, the_table_does_not_depend_on_the_thread_count) {
  const auto pb = io::parse_problem<double>(io::named_problem("pair"));
  auto o = options<double>("list:1/2,1/4,1/8", "2", "1e-12");
  o.threads = 1;
  const auto a = analysis::compare(pb, o);
  o.threads = 2;
  const auto b = analysis::compare(pb, o);
  ASSERT_EQ(a.rows.size(), b.rows.size());
  for (size_t i = 0; i < a.rows.size(); ++i) {
    EXPECT_EQ(a.rows[i].flow.max_margin_error, b.rows[i].flow.max_margin_error);
    EXPECT_EQ(a.rows[i].modified->loss_error, b.rows[i].modified->loss_error);
  }
}

// Heavy ball against its limit flow (speed 1 / (1 - mu) = 4): first order in eta.
TEST(compare, momentum_is_first_order_against_its_limit_flow) {
  const auto pb = io::parse_problem<double>(io::named_problem("pair"));
  auto o = options<double>("list:1/64,1/128,1/256", "4", "1e-13");
  o.modified = false;
  o.rule.kind = descent::rule_kind::momentum;
  o.rule.momentum = 0.75;
  const auto r = analysis::compare(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  for (size_t i = 1; i < r.rows.size(); ++i) {
    const double order =
        std::log2(r.rows[i - 1].flow.final_margin_error / r.rows[i].flow.final_margin_error);
    EXPECT_NEAR(order, 1.0, 0.05) << "eta = " << r.rows[i].eta;
  }
  EXPECT_LT(r.rows.back().flow.final_margin_error, 0.01);
  // Plain GD at the same eta ends elsewhere (by far more than that error): the speed matters.
  descent::descent_options<double> d;
  d.eta = 1.0 / 256;
  d.steps = 1024;
  d.rule.kind = descent::rule_kind::momentum;
  d.rule.momentum = 0.75;
  d.record = false;
  const auto gd = descent::run(pb, d);
  const auto plain = descent::run(pb, [&] {
    auto e = d;
    e.rule.kind = descent::rule_kind::gd;
    return e;
  }());
  EXPECT_GT(std::abs(gd.last.margins(0) - plain.last.margins(0)), 0.1);
}

TEST(compare, refuses_rules_without_a_flow_limit_and_the_modified_flow_for_momentum) {
  const auto pb = io::parse_problem<double>(io::named_problem("pair"));
  auto o = options<double>("list:1/2", "1", "1e-10");
  const auto field_of = [&] {
    try {
      analysis::compare(pb, o);
    } catch (const input_error& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  o.rule.kind = descent::rule_kind::sign;
  o.modified = false;
  EXPECT_EQ(field_of(), "rule");
  o.rule.kind = descent::rule_kind::nesterov;
  EXPECT_EQ(field_of(), "accepted");
  o.modified = true;
  EXPECT_EQ(field_of(), "modified");
  o.modified = false;
  o.rule.momentum = 1;
  EXPECT_EQ(field_of(), "momentum");
}

TEST(compare, refuses_step_sizes_it_cannot_use) {
  const auto pb = io::parse_problem<double>(io::named_problem("pair"));
  const auto field_of = [&](const std::string& etas, const std::string& t_end) {
    try {
      analysis::compare(pb, options<double>(etas, t_end, "1e-10"));
    } catch (const input_error& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  // The library's field names (the command line shows them as --etas, --t-end).
  EXPECT_EQ(field_of("list:0", "1"), "etas");
  EXPECT_EQ(field_of("list:2", "1"), "etas");
  EXPECT_EQ(field_of("list:1e-9", "1"), "etas");
  EXPECT_EQ(field_of("list:1/2", "-1"), "t_end");
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
