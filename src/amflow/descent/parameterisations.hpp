// The parameterisation seam of descent: what the loop trains and how a step moves it. Each kind
// holds its own state and rule(s), gives the logits of its current state and takes a step along a
// residual; the loop (descent_impl.hpp) watches, records and feeds residuals the same way for all,
// so every kind emits the same trajectory record. Adding a parameterisation is one class here and
// a line in make_parameterisation.
//   particle_coordinates  Z and Q (N x M each; W = W0 - U^T Q^T E): linear rules on the residual
//   full_memory           W (d x d), linear head or layer norm, any rule on grad L(W)
//   factorised_memory     A (d x r), B (r x d), W = A B, each factor with its own rule
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "amflow/descent/descent.hpp"
#include "amflow/descent/rules.hpp"
#include "amflow/errors.hpp"
#include "amflow/model/layer_norm.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"

namespace amflow::descent {

template <class Real>
class parameterisation {
 public:
  virtual ~parameterisation() = default;
  // The logits of the current state (N x M).
  virtual const model::matrix<Real>& logits() const = 0;
  // One step of size eta along the residual R = diag(w) (softmax(Z) - Y) of the current logits
  // (w: p, or SGD's batch frequencies); returns "" or why the rule's direction is undefined (the
  // state is then unchanged).
  virtual std::string step(const model::matrix<Real>& R, const Real& eta) = 0;
  // The memory W (d x d) the state stands for.
  virtual model::matrix<Real> memory() const = 0;
  // W = A B: the factors (others leave them empty).
  virtual void factors(model::matrix<Real>&, model::matrix<Real>&) const {}
};

// Particle coordinates: the logits move by -eta G_E D G_U, D the linear rule's direction made from
// the residuals (plain GD takes R itself).
template <class Real>
class particle_coordinates final : public parameterisation<Real> {
 public:
  particle_coordinates(const model::problem<Real>& pb, const rule_options<Real>& rule)
      : pb_(pb),
        s_(model::initial_state(pb)),
        plain_(rule.kind == rule_kind::gd),
        rule_(make_rule(rule)) {}
  const model::matrix<Real>& logits() const override { return s_.Z; }
  std::string step(const model::matrix<Real>& R, const Real& eta) override {
    if (plain_) {
      model::advance(pb_, s_, R, eta);
      return "";
    }
    std::string undefined = rule_->direction(R, D_);  // D (N x M): linear rules act on R
    if (undefined.empty()) model::advance(pb_, s_, D_, eta);
    return undefined;
  }
  model::matrix<Real> memory() const override { return model::weights(pb_, s_.Q); }

 private:
  const model::problem<Real>& pb_;
  model::particle_state<Real> s_;
  bool plain_;
  std::unique_ptr<update_rule<Real>> rule_;
  model::matrix<Real> D_;
};

// The head of a memory: the linear unembedding, or layer norm before it.
template <class Real>
struct head {
  bool layer_norm = false;
  Real epsilon = Real(0);
  model::matrix<Real> logits(const model::problem<Real>& pb, const model::matrix<Real>& W) const {
    return layer_norm ? model::layer_norm_logits(pb, W, epsilon) : model::logits(pb, W);
  }
  model::matrix<Real> gradient(const model::problem<Real>& pb, const model::matrix<Real>& W,
                               const model::matrix<Real>& R) const {
    return layer_norm ? model::layer_norm_gradient(pb, W, epsilon, R)
                      : model::gradient_of_residual(pb, R);
  }
};

// The memory W itself: W -= eta D, D the rule's direction from grad L(W).
template <class Real>
class full_memory final : public parameterisation<Real> {
 public:
  full_memory(const model::problem<Real>& pb, const rule_options<Real>& rule, head<Real> h)
      : pb_(pb), head_(std::move(h)), W_(pb.W0), rule_(make_rule(rule)) {
    Z_ = head_.logits(pb_, W_);
  }
  const model::matrix<Real>& logits() const override { return Z_; }
  // With the linear head the products go into buffers kept here: a step allocates nothing (for
  // scalars without heap storage; tests/descent/alloc_test.cpp counts).
  std::string step(const model::matrix<Real>& R, const Real& eta) override {
    if (head_.layer_norm) {
      G_ = head_.gradient(pb_, W_, R);
    } else {
      model::gradient_of_residual_into(pb_, R, G_, S_);
    }
    std::string undefined = rule_->direction(G_, D_);
    if (!undefined.empty()) return undefined;
    W_ -= eta * D_;
    if (head_.layer_norm) {
      Z_ = head_.logits(pb_, W_);
    } else {
      model::logits_into(pb_, W_, Z_, T_);
    }
    return "";
  }
  model::matrix<Real> memory() const override { return W_; }

 private:
  const model::problem<Real>& pb_;
  head<Real> head_;
  model::matrix<Real> W_, Z_, G_, D_, S_, T_;  // S_, T_: the products' intermediates
  std::unique_ptr<update_rule<Real>> rule_;
};

// W = A B: dL/dA = G B^T and dL/dB = A^T G with G = grad L(W), each factor with its own rule.
template <class Real>
class factorised_memory final : public parameterisation<Real> {
 public:
  factorised_memory(const model::problem<Real>& pb, const rule_options<Real>& rule,
                    const factorisation<Real>& f, head<Real> h)
      : pb_(pb), head_(std::move(h)), rule_A_(make_rule(rule)), rule_B_(make_rule(rule)) {
    std::tie(A_, B_) = initial_factors(f, pb.dim);
    W_ = A_ * B_;
    Z_ = head_.logits(pb_, W_);
  }
  const model::matrix<Real>& logits() const override { return Z_; }
  std::string step(const model::matrix<Real>& R, const Real& eta) override {
    G_ = head_.gradient(pb_, W_, R);
    GA_ = G_ * B_.transpose();  // dL/dA
    GB_ = A_.transpose() * G_;  // dL/dB
    std::string undefined = rule_A_->direction(GA_, DA_);
    if (undefined.empty()) undefined = rule_B_->direction(GB_, DB_);
    if (!undefined.empty()) return undefined;
    A_ -= eta * DA_;
    B_ -= eta * DB_;
    W_ = A_ * B_;
    Z_ = head_.logits(pb_, W_);
    return "";
  }
  model::matrix<Real> memory() const override { return W_; }
  void factors(model::matrix<Real>& A, model::matrix<Real>& B) const override {
    A = A_;
    B = B_;
  }

 private:
  const model::problem<Real>& pb_;
  head<Real> head_;
  model::matrix<Real> A_, B_, W_, Z_, G_, GA_, GB_, DA_, DB_;
  std::unique_ptr<update_rule<Real>> rule_A_, rule_B_;
};

// The parameterisation the options ask for (options validated; resolved_space decides particle
// coordinates).
template <class Real>
std::unique_ptr<parameterisation<Real>> make_parameterisation(const model::problem<Real>& pb,
                                                              const descent_options<Real>& o) {
  const head<Real> h{o.layer_norm, o.layer_norm_epsilon};
  if (o.factors.rank > 0) {
    if (!pb.zero_init) {
      throw input_error("rank", std::to_string(o.factors.rank),
                        "a factorised memory starts at A0 B0: the problem's W0 must be 0");
    }
    return std::make_unique<factorised_memory<Real>>(pb, o.rule, o.factors, h);
  }
  if (o.resolved_space(pb) == space_kind::particle) {
    return std::make_unique<particle_coordinates<Real>>(pb, o.rule);
  }
  return std::make_unique<full_memory<Real>>(pb, o.rule, h);
}

}  // namespace amflow::descent
