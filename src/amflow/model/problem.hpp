// The associative-memory problem: embeddings, frequencies, target map and initial memory, with the
// Gram matrices every computation uses. Immutable once built by make_problem.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "amflow/scalar/compat.hpp"

namespace amflow::model {

template <class Real>
using matrix = Eigen::Matrix<Real, Eigen::Dynamic, Eigen::Dynamic>;
template <class Real>
using vector = Eigen::Matrix<Real, Eigen::Dynamic, 1>;

// N tokens x in [N], M classes y in [M], dimension d.
template <class Real>
struct problem {
  int tokens = 0;           // N
  int classes = 0;          // M
  int dim = 0;              // d
  matrix<Real> E;           // N x d; row x is the input embedding e_x
  matrix<Real> U;           // M x d; row y is the output embedding u_y
  vector<Real> p;           // N; token frequencies p(x) > 0, summing to 1
  std::vector<int> target;  // N; f*(x) in [M]
  matrix<Real> W0;          // d x d; initial memory
  matrix<Real> C;           // N x M; fixed logit offsets c_x (Z = C + E W^T U^T), or empty: none
  // Derived by make_problem:
  matrix<Real> G_E;           // N x N; E E^T, or empty when not formed (forms_gram)
  matrix<Real> G_U;           // M x M; U U^T, or empty when not formed
  matrix<Real> Y;             // N x M; one-hot targets, Y(x, f*(x)) = 1
  matrix<Real> Z0;            // N x M; logits at W0, C + E W0^T U^T
  bool zero_init = false;     // W0 is exactly zero
  bool G_E_identity = false;  // G_E is exactly the identity (orthonormal inputs): products skipped
  bool G_U_identity = false;  // G_U is exactly the identity (orthonormal outputs)

  bool has_offsets() const { return C.size() != 0; }
};

// Whether make_problem forms the n x n Gram matrix of n embeddings in dimension d: when a product
// with it (n^2 multiplications per column) costs no more than through the embeddings twice
// (2 n d: G_E R = E (E^T R)), n <= 2 d. Otherwise the Gram matrix is never stored, and the
// products, its diagonal and its bounds go through the embeddings (N = 10^4 tokens in d = 100:
// 800 MB and 2 s in double saved at set-up, and every product 50x cheaper).
inline bool forms_gram(long n, long d) { return n <= 2 * d; }

// The Gram matrix of the rows of F: `formed` itself when make_problem formed it, else F F^T now
// (O(n^2 d); for the analyses that need its entries, never in a per-step product).
template <class Real>
matrix<Real> gram_of(const matrix<Real>& F, const matrix<Real>& formed) {
  if (formed.size() != 0 || F.rows() == 0) return formed;
  return F * F.transpose();
}
template <class Real>
matrix<Real> input_gram(const problem<Real>& pb) {
  return gram_of(pb.E, pb.G_E);
}
template <class Real>
matrix<Real> output_gram(const problem<Real>& pb) {
  return gram_of(pb.U, pb.G_U);
}

// Entry (i, i) of the Gram matrix of F's rows, from `formed` when it was formed.
template <class Real>
Real gram_diagonal(const matrix<Real>& F, const matrix<Real>& formed, Eigen::Index i) {
  if (formed.size() != 0) return formed(i, i);
  return F.row(i).squaredNorm();
}

// || |F F^T| ||_inf <= max_i sum_j |f_i| . |f_j| (rows of |F|), the scale of the rounding in a
// product with the Gram matrix or through F; the exact row sums of |G| when it was formed.
template <class Real>
Real gram_abs_bound(const matrix<Real>& F, const matrix<Real>& formed) {
  if (formed.size() != 0) return formed.cwiseAbs().rowwise().sum().maxCoeff();
  if (F.rows() == 0) return Real(0);
  const matrix<Real> A = F.cwiseAbs();
  const matrix<Real> column_sums = A.colwise().sum();
  return (A * column_sums.transpose()).maxCoeff();
}

// Builds a problem and its derived matrices. Shapes and ranges are checked (throws input_error
// naming the field); frequencies are taken as given (their validation belongs to the parser, which
// knows what the user wrote). C: the logit offsets (N x M), or empty for none (an all-zero C is
// kept as none).
template <class Real>
problem<Real> make_problem(matrix<Real> E, matrix<Real> U, vector<Real> p, std::vector<int> target,
                           matrix<Real> W0, matrix<Real> C = {});

}  // namespace amflow::model
