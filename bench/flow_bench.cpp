// The gradient flow's cost and accuracy per stepper and precision (issue 3's performance goals).
// Problems: orthogonal N = M = 2, p = (3/4, 1/4), W0 = 0 (closed form P1, so each run's true error
// is known) and the three-token `orthogonal` problem, integrated in log time. Each benchmark
// reports
//   steps, rejected, evals   accepted steps, rejected trial steps, right-hand-side evaluations
//   correct_digits           -log10 of max_x |m_x - closed form| over the samples
//   tau_reached              the last sample time reached (runs are capped by --max-steps)
// Run: build/bench/flow_bench [--benchmark_filter=...]. Slow cases run once (Iterations(1)).
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "amflow/flow/closed_form.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/points.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "amflow/scalar/dot.hpp"

namespace {

using namespace amflow;

nlohmann::json two_tokens() {
  return {{"tokens", 2},
          {"classes", 2},
          {"dim", 2},
          {"inputs", {{"kind", "orthonormal"}}},
          {"outputs", {{"kind", "orthonormal"}}},
          {"frequencies", {{"kind", "explicit"}, {"p", nlohmann::json::array({"3/4", "1/4"})}}},
          {"target", {{"kind", "identity"}}},
          {"init", {{"kind", "zero"}}}};
}

// range(0): tokens (2 or 3); range(1): digits; range(2): -log10 tol; range(3): log10 t-end;
// range(4): stepper; range(5): step cap.
void flow_run(benchmark::State& state) {
  const int tokens = static_cast<int>(state.range(0));
  const long digits = state.range(1);
  const auto kind = static_cast<flow::stepper_kind>(state.range(4));
  scalar::with_scalar(digits, [&]<class Real>() {
    const auto pb =
        io::parse_problem<Real>(tokens == 2 ? two_tokens() : io::named_problem("orthogonal"));
    flow::flow_options<Real> o;
    o.stepper = kind;
    o.time = flow::time_kind::log;
    o.rel_tol = o.abs_tol = scalar::parse_real<Real>("1e-" + std::to_string(state.range(2)), "tol");
    o.step = Real(1) / 100;
    o.times = io::parse_points<Real>(
        "logspace:0:" + std::to_string(state.range(3)) + ":" + std::to_string(state.range(3) + 1),
        "times");
    o.max_steps = state.range(5);
    o.estimate_error = false;
    flow::flow_result<Real> r;
    for (auto _ : state) r = flow::integrate(pb, o);
    double worst = 0;
    for (const auto& s : r.samples) {
      for (int x = 0; x < pb.tokens; ++x) {
        const Real exact = flow::orthogonal_margin(pb.p(x), pb.classes, s.tau);
        using std::abs;
        worst = std::max(worst, static_cast<double>(abs(s.margins(x) - exact)));
      }
    }
    state.counters["steps"] = static_cast<double>(r.run.steps);
    state.counters["rejected"] = static_cast<double>(r.run.rejected);
    state.counters["evals"] = static_cast<double>(r.run.rhs_evaluations);
    state.counters["coefficients"] = static_cast<double>(r.run.series_coefficients);
    state.counters["correct_digits"] =
        r.samples.empty() ? 0.0 : (worst > 0 ? -std::log10(worst) : static_cast<double>(digits));
    state.counters["tau_reached"] =
        r.samples.empty() ? 0.0 : static_cast<double>(r.samples.back().tau);
    state.SetLabel(flow::stepper_name(kind) + (r.ok() ? "" : " CAPPED: " + r.message));
    return 0;
  });
}

constexpr long bs = static_cast<long>(flow::stepper_kind::bulirsch_stoer);
constexpr long rkf78 = static_cast<long>(flow::stepper_kind::rkf78);
constexpr long dopri5 = static_cast<long>(flow::stepper_kind::dopri5);
constexpr long taylor = static_cast<long>(flow::stepper_kind::taylor);
constexpr long uncapped = 100000000;

// The goals: N = M = 2 at 50 digits, tol 1e-40, to 1e12 (goal < 0.1 s) and at 100 digits,
// tol 1e-85, to 1e15 (goal < 1 s; capped at 20000 steps, reported with the time reached).
BENCHMARK(flow_run)
    ->Name("goal_50_digits")
    ->Args({2, 50, 40, 12, bs, uncapped})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(flow_run)
    ->Name("goal_100_digits")
    ->Args({2, 100, 85, 15, bs, 20000})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Steps and evaluations per stepper and precision for the same tolerance, three-token problem to
// tau = 1e12 (dopri5 and rkf78 capped where they would run for hours).
BENCHMARK(flow_run)
    ->Name("table")
    ->ArgsProduct({{3}, {15}, {12}, {12}, {dopri5, rkf78, bs}, {uncapped}})
    ->ArgsProduct({{3}, {30}, {20, 25}, {12}, {dopri5, rkf78, bs}, {1000000}})
    ->ArgsProduct({{3}, {50}, {20, 30, 40}, {12}, {dopri5, rkf78, bs}, {1000000}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// One right-hand-side evaluation at D digits, three-token problem at a state with unequal logits:
// model::logit_velocity, what odeint's steppers call per evaluation. It converts a Taylor run's
// time into right-hand-side equivalents (time / this).
void rhs_cost(benchmark::State& state) {
  scalar::set_mpfr_digits(static_cast<int>(state.range(0)));
  const auto pb = io::parse_problem<mpfr_real>(io::named_problem("orthogonal"));
  model::matrix<mpfr_real> Z = pb.Z0;
  for (Eigen::Index i = 0; i < Z.size(); ++i) Z(i) += mpfr_real(static_cast<int>(i % 5)) / 3;
  for (auto _ : state) benchmark::DoNotOptimize(model::logit_velocity(pb, Z));
}
BENCHMARK(rhs_cost)->Arg(30)->Arg(50)->Arg(100)->Arg(200)->Arg(300);

// The Taylor stepper's unit of work at D digits: one term of a sum of products, through
// scalar::dot (range(2) = 0) or an mpfr_mul and an mpfr_add (1), on a sum of range(1) terms whose
// sizes fall geometrically with alternating signs, like a series' coefficients. Per step the
// stepper sums N ((2 M - 1) K (K - 1) / 2 + K) such terms for order K, N x M logits, in log time.
void dot_cost(benchmark::State& state) {
  scalar::set_mpfr_digits(static_cast<int>(state.range(0)));
  const int len = static_cast<int>(state.range(1));
  std::vector<mpfr_real> x(len), y(len);
  for (int j = 0; j < len; ++j) {
    x[j] = sqrt(mpfr_real(j + 2)) / pow(mpfr_real(3), j) * (j % 2 ? -1 : 1);
    y[j] = sqrt(mpfr_real(j + 5)) / pow(mpfr_real(2), j) * (j % 3 ? 1 : -1);
  }
  mpfr_real out, term;
  std::vector<mp_limb_t> scratch;
  for (auto _ : state) {
    if (state.range(2) == 0) {
      scalar::dot(out, x.data(), 1, y.data() + len - 1, -1, len, scratch);
    } else {
      mpfr_set_zero(out.backend().data(), 1);
      for (int j = 0; j < len; ++j) {
        mpfr_mul(term.backend().data(), x[j].backend().data(), y[len - 1 - j].backend().data(),
                 MPFR_RNDN);
        mpfr_add(out.backend().data(), out.backend().data(), term.backend().data(), MPFR_RNDN);
      }
    }
    benchmark::DoNotOptimize(out);
  }
  state.counters["ns_per_term"] = benchmark::Counter(
      len, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.SetLabel(state.range(2) == 0 ? "scalar::dot" : "mpfr_mul + mpfr_add");
}
BENCHMARK(dot_cost)->ArgsProduct({{30, 50, 100, 200, 300}, {25}, {0, 1}});

// Issue 6's goals for the Taylor stepper, three-token orthogonal problem: 50 digits to 1e12 within
// 1e-40 (goal 0.03 s), 100 digits to 1e15 within 1e-85 (0.3 s), 300 digits to 1e15 within 1e-280
// (10 s).
BENCHMARK(flow_run)
    ->Name("taylor_goals")
    ->Args({3, 50, 42, 12, taylor, uncapped})
    ->Args({3, 100, 88, 15, taylor, uncapped})
    ->Args({3, 300, 285, 15, taylor, uncapped})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Taylor against Bulirsch-Stoer and rkf78 at 30, 50, 100 and 200 digits (tolerance 10^-(0.85 D)),
// three-token problem to tau = 1e12; the odeint steppers capped at 5000 steps at 100 digits and
// above, where they would run for hours (the label says CAPPED and tau_reached how far they got).
BENCHMARK(flow_run)
    ->Name("taylor_table")
    ->ArgsProduct({{3}, {30}, {25}, {12}, {taylor, bs, rkf78}, {1000000}})
    ->ArgsProduct({{3}, {50}, {42}, {12}, {taylor, bs, rkf78}, {1000000}})
    ->ArgsProduct({{3}, {100}, {85}, {12}, {taylor, bs, rkf78}, {5000}})
    ->ArgsProduct({{3}, {200}, {170}, {12}, {taylor, bs, rkf78}, {5000}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
