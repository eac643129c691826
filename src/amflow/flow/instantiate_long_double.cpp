// The gradient flow in long double, compiled once (see integrate.hpp).
#include "amflow/flow/integrate_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_FLOW(, long double)
