// Certified largest eigenvalues: the sharpness of the loss (the largest eigenvalue of its Hessian
// in W) from balls of the logits, and the largest eigenvalue of any symmetric matrix of balls.
#pragma once

#include <vector>

#include "amflow/certify/descent.hpp"

namespace amflow::certify {

// A ball containing the largest eigenvalue of every symmetric matrix within the balls of A (n x n,
// row-major): below, the Rayleigh quotient of an approximate eigenvector (computed from the
// midpoints at the current MPFR precision); above, the least mu tried for which mu I - A has a
// Cholesky factorisation with every pivot decided positive (so every eigenvalue is below mu).
// Not finite when no such mu is found.
ball largest_eigenvalue(const std::vector<ball>& A, int n);

// The sharpness lambda_max(H(W)) of the problem at logits Z (balls, N x M row-major): the largest
// eigenvalue of A = B K B^T, K = G_E (x) G_U, B block-diagonal with
// B_x = sqrt(p(x)) diag(sqrt(pi_x)) (I - 1 pi_x^T), whose nonzero spectrum is the Hessian's
// (model::sharpness_with_error explains the factorisation).
ball sharpness(const ball_problem& pb, const std::vector<ball>& Z);

}  // namespace amflow::certify
