// Phase diagrams: GD over a grid of parameters, one run per cell, summarised by its transients
// (first step with perfect accuracy, loss increases and spikes, margin sign changes) and its final
// loss and margins. Axes:
//   eta        the step size;
//   momentum, beta1, beta2, epsilon   the update rule's parameters (rule.kind must use them);
//   alpha      the pair problem's inputs.alpha;
//   p0         two-token frequencies (p0, 1 - p0);
//   p0_logit   two-token frequencies (sigmoid(v), 1 - sigmoid(v)), sigmoid(v) = 1 / (1 + e^-v)
//              (the authors' grid: p0 = sigmoid(10^(-0.5 + i/9)) is p0_logit=logspace:-0.5:0.5:10);
//   a problem field path such as inputs.alpha, frequencies.exponent, init.scale, frequencies.p[1]
//              (the field must exist in the problem; its value is replaced); integer fields
//              (init.seed, inputs.seed, target.modulus, ...) take exact integers.
// Two axes that set the same field (alpha and inputs.alpha, p0 and frequencies.p[0]) are refused.
// Cells run in parallel and come back in grid order (first axis slowest): the same table whatever
// the thread count.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "amflow/descent/descent.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/outcome.hpp"

namespace amflow::analysis {

struct sweep_axis {
  std::string name;  // eta, alpha, p0, p0_logit or a field path
  std::string spec;  // list:a,b,c | linspace:a:b:n | logspace:a:b:n (as io::parse_points)
};

template <class Real>
struct sweep_cell;

template <class Real>
struct sweep_options {
  nlohmann::json problem;  // the base problem (JSON, as read)
  std::vector<sweep_axis> axes;
  Real eta = Real(1);  // the step size when eta is not an axis
  // The update rule (descent/rules.hpp), with its parameters where they are not axes.
  descent::rule_options<Real> rule;
  long steps = 1000;
  long batch = 0;  // SGD batch (0: full batch) and its seed
  std::uint64_t seed = 0;
  int threads = 0;  // 0: all hardware threads
  // Certify each cell's first perfect step (full-batch GD only): the cell's problem and step size
  // exactly as printed (their texts, as exact rationals) in ball arithmetic from 192 bits, four
  // times more while undecided, up to 16384 (certify::first_perfect_widening). eta_text: the exact
  // text of `eta` when it is not an axis.
  bool certify = false;
  std::string eta_text = "1";
  // The cells to run (by index in grid order, first axis slowest); none: every cell. Shards and
  // resumed runs select (cell c on shard i of K: c % K == i - 1). Every cell's problem is still
  // built and checked, so bad input fails the same way on every shard.
  std::function<bool(size_t cell)> select;
  // Called once every cell's problem is built and valid, before any cell runs, with the number of
  // cells, of those selected, and of tokens (the same in every cell).
  std::function<void(size_t cells, size_t selected, int tokens)> on_ready;
  // Receives each cell in grid order as soon as it and the cells before it are done; the result
  // then keeps no cells (memory stays small however large the grid).
  std::function<void(const sweep_cell<Real>&)> on_cell;

  // Throws input_error naming the field (grid, steps, certify) for axes the sweep cannot run.
  void validate() const;
};

// An outcome: the cell's GD run's.
template <class Real>
struct sweep_cell : outcome {
  size_t index = 0;                // in grid order, first axis slowest
  std::vector<Real> values;        // one per axis, in axis order
  std::vector<std::string> texts;  // the same as printed: exact integers, or every digit
  descent::transients<Real> summary;
  Real final_loss = Real(0);
  Real final_zero_one_loss = Real(0);
  model::vector<Real> final_margins;
  // With certify: yes (decided, and the same first perfect step and ever_perfect as this run),
  // differs (decided, and this run's answer is wrong), undecided (the balls could not tell, up to
  // 16384 bits), with the bits of the last certified run. Empty without certify.
  std::optional<verdict> certified;
  long certified_bits = 0;
  long certified_first_perfect_step = -1;
};

template <class Real>
struct sweep_result {
  std::vector<std::string> axis_names;
  std::vector<sweep_cell<Real>> cells;  // grid order, first axis slowest (none with on_cell)
  size_t cell_count = 0;                // in the grid
  size_t selected_count = 0;            // run (all of them without select)
};

// A sweep ready to run: every cell's problem built (and validated) at construction, so bad input
// fails with one input_error naming the axis and value, deterministically; then any cell runs by
// its index, from any thread (the same result wherever it runs: what MPI ranks and shards rely on).
template <class Real>
class sweep_plan {
 public:
  explicit sweep_plan(const sweep_options<Real>& options);
  size_t cells() const { return cells_; }
  int tokens() const { return problems_.front().tokens; }
  const std::vector<std::string>& axis_names() const { return axis_names_; }
  // Cell c (grid order, first axis slowest), run.
  sweep_cell<Real> run(size_t c) const;

 private:
  std::vector<size_t> index_of(size_t c) const;
  Real eta_of(const std::vector<size_t>& index) const;
  descent::rule_options<Real> rule_of(const std::vector<size_t>& index) const;

  sweep_options<Real> opt_;
  std::vector<std::string> axis_names_;
  // Per axis: the values at precision Real, their texts, and for integer fields the JSON integers.
  std::vector<std::vector<Real>> values_;
  std::vector<std::vector<std::string>> texts_;
  std::vector<std::vector<nlohmann::json>> integers_;
  size_t cells_ = 0;
  std::vector<model::problem<Real>> problems_;  // cells differing only in eta or the rule share
  std::vector<nlohmann::json> specs_;           // each problem's JSON (for certify)
  std::vector<size_t> problem_of_;              // per cell
};

// The plan's selected cells on opt.threads threads, released in grid order (on_ready, on_cell).
template <class Real>
sweep_result<Real> sweep(const sweep_options<Real>& options);

// The authors' learning-rate experiment (paper-notes section 4), double precision: the pair
// problem, p0 = sigmoid(10^(-0.5 + i/9)), alpha = linspace(0.5, 1, 10), eta = logspace(-1, 1, 10),
// 1000 GD steps from 0 (1000 cells).
sweep_options<double> authors_learning_rate_grid();

// The problem JSON with the field at `path` (dots and [i] indices) set to `value`; throws
// input_error("grid", path) when the path does not name an existing field.
nlohmann::json set_field(nlohmann::json problem, const std::string& path,
                         const nlohmann::json& value);

}  // namespace amflow::analysis
