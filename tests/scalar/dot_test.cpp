// scalar::dot against the correctly rounded sum of the exact products (mpfr_sum on products formed
// at twice the precision, where they are exact), at precisions from one limb to sixteen.
#include "amflow/scalar/dot.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <random>

namespace amflow {
namespace AMFLOW_TEST_UNIT {

// x_j y_j summed exactly and rounded once to prec bits.
mpfr_real exact_dot(const std::vector<mpfr_real>& x, const std::vector<mpfr_real>& y, long prec) {
  const size_t len = x.size();
  std::vector<mpfr_t> products(len);
  std::vector<mpfr_ptr> pointers(len);
  for (size_t j = 0; j < len; ++j) {
    mpfr_init2(products[j], 2 * prec);
    EXPECT_EQ(mpfr_mul(products[j], x[j].backend().data(), y[j].backend().data(), MPFR_RNDN), 0);
    pointers[j] = products[j];
  }
  mpfr_real sum;
  mpfr_sum(sum.backend().data(), pointers.data(), len, MPFR_RNDN);
  for (auto& p : products) mpfr_clear(p);
  return sum;
}

// A random number with a random sign, exponent in [-spread, spread] and full significand; zero
// with probability 1/10.
mpfr_real random_number(std::mt19937_64& rng, int spread, gmp_randstate_t state) {
  mpfr_real v;
  if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) return mpfr_real(0);
  mpfr_urandomb(v.backend().data(), state);
  if (mpfr_zero_p(v.backend().data())) return mpfr_real(0);
  const int e = std::uniform_int_distribution<int>(-spread, spread)(rng);
  mpfr_mul_2si(v.backend().data(), v.backend().data(), e, MPFR_RNDN);
  if (rng() & 1) v = -v;
  return v;
}

class dot_test : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { mpfr_real::default_precision(GetParam()); }
};

TEST_P(dot_test, is_the_exact_sum_rounded_once_up_to_a_vanishing_truncation) {
  const long prec = mpfr_get_prec(mpfr_real(1).backend().data());
  const long limbs = (prec + 63) / 64;
  std::mt19937_64 rng(20261125);
  gmp_randstate_t state;
  gmp_randinit_mt(state);
  gmp_randseed_ui(state, 7);
  std::vector<mp_limb_t> scratch;
  int identical = 0, trials = 0;
  for (int spread : {0, 4, 60, 300}) {
    for (int len = 0; len <= 40; ++len) {
      std::vector<mpfr_real> x, y;
      for (int j = 0; j < len; ++j) {
        x.push_back(random_number(rng, spread, state));
        y.push_back(random_number(rng, spread, state));
      }
      mpfr_real got;
      scalar::dot(got, x.data(), 1, y.data(), 1, len, scratch);
      const mpfr_real want = exact_dot(x, y, prec);
      // Bound: 1/2 ulp of the result plus len units of 2^(top - 64 keep), keep = min(2 n, n + 2).
      long top = LONG_MIN;
      for (int j = 0; j < len; ++j) {
        if (x[j] != 0 && y[j] != 0) {
          top = std::max<long>(
              top, mpfr_get_exp(x[j].backend().data()) + mpfr_get_exp(y[j].backend().data()));
        }
      }
      ++trials;
      if (top == LONG_MIN) {
        EXPECT_EQ(got, 0) << "len " << len;
        identical += got == want;
        continue;
      }
      mpfr_real bound =
          ldexp(mpfr_real(len), static_cast<int>(top - 64 * std::min(2 * limbs, limbs + 2)));
      if (want != 0) bound += ldexp(mpfr_real(1), static_cast<int>(ilogb(want) - prec));
      EXPECT_LE(abs(got - want), bound)
          << "prec " << prec << " spread " << spread << " len " << len;
      identical += got == want;
    }
  }
  // The truncation is far below the last bit: the correctly rounded sum nearly every time.
  EXPECT_GE(identical, trials - 2);
  gmp_randclear(state);
}

TEST_P(dot_test, walks_backwards_and_rounds_a_cancelling_sum_once) {
  // a b - a b' + c d with b' the neighbour of b: the large products cancel to -a ulp(b), exactly in
  // the accumulator; a product-by-product sum would round a b and a b' first and lose it.
  const mpfr_real a = mpfr_real(1) / 3, b = mpfr_real(1) / 7, c = ldexp(mpfr_real(1), -20),
                  d = mpfr_real(1) / 11;
  mpfr_real b_next = b;
  mpfr_nextabove(b_next.backend().data());
  const std::vector<mpfr_real> x = {a, -a, c}, y = {b, b_next, d};
  const long prec = mpfr_get_prec(a.backend().data());
  const mpfr_real want = exact_dot(x, y, prec);
  ASSERT_LT(abs(want), ldexp(mpfr_real(1), -20));  // the cancellation happened
  std::vector<mp_limb_t> scratch;
  mpfr_real got;
  scalar::dot(got, x.data(), 1, y.data(), 1, 3, scratch);
  EXPECT_EQ(got, want);
  // Backwards: sum_j x_j yr_{2-j} with yr the reversed y.
  const std::vector<mpfr_real> reversed = {d, b_next, b};
  scalar::dot(got, x.data(), 1, reversed.data() + 2, -1, 3, scratch);
  EXPECT_EQ(got, want);
}

TEST_P(dot_test, propagates_nan_and_infinity_and_accepts_other_precisions) {
  std::vector<mp_limb_t> scratch;
  std::vector<mpfr_real> x = {mpfr_real(2), mpfr_real(3)}, y = {mpfr_real(5), mpfr_real(7)};
  mpfr_real got;
  scalar::dot(got, x.data(), 1, y.data(), 1, 2, scratch);
  EXPECT_EQ(got, 31);
  y[1] = std::numeric_limits<mpfr_real>::quiet_NaN();
  scalar::dot(got, x.data(), 1, y.data(), 1, 2, scratch);
  EXPECT_TRUE(isnan(got));
  y[1] = std::numeric_limits<mpfr_real>::infinity();
  scalar::dot(got, x.data(), 1, y.data(), 1, 2, scratch);
  EXPECT_TRUE(isinf(got) && got > 0);
  y[1] = 7;
  mpfr_prec_round(x[0].backend().data(), 2 * GetParam(), MPFR_RNDN);  // another precision
  scalar::dot(got, x.data(), 1, y.data(), 1, 2, scratch);
  EXPECT_EQ(got, 31);
}

// Precisions in decimal digits: 1, 2, 3 and 4 limbs (scalar::dot's register kernels), 6 and 16
// (its mpn path).
INSTANTIATE_TEST_SUITE_P(digits, dot_test, ::testing::Values(15, 30, 50, 70, 100, 300));

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
