// Definitions for sweep.hpp: included where its templates are instantiated (the per-scalar units
// that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its own);
// other code sees the extern declarations.
#pragma once

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "amflow/certify/descent.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/errors.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "analysis/sweep.hpp"

namespace amflow::analysis {

namespace detail {

// The field an axis sets: "eta" (not a problem field), the alias targets, or the path itself with
// "p.[0]" written "p[0]".
inline std::string axis_target(const std::string& name) {
  if (name == "alpha") return "inputs.alpha";
  if (name == "p0" || name == "p0_logit") return "frequencies";
  std::string path = name;
  for (size_t k; (k = path.find(".[")) != std::string::npos;) path.erase(k, 1);
  return path;
}

// Whether setting one field changes the other: the same path, or one inside the other.
inline bool overlapping(const std::string& a, const std::string& b) {
  const auto inside = [](const std::string& outer, const std::string& inner) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
           (inner[outer.size()] == '.' || inner[outer.size()] == '[');
  };
  return a == b || inside(a, b) || inside(b, a);
}

// Axes that set a parameter of the update rule rather than a problem field.
inline bool rule_axis(const std::string& name) {
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    if (name == p.name) return p.range != descent::parameter_range::on_off;
  }
  return false;
}

inline bool integer_axis(const std::string& name) {
  return name != "eta" && !rule_axis(name) && name != "alpha" && name != "p0" &&
         name != "p0_logit" && io::is_integer_field(axis_target(name));
}

}  // namespace detail

template <class Real>
void sweep_options<Real>::validate() const {
  if (axes.empty()) throw input_error("grid", "(none)", "give at least one NAME=SPEC axis");
  for (size_t i = 0; i < axes.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (axes[i].name == axes[j].name) {
        throw input_error("grid", axes[i].name, "the same axis is given twice");
      }
      if (detail::overlapping(detail::axis_target(axes[i].name),
                              detail::axis_target(axes[j].name))) {
        throw input_error("grid", axes[i].name,
                          "sets the same field as the axis " + axes[j].name +
                              " (rows would be labelled by one and run with the other)");
      }
    }
  }
  for (const sweep_axis& a : axes) {
    if (detail::axis_target(a.name) == "tokens") {
      throw input_error("grid", a.name,
                        "the number of tokens sets the table's columns; sweep it in separate runs");
    }
  }
  for (const sweep_axis& a : axes) {
    if (detail::rule_axis(a.name) && !descent::rule_uses(rule.kind, a.name)) {
      throw input_error("grid", a.name,
                        "the rule " + descent::rule_name(rule.kind) + " has no such parameter");
    }
  }
  if (steps < 1) throw input_error("steps", std::to_string(steps), "must be at least 1");
  if (certify && rule.kind != descent::rule_kind::gd) {
    throw input_error("certify", "true", "certified sweeps are plain GD (rule gd)");
  }
  if (certify && batch != 0) {
    throw input_error("certify", "true", "certified sweeps are full-batch GD (batch 0)");
  }
}

// Cell c's index on each axis (first axis slowest).
template <class Real>
std::vector<size_t> sweep_plan<Real>::index_of(size_t c) const {
  std::vector<size_t> index(opt_.axes.size());
  for (size_t a = opt_.axes.size(); a-- > 0;) {
    index[a] = c % values_[a].size();
    c /= values_[a].size();
  }
  return index;
}

template <class Real>
Real sweep_plan<Real>::eta_of(const std::vector<size_t>& index) const {
  for (size_t a = 0; a < opt_.axes.size(); ++a) {
    if (opt_.axes[a].name == "eta") return values_[a][index[a]];
  }
  return opt_.eta;
}

template <class Real>
descent::rule_options<Real> sweep_plan<Real>::rule_of(const std::vector<size_t>& index) const {
  descent::rule_options<Real> rule = opt_.rule;
  for (size_t a = 0; a < opt_.axes.size(); ++a) {
    const std::string& name = opt_.axes[a].name;
    const Real& v = values_[a][index[a]];
    if (Real* x = rule.number(name)) *x = v;
  }
  return rule;
}

template <class Real>
sweep_plan<Real>::sweep_plan(const sweep_options<Real>& opt) : opt_(opt) {
  using std::exp;
  opt_.validate();
  // Per axis: the values at precision Real, their texts, and for integer fields the JSON integers.
  size_t cells = 1;
  for (const sweep_axis& a : opt_.axes) {
    axis_names_.push_back(a.name);
    const std::string field = "grid " + a.name;
    std::vector<Real> v;
    std::vector<std::string> t;
    std::vector<nlohmann::json> ints;
    if (detail::integer_axis(a.name)) {
      for (const io::point& p : io::parse_point_list(a.spec, field)) {
        const mp::mpz_int lo("-9223372036854775808"), hi("18446744073709551615");
        if (p.power_of_ten || mp::denominator(p.value) != 1 || mp::numerator(p.value) < lo ||
            mp::numerator(p.value) > hi) {
          throw input_error(field, a.spec,
                            "the field " + a.name + " takes integers; " +
                                (p.power_of_ten ? "a power of ten at a fractional exponent"
                                                : scalar::to_text<rational>(p.value)) +
                                " is not one");
        }
        const mp::mpz_int k = mp::numerator(p.value);
        ints.push_back(k < 0 ? nlohmann::json(k.convert_to<std::int64_t>())
                             : nlohmann::json(k.convert_to<std::uint64_t>()));
        v.push_back(scalar::from_rational<Real>(p.value, field, a.spec));
        t.push_back(k.str());
      }
    } else {
      v = io::parse_points<Real>(a.spec, field);
      for (const Real& x : v) t.push_back(scalar::to_text<Real>(x));
    }
    cells *= v.size();
    if (cells > 10000000) throw input_error("grid", a.name + "=" + a.spec, "more than 10^7 cells");
    values_.push_back(std::move(v));
    texts_.push_back(std::move(t));
    integers_.push_back(std::move(ints));
  }
  cells_ = cells;

  // Build every cell's problem and step size first: input errors surface here, in grid order.
  problem_of_.resize(cells);
  std::map<std::string, size_t> problem_index;  // non-eta axis indices -> problems
  for (size_t c = 0; c < cells; ++c) {
    const std::vector<size_t> index = index_of(c);
    nlohmann::json spec = opt_.problem;
    std::string key;
    for (size_t a = 0; a < opt_.axes.size(); ++a) {
      const std::string& name = opt_.axes[a].name;
      const Real& v = values_[a][index[a]];
      const std::string field = "grid " + name;
      if (name == "eta" || detail::rule_axis(name)) continue;
      key += std::to_string(a) + ":" + std::to_string(index[a]) + ";";
      if (name == "p0" || name == "p0_logit") {
        const Real p0 = name == "p0" ? v : Real(1 / (1 + exp(Real(-v))));
        // clang-tidy 14 takes p0 > 0 && p0 < 1 on an MPFR expression for always false.
        // NOLINTNEXTLINE(misc-redundant-expression)
        if (!(p0 > 0 && p0 < 1)) {
          throw input_error(field, scalar::to_text<Real>(v), "p0 must be in (0, 1)");
        }
        const auto tokens = spec.find("tokens");
        if (tokens == spec.end() || *tokens != 2) {
          throw input_error(field, scalar::to_text<Real>(v), "p0 needs a two-token problem");
        }
        spec["frequencies"] = {{"kind", "explicit"},
                               {"p", nlohmann::json::array({scalar::to_text<Real>(p0),
                                                            scalar::to_text<Real>(1 - p0)})}};
      } else if (!integers_[a].empty()) {
        spec = set_field(std::move(spec), detail::axis_target(name), integers_[a][index[a]]);
      } else {
        spec = set_field(std::move(spec), detail::axis_target(name), texts_[a][index[a]]);
      }
    }
    // Cells that differ only in eta or the rule's parameters share their problem.
    const auto found = problem_index.find(key);
    if (found == problem_index.end()) {
      problem_of_[c] = problems_.size();
      problem_index.emplace(key, problems_.size());
      problems_.push_back(io::parse_problem<Real>(spec));
      if (opt_.certify) specs_.push_back(spec);
    } else {
      problem_of_[c] = found->second;
    }
    descent::descent_options<Real> check;
    check.eta = eta_of(index);
    check.steps = opt_.steps;
    check.batch = opt_.batch;
    check.rule = rule_of(index);
    try {
      check.validate();
    } catch (const input_error& e) {
      // A step size or rule parameter from the grid is the axis's fault, not the option's.
      for (size_t a = 0; a < opt_.axes.size(); ++a) {
        if (opt_.axes[a].name == e.field()) {
          throw input_error("grid " + e.field(), texts_[a][index[a]], e.reason());
        }
      }
      throw;
    }
  }
}

template <class Real>
sweep_cell<Real> sweep_plan<Real>::run(size_t c) const {
  const std::vector<size_t> index = index_of(c);
  descent::descent_options<Real> d;
  d.eta = eta_of(index);
  d.steps = opt_.steps;
  d.batch = opt_.batch;
  d.seed = opt_.seed;
  d.rule = rule_of(index);
  d.record = false;
  const descent::descent_result<Real> r = descent::run(problems_[problem_of_[c]], d);
  sweep_cell<Real> cell;
  cell.index = c;
  for (size_t a = 0; a < opt_.axes.size(); ++a) {
    cell.values.push_back(values_[a][index[a]]);
    cell.texts.push_back(texts_[a][index[a]]);
  }
  static_cast<outcome&>(cell) = r;
  cell.summary = r.summary;
  if (r.ok()) {
    cell.final_loss = r.last.loss;
    cell.final_zero_one_loss = r.last.zero_one_loss;
    cell.final_margins = r.last.margins;
  }
  if (opt_.certify && r.ok()) {
    std::string eta_text = opt_.eta_text;
    for (size_t a = 0; a < opt_.axes.size(); ++a) {
      if (opt_.axes[a].name == "eta") eta_text = texts_[a][index[a]];
    }
    const rational eta = scalar::parse_exact(eta_text, "eta");
    const nlohmann::json& spec = specs_[problem_of_[c]];
    const certify::widening_result w = certify::first_perfect_widening(
        [&] { return std::make_pair(certify::ball_problem_of(spec), certify::ball::of(eta)); },
        opt_.steps);
    cell.certified_bits = w.bits;
    if (!w.decided()) {
      cell.certified = verdict::undecided;
    } else {
      cell.certified_first_perfect_step = w.run.first_perfect_step;
      cell.certified = w.run.first_perfect_step == r.summary.first_perfect_step &&
                               w.run.ever_perfect == r.summary.ever_perfect
                           ? verdict::yes
                           : verdict::differs;
    }
  }
  return cell;
}

template <class Real>
sweep_result<Real> sweep(const sweep_options<Real>& opt) {
  const sweep_plan<Real> plan(opt);
  sweep_result<Real> result;
  result.axis_names = plan.axis_names();
  result.cell_count = plan.cells();
  std::vector<size_t> chosen;
  for (size_t c = 0; c < plan.cells(); ++c) {
    if (!opt.select || opt.select(c)) chosen.push_back(c);
  }
  result.selected_count = chosen.size();
  if (opt.on_ready) opt.on_ready(plan.cells(), chosen.size(), plan.tokens());

  // Cells run in parallel; each is released in grid order (to on_cell, or kept) and its slot freed.
  std::vector<std::unique_ptr<sweep_cell<Real>>> slots(chosen.size());
  if (!opt.on_cell) result.cells.reserve(chosen.size());
  const auto work = [&](long k) {
    slots[k] = std::make_unique<sweep_cell<Real>>(plan.run(chosen[static_cast<size_t>(k)]));
  };
  parallel_for_ordered(static_cast<long>(chosen.size()), opt.threads, work, [&](long k) {
    if (opt.on_cell) {
      opt.on_cell(*slots[k]);
    } else {
      result.cells.push_back(std::move(*slots[k]));
    }
    slots[k].reset();
  });
  return result;
}

}  // namespace amflow::analysis
