// Definitions for sweep.hpp; included only by the per-scalar analysis instantiation units.
#pragma once

#include <cmath>
#include <map>
#include <optional>

#include "amflow/errors.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/sweep.hpp"

namespace amflow::analysis {

template <class Real>
void sweep_options<Real>::validate() const {
  if (axes.empty()) throw input_error("--grid", "(none)", "give at least one NAME=SPEC axis");
  for (size_t i = 0; i < axes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (axes[i].name == axes[j].name)
        throw input_error("--grid", axes[i].name, "the same axis is given twice");
    }
  }
  if (steps < 1) throw input_error("--steps", std::to_string(steps), "must be at least 1");
}

template <class Real>
sweep_result<Real> sweep(const sweep_options<Real>& opt) {
  using std::exp;
  opt.validate();
  sweep_result<Real> result;
  std::vector<std::vector<Real>> values;
  size_t cells = 1;
  for (const sweep_axis& a : opt.axes) {
    result.axis_names.push_back(a.name);
    values.push_back(io::parse_points<Real>(a.spec, "--grid " + a.name));
    cells *= values.back().size();
    if (cells > 10000000)
      throw input_error("--grid", a.name + "=" + a.spec, "more than 10^7 cells");
  }

  // Build every cell's problem and step size first: input errors surface here, in grid order.
  std::vector<model::problem<Real>> problems;
  std::vector<size_t> problem_of(cells);
  std::vector<Real> eta_of(cells, opt.eta);
  std::map<std::string, size_t> problem_index;  // non-eta axis indices -> problems
  result.cells.resize(cells);
  for (size_t c = 0; c < cells; ++c) {
    size_t rest = c;
    std::vector<size_t> index(opt.axes.size());
    for (size_t a = opt.axes.size(); a-- > 0;) {
      index[a] = rest % values[a].size();
      rest /= values[a].size();
    }
    nlohmann::json spec = opt.problem;
    std::string key;
    for (size_t a = 0; a < opt.axes.size(); ++a) {
      const std::string& name = opt.axes[a].name;
      const Real& v = values[a][index[a]];
      result.cells[c].values.push_back(v);
      const std::string field = "--grid " + name;
      if (name == "eta") {
        eta_of[c] = v;
        continue;
      }
      key += std::to_string(a) + ":" + std::to_string(index[a]) + ";";
      if (name == "p0" || name == "p0_logit") {
        const Real p0 = name == "p0" ? v : Real(1 / (1 + exp(Real(-v))));
        if (!(p0 > 0 && p0 < 1)) {
          throw input_error(field, scalar::to_text<Real>(v), "p0 must be in (0, 1)");
        }
        if (spec.value("tokens", 0) != 2) {
          throw input_error(field, scalar::to_text<Real>(v), "p0 needs a two-token problem");
        }
        spec["frequencies"] = {{"kind", "explicit"},
                               {"p", nlohmann::json::array({scalar::to_text<Real>(p0),
                                                            scalar::to_text<Real>(1 - p0)})}};
      } else {
        const std::string path = name == "alpha" ? "inputs.alpha" : name;
        spec = set_field(std::move(spec), path, scalar::to_text<Real>(v));
      }
    }
    // Cells that differ only in eta share their problem.
    const auto found = problem_index.find(key);
    if (found == problem_index.end()) {
      problem_of[c] = problems.size();
      problem_index.emplace(key, problems.size());
      problems.push_back(io::parse_problem<Real>(spec));
    } else {
      problem_of[c] = found->second;
    }
    descent::descent_options<Real> check;
    check.eta = eta_of[c];
    check.steps = opt.steps;
    check.batch = opt.batch;
    check.validate();
  }

  parallel_for(static_cast<long>(cells), opt.threads, [&](long c) {
    descent::descent_options<Real> d;
    d.eta = eta_of[c];
    d.steps = opt.steps;
    d.batch = opt.batch;
    d.seed = opt.seed;
    d.record = false;
    const descent::descent_result<Real> r = descent::run(problems[problem_of[c]], d);
    sweep_cell<Real>& cell = result.cells[c];
    cell.ok = r.ok;
    cell.message = r.message;
    cell.summary = r.summary;
    if (r.ok) {
      cell.final_loss = r.samples.back().loss;
      cell.final_zero_one_loss = r.samples.back().zero_one_loss;
      cell.final_margins = r.samples.back().margins;
    }
  });
  return result;
}

}  // namespace amflow::analysis
