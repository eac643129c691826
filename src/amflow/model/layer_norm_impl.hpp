// Definitions for layer_norm.hpp: included where its templates are instantiated (the per-scalar
// units that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its
// own); other code sees the extern declarations.
#pragma once

#include <cmath>

#include "amflow/errors.hpp"
#include "amflow/model/layer_norm.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::model {

namespace detail {

// h_x = W e_x for every x (d x N, column x) and n_x = sqrt(|h_x|^2 + epsilon) (N).
template <class Real>
void hidden_states(const problem<Real>& pb, const matrix<Real>& W, const Real& epsilon,
                   matrix<Real>& H, vector<Real>& n) {
  using std::sqrt;
  if (!(epsilon > 0) || !scalar::is_finite(epsilon)) {
    throw input_error("layer_norm_epsilon", scalar::to_text<Real>(epsilon),
                      "must be finite and positive");
  }
  H = W * pb.E.transpose();
  n.resize(pb.tokens);
  for (int x = 0; x < pb.tokens; ++x) n(x) = sqrt(Real(H.col(x).squaredNorm() + epsilon));
}

}  // namespace detail

template <class Real>
matrix<Real> layer_norm_logits(const problem<Real>& pb, const matrix<Real>& W,
                               const Real& epsilon) {
  matrix<Real> H;
  vector<Real> n;
  detail::hidden_states(pb, W, epsilon, H, n);
  for (int x = 0; x < pb.tokens; ++x) H.col(x) /= n(x);
  matrix<Real> Z = (pb.U * H).transpose();  // Z(x, y) = c_xy + u_y^T o_x
  if (pb.has_offsets()) Z += pb.C;
  return Z;
}

template <class Real>
matrix<Real> layer_norm_gradient(const problem<Real>& pb, const matrix<Real>& W,
                                 const Real& epsilon, const matrix<Real>& R) {
  matrix<Real> H;
  vector<Real> n;
  detail::hidden_states(pb, W, epsilon, H, n);
  matrix<Real> V = pb.U.transpose() * R.transpose();  // d x N, column x: v_x = U^T r_x
  for (int x = 0; x < pb.tokens; ++x) {
    const Real n2 = n(x) * n(x);
    const Real hv = H.col(x).dot(V.col(x));
    V.col(x) = (V.col(x) - H.col(x) * Real(hv / n2)) / n(x);  // J_x v_x
  }
  return V * pb.E;  // sum_x (J_x v_x) e_x^T
}

template <class Real>
matrix<Real> layer_norm_hessian(const problem<Real>& pb, const matrix<Real>& W,
                                const Real& epsilon) {
  const int d = pb.dim;
  matrix<Real> Hs;
  vector<Real> n;
  detail::hidden_states(pb, W, epsilon, Hs, n);
  const matrix<Real> Z = layer_norm_logits(pb, W, epsilon);
  const matrix<Real> R = residual(pb, Z);
  const matrix<Real> pi = softmax_rows(Z);
  matrix<Real> out = matrix<Real>::Zero(d * d, d * d);
  const matrix<Real> I = matrix<Real>::Identity(d, d);
  for (int x = 0; x < pb.tokens; ++x) {
    const vector<Real> h = Hs.col(x);
    const Real nx = n(x), n2 = nx * nx, n3 = n2 * nx;
    const matrix<Real> J = (I - h * h.transpose() / n2) / nx;
    const vector<Real> p_x = pi.row(x).transpose();
    const matrix<Real> S =
        pb.p(x) * matrix<Real>(matrix<Real>(p_x.asDiagonal()) - p_x * p_x.transpose());
    const vector<Real> v = pb.U.transpose() * R.row(x).transpose();
    const Real vh = v.dot(h);
    const matrix<Real> T =
        (Real(3) * vh / n2 * (h * h.transpose()) - v * h.transpose() - h * v.transpose() - vh * I) /
        n3;
    const matrix<Real> Hx = J * pb.U.transpose() * S * pb.U * J + T;
    const vector<Real> e = pb.E.row(x).transpose();
    for (int a = 0; a < d; ++a) {
      for (int b = 0; b < d; ++b) {
        const Real c = e(a) * e(b);
        if (c == Real(0)) continue;
        out.block(a * d, b * d, d, d) += c * Hx;
      }
    }
  }
  return out;
}

}  // namespace amflow::model
