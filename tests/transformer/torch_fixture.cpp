// Writes one training step of the Transformer as JSON for tests/transformer/torch_check.py: the
// weights, a batch, and amflow's loss and gradients in float32 and double, for PyTorch's autograd
// to recompute from the same numbers, and the weights after three steps of each optimizer (double)
// for torch.optim to repeat. Usage: torch_fixture D T B LOSS (LOSS: head or all).
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "amflow/transformer/model.hpp"

namespace {

using namespace amflow::transformer;

template <class Real>
nlohmann::json matrix_json(const amflow::model::matrix<Real>& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < m.cols(); ++j) row.push_back(double(m(i, j)));
    rows.push_back(row);
  }
  return rows;
}

template <class Real>
nlohmann::json step_json(const weights<double>& w0, const batch& b, loss_positions where) {
  const weights<Real> w = cast_weights<Real>(w0);
  step_options o;
  o.trained = trained_set::all;
  o.positions = where;
  o.threads = 2;
  const step_result<Real> r = loss_and_gradients(w, b, o);
  return {{"loss", double(r.loss)},
          {"selected", r.selected},
          {"gWK1", matrix_json(r.gWK1)},
          {"gWK2", matrix_json(r.gWK2)},
          {"gWO2", matrix_json(r.gWO2)},
          {"wo1_margins", wo1_margins(w)},
          {"wk1_margins", wk1_margins(w, shakespeare_bigrams().top_tokens(5))}};
}

// Three steps of every trained matrix on the batch with each rule, in double.
nlohmann::json training_json(const weights<double>& w0, const batch& b, loss_positions where) {
  struct config {
    const char* rule;
    double lr, weight_decay;
  };
  nlohmann::json out = nlohmann::json::array();
  for (const config c : {config{"gd", 0.5, 0}, config{"momentum", 0.5, 1e-4},
                         config{"nesterov", 0.5, 1e-4}, config{"adam", 0.01, 1e-4}}) {
    amflow::descent::rule_options<double> rule;  // momentum 0.9; Adam's betas 0.9, 0.999, eps 1e-8
    rule.kind = amflow::descent::parse_rule(c.rule, "rule");
    weights<double> w = w0;
    optimizer<double> opt(trained_set::all, rule, c.lr, c.weight_decay);
    step_options o;
    o.trained = trained_set::all;
    o.positions = where;
    for (int k = 0; k < 3; ++k) opt.step(w, loss_and_gradients(w, b, o));
    out.push_back({{"rule", c.rule},
                   {"lr", c.lr},
                   {"weight_decay", c.weight_decay},
                   {"WK1", matrix_json(w.WK1)},
                   {"WK2", matrix_json(w.WK2)},
                   {"WO2", matrix_json(w.WO2)}});
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: torch_fixture D T B head|all\n";
    return 2;
  }
  const int d = std::stoi(argv[1]), T = std::stoi(argv[2]), B = std::stoi(argv[3]);
  const loss_positions where = parse_loss_positions(argv[4], "LOSS");
  task_options task;
  task.length = T;
  const batch b = sample_batch(shakespeare_bigrams(), task, 21, 0, B);
  const weights<double> w = initial_weights(65, d, T, 4);
  nlohmann::json out = {{"d", d},
                        {"T", T},
                        {"B", B},
                        {"loss_positions", argv[4]},
                        {"x", b.x},
                        {"y", b.y},
                        {"outs", b.outs},
                        {"E", matrix_json(w.E)},
                        {"P", matrix_json(w.P)},
                        {"WK1", matrix_json(w.WK1)},
                        {"WV1", matrix_json(w.WV1)},
                        {"WO1", matrix_json(w.WO1)},
                        {"WK2", matrix_json(w.WK2)},
                        {"WV2", matrix_json(w.WV2)},
                        {"WO2", matrix_json(w.WO2)},
                        {"WU", matrix_json(w.WU)},
                        {"probe", shakespeare_bigrams().top_tokens(5)},
                        {"float32", step_json<float>(w, b, where)},
                        {"float64", step_json<double>(w, b, where)},
                        {"training", training_json(w, b, where)}};
  std::cout << out.dump() << "\n";
  return 0;
}
