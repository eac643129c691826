// Heavy-ball momentum and Nesterov's variant in PyTorch's form: b = mu b + G; D = b (heavy ball)
// or D = G + mu b (Nesterov).
#pragma once

#include "amflow/descent/rules.hpp"

namespace amflow::descent::rules {

template <class Real>
class momentum final : public update_rule<Real> {
 public:
  momentum(const Real& mu, bool nesterov) : mu_(mu), nesterov_(nesterov) {}

  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    if (b_.size() == 0) {
      b_ = G;  // mu * 0 + G
    } else {
      b_ = mu_ * b_ + G;
    }
    if (nesterov_) {
      D = G + mu_ * b_;
    } else {
      D = b_;
    }
    return "";
  }
  std::vector<model::matrix<Real>> state() const override { return {b_}; }
  void set_state(const std::vector<model::matrix<Real>>& s) override { b_ = s.at(0); }

 private:
  Real mu_;
  bool nesterov_;
  model::matrix<Real> b_;  // the buffer, d x d once the first gradient arrives
};

}  // namespace amflow::descent::rules
