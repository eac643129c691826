// The Taylor-series stepper: the orthogonal closed form (P1) at 50 digits to tau = 1e12 and at 100
// digits to tau = 1e15 with a step count that stays flat, the pair problem at 50 and 100 digits,
// dense output at many sample times inside steps, and its refusal of the modified flow.
#include "amflow/flow/closed_form.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/flow/taylor_impl.hpp"
#include "amflow/io/points.hpp"
#include "amflow/model/quantities.hpp"
#include "flow/closed_form_error.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using Real = mpfr_real;

flow::flow_options<Real> taylor(const std::string& tol, const std::string& at) {
  flow::flow_options<Real> o;
  o.stepper = flow::stepper_kind::taylor;
  o.time = flow::time_kind::log;
  o.rel_tol = o.abs_tol = testing::num<Real>(tol);
  o.step = Real(1) / 100;
  o.times = io::parse_points<Real>(at, "test");
  o.estimate_error = false;
  return o;
}

using testing::closed_form_error;

TEST(taylor, orthogonal_at_50_digits_to_1e12_within_1e40) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<Real>(io::named_problem("orthogonal"));
  const auto r = flow::integrate(pb, taylor("1e-42", "0,0.1,1,10,100,1e3,1e4,1e6,1e8,1e10,1e12"));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_LT(closed_form_error(pb, r), Real("1e-40"));
  EXPECT_LT(r.run.steps, 60);
}

// What the Taylor stepper is for: 100 digits to tau = 1e15 in a few dozen steps.
TEST(taylor, orthogonal_at_100_digits_to_1e15_within_1e85) {
  scalar::set_mpfr_digits(100);
  const auto pb = io::parse_problem<Real>(io::named_problem("orthogonal"));
  const auto r = flow::integrate(pb, taylor("1e-88", "0,1,1e3,1e6,1e9,1e12,1e15"));
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_LT(closed_form_error(pb, r), Real("1e-85"));
  EXPECT_LT(r.run.steps, 60);
  scalar::set_mpfr_digits(50);
}

// Dense output: 57 sample times, most of them inside steps, each within the tolerance.
TEST(taylor, dense_output_is_as_accurate_as_the_steps) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<Real>(io::named_problem("orthogonal"));
  const auto r = flow::integrate(pb, taylor("1e-35", "logspace:-2:12:57"));
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.samples.size(), 57u);
  EXPECT_LT(r.run.steps, 57);  // fewer steps than samples: samples come from the series
  EXPECT_LT(closed_form_error(pb, r), Real("1e-33"));
}

// The correlated pair problem: 50 and 100 digits agree to 1e-45 up to tau = 100, in log and in
// linear time.
TEST(taylor, pair_at_50_digits_agrees_with_100_digits) {
  for (const auto t : {flow::time_kind::log, flow::time_kind::linear}) {
    const auto run = [&](int digits, const std::string& tol) {
      scalar::set_mpfr_digits(digits);
      const auto pb = io::parse_problem<Real>(io::named_problem("pair"));
      auto o = taylor(tol, "0.5,1,10,100");
      o.time = t;
      const auto r = flow::integrate(pb, o);
      EXPECT_TRUE(r.ok()) << r.message;
      std::vector<std::string> m;
      for (const auto& s : r.samples) {
        for (int x = 0; x < 2; ++x) m.push_back(scalar::to_text(s.margins(x)));
      }
      return m;
    };
    const auto low = run(50, "1e-47");
    const auto high = run(100, "1e-60");
    scalar::set_mpfr_digits(100);
    ASSERT_EQ(low.size(), high.size());
    for (size_t i = 0; i < low.size(); ++i) {
      EXPECT_LT(testing::diff(testing::num<Real>(low[i]), testing::num<Real>(high[i])), 1e-45)
          << flow::time_name(t) << " sample " << i / 2 << " token " << i % 2;
    }
  }
  scalar::set_mpfr_digits(50);
}

// The remainder check: with an order too low for the tolerance (4 for 1e-12), the Jorba-Zou step
// alone would leave an error far above it; the check shrinks the step until one step from W0 = 0
// (linear time) lands within the tolerance of the closed form.
TEST(taylor, the_remainder_check_shrinks_a_step_the_order_cannot_carry) {
  scalar::set_mpfr_digits(50);
  const auto pb = io::parse_problem<Real>(io::named_problem("orthogonal"));
  flow::detail::taylor_series<Real> series(pb, 4);
  series.expand(pb.Z0, Real(0), false);
  const auto error_at = [&](const Real& h) {
    const model::vector<Real> m = model::margins(pb, series.at(h));
    Real worst(0);
    for (int x = 0; x < pb.tokens; ++x) {
      using std::abs;
      using std::max;
      worst = max(worst, Real(abs(m(x) - flow::orthogonal_margin(pb.p(x), pb.classes, h))));
    }
    return worst;
  };
  const Real tol("1e-12");
  const Real unchecked = series.step(Real(1));  // a tolerance the Jorba-Zou step always meets
  const Real checked = series.step(tol);
  EXPECT_GT(error_at(unchecked), 1000 * tol);
  EXPECT_LT(checked, unchecked);
  EXPECT_LT(error_at(checked), 10 * tol);
}

// The first coefficient is the right-hand side: logit_velocity and modified_logit_velocity (times
// e^t0 in log time) at a state with unequal logits, on a correlated problem (G_E and G_U not the
// identity) and on the pair problem.
TEST(taylor, first_coefficient_is_the_velocity_of_both_flows) {
  scalar::set_mpfr_digits(50);
  for (const char* name : {"large-memory", "pair"}) {
    const auto pb = io::parse_problem<Real>(io::named_problem(name));
    model::matrix<Real> Z = pb.Z0;
    for (Eigen::Index i = 0; i < Z.size(); ++i) Z(i) += Real(static_cast<int>(i % 7) - 3) / 5;
    const Real eta = Real(3) / 4, t0 = Real(1) / 3;
    for (const Real& e : {Real(0), eta}) {
      for (bool log_time : {false, true}) {
        flow::detail::taylor_series<Real> series(pb, 6, e);
        series.expand(Z, t0, log_time);
        const model::matrix<Real> V =
            (e > 0 ? model::modified_logit_velocity(pb, Z, e) : model::logit_velocity(pb, Z)) *
            (log_time ? Real(exp(t0)) : Real(1));
        EXPECT_LT((series.coefficient(1) - V).cwiseAbs().maxCoeff(), Real("1e-48"))
            << name << " eta " << e << (log_time ? " log" : " linear");
        EXPECT_EQ(series.coefficient(0), Z);
      }
    }
  }
}

// The modified flow (P10) by Taylor series against Bulirsch-Stoer on the same equations: the pair
// problem at eta = 1/4 (linear time, to tau = 4) and the correlated large-memory problem at eta = 1
// (log time, to tau = 100), 30 digits.
TEST(taylor, modified_flow_agrees_with_bulirsch_stoer) {
  scalar::set_mpfr_digits(30);
  struct setting {
    const char* problem;
    const char* eta;
    flow::time_kind time;
    const char* times;
  };
  for (const setting& c : {setting{"pair", "1/4", flow::time_kind::linear, "0.5,1,2,4"},
                           setting{"large-memory", "1", flow::time_kind::log, "1,10,100"}}) {
    const auto pb = io::parse_problem<Real>(io::named_problem(c.problem));
    auto o = taylor("1e-26", c.times);
    o.time = c.time;
    o.modified_eta = testing::num<Real>(c.eta);
    const auto t = flow::integrate(pb, o);
    o.stepper = flow::stepper_kind::bulirsch_stoer;
    const auto b = flow::integrate(pb, o);
    ASSERT_TRUE(t.ok() && b.ok()) << t.message << b.message;
    for (size_t i = 0; i < t.samples.size(); ++i) {
      EXPECT_LT((t.samples[i].margins - b.samples[i].margins).cwiseAbs().maxCoeff(), Real("1e-22"))
          << c.problem << " tau " << t.samples[i].tau;
    }
    // and it is not the gradient flow: the two differ at order eta
    o.modified_eta = 0;
    o.stepper = flow::stepper_kind::taylor;
    const auto g = flow::integrate(pb, o);
    EXPECT_GT((t.samples.back().margins - g.samples.back().margins).cwiseAbs().maxCoeff(),
              Real("1e-3"));
  }
  scalar::set_mpfr_digits(50);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
