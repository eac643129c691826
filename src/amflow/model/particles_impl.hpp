// Definitions for particles.hpp: included where its templates are instantiated (the per-scalar
// units that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its
// own); other code sees the extern declarations.
#pragma once

#include <Eigen/QR>

#include "amflow/errors.hpp"
#include "amflow/model/dense.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"

namespace amflow::model {

template <class Real>
particle_state<Real> initial_state(const problem<Real>& pb) {
  return {matrix<Real>::Zero(pb.tokens, pb.classes), pb.Z0};
}

namespace detail {

// The intermediates of interact_into, kept by a caller that steps many times.
template <class Real>
struct interact_work {
  matrix<Real> T;       // N x M: G_E R
  matrix<Real> SE, SU;  // d x M: E^T R; N x d: (G_E R) U
};
// G_E R G_U written into V, skipping multiplications by an exact identity and multiplying through
// the embeddings where the Gram matrix was not formed (G_E R = E (E^T R), R G_U = (R U) U^T:
// model::forms_gram); `w` holds the intermediates. Written into buffers the caller may keep, so
// that a GD step allocates nothing (model::multiply_into: for doubles Eigen's products with
// noalias, the same products in the same order as an expression, so the same bits; for MPFR
// scalar::dot).
template <class Real>
void interact_into(const problem<Real>& pb, const matrix<Real>& R, matrix<Real>& V,
                   interact_work<Real>& w) {
  // G_E R into `out`: by the formed matrix or through E (not called when G_E is the identity).
  const auto left_into = [&](matrix<Real>& out) {
    if (pb.G_E.size() != 0) {
      multiply_into(out, pb.G_E, false, R, false);
    } else {
      multiply_into(w.SE, pb.E, true, R, false);
      multiply_into(out, pb.E, false, w.SE, false);
    }
  };
  if (pb.G_U_identity) {  // straight into V, no copy on the flow's right-hand side
    if (pb.G_E_identity) {
      V = R;
    } else {
      left_into(V);
    }
    return;
  }
  const matrix<Real>* left = &R;
  if (!pb.G_E_identity) {
    left_into(w.T);
    left = &w.T;
  }
  if (pb.G_U.size() != 0) {
    multiply_into(V, *left, false, pb.G_U, false);
  } else {
    multiply_into(w.SU, *left, false, pb.U, false);
    multiply_into(V, w.SU, false, pb.U, true);
  }
}

}  // namespace detail

// G_E R G_U, skipping multiplications by an exact identity (orthonormal embeddings): the result is
// the same to the last bit, and the flow of an orthogonal problem is 2-3x cheaper.
template <class Real>
matrix<Real> interact(const problem<Real>& pb, const matrix<Real>& R) {
  matrix<Real> V;
  detail::interact_work<Real> w;
  detail::interact_into(pb, R, V, w);
  return V;
}

template <class Real>
matrix<Real> logit_velocity(const problem<Real>& pb, const matrix<Real>& Z) {
  return -interact(pb, residual(pb, Z));
}

template <class Real>
matrix<Real> modified_logit_velocity(const problem<Real>& pb, const matrix<Real>& Z,
                                     const Real& eta) {
  const matrix<Real> R = residual(pb, Z);
  const matrix<Real> D = interact(pb, R);
  const matrix<Real> P = softmax_rows(Z);
  matrix<Real> T(pb.tokens, pb.classes);
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      Real s(0);
      for (int y2 = 0; y2 < pb.classes; ++y2) s += P(x, y2) * (D(x, y) - D(x, y2));
      T(x, y) = pb.p(x) * P(x, y) * s;
    }
  }
  return -interact(pb, matrix<Real>(R + (eta / 2) * T));
}

template <class Real>
void advance(const problem<Real>& pb, particle_state<Real>& s, const matrix<Real>& R,
             const Real& eta) {
  s.Q += eta * R;
  if constexpr (is_mpfr_v<Real>) {
    s.Z -= eta * interact(pb, R);  // MPFR's products make their numbers anyway
  } else {
    thread_local matrix<Real> V;  // no allocation per step (a pair GD step costs ~60 ns)
    thread_local detail::interact_work<Real> w;
    detail::interact_into(pb, R, V, w);
    s.Z -= eta * V;
  }
}

template <class Real>
void gd_step(const problem<Real>& pb, particle_state<Real>& s, const Real& eta) {
  advance(pb, s, residual(pb, s.Z), eta);
}

template <class Real>
matrix<Real> weights(const problem<Real>& pb, const matrix<Real>& Q) {
  return pb.W0 - pb.U.transpose() * Q.transpose() * pb.E;
}

template <class Real>
matrix<Real> weights_from_logits(const problem<Real>& pb, const matrix<Real>& Z) {
  const matrix<Real> E_pinv =
      Eigen::CompleteOrthogonalDecomposition<matrix<Real>>(pb.E).pseudoInverse();
  const matrix<Real> U_pinv =
      Eigen::CompleteOrthogonalDecomposition<matrix<Real>>(pb.U).pseudoInverse();
  return pb.W0 + U_pinv * (Z - pb.Z0).transpose() * E_pinv.transpose();
}

template <class Real>
matrix<Real> one_step_from_zero(const problem<Real>& pb, const Real& eta) {
  if (!pb.zero_init) throw input_error("init.kind", "not zero", "the one-step result needs W0 = 0");
  if (pb.has_offsets()) {
    throw input_error("offsets.kind", "explicit", "the one-step result needs no logit offsets");
  }
  const matrix<Real> uniform = matrix<Real>::Constant(pb.tokens, pb.classes, Real(1) / pb.classes);
  const matrix<Real> R = pb.p.asDiagonal() * (uniform - pb.Y);
  return -eta * interact(pb, R);
}

}  // namespace amflow::model
