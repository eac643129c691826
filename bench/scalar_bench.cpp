// Variable-precision MPFR (one type, precision set at run time: amflow's choice) against a
// fixed-precision MPFR backend compiled for 50 digits, on the hot path of every dynamics: one GD
// step in particle coordinates (softmax, residual R(Z), G_E R G_U) of the zipf-orthogonal problem
// (N = M = 10) and of a correlated N = M = 5 problem. Also double and float128 for scale. And the
// seeded normals behind every random problem: the long double path with its MPFR fallback (what
// standard_normals does) against MPFR alone (the definition), per sample.
#include <benchmark/benchmark.h>

#include "amflow/io/problem_io.hpp"
#include "amflow/io/problem_io_impl.hpp"
#include "amflow/model/particles_impl.hpp"
#include "amflow/model/problem_impl.hpp"
#include "amflow/model/quantities_impl.hpp"
#include "amflow/model/random.hpp"

namespace {

using fixed50 = boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<50>,
                                              boost::multiprecision::et_off>;

nlohmann::json spec(int which) {
  if (which == 0) return amflow::io::named_problem("zipf-orthogonal");
  return amflow::io::named_problem("large-memory");
}

template <class Real>
void gd_steps(benchmark::State& state) {
  amflow::scalar::set_mpfr_digits(50);
  const auto pb = amflow::io::parse_problem<Real>(spec(static_cast<int>(state.range(0))));
  auto s = amflow::model::initial_state(pb);
  const Real eta = amflow::scalar::parse_real<Real>("0.5", "eta");
  for (auto _ : state) {
    amflow::model::gd_step(pb, s, eta);
    benchmark::DoNotOptimize(s.Z.data());
  }
  state.SetLabel("N = M = " + std::to_string(pb.tokens));
}

void normals_standard(benchmark::State& state) {
  std::uint64_t seed = 0;
  for (auto _ : state) {
    const std::vector<double> v = amflow::model::standard_normals(++seed, 1000);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

void normals_mpfr_only(benchmark::State& state) {
  std::mt19937_64 gen(1);
  for (auto _ : state) {
    double sum = 0;
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t a = gen() >> 11, b = gen() >> 11;
      sum += amflow::model::detail::normal_by_mpfr(a, b);
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}

}  // namespace

namespace Eigen {
template <>
struct NumTraits<fixed50> : amflow::scalar::detail::mp_num_traits<fixed50> {
  using Real = fixed50;
};
}  // namespace Eigen

namespace amflow::scalar {
template <>
fixed50 from_rational<fixed50>(const rational& q, const std::string&, std::string_view) {
  fixed50 x;
  mpfr_set_q(x.backend().data(), q.backend().data(), MPFR_RNDN);
  return x;
}
}  // namespace amflow::scalar

BENCHMARK(gd_steps<double>)->Arg(0)->Arg(1);
#if AMFLOW_HAVE_FLOAT128
BENCHMARK(gd_steps<amflow::float128>)->Arg(0)->Arg(1);
#endif
BENCHMARK(gd_steps<amflow::mpfr_real>)->Arg(0)->Arg(1);
BENCHMARK(gd_steps<fixed50>)->Arg(0)->Arg(1);
BENCHMARK(normals_standard);
BENCHMARK(normals_mpfr_only);
BENCHMARK_MAIN();
