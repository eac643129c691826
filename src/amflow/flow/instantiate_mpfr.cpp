// The gradient flow in amflow::mpfr_real, compiled once (see integrate.hpp).
#include "amflow/flow/integrate_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_FLOW(, amflow::mpfr_real)
