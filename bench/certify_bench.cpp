// Certificates' costs on one core: the validated flow enclosure to tau = 1e15 (pair, orthogonal,
// large-memory at 50 and 100 digits), the crossing brackets, the certified learning-rate grid (1000
// cells, first perfect step by widening ball GD), P9's eta_c, and the certified sharpness.
#include <benchmark/benchmark.h>

#include "amflow/certify/enclose.hpp"
#include "amflow/certify/logistic.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/io/problem_io.hpp"
#include "analysis/instantiate.hpp"

namespace {

using namespace amflow;

void enclosure(benchmark::State& state, const char* problem, bool events) {
  certify::enclose_options o;
  o.digits = static_cast<int>(state.range(0));
  for (int k = 0; k <= 15; ++k) o.times.push_back(rational(mp::pow(mp::mpz_int(10), k)));
  o.events = events;
  long steps = 0;
  for (auto _ : state) {
    const auto r = certify::enclose(io::named_problem(problem), o);
    if (!r.ok()) state.SkipWithError(r.message.c_str());
    steps = r.steps;
    benchmark::DoNotOptimize(r.largest_radius);
  }
  state.counters["steps"] = static_cast<double>(steps);
}
BENCHMARK_CAPTURE(enclosure, pair, "pair", false)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(enclosure, orthogonal, "orthogonal", false)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(enclosure, large_memory, "large-memory", false)
    ->Arg(50)
    ->Arg(100)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(enclosure, pair_crossings, "pair", true)->Arg(50)->Unit(benchmark::kMillisecond);

void certified_grid(benchmark::State& state) {
  analysis::sweep_options<double> o = analysis::authors_learning_rate_grid();
  o.threads = static_cast<int>(state.range(0));
  o.certify = true;
  for (auto _ : state) {
    const auto r = analysis::sweep(o);
    benchmark::DoNotOptimize(r.cells.back().certified);
  }
}
BENCHMARK(certified_grid)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void step_size_threshold(benchmark::State& state) {
  scalar::set_mpfr_digits(static_cast<int>(state.range(0)));
  const certify::precision_scope bits(certify::bits_for_digits(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    const auto t = certify::certify_two_class_threshold(io::named_problem("underparameterized"));
    benchmark::DoNotOptimize(t.eta_c.radius());
  }
}
BENCHMARK(step_size_threshold)->Arg(50)->Arg(100)->Unit(benchmark::kMillisecond);

void sharpness(benchmark::State& state, const char* problem) {
  scalar::set_mpfr_digits(50);
  const certify::precision_scope bits(certify::bits_for_digits(50));
  const auto bp = certify::ball_problem_of(io::named_problem(problem));
  for (auto _ : state) benchmark::DoNotOptimize(certify::sharpness(bp, bp.Z0).radius());
}
BENCHMARK_CAPTURE(sharpness, pair, "pair")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(sharpness, large_memory, "large-memory")->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
