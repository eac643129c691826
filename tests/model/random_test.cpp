// Seeded normals: the fast long double path returns exactly the MPFR definition's double whenever
// it answers, answers for most samples, and the samples are the definition's.
#include <random>

#include "amflow/model/random.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

TEST(random, the_fast_path_is_the_correctly_rounded_value) {
  std::mt19937_64 gen(2024);
  long answered = 0, n = 400000;
  for (long i = 0; i < n; ++i) {
    const std::uint64_t a = gen() >> 11, b = gen() >> 11;
    const std::optional<double> fast = model::detail::normal_by_long_double(a, b);
    if (!fast) continue;
    ++answered;
    ASSERT_EQ(*fast, model::detail::normal_by_mpfr(a, b)) << "a = " << a << ", b = " << b;
  }
  EXPECT_GT(answered, n * 9 / 10) << "the fast path should decide at least 90% of samples";
  // Edges: u1 = 1 (the sample is +-0), u1 = 2^-53, and u2 at the quarter turns.
  for (std::uint64_t a : {0ULL, 1ULL, (1ULL << 52), (1ULL << 53) - 1}) {
    for (std::uint64_t b : {0ULL, 1ULL, 1ULL << 51, 1ULL << 52, 3ULL << 51, (1ULL << 53) - 1}) {
      const std::optional<double> fast = model::detail::normal_by_long_double(a, b);
      if (fast) {
        EXPECT_EQ(*fast, model::detail::normal_by_mpfr(a, b)) << a << " " << b;
      }
    }
  }
}

TEST(random, samples_are_the_definition) {
  for (std::uint64_t seed : {0ULL, 1ULL, 987654321ULL}) {
    const std::vector<double> v = model::standard_normals(seed, 20000);
    std::mt19937_64 gen(seed);
    for (size_t i = 0; i < v.size(); ++i) {
      const std::uint64_t a = gen() >> 11, b = gen() >> 11;
      ASSERT_EQ(v[i], model::detail::normal_by_mpfr(a, b)) << "seed " << seed << ", " << i;
    }
  }
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
