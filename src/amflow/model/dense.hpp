// Small dense kernels that allocate nothing once their buffers exist. Boost's MPFR numbers with
// expression templates off create one temporary per operation (an allocation and a free per
// multiplication inside Eigen's products and factorisations: 5x the arithmetic itself at 50 digits,
// bench/kernel_bench), so for mpfr_real these run on scalar::dot (exact products, one rounding per
// sum) and raw MPFR calls on the destination; other scalars go through Eigen with noalias.
#pragma once

#include <Eigen/LU>
#include <cstddef>
#include <vector>

#include "amflow/model/problem.hpp"
#include "amflow/scalar/dot.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::model {

// In-place scalar operations: out = a - b, out = a + b, out = a * b, out = a / b, x = -x.
template <class Real>
void sub_into(Real& out, const Real& a, const Real& b) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_sub(out.backend().data(), a.backend().data(), b.backend().data(), MPFR_RNDN);
  } else {
    out = a - b;
  }
}
template <class Real>
void add_into(Real& out, const Real& a, const Real& b) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_add(out.backend().data(), a.backend().data(), b.backend().data(), MPFR_RNDN);
  } else {
    out = a + b;
  }
}
template <class Real>
void mul_into(Real& out, const Real& a, const Real& b) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_mul(out.backend().data(), a.backend().data(), b.backend().data(), MPFR_RNDN);
  } else {
    out = a * b;
  }
}
template <class Real>
void div_into(Real& out, const Real& a, const Real& b) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_div(out.backend().data(), a.backend().data(), b.backend().data(), MPFR_RNDN);
  } else {
    out = a / b;
  }
}
template <class Real>
void negate(Real& x) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_neg(x.backend().data(), x.backend().data(), MPFR_RNDN);
  } else {
    x = -x;
  }
}
// |a| > |b|.
template <class Real>
bool abs_greater(const Real& a, const Real& b) {
  if constexpr (is_mpfr_v<Real>) {
    return mpfr_cmpabs(a.backend().data(), b.backend().data()) > 0;
  } else {
    using std::abs;
    return abs(a) > abs(b);
  }
}

// The entry of largest magnitude (0 for an empty matrix), without temporaries.
template <class Real>
Real max_abs(const matrix<Real>& A) {
  const Real* best = nullptr;
  for (Eigen::Index i = 0; i < A.size(); ++i) {
    if (best == nullptr || abs_greater(A(i), *best)) best = &A(i);
  }
  using std::abs;
  return best == nullptr ? Real(0) : Real(abs(*best));
}

// C = op(A) op(B), op the transpose when the flag says so. C is resized only when its shape
// differs (then its entries are new); C must not alias A or B.
template <class Real>
void multiply_into(matrix<Real>& C, const matrix<Real>& A, bool transpose_a, const matrix<Real>& B,
                   bool transpose_b) {
  const Eigen::Index rows = transpose_a ? A.cols() : A.rows();
  const Eigen::Index inner = transpose_a ? A.rows() : A.cols();
  const Eigen::Index cols = transpose_b ? B.rows() : B.cols();
  if (C.rows() != rows || C.cols() != cols) C.resize(rows, cols);
  if constexpr (is_mpfr_v<Real>) {
    thread_local std::vector<mp_limb_t> scratch;
    // Column-major: A(i, k) sits at i + k lda; op(A)'s row i walks with stride lda (or 1 for the
    // transpose), op(B)'s column j with stride 1 (or ldb for the transpose).
    const std::ptrdiff_t lda = A.rows(), ldb = B.rows();
    const std::ptrdiff_t a_step = transpose_a ? 1 : lda, b_step = transpose_b ? ldb : 1;
    for (Eigen::Index j = 0; j < cols; ++j) {
      const mpfr_real* b = B.data() + (transpose_b ? j : j * ldb);
      for (Eigen::Index i = 0; i < rows; ++i) {
        const mpfr_real* a = A.data() + (transpose_a ? i * lda : i);
        scalar::dot(C(i, j), a, a_step, b, b_step, static_cast<int>(inner), scratch);
      }
    }
  } else if (transpose_a && transpose_b) {
    C.noalias() = A.transpose() * B.transpose();
  } else if (transpose_a) {
    C.noalias() = A.transpose() * B;
  } else if (transpose_b) {
    C.noalias() = A * B.transpose();
  } else {
    C.noalias() = A * B;
  }
}

// LU with partial pivoting of a small square matrix, reused for many right-hand sides. For MPFR
// it is Crout's ordering, each entry of L and U one dot product (one rounding) and no temporary
// number; otherwise Eigen's PartialPivLU. factor() reports false on an exactly singular matrix.
template <class Real>
class small_lu {
 public:
  bool factor(const matrix<Real>& M) {
    if constexpr (is_mpfr_v<Real>) {
      const Eigen::Index n = M.rows();
      LU_ = M;
      perm_.resize(n);
      for (Eigen::Index i = 0; i < n; ++i) perm_[i] = i;
      if (sum_.size() != 1) sum_.resize(1);
      Real& sum = sum_(0);
      for (Eigen::Index j = 0; j < n; ++j) {
        // Column j of U above the diagonal, then the candidates for the pivot on and below it:
        // entry (i, j) less row i of L (columns < min(i, j)) times column j of U.
        for (Eigen::Index i = 0; i < n; ++i) {
          const int len = static_cast<int>(std::min(i, j));
          if (len == 0) continue;
          scalar::dot(sum, LU_.data() + i, n, LU_.data() + j * n, 1, len, scratch_);
          sub_into(LU_(i, j), LU_(i, j), sum);
        }
        Eigen::Index pivot = j;
        for (Eigen::Index i = j + 1; i < n; ++i) {
          if (abs_greater(LU_(i, j), LU_(pivot, j))) pivot = i;
        }
        if (LU_(pivot, j) == 0) return false;
        if (pivot != j) {
          LU_.row(pivot).swap(LU_.row(j));
          std::swap(perm_[pivot], perm_[j]);
        }
        for (Eigen::Index i = j + 1; i < n; ++i) div_into(LU_(i, j), LU_(i, j), LU_(j, j));
      }
      return true;
    } else {
      eigen_.compute(M);
      return eigen_.determinant() != Real(0);
    }
  }

  // x = M^-1 b; b and x may be the same vector (size n, contiguous).
  void solve(const vector<Real>& b, vector<Real>& x) {
    if constexpr (is_mpfr_v<Real>) {
      const Eigen::Index n = LU_.rows();
      if (y_.size() != n) y_.resize(n);
      if (sum_.size() != 1) sum_.resize(1);
      Real& sum = sum_(0);
      for (Eigen::Index i = 0; i < n; ++i) {
        y_(i) = b(perm_[i]);
        if (i == 0) continue;
        scalar::dot(sum, LU_.data() + i, n, y_.data(), 1, static_cast<int>(i), scratch_);
        sub_into(y_(i), y_(i), sum);
      }
      if (x.size() != n) x.resize(n);
      for (Eigen::Index i = n - 1; i >= 0; --i) {
        const int len = static_cast<int>(n - 1 - i);
        if (len > 0) {
          scalar::dot(sum, LU_.data() + i + (i + 1) * n, n, x.data() + i + 1, 1, len, scratch_);
          sub_into(y_(i), y_(i), sum);
        }
        div_into(x(i), y_(i), LU_(i, i));
      }
    } else {
      x = eigen_.solve(b);
    }
  }

 private:
  matrix<Real> LU_;
  std::vector<Eigen::Index> perm_;
  vector<Real> y_, sum_;
  std::vector<mp_limb_t> scratch_;
  Eigen::PartialPivLU<matrix<Real>> eigen_;
};

}  // namespace amflow::model
