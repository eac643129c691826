// The analysis templates are compiled once per scalar type, in analysis/instantiate_<type>.cpp.
#pragma once

#include "amflow/descent/descent.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/instantiate.hpp"
#include "analysis/compare.hpp"
#include "analysis/sweep.hpp"

#define AMFLOW_INSTANTIATE_ANALYSIS(PREFIX, Real)                                           \
  PREFIX template void amflow::analysis::compare_options<Real>::validate() const;           \
  PREFIX template amflow::analysis::compare_result<Real> amflow::analysis::compare<Real>(   \
      const amflow::model::problem<Real>&, const amflow::analysis::compare_options<Real>&); \
  PREFIX template void amflow::analysis::sweep_options<Real>::validate() const;             \
  PREFIX template amflow::analysis::sweep_result<Real> amflow::analysis::sweep<Real>(       \
      const amflow::analysis::sweep_options<Real>&);                                        \
  PREFIX template class amflow::analysis::sweep_plan<Real>;

AMFLOW_INSTANTIATE_ANALYSIS(extern, double)
AMFLOW_INSTANTIATE_ANALYSIS(extern, long double)
AMFLOW_INSTANTIATE_ANALYSIS(extern, amflow::float128)
AMFLOW_INSTANTIATE_ANALYSIS(extern, amflow::mpfr_real)
