// The gradient flow in double, compiled once (see integrate.hpp).
#include "amflow/flow/integrate_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_FLOW(, double)
