// Convergence tables and sweeps in float128, compiled once (see instantiate.hpp).
#include "analysis/compare_impl.hpp"
#include "analysis/instantiate.hpp"
#include "analysis/sweep_impl.hpp"

AMFLOW_INSTANTIATE_ANALYSIS(, amflow::float128)
