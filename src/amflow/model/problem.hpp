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
  // Derived by make_problem:
  matrix<Real> G_E;           // N x N; E E^T
  matrix<Real> G_U;           // M x M; U U^T
  matrix<Real> Y;             // N x M; one-hot targets, Y(x, f*(x)) = 1
  matrix<Real> Z0;            // N x M; logits at W0, E W0^T U^T
  bool zero_init = false;     // W0 is exactly zero
  bool G_E_identity = false;  // G_E is exactly the identity (orthonormal inputs): products skipped
  bool G_U_identity = false;  // G_U is exactly the identity (orthonormal outputs)
};

// Builds a problem and its derived matrices. Shapes and ranges are checked (throws input_error
// naming the field); frequencies are taken as given (their validation belongs to the parser, which
// knows what the user wrote).
template <class Real>
problem<Real> make_problem(matrix<Real> E, matrix<Real> U, vector<Real> p, std::vector<int> target,
                           matrix<Real> W0);

}  // namespace amflow::model
