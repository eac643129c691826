// The maths for one scalar type, compiled once (see instantiate.hpp).
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io_impl.hpp"
#include "amflow/model/layer_norm_impl.hpp"
#include "amflow/model/particles_impl.hpp"
#include "amflow/model/problem_impl.hpp"
#include "amflow/model/quantities_impl.hpp"

AMFLOW_INSTANTIATE_REAL(, amflow::float128)
