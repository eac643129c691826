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

// dZ/dtau = -G_E R(Z) G_U (N x M).
template <class Real>
matrix<Real> logit_velocity(const problem<Real>& pb, const matrix<Real>& Z);

// One full-batch GD step of size eta in particle coordinates.
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
