// Layer norm before the unembedding, as in the authors' model: the hidden state h_x = W e_x (d) is
// normalised to o_x = h_x / n_x, n_x = sqrt(|h_x|^2 + epsilon), and the logits are
//   Z(x, y) = u_y^T o_x,
// so |o_x| < 1 and every margin is below max_y |u_f*(x) - u_y| (Cauchy-Schwarz): no log growth.
// The map W -> Z is no longer linear, so the particle coordinates do not apply; these functions
// work on W (d x d). The loss, margins and residual of Z are those of quantities.hpp.
#pragma once

#include "amflow/model/problem.hpp"

namespace amflow::model {

// Z (N x M) with layer norm at epsilon > 0 (each function throws input_error naming
// layer_norm_epsilon otherwise).
template <class Real>
matrix<Real> layer_norm_logits(const problem<Real>& pb, const matrix<Real>& W, const Real& epsilon);

// grad L(W) (d x d) from the residual R of Z = layer_norm_logits(W) (any row weights, as SGD's):
//   grad = sum_x J_x U^T r_x e_x^T,   J_x = (I - h_x h_x^T / n_x^2) / n_x   (J_x = d o_x / d h_x),
// r_x the row x of R. J_x v is formed as (v - h_x (h_x . v) / n_x^2) / n_x (no d x d matrix).
template <class Real>
matrix<Real> layer_norm_gradient(const problem<Real>& pb, const matrix<Real>& W,
                                 const Real& epsilon, const matrix<Real>& R);

// The Hessian of L on vec(W) (column-major, d^2 x d^2): H = sum_x (e_x e_x^T) kron H_x with
//   H_x = J_x U^T S_x U J_x + T_x,   S_x = p(x) (diag pi_x - pi_x pi_x^T),
//   T_x(j, k) = sum_i v_i d^2 o_i / dh_j dh_k,   v = U^T r_x
//            = (3 (v . h) h_j h_k / n^2 - v_j h_k - v_k h_j - (v . h) delta_jk) / n^3.
template <class Real>
matrix<Real> layer_norm_hessian(const problem<Real>& pb, const matrix<Real>& W,
                                const Real& epsilon);

}  // namespace amflow::model
