// Rules without state: gd (D = G), normalized (G / |G|_F), sign (entrywise), rescaled (G / std).
#pragma once

#include <cmath>

#include "amflow/descent/rules.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::descent::rules {

template <class Real>
class gd final : public update_rule<Real> {
 public:
  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    D = G;
    return "";
  }
};

template <class Real>
class normalized final : public update_rule<Real> {
 public:
  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    using std::sqrt;
    const Real norm = sqrt(Real(G.cwiseAbs2().sum()));
    if (!(norm > 0)) return "the gradient is 0: G / |G|_F is undefined";
    D = G / norm;
    return "";
  }
};

template <class Real>
class sign final : public update_rule<Real> {
 public:
  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    D.resize(G.rows(), G.cols());
    for (Eigen::Index i = 0; i < G.size(); ++i) {
      D(i) = G(i) > 0 ? Real(1) : (G(i) < 0 ? Real(-1) : Real(0));
    }
    return "";
  }
};

template <class Real>
class rescaled final : public update_rule<Real> {
 public:
  std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) override {
    using std::sqrt;
    const Eigen::Index n = G.size();
    if (n < 2) return "std(G) needs at least 2 entries";
    const Real mean = G.sum() / Real(n);
    const Real var = (G.array() - mean).square().sum() / Real(n - 1);
    const Real sd = sqrt(var);
    if (!(sd > 0)) return "the gradient's entries are all equal (std 0): G / std(G) is undefined";
    D = G / sd;
    return "";
  }
};

}  // namespace amflow::descent::rules
