// Update rules of descent on the memory W (d x d): W_{k+1} = W_k - eta D_k, where the rule makes
// the direction D_k from the gradient G_k = grad L(W_k) = U^T R(Z_k)^T E and its own state, in
// PyTorch's conventions (so that a PyTorch run and amflow's agree step for step):
//   gd         D = G
//   momentum   b = mu b + G (b = 0 before the first step), D = b          (heavy ball)
//   nesterov   b = mu b + G, D = G + mu b
//   normalized D = G / |G|_F
//   sign       D = sign(G) entrywise (sign 0 = 0)
//   rescaled   D = G / std(G), the sample standard deviation of G's d^2 entries (n - 1)
//   adam       m = b1 m + (1 - b1) G, v = b2 v + (1 - b2) G.^2, with bias correction
//              m_hat = m / (1 - b1^k), v_hat = v / (1 - b2^k) (k = 1, 2, ...), else m, v;
//              D = m_hat ./ (sqrt(v_hat) + epsilon), and 0 where both are 0 (with epsilon = 0,
//              an entry whose gradient has been 0 so far; PyTorch would give 0/0 = NaN there)
// A rule whose direction is undefined (normalized at G = 0, rescaled at std(G) = 0) says why and
// the run stops there. gd, momentum and nesterov are linear: their direction is a fixed linear
// combination of the gradients so far, so they commute with the linear map R -> U^T R^T E and can
// run on the residual R (N x M) in particle coordinates instead of on G.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "amflow/model/problem.hpp"

namespace amflow::descent {

enum class rule_kind { gd, momentum, nesterov, normalized, sign, rescaled, adam };

// A rule's parameter: its name (the flag --NAME with _ as -, the sweep axis NAME, the field of
// rule_options), how the meta prints it (label), its default as typed, its range and its help.
enum class parameter_range {
  unit,         // [0, 1)
  nonnegative,  // finite and >= 0
  on_off,       // the words on and off (a bool of rule_options)
};
struct rule_parameter {
  const char* name;
  const char* label;
  const char* default_text;
  parameter_range range;
  const char* help;
};

// A rule as the commands see it: its name, what it does (for --help), its parameters and whether
// its direction is linear in the gradients (particle coordinates apply).
struct rule_info {
  rule_kind kind;
  const char* name;
  const char* summary;
  std::vector<rule_parameter> parameters;
  bool linear = false;
};

// Every rule, in the order --help lists them. Adding a rule: its kind above, a row here (with a
// field of rule_options and a line of rule_options::number for each new number parameter), its
// class in rules/ and its case in make_rule (rules_impl.hpp). The commands' flags, the sweep's
// axes, the checks of the ranges and the meta's text all follow this table.
inline const std::vector<rule_info>& rule_table() {
  static const rule_parameter mu{"momentum", "mu", "0.9", parameter_range::unit,
                                 "mu for --rule momentum and nesterov (default 0.9)"};
  static const std::vector<rule_info> table = {
      {rule_kind::gd, "gd", "D = grad", {}, true},
      {rule_kind::momentum, "momentum", "b = mu b + grad, D = b", {mu}, true},
      {rule_kind::nesterov, "nesterov", "D = grad + mu b", {mu}, true},
      {rule_kind::normalized, "normalized", "grad / |grad|_F", {}},
      {rule_kind::sign, "sign", "entrywise", {}},
      {rule_kind::rescaled, "rescaled", "grad / std of its entries", {}},
      {rule_kind::adam,
       "adam",
       "",
       {{"beta1", "beta1", "0.9", parameter_range::unit, "Adam's first-moment decay (default 0.9)"},
        {"beta2", "beta2", "0.999", parameter_range::unit,
         "Adam's second-moment decay (default 0.999)"},
        {"epsilon", "epsilon", "1e-8", parameter_range::nonnegative,
         "Adam's epsilon, added after the square root (default 1e-8)"},
        {"bias_correction", "bias correction", "on", parameter_range::on_off,
         "Adam's bias correction: on (default) or off"}}},
  };
  return table;
}

// The table's row of a rule.
const rule_info& rule_info_of(rule_kind k);
// Every parameter name of the table once, in the table's order (the commands' flags).
std::vector<rule_parameter> all_rule_parameters();

// "gd", "momentum", "nesterov", "normalized", "sign", "rescaled", "adam"; throws
// input_error(field, name) otherwise.
rule_kind parse_rule(const std::string& name, const std::string& field);
std::string rule_name(rule_kind k);
// Whether the rule has the parameter (a name of the table): one answer for the checks, the CLI
// and the sweep's axes.
bool rule_uses(rule_kind k, const std::string& parameter);
// gd, momentum, nesterov: the direction is linear in the gradients (particle coordinates apply).
bool rule_is_linear(rule_kind k);

template <class Real>
struct rule_options {
  rule_kind kind = rule_kind::gd;
  Real momentum = Real(9) / 10;        // mu (momentum, nesterov), in [0, 1)
  Real beta1 = Real(9) / 10;           // adam, in [0, 1)
  Real beta2 = Real(999) / 1000;       // adam, in [0, 1)
  Real epsilon = Real(1) / 100000000;  // adam, >= 0
  bool bias_correction = true;         // adam

  // The field of a number parameter by its name in the table (null for another name).
  Real* number(const std::string& name) {
    if (name == "momentum") return &momentum;
    if (name == "beta1") return &beta1;
    if (name == "beta2") return &beta2;
    if (name == "epsilon") return &epsilon;
    return nullptr;
  }
  const Real* number(const std::string& name) const {
    return const_cast<rule_options*>(this)->number(name);
  }
  // The field of an on/off parameter by its name (null for another name).
  bool* on_off(const std::string& name) {
    return name == "bias_correction" ? &bias_correction : nullptr;
  }

  // Throws input_error naming the field (momentum, beta1, beta2, epsilon) for values outside
  // their ranges (checked only for the rule that uses them).
  void validate() const;
};

// The speed c of the rule's limit flow as eta -> 0 at fixed parameters, dW/dtau = -c grad L(W)
// with tau = eta k: 1 for gd; 1/(1 - mu) for momentum and nesterov (the buffer tends to
// G / (1 - mu), and nesterov's G + mu b to the same); 0 for the others, whose limits (the sign
// flow for sign and adam, the normalised flow) are not a speed of the gradient flow.
template <class Real>
Real flow_speed(const rule_options<Real>& options) {
  switch (options.kind) {
    case rule_kind::gd:
      return Real(1);
    case rule_kind::momentum:
    case rule_kind::nesterov:
      return Real(1) / Real(1 - options.momentum);
    default:
      return Real(0);
  }
}

template <class Real>
class update_rule {
 public:
  virtual ~update_rule() = default;
  // Writes into D the direction of step k = 0, 1, ... from the gradient G (both d x d); returns ""
  // or why the direction is undefined.
  virtual std::string direction(const model::matrix<Real>& G, model::matrix<Real>& D) = 0;
  // The rule's state as matrices (momentum's buffer; Adam's m, v and the powers beta^k as 1 x 1),
  // for checkpoints: set_state(state()) on a fresh rule of the same options goes on exactly.
  virtual std::vector<model::matrix<Real>> state() const { return {}; }
  virtual void set_state(const std::vector<model::matrix<Real>>&) {}
};

// A fresh rule (its state at zero) for the options.
template <class Real>
std::unique_ptr<update_rule<Real>> make_rule(const rule_options<Real>& options);

}  // namespace amflow::descent
