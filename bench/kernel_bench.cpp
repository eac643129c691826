// The kernels' cost against the operation-count floor: the particle right-hand side
// dZ/dtau = -G_E R(Z) G_U (model::logit_velocity), one GD step (model::gd_step) and one Taylor
// expansion (the Taylor stepper's series to its order for a tolerance of 10^-digits) at each scalar
// type (double, long double, float128, MPFR at 30, 50, 100 and 300 digits) and sizes N = M = d from
// 2 up to 1024 (capped per type so that a case takes at most seconds), with complexity fits.
//
// The floor: the operations the kernel cannot avoid, counted, times their unit costs measured here
// at that precision (one multiplication, addition, division and exponential on values in place,
// MPFR through its own functions with no allocation):
//   residual R = diag(p)(softmax(Z) - Y): N M exponentials, N M subtractions (the row maximum),
//     N M additions (the row sum), N divisions and N M multiplications (by the row's p / sum);
//   interaction G_E R G_U: N^2 M + N M^2 multiplications and as many additions;
//   a GD step: the residual, the interaction, and 2 N M multiply-adds (Q += eta R, Z -= eta V).
// Each benchmark reports floor_ratio = measured time / floor (1 is the floor itself) and the
// counted operations. The Taylor expansion's floor is not counted (its recurrences are not a fixed
// set of products): it reports its order K and the time per coefficient.
// Run: build/bench/kernel_bench [--benchmark_filter=rhs/mpfr50]
#include <benchmark/benchmark.h>
#include <mpfr.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "amflow/flow/taylor_impl.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"

namespace {

using namespace amflow;

nlohmann::json dense_problem(int n) {
  return {{"tokens", n},
          {"classes", n},
          {"dim", n},
          {"inputs", {{"kind", "sphere"}, {"seed", 1}}},
          {"outputs", {{"kind", "sphere"}, {"seed", 2}}},
          {"frequencies", {{"kind", "zipf"}, {"exponent", 1}}},
          {"target", {{"kind", "identity"}}},
          {"init", {{"kind", "zero"}}}};
}

// Unit costs in seconds: multiplication, addition, division, exponential, measured on 256 values
// in place, repeated for at least 20 ms.
struct unit_costs {
  double mul = 0, add = 0, div = 0, exp = 0;
};

template <class Real>
unit_costs measure_units() {
  constexpr int n = 256;
  std::vector<Real> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = Real(1) + Real(i) / 1000;
    b[i] = Real(1) - Real(i) / 3000;
    c[i] = Real(i % 7) / 9;
  }
  const auto time_of = [&](auto&& op) {
    long reps = 0;
    const auto start = std::chrono::steady_clock::now();
    double elapsed = 0;
    do {
      for (int i = 0; i < n; ++i) op(i);
      ++reps;
      elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    } while (elapsed < 0.02);
    benchmark::DoNotOptimize(a.data());
    return elapsed / (static_cast<double>(reps) * n);
  };
  unit_costs u;
  if constexpr (is_mpfr_v<Real>) {
    const auto raw = [](Real& x) { return x.backend().data(); };
    u.mul = time_of([&](int i) { mpfr_mul(raw(a[i]), raw(b[i]), raw(c[i]), MPFR_RNDN); });
    u.add = time_of([&](int i) { mpfr_add(raw(a[i]), raw(b[i]), raw(c[i]), MPFR_RNDN); });
    u.div = time_of([&](int i) { mpfr_div(raw(a[i]), raw(c[i]), raw(b[i]), MPFR_RNDN); });
    u.exp = time_of([&](int i) { mpfr_exp(raw(a[i]), raw(c[i]), MPFR_RNDN); });
  } else {
    using std::exp;
    u.mul = time_of([&](int i) { a[i] = b[i] * c[i]; });
    u.add = time_of([&](int i) { a[i] = b[i] + c[i]; });
    u.div = time_of([&](int i) { a[i] = c[i] / b[i]; });
    u.exp = time_of([&](int i) { a[i] = exp(c[i]); });
  }
  return u;
}

template <class Real>
const unit_costs& units(int digits) {
  static std::map<int, unit_costs> cache;
  auto it = cache.find(digits);
  if (it == cache.end()) it = cache.emplace(digits, measure_units<Real>()).first;
  return it->second;
}

struct op_counts {
  double mul = 0, add = 0, div = 0, exp = 0;
  double floor(const unit_costs& u) const {
    return mul * u.mul + add * u.add + div * u.div + exp * u.exp;
  }
};

op_counts residual_ops(double N, double M) { return {N * M, 2 * N * M, N, N * M}; }

op_counts rhs_ops(double N, double M) {
  op_counts c = residual_ops(N, M);
  c.mul += N * N * M + N * M * M;
  c.add += N * N * M + N * M * M;
  return c;
}

op_counts gd_ops(double N, double M) {
  op_counts c = rhs_ops(N, M);
  c.mul += 2 * N * M;
  c.add += 2 * N * M;
  return c;
}

void report(benchmark::State& state, const op_counts& ops, const unit_costs& u, long n) {
  const double per_iteration = ops.floor(u);
  state.counters["floor_s"] = per_iteration;
  // floor_ratio = (time per iteration) / floor: a rate counter multiplies by iterations / time,
  // so its inverse is taken.
  state.counters["floor_ratio"] = benchmark::Counter(
      per_iteration, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["mults"] = ops.mul;
  state.counters["exps"] = ops.exp;
  state.SetComplexityN(n);
}

template <class Real>
void with_digits(int digits, const auto& body) {
  if constexpr (is_mpfr_v<Real>) scalar::set_mpfr_digits(digits);
  body();
}

template <class Real>
void rhs(benchmark::State& state, int digits) {
  with_digits<Real>(digits, [&] {
    const int n = static_cast<int>(state.range(0));
    const auto pb = io::parse_problem<Real>(dense_problem(n));
    model::matrix<Real> Z = model::logit_velocity(pb, pb.Z0);  // a state with distinct logits
    for (auto _ : state) {
      model::matrix<Real> V = model::logit_velocity(pb, Z);
      benchmark::DoNotOptimize(V.data());
    }
    report(state, rhs_ops(n, n), units<Real>(digits), n);
  });
}

template <class Real>
void gd_step(benchmark::State& state, int digits) {
  with_digits<Real>(digits, [&] {
    const int n = static_cast<int>(state.range(0));
    const auto pb = io::parse_problem<Real>(dense_problem(n));
    model::particle_state<Real> s = model::initial_state(pb);
    const Real eta = Real(1) / 100;
    for (auto _ : state) {
      model::gd_step(pb, s, eta);
      benchmark::DoNotOptimize(s.Z.data());
    }
    report(state, gd_ops(n, n), units<Real>(digits), n);
  });
}

template <class Real>
void taylor_expansion(benchmark::State& state, int digits) {
  with_digits<Real>(digits, [&] {
    const int n = static_cast<int>(state.range(0));
    const auto pb = io::parse_problem<Real>(dense_problem(n));
    const Real tol = scalar::parse_real<Real>("1e-" + std::to_string(digits), "tol");
    const int K = flow::detail::taylor_order(tol);
    flow::detail::taylor_series<Real> series(pb, K);
    const model::matrix<Real> Z = model::logit_velocity(pb, pb.Z0);
    for (auto _ : state) {
      series.expand(Z, Real(0), false);
      benchmark::DoNotOptimize(series.order());
    }
    state.counters["order"] = K;
    state.counters["s_per_coefficient"] = benchmark::Counter(
        K, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
    state.SetComplexityN(n);
  });
}

// Sizes 2, 4, ..., up to `largest`.
void sizes(benchmark::internal::Benchmark* b, long largest) {
  for (long n = 2; n <= largest; n *= 2) b->Arg(n);
  b->Complexity();
}

#define AMFLOW_KERNELS(NAME, TYPE, DIGITS, RHS_MAX, TAYLOR_MAX)                                   \
  void rhs_##NAME(benchmark::State& s) { rhs<TYPE>(s, DIGITS); }                                  \
  void gd_step_##NAME(benchmark::State& s) { gd_step<TYPE>(s, DIGITS); }                          \
  void taylor_##NAME(benchmark::State& s) { taylor_expansion<TYPE>(s, DIGITS); }                  \
  BENCHMARK(rhs_##NAME)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, RHS_MAX); });     \
  BENCHMARK(gd_step_##NAME)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, RHS_MAX); }); \
  BENCHMARK(taylor_##NAME)->Apply([](benchmark::internal::Benchmark* b) { sizes(b, TAYLOR_MAX); })

AMFLOW_KERNELS(double, double, 15, 1024, 128);
AMFLOW_KERNELS(long_double, long double, 18, 512, 64);
#if AMFLOW_HAVE_FLOAT128
AMFLOW_KERNELS(float128, float128, 33, 256, 32);
#endif
AMFLOW_KERNELS(mpfr30, mpfr_real, 30, 256, 32);
AMFLOW_KERNELS(mpfr50, mpfr_real, 50, 256, 32);
AMFLOW_KERNELS(mpfr100, mpfr_real, 100, 128, 16);
AMFLOW_KERNELS(mpfr300, mpfr_real, 300, 64, 8);

}  // namespace

BENCHMARK_MAIN();
