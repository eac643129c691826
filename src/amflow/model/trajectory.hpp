// The record every dynamics (gradient flow, GD, SGD) emits at its sample points, so that analysis
// and the writers never need to know which dynamics produced a trajectory.
#pragma once

#include <optional>

#include "amflow/model/problem.hpp"
#include "amflow/model/quantities.hpp"

namespace amflow::model {

template <class Real>
struct trajectory_sample {
  Real tau;                             // time: tau for the flow, eta * k for GD
  matrix<Real> Z;                       // logits N x M
  Real loss;                            // L(Z)
  Real zero_one_loss;                   // L01(Z)
  vector<Real> margins;                 // m_x(Z), N
  std::optional<Real> margin_error;     // flow: estimated max_x |m_x - m_x(exact flow)|
  std::optional<Real> loss_error;       // flow: estimated |L - L(exact flow)|
  std::optional<Real> sharpness;        // lambda_max of the Hessian at Z, when asked
  std::optional<Real> sharpness_error;  // its error bound (model::sharpness_result::error)
  std::optional<matrix<Real>> W;  // the memory (d x d), when asked (GD: descent_options::weights)
};

// Loss, 0-1 loss and margins of the logits Z at time tau.
template <class Real>
trajectory_sample<Real> measure(const problem<Real>& pb, const Real& tau, matrix<Real> Z) {
  trajectory_sample<Real> s{tau, std::move(Z), Real(0), Real(0), vector<Real>(),
                            {},  {},           {},      {},      {}};
  s.loss = loss(pb, s.Z);
  s.zero_one_loss = zero_one_loss(pb, s.Z);
  s.margins = margins(pb, s.Z);
  return s;
}

}  // namespace amflow::model
