// GD costs: the authors' learning-rate grid (1000 cells x 1000 steps, pair problem) as one sweep
// on 1 and 2 threads, and 1000 GD steps with their loss, 0-1 loss and margins per scalar type (the
// time in ms is the time per step in us). The side-by-side run against the authors' PyTorch loop is
// bench/peers/side_by_side.py.
#include <benchmark/benchmark.h>

#include "amflow/descent/descent.hpp"
#include "amflow/io/problem_io.hpp"
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
void gd_float128(benchmark::State& s, const char* problem) { gd_steps<float128>(s, problem, 33); }
void gd_mpfr50(benchmark::State& s, const char* problem) { gd_steps<mpfr_real>(s, problem, 50); }
BENCHMARK_CAPTURE(gd_double, pair_double, "pair")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_double, zipf_double, "zipf-orthogonal")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_float128, pair_float128, "pair")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_mpfr50, pair_mpfr50, "pair")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(gd_mpfr50, zipf_mpfr50, "zipf-orthogonal")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
