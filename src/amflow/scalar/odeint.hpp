// odeint for amflow's scalar types: states are Eigen dynamic vectors with vector_space_algebra
// (odeint's adaptive steppers do not compile on std::vector<multiprecision number>; see
// compat.hpp).
#pragma once

#include <boost/numeric/odeint.hpp>
#include <boost/numeric/odeint/external/eigen/eigen.hpp>

#include "amflow/scalar/compat.hpp"

namespace amflow::scalar {

// The state of every odeint integration in amflow: a column vector (a matrix state is stored as a
// vector and viewed through Eigen::Map inside the right-hand side).
template <class Real>
using ode_state = Eigen::Matrix<Real, Eigen::Dynamic, 1>;

using ode_algebra = boost::numeric::odeint::vector_space_algebra;

}  // namespace amflow::scalar
