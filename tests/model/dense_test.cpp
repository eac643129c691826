// The allocation-free kernels of model/dense.hpp against exact rational arithmetic, every scalar.
#include "amflow/model/dense.hpp"

#include <vector>

#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using model::matrix;
using model::vector;

template <class Real>
class dense_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(dense_test, testing::scalar_types, testing::scalar_names);

// A rational as a 1000-bit MPFR reference (exact to far more than any scalar tested).
mpfr_real reference(const rational& q) {
  mpfr_real x;
  x.precision(1000);
  mpfr_set_q(x.backend().data(), q.backend().data(), MPFR_RNDN);
  return x;
}

// Entry (i, j) of a test matrix: (i + 2 j + 1) / (3 + i + j), positive, most not dyadic.
rational entry(int i, int j, int salt) { return rational(i + 2 * j + 1 + salt, 3 + i + j); }

template <class Real>
Real to_real(const rational& q) {
  return scalar::from_rational<Real>(q, "test", "q");
}

TYPED_TEST(dense_test, multiply_into_every_transposition_matches_exact_products) {
  using Real = TypeParam;
  const int rows = 3, inner = 4, cols = 5;
  for (int ta = 0; ta < 2; ++ta) {
    for (int tb = 0; tb < 2; ++tb) {
      // op(A) is rows x inner, op(B) inner x cols; the stored matrices are their transposes when
      // the flag is set.
      matrix<Real> A = ta ? matrix<Real>(inner, rows) : matrix<Real>(rows, inner);
      matrix<Real> B = tb ? matrix<Real>(cols, inner) : matrix<Real>(inner, cols);
      std::vector<rational> a(rows * inner), b(inner * cols);
      for (int i = 0; i < rows; ++i) {
        for (int k = 0; k < inner; ++k) {
          a[i * inner + k] = entry(i, k, 0);
          (ta ? A(k, i) : A(i, k)) = to_real<Real>(a[i * inner + k]);
        }
      }
      for (int k = 0; k < inner; ++k) {
        for (int j = 0; j < cols; ++j) {
          b[k * cols + j] = entry(k, j, 5);
          (tb ? B(j, k) : B(k, j)) = to_real<Real>(b[k * cols + j]);
        }
      }
      matrix<Real> C;
      model::multiply_into(C, A, ta == 1, B, tb == 1);
      ASSERT_EQ(C.rows(), rows);
      ASSERT_EQ(C.cols(), cols);
      for (int i = 0; i < rows; ++i) {
        for (int j = 0; j < cols; ++j) {
          rational sum(0);
          for (int k = 0; k < inner; ++k) sum += a[i * inner + k] * b[k * cols + j];
          // Positive terms: each input within eps/2, the sum's rounding(s) within inner eps.
          testing::expect_close(reference(sum), C(i, j), 2 * inner + 2);
        }
      }
    }
  }
}

// x = M^-1 b exactly, by Gauss-Jordan elimination over the rationals.
std::vector<rational> exact_solve(std::vector<std::vector<rational>> M, std::vector<rational> b) {
  const size_t n = b.size();
  for (size_t j = 0; j < n; ++j) {
    size_t p = j;
    while (M[p][j] == 0) ++p;
    std::swap(M[p], M[j]);
    std::swap(b[p], b[j]);
    for (size_t i = 0; i < n; ++i) {
      if (i == j || M[i][j] == 0) continue;
      const rational f = M[i][j] / M[j][j];
      for (size_t k = j; k < n; ++k) M[i][k] -= f * M[j][k];
      b[i] -= f * b[j];
    }
  }
  for (size_t i = 0; i < n; ++i) b[i] /= M[i][i];
  return b;
}

TYPED_TEST(dense_test, small_lu_solves_a_system_that_needs_pivoting) {
  using Real = TypeParam;
  const int n = 6;
  // Zeros on the diagonal's first entries force row exchanges; the rest is entry(): a
  // well-conditioned matrix (condition number below 1e3).
  std::vector<std::vector<rational>> M(n, std::vector<rational>(n));
  matrix<Real> Mr(n, n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      M[i][j] = (i == j && i < 2) ? rational(0) : entry(i, j, 0) - (i == j ? 0 : rational(1, 2));
      Mr(i, j) = to_real<Real>(M[i][j]);
    }
  }
  std::vector<rational> b(n);
  vector<Real> br(n);
  for (int i = 0; i < n; ++i) {
    b[i] = rational(1 - 2 * (i % 2), i + 2);
    br(i) = to_real<Real>(b[i]);
  }
  const std::vector<rational> x = exact_solve(M, b);
  model::small_lu<Real> lu;
  ASSERT_TRUE(lu.factor(Mr));
  vector<Real> xr;
  lu.solve(br, xr);
  ASSERT_EQ(xr.size(), n);
  for (int i = 0; i < n; ++i) testing::expect_close(reference(x[i]), xr(i), 1e4);
  // Solving in place (b and x the same vector) gives the same answer.
  lu.solve(br, br);
  for (int i = 0; i < n; ++i) EXPECT_TRUE(br(i) == xr(i)) << i;
}

TYPED_TEST(dense_test, small_lu_refuses_a_singular_matrix) {
  using Real = TypeParam;
  matrix<Real> M(3, 3);
  M << 1, 0, 2, 3, 0, 4, 5, 0, 7;  // the second column is 0
  model::small_lu<Real> lu;
  EXPECT_FALSE(lu.factor(M));
}

TYPED_TEST(dense_test, max_abs_finds_the_largest_magnitude) {
  using Real = TypeParam;
  matrix<Real> A(2, 3);
  A << 1, -7, 3, 6, -2, 5;
  EXPECT_TRUE(model::max_abs(A) == Real(7));
  EXPECT_TRUE(model::max_abs(matrix<Real>(0, 0)) == Real(0));
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
