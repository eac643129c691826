// GD costs: the authors' learning-rate grid (1000 cells x 1000 steps, pair problem) as one sweep
// on 1 and 2 threads, and 1000 GD steps with their loss, 0-1 loss and margins per scalar type (the
// time in ms is the time per step in us). The side-by-side run against the authors' PyTorch loop is
// bench/peers/side_by_side.py. The update rules on W (N = M = d = 100, random unit embeddings): a
// step of each rule against a plain GD step on W at the same precision.
#include <benchmark/benchmark.h>

#include "amflow/descent/descent.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/random.hpp"
#include "analysis/instantiate.hpp"

namespace {

using namespace amflow;

void authors_learning_rate_grid(benchmark::State& state) {
  analysis::sweep_options<double> o = analysis::authors_learning_rate_grid();
  o.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const auto r = analysis::sweep(o);
    benchmark::DoNotOptimize(r.cells.back().final_loss);
  }
  state.counters["cells"] = 1000;
  state.counters["steps_per_s"] =
      benchmark::Counter(1e6, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(authors_learning_rate_grid)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

template <class Real>
void gd_steps(benchmark::State& state, const char* problem, int digits) {
  scalar::set_mpfr_digits(digits);
  const auto pb = io::parse_problem<Real>(io::named_problem(problem));
  descent::descent_options<Real> o;
  o.eta = Real(1) / 2;
  o.steps = 1000;
  o.record = false;
  for (auto _ : state) {
    const auto r = descent::run(pb, o);
    benchmark::DoNotOptimize(r.summary.max_loss);
  }
}
void gd_double(benchmark::State& s, const char* problem) { gd_steps<double>(s, problem, 15); }
#if AMFLOW_HAVE_FLOAT128
void gd_float128(benchmark::State& s, const char* problem) { gd_steps<float128>(s, problem, 33); }
#endif
void gd_mpfr50(benchmark::State& s, const char* problem) { gd_steps<mpfr_real>(s, problem, 50); }
BENCHMARK_CAPTURE(gd_double, pair_double, "pair")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_double, zipf_double, "zipf-orthogonal")->Unit(benchmark::kMillisecond);
#if AMFLOW_HAVE_FLOAT128
BENCHMARK_CAPTURE(gd_float128, pair_float128, "pair")->Unit(benchmark::kMillisecond);
#endif
BENCHMARK_CAPTURE(gd_mpfr50, pair_mpfr50, "pair")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_mpfr50, zipf_mpfr50, "zipf-orthogonal")->Unit(benchmark::kMillisecond);

// N = M = d = n, unit embeddings from seeded normals (inputs seed 1, outputs seed 2), p = 1/n,
// f*(x) = x, W0 = 0.
template <class Real>
model::problem<Real> random_problem(int n) {
  const auto unit = [n](std::uint64_t seed) {
    const std::vector<double> g = model::standard_normals(seed, static_cast<size_t>(n) * n);
    model::matrix<Real> X(n, n);
    for (int r = 0; r < n; ++r) {
      double norm = 0;
      for (int c = 0; c < n; ++c) norm += g[r * n + c] * g[r * n + c];
      for (int c = 0; c < n; ++c) X(r, c) = Real(g[r * n + c]) / Real(std::sqrt(norm));
    }
    return X;
  };
  std::vector<int> target(n);
  for (int x = 0; x < n; ++x) target[x] = x;
  return model::make_problem<Real>(unit(1), unit(2), model::vector<Real>::Constant(n, Real(1) / n),
                                   target, model::matrix<Real>::Zero(n, n));
}

// `steps` steps of a rule on W (each with its loss, 0-1 loss and margins, as every run records);
// the time per step is the reported time / steps.
template <class Real>
void rule_steps(benchmark::State& state, descent::rule_kind rule, int digits, long steps) {
  scalar::set_mpfr_digits(digits);
  const auto pb = random_problem<Real>(static_cast<int>(state.range(0)));
  descent::descent_options<Real> o;
  o.eta = Real(1) / 10;
  o.steps = steps;
  o.record = false;
  o.space = descent::space_kind::weights;
  o.rule.kind = rule;
  for (auto _ : state) {
    const auto r = descent::run(pb, o);
    benchmark::DoNotOptimize(r.summary.max_loss);
  }
  state.counters["per_step_s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}
void rule_double(benchmark::State& s, descent::rule_kind rule) {
  rule_steps<double>(s, rule, 15, 20);
}
void rule_mpfr50(benchmark::State& s, descent::rule_kind rule) {
  rule_steps<mpfr_real>(s, rule, 50, 2);
}
#define AMFLOW_RULE_BENCH(NAME)                                           \
  BENCHMARK_CAPTURE(rule_double, NAME##_double, descent::rule_kind::NAME) \
      ->Arg(100)                                                          \
      ->Unit(benchmark::kMillisecond);                                    \
  BENCHMARK_CAPTURE(rule_mpfr50, NAME##_mpfr50, descent::rule_kind::NAME) \
      ->Arg(100)                                                          \
      ->Unit(benchmark::kMillisecond)
AMFLOW_RULE_BENCH(gd);
AMFLOW_RULE_BENCH(momentum);
AMFLOW_RULE_BENCH(sign);
AMFLOW_RULE_BENCH(rescaled);
AMFLOW_RULE_BENCH(adam);

}  // namespace

BENCHMARK_MAIN();
