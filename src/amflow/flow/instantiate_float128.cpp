// The gradient flow in amflow::float128, compiled once (see integrate.hpp).
#include "amflow/flow/integrate_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_FLOW(, amflow::float128)
