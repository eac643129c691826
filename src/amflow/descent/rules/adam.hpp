// Adam (Kingma and Ba) in PyTorch's form: m = b1 m + (1 - b1) G, v = b2 v + (1 - b2) G.^2, with
// bias correction m / (1 - b1^k), v / (1 - b2^k) at step k = 1, 2, ...; D = m_hat ./ (sqrt(v_hat)
// + epsilon), 0 where numerator and denominator are both 0.
#pragma once

#include <cmath>

#include "amflow/descent/rules.hpp"

namespace amflow::descent::rules {

template <class Real>
class adam final : public update_rule<Real> {
 public:
  adam(const Real& beta1, const Real& beta2, const Real& epsilon, bool bias_correction)
      : beta1_(beta1), beta2_(beta2), epsilon_(epsilon), bias_correction_(bias_correction) {}

  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    using std::sqrt;
    if (m_.size() == 0) {
      m_ = model::matrix<Real>::Zero(G.rows(), G.cols());
      v_ = m_;
      power1_ = power2_ = Real(1);
    }
    m_ = beta1_ * m_ + (1 - beta1_) * G;
    v_ = beta2_ * v_ + (1 - beta2_) * G.cwiseAbs2();
    power1_ *= beta1_;
    power2_ *= beta2_;
    const Real c1 = bias_correction_ ? Real(1 - power1_) : Real(1);
    const Real c2 = bias_correction_ ? Real(1 - power2_) : Real(1);
    D.resize(G.rows(), G.cols());
    for (Eigen::Index i = 0; i < G.size(); ++i) {
      const Real numerator = m_(i) / c1;
      const Real denominator = sqrt(Real(v_(i) / c2)) + epsilon_;
      D(i) = denominator == 0 && numerator == 0 ? Real(0) : Real(numerator / denominator);
    }
    return "";
  }
  std::vector<model::matrix<Real>> state() const override {
    return {m_, v_, model::matrix<Real>::Constant(1, 1, power1_),
            model::matrix<Real>::Constant(1, 1, power2_)};
  }
  void set_state(const std::vector<model::matrix<Real>>& s) override {
    m_ = s.at(0);
    v_ = s.at(1);
    power1_ = s.at(2)(0, 0);
    power2_ = s.at(3)(0, 0);
  }

 private:
  Real beta1_, beta2_, epsilon_;
  bool bias_correction_;
  model::matrix<Real> m_, v_;
  Real power1_ = Real(1), power2_ = Real(1);  // beta1^k, beta2^k
};

}  // namespace amflow::descent::rules
