// The gradient-flow integrator against the orthogonal closed form (P1), its invariant, a run at
// twice the digits, the observed order of rk4, and its refusals.
#include <chrono>

#include "amflow/descent/rules.hpp"
#include "amflow/flow/closed_form.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/io/points.hpp"
#include "amflow/scalar/widen.hpp"
#include "flow/closed_form_error.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using flow::flow_options;
using flow::stepper_kind;
using flow::time_kind;

template <class Real>
class integrate_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(integrate_test, testing::scalar_types, testing::scalar_names);

template <class Real>
model::problem<Real> named(const std::string& name) {
  return io::parse_problem<Real>(io::named_problem(name));
}

template <class Real>
std::vector<Real> times(const std::string& spec) {
  return io::parse_points<Real>(spec, "test");
}

template <class Real>
flow_options<Real> options(stepper_kind k, time_kind t, const Real& tol, std::vector<Real> at) {
  flow_options<Real> o;
  o.stepper = k;
  o.time = t;
  o.rel_tol = tol;
  o.abs_tol = tol;
  o.step = Real(1) / 100;
  o.times = std::move(at);
  return o;
}

using testing::closed_form_error;

// P1 in every type, up to tau = 1e12 in log time with the default stepper: double (default
// tolerance) to 1e-12 relative, 50 digits (tolerance 1e-40) to 1e-40 absolute; long double and
// float128 (default tolerances) to 1000 times their tolerance.
TYPED_TEST(integrate_test, orthogonal_flow_matches_the_closed_form_up_to_1e12) {
  using Real = TypeParam;
  const auto pb = named<Real>("orthogonal");
  Real tol = flow::default_tolerance<Real>();
  if constexpr (is_mpfr_v<Real>) tol = testing::num<Real>("1e-40");
  auto o = options<Real>(stepper_kind::bulirsch_stoer, time_kind::log, tol,
                         times<Real>("0,0.1,1,10,100,1e3,1e4,1e6,1e8,1e10,1e12"));
  o.estimate_error = false;  // error_estimate_is_honest checks the estimate
  const auto r = flow::integrate(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  ASSERT_EQ(r.samples.size(), 11u);
  double bound = 1000 * static_cast<double>(tol);
  if constexpr (std::is_same_v<Real, double>) bound = 1e-12;
  if constexpr (is_mpfr_v<Real>) bound = 1e-40;
  const bool relative = std::is_same_v<Real, double>;
  EXPECT_LT(static_cast<double>(closed_form_error(pb, r, relative)), bound)
      << "steps " << r.run.steps << " evaluations " << r.run.rhs_evaluations;
}

// The limit flow of momentum mu = 3/4 runs at speed 1 / (1 - mu) = 4: its margin at tau is the
// closed form's at 4 tau, and the rows keep the requested times (streamed and kept alike).
TYPED_TEST(integrate_test, a_flow_at_speed_c_is_the_gradient_flow_at_time_c_tau) {
  using Real = TypeParam;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("orthogonal");
  descent::rule_options<Real> rule;
  rule.kind = descent::rule_kind::momentum;
  rule.momentum = testing::num<Real>("0.75");
  auto o = options<Real>(stepper_kind::taylor, time_kind::log, flow::default_tolerance<Real>(),
                         times<Real>("0,0.5,3,1e3,1e6"));
  o.speed = descent::flow_speed(rule);
  EXPECT_EQ(o.speed, Real(4));
  std::vector<Real> streamed;
  for (bool stream : {false, true}) {
    if (stream) o.on_sample = [&](size_t, const auto& s) { streamed.push_back(s.tau); };
    const auto r = flow::integrate(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    const auto& samples = r.samples;
    if (stream) {
      EXPECT_EQ(streamed, o.times);
      continue;
    }
    ASSERT_EQ(samples.size(), o.times.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      EXPECT_EQ(samples[i].tau, o.times[i]);
      Real worst(0);
      for (int x = 0; x < pb.tokens; ++x) {
        const Real exact = flow::orthogonal_margin(pb.p(x), pb.classes, Real(4 * o.times[i]));
        worst = max(worst, Real(abs(Real(samples[i].margins(x) - exact)) / max(Real(1), exact)));
      }
      EXPECT_LT(static_cast<double>(worst), 1000 * static_cast<double>(o.rel_tol))
          << "tau " << scalar::to_text(o.times[i]);
    }
  }
  o.speed = Real(0);
  EXPECT_THROW(flow::integrate(pb, o), input_error);
}

// The same goal from the tolerance's side: at 50 digits the estimate the run reports is honest,
// i.e. the true error (closed form) is no larger than twice the estimate, and the estimate no
// larger than 10x the true error where the error is above rounding.
TYPED_TEST(integrate_test, error_estimate_is_honest) {
  using Real = TypeParam;
  using std::abs;
  const auto pb = named<Real>("orthogonal");
  // A loose tolerance, so that the integration error stands well above rounding.
  const Real tol = scalar::parse_real<Real>("1e-8", "tol");
  for (stepper_kind k :
       {stepper_kind::dopri5, stepper_kind::bulirsch_stoer, stepper_kind::taylor}) {
    const auto r = flow::integrate(
        pb, options<Real>(k, time_kind::log, tol, times<Real>("1,10,100,1e4,1e8,1e12")));
    ASSERT_TRUE(r.ok()) << r.message;
    for (const auto& s : r.samples) {
      Real truth(0);
      for (int x = 0; x < pb.tokens; ++x) {
        using std::max;
        truth = max(truth,
                    Real(abs(s.margins(x) - flow::orthogonal_margin(pb.p(x), pb.classes, s.tau))));
      }
      const Real estimate = *s.margin_error;
      const Real noise = 1000 * scalar::epsilon<Real>() * 30;  // rounding on margins up to ~30
      EXPECT_LE(truth, 2 * estimate + noise)
          << flow::stepper_name(k) << " tau " << scalar::to_text(s.tau);
      if (truth > 100 * noise) {
        EXPECT_LE(estimate, 10 * truth)
            << flow::stepper_name(k) << " tau " << scalar::to_text(s.tau);
      }
    }
  }
}

// At the tightest tolerance the precision allows (100 eps) the error is mostly round-off, which a
// rerun at the same precision cannot see. With the problem at the next precision
// (flow_options::higher_precision) the rerun goes there, and the estimate is honest again: the
// true error, against P1's closed form evaluated at that higher precision, is at most twice the
// estimate, and the estimate is never 0 (nor over 1000x the truth). The MPFR rerun leaves the
// process's MPFR precision as it found it.
TYPED_TEST(integrate_test, error_estimate_takes_in_round_off) {
  using Real = TypeParam;
  using Ref = flow::promoted_t<Real>;
  using std::abs;
  using std::max;
  const auto pb = named<Real>("orthogonal");
  const int digits = scalar::mpfr_digits();
  for (stepper_kind k : {stepper_kind::taylor, stepper_kind::bulirsch_stoer}) {
    auto o = options<Real>(
        k, time_kind::log, flow::smallest_tolerance<Real>(),
        times<Real>(is_mpfr_v<Real> ? "0.5,1,10,100,1e4" : "0.5,1,10,100,1e4,1e8,1e12"));
    o.higher_precision = [] { return named<Ref>("orthogonal"); };
    const auto r = flow::integrate(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    EXPECT_EQ(r.reference_precision, flow::promoted_name<Real>());
    EXPECT_EQ(scalar::mpfr_digits(), digits);
    Real worst_truth(0), worst_estimate(0);
    for (const auto& s : r.samples) {
      Ref truth(0);
      {
        // The closed form at the higher precision (for MPFR: 10 digits more).
        const scalar::mpfr_digits_scope scope(is_mpfr_v<Ref> ? flow::promoted_digits<Real>() : 0);
        const auto hp = named<Ref>("orthogonal");
        const Ref tau = scalar::widen<Ref>(s.tau);
        for (int x = 0; x < pb.tokens; ++x) {
          const Ref exact = flow::orthogonal_margin(hp.p(x), hp.classes, tau);
          truth = max(truth, Ref(abs(Ref(scalar::widen<Ref>(s.margins(x)) - exact))));
        }
      }
      const Real t = scalar::narrow<Real>(truth);
      const Real estimate = *s.margin_error;
      EXPECT_GT(estimate, 0) << flow::stepper_name(k) << " tau " << scalar::to_text(s.tau);
      EXPECT_LE(t, 2 * estimate) << flow::stepper_name(k) << " tau " << scalar::to_text(s.tau)
                                 << " estimate " << scalar::to_text(estimate);
      EXPECT_LE(estimate, 1000 * max(t, scalar::epsilon<Real>()))
          << flow::stepper_name(k) << " tau " << scalar::to_text(s.tau);
      worst_truth = max(worst_truth, t);
      worst_estimate = max(worst_estimate, estimate);
    }
    // Round-off is what this test is about: the error stands above a few ulps.
    EXPECT_GT(worst_truth, 2 * scalar::epsilon<Real>()) << flow::stepper_name(k);
  }
}

// e^{m_x} + (M - 1) m_x - p(x) M tau = 1 along the flow (P1's invariant), relative to its size,
// on the ten-token Zipf problem, to the working tolerance.
TYPED_TEST(integrate_test, orthogonal_invariant_holds_along_the_flow) {
  using Real = TypeParam;
  using std::abs;
  using std::exp;
  const auto pb = named<Real>("zipf-orthogonal");
  // Ten tokens and ten classes cost 30x the three-token problem per step: the multiprecision types
  // run at 1e-25, which still tests the invariant far below double precision.
  Real tol = flow::default_tolerance<Real>();
  if constexpr (is_mpfr_v<Real> || is_float128_v<Real>) tol = testing::num<Real>("1e-25");
  auto o = options<Real>(stepper_kind::bulirsch_stoer, time_kind::log, tol,
                         times<Real>("logspace:-2:9:12"));
  o.estimate_error = false;
  const auto r = flow::integrate(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  const int M = pb.classes;
  for (const auto& s : r.samples) {
    for (int x = 0; x < pb.tokens; ++x) {
      const Real m = s.margins(x);
      const Real K = pb.p(x) * M * s.tau + 1;
      const Real invariant = (exp(m) - K) + (M - 1) * m;
      // d(invariant)/dm = e^m + M - 1, so an error delta in m moves it by about K delta.
      EXPECT_LT(static_cast<double>(abs(invariant) / K), 1000 * static_cast<double>(tol))
          << "x " << x << " tau " << scalar::to_text(s.tau);
    }
  }
}

// Log time and linear time agree where both are affordable (the correlated pair problem, up to
// tau = 100), within the tolerance times the margins' size.
TYPED_TEST(integrate_test, log_time_and_linear_time_agree) {
  using Real = TypeParam;
  const auto pb = named<Real>("pair");
  Real tol = flow::default_tolerance<Real>();
  if constexpr (is_mpfr_v<Real>) tol = testing::num<Real>("1e-35");  // linear time is the slow one
  const auto at = times<Real>("0.5,1,10,100");
  auto o = options<Real>(stepper_kind::bulirsch_stoer, time_kind::linear, tol, at);
  o.estimate_error = false;
  const auto lin = flow::integrate(pb, o);
  o.time = time_kind::log;
  const auto log = flow::integrate(pb, o);
  ASSERT_TRUE(lin.ok() && log.ok()) << lin.message << log.message;
  for (size_t i = 0; i < at.size(); ++i) {
    for (int x = 0; x < pb.tokens; ++x) {
      EXPECT_LT(testing::diff(lin.samples[i].margins(x), log.samples[i].margins(x)),
                1000 * static_cast<double>(tol))
          << "tau " << scalar::to_text(at[i]) << " x " << x;
    }
  }
}

// Every stepper reaches the closed form; each one's wiring (and its tolerance) is exercised.
TYPED_TEST(integrate_test, every_stepper_reaches_the_closed_form) {
  using Real = TypeParam;
  const auto pb = named<Real>("orthogonal");
  const Real tol = scalar::parse_real<Real>("1e-10", "tol");
  for (stepper_kind k : {stepper_kind::dopri5, stepper_kind::rkf78, stepper_kind::bulirsch_stoer,
                         stepper_kind::taylor}) {
    for (time_kind t : {time_kind::linear, time_kind::log}) {
      const auto r = flow::integrate(pb, options<Real>(k, t, tol, times<Real>("0.5,3,20")));
      ASSERT_TRUE(r.ok()) << r.message;
      EXPECT_LT(static_cast<double>(closed_form_error(pb, r, false)), 1e-8)
          << flow::stepper_name(k) << " " << flow::time_name(t);
      EXPECT_GT(r.run.steps, 0);
      // One counter per kind of work: the Taylor stepper computes coefficients, the others
      // evaluate right-hand sides.
      const bool taylor = k == stepper_kind::taylor;
      EXPECT_GE(taylor ? r.run.series_coefficients : r.run.rhs_evaluations, r.run.steps);
      EXPECT_EQ(taylor ? r.run.rhs_evaluations : r.run.series_coefficients, 0);
    }
  }
  auto o = options<Real>(stepper_kind::rk4, time_kind::linear, tol, times<Real>("0.5,3,20"));
  o.step = Real(1) / 64;
  const auto r = flow::integrate(pb, o);
  ASSERT_TRUE(r.ok()) << r.message;
  EXPECT_LT(static_cast<double>(closed_form_error(pb, r, false)), 1e-6);
  EXPECT_EQ(r.run.rhs_evaluations, 4 * r.run.steps);  // rk4: four stages per step, nothing rejected
}

// A problem whose Gram matrices are not formed (N, M > 2 d: products through the embeddings,
// model::forms_gram) flows as the same problem with them formed, in every stepper that takes the
// interaction (Taylor's series, Radau's factors, odeint's right-hand side).
TYPED_TEST(integrate_test, flow_through_the_embeddings_matches_the_formed_gram_matrices) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(5, 5, 2, 5, "1"));
  ASSERT_EQ(pb.G_E.size(), 0);
  ASSERT_EQ(pb.G_U.size(), 0);
  auto formed = pb;
  formed.G_E = pb.E * pb.E.transpose();
  formed.G_U = pb.U * pb.U.transpose();
  Real tol = flow::default_tolerance<Real>();
  if constexpr (is_mpfr_v<Real>)
    tol = testing::num<Real>("1e-30");  // Bulirsch-Stoer is the slow one
  const auto at = times<Real>("0.5,3,20");
  for (stepper_kind k : {stepper_kind::taylor, stepper_kind::radau, stepper_kind::bulirsch_stoer}) {
    auto o = options<Real>(k, time_kind::log, tol, at);
    o.estimate_error = false;
    const auto a = flow::integrate(pb, o);
    const auto b = flow::integrate(formed, o);
    ASSERT_TRUE(a.ok() && b.ok()) << a.message << b.message;
    for (size_t i = 0; i < at.size(); ++i) {
      const Real scale = std::max<Real>(Real(1), b.samples[i].Z.cwiseAbs().maxCoeff());
      EXPECT_LT((a.samples[i].Z - b.samples[i].Z).cwiseAbs().maxCoeff() / scale, 1000 * tol)
          << flow::stepper_name(k) << " tau " << scalar::to_text(at[i]);
    }
    // The run went somewhere: the logits moved by more than the initial ones' size.
    EXPECT_GT((a.samples.back().Z - pb.Z0).cwiseAbs().maxCoeff(), Real(1));
  }
}

// rk4's observed order is 4: halving the step divides the error by 16 +- 15%. The correlated pair
// problem at tau = 2 in linear time; the reference is Bulirsch-Stoer at 1e-45.
TEST(integrate_order, rk4_observed_order_is_four) {
  using Real = mpfr_real;
  scalar::set_mpfr_digits(50);
  const auto pb = named<Real>("pair");
  const auto at = times<Real>("2");
  const auto ref =
      flow::integrate(pb, options<Real>(stepper_kind::bulirsch_stoer, time_kind::linear,
                                        scalar::parse_real<Real>("1e-45", "tol"), at));
  ASSERT_TRUE(ref.ok()) << ref.message;
  std::vector<double> errors;
  for (const char* h : {"1/8", "1/16", "1/32"}) {
    auto o = options<Real>(stepper_kind::rk4, time_kind::linear, Real(0), at);
    o.step = scalar::parse_real<Real>(h, "step");
    o.estimate_error = false;
    const auto r = flow::integrate(pb, o);
    ASSERT_TRUE(r.ok()) << r.message;
    errors.push_back(
        static_cast<double>((r.samples[0].Z - ref.samples[0].Z).cwiseAbs().maxCoeff()));
  }
  for (size_t i = 0; i + 1 < errors.size(); ++i) {
    const double ratio = errors[i] / errors[i + 1];
    EXPECT_GT(ratio, 16 * 0.85) << "errors " << errors[i] << " " << errors[i + 1];
    EXPECT_LT(ratio, 16 * 1.15) << "errors " << errors[i] << " " << errors[i + 1];
  }
}

// The correlated pair problem (alpha = 0.95, p0 = 0.75) at 50 digits agrees with a run at 100
// digits and a tenth of the tolerance to 1e-35 at tau = 1, 10, 100.
TEST(integrate_precision, pair_at_50_digits_agrees_with_100_digits) {
  using Real = mpfr_real;
  const auto run = [](int digits, const std::string& tol) {
    scalar::set_mpfr_digits(digits);
    const auto pb = named<Real>("pair");
    auto o = options<Real>(stepper_kind::bulirsch_stoer, time_kind::log,
                           scalar::parse_real<Real>(tol, "tol"), times<Real>("1,10,100"));
    o.estimate_error = false;
    const auto r = flow::integrate(pb, o);
    EXPECT_TRUE(r.ok()) << r.message;
    std::vector<std::string> margins;  // every digit, read back below at the 100-digit precision
    for (const auto& s : r.samples) {
      for (int x = 0; x < 2; ++x) margins.push_back(scalar::to_text(s.margins(x)));
    }
    return margins;
  };
  const auto low = run(50, "1e-40");
  const auto high = run(100, "1e-41");
  scalar::set_mpfr_digits(100);
  ASSERT_EQ(low.size(), high.size());
  for (size_t i = 0; i < low.size(); ++i) {
    const Real a = testing::num<Real>(low[i]), b = testing::num<Real>(high[i]);
    EXPECT_LT(testing::diff(a, b), 1e-35) << "sample " << i / 2 << " token " << i % 2;
  }
  scalar::set_mpfr_digits(50);
}

// What the flow refuses (input errors) and what it reports as a failed run (never a wrong number).
TYPED_TEST(integrate_test, refuses_what_it_cannot_do) {
  using Real = TypeParam;
  const auto pb = named<Real>("orthogonal");
  const Real tol = flow::default_tolerance<Real>();
  auto o = options<Real>(stepper_kind::dopri5, time_kind::log, tol, times<Real>("1,10"));
  o.rel_tol = flow::smallest_tolerance<Real>() / 2;
  EXPECT_THROW(flow::integrate(pb, o), input_error);
  o.rel_tol = tol;
  o.times = times<Real>("10,1");
  EXPECT_THROW(flow::integrate(pb, o), input_error);
  o.times = times<Real>("-1,10");
  EXPECT_THROW(flow::integrate(pb, o), input_error);
  o.times = times<Real>("1,10");
  o.step = Real(0);
  EXPECT_THROW(flow::integrate(pb, o), input_error);
  o.step = Real(1) / 100;
  o.rel_tol = o.abs_tol = Real(0);
  EXPECT_THROW(flow::integrate(pb, o), input_error);

  // A step limit: the run stops, says where, and keeps only the samples it reached.
  o.rel_tol = o.abs_tol = tol;
  o.times = times<Real>("0,1e12");
  o.max_steps = 5;
  const auto r = flow::integrate(pb, o);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.why, reason::step_limit) << reason_name(r.why);
  EXPECT_NE(r.message.find("step limit (5)"), std::string::npos) << r.message;
  EXPECT_EQ(r.samples.size(), 1u);
}

TEST(points, lists_linspace_and_logspace) {
  using Real = double;
  EXPECT_EQ(io::parse_points<Real>("0.5,1,2", "t"), (std::vector<Real>{0.5, 1, 2}));
  EXPECT_EQ(io::parse_points<Real>("list:3", "t"), (std::vector<Real>{3}));
  EXPECT_EQ(io::parse_points<Real>("linspace:0:1:5", "t"),
            (std::vector<Real>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(io::parse_points<Real>("logspace:-1:2:4", "t"), (std::vector<Real>{0.1, 1, 10, 100}));
  const auto half = io::parse_points<Real>("logspace:0:1:3", "t");
  EXPECT_NEAR(half[1], std::sqrt(10.0), 1e-15);
  EXPECT_THROW(io::parse_points<Real>("linspace:0:1", "t"), input_error);
  EXPECT_THROW(io::parse_points<Real>("linspace:0:1:2.5", "t"), input_error);
  EXPECT_THROW(io::parse_points<Real>("cubespace:0:1:2", "t"), input_error);
  EXPECT_THROW(io::parse_points<Real>("1,,2", "t"), input_error);
  EXPECT_THROW(io::parse_points<Real>("1,inf", "t"), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
