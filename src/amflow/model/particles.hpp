// The particle (logit) coordinates of the paper. W only moves in span{u_y e_x^T}:
//   W(tau) = W0 - U^T Q(tau)^T E,   Z = Z0 - G_E Q G_U,
// with Q (N x M) the accumulated residual. Gradient flow is dQ/dtau = R(Z), i.e.
//   dZ/dtau = -G_E R(Z) G_U,
// and GD is Q_{k+1} = Q_k + eta R(Z_k). The state has N*M numbers whatever d is.
#pragma once

#include "amflow/model/problem.hpp"

namespace amflow::model {

template <class Real>
struct particle_state {
  matrix<Real> Q;  // N x M; accumulated residual, W = W0 - U^T Q^T E
  matrix<Real> Z;  // N x M; logits, kept equal to Z0 - G_E Q G_U
};

// The state at W0 (Q = 0, Z = Z0).
template <class Real>
particle_state<Real> initial_state(const problem<Real>& pb);

// G_E R G_U (N x M), skipping products by an exact identity Gram matrix.
template <class Real>
matrix<Real> interact(const problem<Real>& pb, const matrix<Real>& R);

// dZ/dtau = -G_E R(Z) G_U (N x M).
template <class Real>
matrix<Real> logit_velocity(const problem<Real>& pb, const matrix<Real>& Z);

// The modified flow of backward error analysis for GD at step eta (P10):
//   dW/dtau = -grad( L + (eta/4) |grad L|^2 ) = -(g + (eta/2) H g),   g = grad L(W).
// H g stays in span{u_y e_x^T}: with D = G_E R G_U (N x M) and pi_x the softmax of row x,
//   H g = U^T T^T E,   T(x, y) = p(x) ((diag pi_x - pi_x pi_x^T) D(x, .)^T)_y
//                               = p(x) pi_x(y) sum_y' pi_x(y') (D(x, y) - D(x, y')),
// (the last form has no cancellation between softmax weights at large margins), so
//   dZ/dtau = -G_E (R + (eta/2) T) G_U   (N x M).
template <class Real>
matrix<Real> modified_logit_velocity(const problem<Real>& pb, const matrix<Real>& Z,
                                     const Real& eta);

// One step of size eta along a residual R (N x M): Q += eta R, Z -= eta G_E R G_U. GD passes
// R(Z); SGD passes the residual with the batch frequencies in place of p.
template <class Real>
void advance(const problem<Real>& pb, particle_state<Real>& s, const matrix<Real>& R,
             const Real& eta);

// One full-batch GD step of size eta in particle coordinates: advance along R(Z).
template <class Real>
void gd_step(const problem<Real>& pb, particle_state<Real>& s, const Real& eta);

// The memory the particle state stands for: W = W0 - U^T Q^T E (d x d).
template <class Real>
matrix<Real> weights(const problem<Real>& pb, const matrix<Real>& Q);

// A memory with the given logits, from the logits alone: the minimum-norm change
//   W = W0 + U^+ (Z - Z0)^T (E^+)^T   (^+ the Moore-Penrose pseudo-inverse),
// which solves E (W - W0)^T U^T = Z - Z0 exactly when the rows of E and of U are linearly
// independent (N <= d and M <= d); it then equals weights(pb, Q) for the particle state, since both
// lie in span{u_y e_x^T}. Otherwise it is the least-squares memory.
template <class Real>
matrix<Real> weights_from_logits(const problem<Real>& pb, const matrix<Real>& Z);

// Logits after one GD step of size eta from W0 = 0 (P4). At W = 0 the softmax is exactly uniform,
// so R = diag(p) (1/M - Y) needs no exponential and the result is exact for rational inputs:
// Z_1 = -eta G_E R G_U. Throws input_error if the problem's init is not zero.
template <class Real>
matrix<Real> one_step_from_zero(const problem<Real>& pb, const Real& eta);

}  // namespace amflow::model
