// Definitions for rules.hpp: included by descent_impl.hpp and by the Transformer's optimizer
// (transformer/model_impl.hpp, and model.cpp for float, which has no descent unit).
#pragma once

#include "amflow/descent/rules.hpp"
#include "amflow/descent/rules/adam.hpp"
#include "amflow/descent/rules/momentum.hpp"
#include "amflow/descent/rules/plain.hpp"
#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::descent {

template <class Real>
void rule_options<Real>::validate() const {
  for (const rule_parameter& p : rule_info_of(kind).parameters) {
    const Real* x = number(p.name);
    if (x == nullptr) continue;  // on/off
    if (p.range == parameter_range::unit && (!scalar::is_finite(*x) || *x < 0 || !(*x < 1))) {
      throw input_error(p.name, scalar::to_text<Real>(*x), "must be in [0, 1)");
    }
    if (p.range == parameter_range::nonnegative && (!scalar::is_finite(*x) || *x < 0)) {
      throw input_error(p.name, scalar::to_text<Real>(*x), "must be finite and >= 0");
    }
  }
}

template <class Real>
std::unique_ptr<update_rule<Real>> make_rule(const rule_options<Real>& o) {
  switch (o.kind) {
    case rule_kind::gd:
      return std::make_unique<rules::gd<Real>>();
    case rule_kind::momentum:
      return std::make_unique<rules::momentum<Real>>(o.momentum, false);
    case rule_kind::nesterov:
      return std::make_unique<rules::momentum<Real>>(o.momentum, true);
    case rule_kind::normalized:
      return std::make_unique<rules::normalized<Real>>();
    case rule_kind::sign:
      return std::make_unique<rules::sign<Real>>();
    case rule_kind::rescaled:
      return std::make_unique<rules::rescaled<Real>>();
    case rule_kind::adam:
      return std::make_unique<rules::adam<Real>>(o.beta1, o.beta2, o.epsilon, o.bias_correction);
  }
  return nullptr;
}

}  // namespace amflow::descent
