// Gradient descent in mpfr_real, compiled once (see descent.hpp).
#include "amflow/descent/descent_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_DESCENT(, amflow::mpfr_real)
