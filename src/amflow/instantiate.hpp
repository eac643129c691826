// Every scalar type's templates are instantiated once, in src/amflow/instantiate_<type>.cpp; other
// translation units see these extern declarations and compile nothing of the maths themselves.
#pragma once

#include <nlohmann/json.hpp>

#include "amflow/io/problem_io.hpp"
#include "amflow/model/layer_norm.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/model/quantities.hpp"

// What exists for every scalar type, exact rationals included.
#define AMFLOW_INSTANTIATE_EXACT(PREFIX, Real)                                                 \
  PREFIX template amflow::model::problem<Real> amflow::model::make_problem<Real>(              \
      amflow::model::matrix<Real>, amflow::model::matrix<Real>, amflow::model::vector<Real>,   \
      std::vector<int>, amflow::model::matrix<Real>);                                          \
  PREFIX template amflow::model::problem<Real> amflow::io::parse_problem<Real>(                \
      const nlohmann::json&);                                                                  \
  PREFIX template nlohmann::json amflow::io::resolved_json<Real>(                              \
      const amflow::model::problem<Real>&);                                                    \
  PREFIX template std::pair<amflow::model::matrix<Real>, amflow::model::matrix<Real>>          \
  amflow::io::parse_factors<Real>(const nlohmann::json&, int, int);                            \
  PREFIX template amflow::model::matrix<Real> amflow::model::logits<Real>(                     \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                \
  PREFIX template void amflow::model::logits_into<Real>(                                       \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&,                 \
      amflow::model::matrix<Real>&, amflow::model::matrix<Real>&);                             \
  PREFIX template std::vector<int> amflow::model::predictions<Real>(                           \
      const amflow::model::matrix<Real>&);                                                     \
  PREFIX template Real amflow::model::zero_one_loss<Real>(const amflow::model::problem<Real>&, \
                                                          const amflow::model::matrix<Real>&); \
  PREFIX template amflow::model::vector<Real> amflow::model::margins<Real>(                    \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                \
  PREFIX template void amflow::model::margins_into<Real>(const amflow::model::problem<Real>&,  \
                                                         const amflow::model::matrix<Real>&,   \
                                                         amflow::model::vector<Real>&);        \
  PREFIX template amflow::model::matrix<Real> amflow::model::weights<Real>(                    \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                \
  PREFIX template amflow::model::matrix<Real> amflow::model::one_step_from_zero<Real>(         \
      const amflow::model::problem<Real>&, const Real&);

// What needs exp, log and square roots.
#define AMFLOW_INSTANTIATE_REAL(PREFIX, Real)                                                      \
  AMFLOW_INSTANTIATE_EXACT(PREFIX, Real)                                                           \
  PREFIX template amflow::model::matrix<Real> amflow::model::softmax_rows<Real>(                   \
      const amflow::model::matrix<Real>&);                                                         \
  PREFIX template amflow::model::matrix<Real> amflow::model::residual<Real>(                       \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template Real amflow::model::residual_and_loss<Real>(                                     \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&,                     \
      const amflow::model::vector<Real>&, amflow::model::matrix<Real>&);                           \
  PREFIX template Real amflow::model::loss<Real>(const amflow::model::problem<Real>&,              \
                                                 const amflow::model::matrix<Real>&);              \
  PREFIX template amflow::model::matrix<Real> amflow::model::gradient<Real>(                       \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template amflow::model::matrix<Real> amflow::model::gradient_of_residual<Real>(           \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template void amflow::model::gradient_of_residual_into<Real>(                             \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&,                     \
      amflow::model::matrix<Real>&, amflow::model::matrix<Real>&);                                 \
  PREFIX template amflow::model::matrix<Real> amflow::model::hessian<Real>(                        \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template amflow::model::matrix<Real> amflow::model::layer_norm_logits<Real>(              \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&, const Real&);       \
  PREFIX template amflow::model::matrix<Real> amflow::model::layer_norm_gradient<Real>(            \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&, const Real&,        \
      const amflow::model::matrix<Real>&);                                                         \
  PREFIX template amflow::model::matrix<Real> amflow::model::layer_norm_hessian<Real>(             \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&, const Real&);       \
  PREFIX template Real amflow::model::largest_eigenvalue<Real>(                                    \
      const amflow::model::matrix<Real>&);                                                         \
  PREFIX template Real amflow::model::sharpness<Real>(const amflow::model::problem<Real>&,         \
                                                      const amflow::model::matrix<Real>&);         \
  PREFIX template amflow::model::sharpness_result<Real> amflow::model::sharpness_with_error<Real>( \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template amflow::model::particle_state<Real> amflow::model::initial_state<Real>(          \
      const amflow::model::problem<Real>&);                                                        \
  PREFIX template amflow::model::matrix<Real> amflow::model::interact<Real>(                       \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template amflow::model::matrix<Real> amflow::model::logit_velocity<Real>(                 \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template amflow::model::matrix<Real> amflow::model::modified_logit_velocity<Real>(        \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&, const Real&);       \
  PREFIX template amflow::model::matrix<Real> amflow::model::weights_from_logits<Real>(            \
      const amflow::model::problem<Real>&, const amflow::model::matrix<Real>&);                    \
  PREFIX template void amflow::model::advance<Real>(                                               \
      const amflow::model::problem<Real>&, amflow::model::particle_state<Real>&,                   \
      const amflow::model::matrix<Real>&, const Real&);                                            \
  PREFIX template void amflow::model::gd_step<Real>(                                               \
      const amflow::model::problem<Real>&, amflow::model::particle_state<Real>&, const Real&);

AMFLOW_INSTANTIATE_REAL(extern, double)
AMFLOW_INSTANTIATE_REAL(extern, long double)
AMFLOW_INSTANTIATE_REAL(extern, amflow::float128)
AMFLOW_INSTANTIATE_REAL(extern, amflow::mpfr_real)
AMFLOW_INSTANTIATE_EXACT(extern, amflow::rational)
