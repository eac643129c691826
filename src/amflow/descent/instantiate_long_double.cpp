// Gradient descent in long double, compiled once (see descent.hpp).
#include "amflow/descent/descent_impl.hpp"
#include "amflow/instantiate.hpp"

AMFLOW_INSTANTIATE_DESCENT(, long double)
