// What amflow measures on a memory: logits, softmax, the residual R, losses, margins, gradient,
// Hessian and sharpness. Shapes: E N x d, U M x d, W d x d, Z N x M (Z(x, y) = u_y^T W e_x).
#pragma once

#include "amflow/model/problem.hpp"

namespace amflow::model {

// Z = C + E W^T U^T (N x M; C the problem's logit offsets, when it has any).
template <class Real>
matrix<Real> logits(const problem<Real>& pb, const matrix<Real>& W);
// The same into Z, T holding the intermediate product (buffers kept by a loop: no allocation once
// their shapes are set, for scalars without heap storage).
template <class Real>
void logits_into(const problem<Real>& pb, const matrix<Real>& W, matrix<Real>& Z, matrix<Real>& T);

// Row-wise softmax of Z (N x M), computed as exp(z - max z) / sum for stability.
template <class Real>
matrix<Real> softmax_rows(const matrix<Real>& Z);

// R(Z) = diag(p) (softmax_rows(Z) - Y) (N x M): the one residual the gradient, the flow, GD and the
// particle dynamics all use. The target entry is computed as -p(x) (sum of the other classes'
// softmax weights), so R keeps full relative precision however large the margins grow.
template <class Real>
matrix<Real> residual(const problem<Real>& pb, const matrix<Real>& Z);

// The same residual with row weights w (N) in place of p, written into R (N x M), and the loss
// L(Z) (weighted by p, not w) from the same exponentials: one pass over Z for a GD step that also
// reports its loss. SGD passes the batch frequencies as w; GD passes p (then R = residual(pb, Z)
// and the loss = loss(pb, Z), to the last bit).
template <class Real>
Real residual_and_loss(const problem<Real>& pb, const matrix<Real>& Z, const vector<Real>& w,
                       matrix<Real>& R);

// L = sum_x p(x) [ logsumexp_y Z(x, y) - Z(x, f*(x)) ]. A row whose target leads is
// log1p(sum_{y != t} exp(z_y - z_t)), so the loss keeps full relative precision however small it
// gets (log(1 + s) would lose all of it once s < eps: 2e-17 printed as 0 at tau = 1e17).
template <class Real>
Real loss(const problem<Real>& pb, const matrix<Real>& Z);

// Predicted class of each token: argmax_y Z(x, y), ties to the lowest index.
template <class Real>
std::vector<int> predictions(const matrix<Real>& Z);

// L01 = sum_x p(x) 1{prediction(x) != f*(x)}.
template <class Real>
Real zero_one_loss(const problem<Real>& pb, const matrix<Real>& Z);

// m_x = Z(x, f*(x)) - max_{y != f*(x)} Z(x, y) (N).
template <class Real>
vector<Real> margins(const problem<Real>& pb, const matrix<Real>& Z);
// The same, written into m (resized to N; no allocation when it has that size already).
template <class Real>
void margins_into(const problem<Real>& pb, const matrix<Real>& Z, vector<Real>& m);

// grad L(W) = U^T R(Z)^T E (d x d), Z = logits(W).
template <class Real>
matrix<Real> gradient(const problem<Real>& pb, const matrix<Real>& W);
// The same from a residual already formed (any row weights, as SGD's batches): U^T R^T E.
template <class Real>
matrix<Real> gradient_of_residual(const problem<Real>& pb, const matrix<Real>& R);
// The same into G, S holding the intermediate product.
template <class Real>
void gradient_of_residual_into(const problem<Real>& pb, const matrix<Real>& R, matrix<Real>& G,
                               matrix<Real>& S);

// Hessian of L at W on vec(W) (column-major, d^2 x d^2):
//   H = sum_x p(x) (e_x e_x^T) kron (U^T (diag pi_x - pi_x pi_x^T) U),
// with each diagonal entry pi_y (1 - pi_y) formed from the other weights (no cancellation at large
// margins).
template <class Real>
matrix<Real> hessian(const problem<Real>& pb, const matrix<Real>& W);

// The sharpness lambda_max(H) and how far it can be trusted.
template <class Real>
struct sharpness_result {
  Real value = Real(0);
  // A bound on the distance from `value` to an eigenvalue of H: the residual |A v - value v| of
  // the unit vector v it came from (A symmetric, so some eigenvalue lies within it), plus a bound
  // on the rounding errors of computing that residual.
  Real error = Real(0);
  int lanczos_iterations = 0;  // 0: the dense eigensolver was used
};

// Problems with N M up to this use the dense eigensolver, larger ones Lanczos.
inline constexpr long dense_sharpness_limit = 64;

// Sharpness from the logits alone, an N M x N M eigenproblem whatever d is. H = J^T D J with
// J J^T = K = G_E kron G_U and D block-diagonal, D_x = p(x) (diag pi_x - pi_x pi_x^T) = B_x^T B_x,
//   B_x = sqrt(p(x)) diag(sqrt(pi_x)) (I - 1 pi_x^T),
// so lambda_max(H) = lambda_max(A), A = B K B^T, applied without forming it: B v costs O(M) per
// row and K v = G_E V G_U. Up to dense_sharpness_limit, A is formed and solved densely; above, by
// Lanczos with full reorthogonalisation (a fixed seeded start, up to 500 iterations, stopping once
// the residual is below 1000 eps lambda), memory O(iterations N M).
template <class Real>
sharpness_result<Real> sharpness_with_error(const problem<Real>& pb, const matrix<Real>& Z);

// sharpness_with_error(pb, Z).value.
template <class Real>
Real sharpness(const problem<Real>& pb, const matrix<Real>& Z);

// Largest eigenvalue of a symmetric matrix.
template <class Real>
Real largest_eigenvalue(const matrix<Real>& S);

}  // namespace amflow::model
