// Shared by the flow tests: how far a flow run on an orthogonal problem is from the closed form.
#pragma once

#include "amflow/flow/closed_form.hpp"
#include "amflow/flow/integrate.hpp"

namespace amflow::testing {

// max_x |m_x(run) - m_x(closed form)| over every sample, for orthogonal problems with W0 = 0
// (relative to max(1, m) when `relative`).
template <class Real>
Real closed_form_error(const model::problem<Real>& pb, const flow::flow_result<Real>& r,
                       bool relative = false) {
  using std::abs;
  using std::max;
  Real worst(0);
  for (const auto& s : r.samples) {
    for (int x = 0; x < pb.tokens; ++x) {
      const Real exact = flow::orthogonal_margin(pb.p(x), pb.classes, s.tau);
      const Real e = abs(s.margins(x) - exact) / (relative ? max(Real(1), abs(exact)) : Real(1));
      worst = max(worst, e);
    }
  }
  return worst;
}

}  // namespace amflow::testing
