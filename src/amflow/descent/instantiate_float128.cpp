// Gradient descent in float128, compiled once (see descent.hpp).
#include "amflow/descent/descent_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_DESCENT(, amflow::float128)
