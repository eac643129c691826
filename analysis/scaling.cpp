// The reduced runs of the scaling study (scaling.hpp).
#include "analysis/scaling.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/parallel.hpp"

namespace amflow::analysis {

void scaling_options::validate() const {
  if (sizes.empty()) throw input_error("sizes", "(none)", "give at least one N");
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] < 2 || sizes[i] > 100000000) {
      throw input_error("sizes", std::to_string(sizes[i]), "each N must be in [2, 10^8]");
    }
    if (i > 0 && sizes[i] <= sizes[i - 1]) {
      throw input_error("sizes", std::to_string(sizes[i]), "must increase strictly");
    }
  }
  if (rules.empty()) throw input_error("rules", "(none)", "give at least one rule");
  for (const auto& r : rules) {
    r.validate();
    if (r.kind == descent::rule_kind::normalized || r.kind == descent::rule_kind::rescaled) {
      throw input_error("rules", descent::rule_name(r.kind),
                        "uses a norm over all of W, which couples the columns (the reduced run "
                        "needs a rule that acts entrywise: gd, momentum, nesterov, sign, adam)");
    }
  }
  if (!(eta > 0) || !std::isfinite(eta)) {
    throw input_error("eta", std::to_string(eta), "must be finite and positive");
  }
  if (!(target > 0) || !std::isfinite(target)) {
    throw input_error("target", std::to_string(target), "must be finite and positive");
  }
  if (!(exponent >= 0) || !std::isfinite(exponent)) {
    throw input_error("exponent", std::to_string(exponent), "must be finite and >= 0");
  }
  if (max_steps < 1) throw input_error("max_steps", std::to_string(max_steps), "must be >= 1");
}

scaling_row scaling_run(const scaling_options& o, const descent::rule_options<double>& rule,
                        int N) {
  const int M = N;
  std::vector<double> p(N);
  double sum = 0;
  for (int x = 0; x < N; ++x) sum += (p[x] = std::pow(x + 1.0, -o.exponent));
  for (double& q : p) q /= sum;
  // Per token: the column's target entry a and wrong entry b as a 1 x 2 "matrix", with its own
  // copy of the rule (entrywise rules see each entry alone, as on the full W).
  std::vector<double> a(N, 0.0), b(N, 0.0), loss(N, std::log(double(M)));
  std::vector<std::unique_ptr<descent::update_rule<double>>> rules;
  for (int x = 0; x < N; ++x) rules.push_back(descent::make_rule(rule));
  model::matrix<double> G(1, 2), D(1, 2);
  scaling_row row;
  row.rule = rule.kind;
  row.tokens = N;
  const double wrong = M - 1;
  const auto per_class = [&](double m) { return std::log1p(wrong * std::exp(-m)); };
  // The tokens are independent: once L has reached the target, a token whose own loss has too
  // no longer matters and stops (the rare ones, which take longest, run alone at the end).
  for (long k = 0;; ++k) {
    double mean = 0;
    int done = 0;  // tokens whose loss is at most the target
    for (int x = 0; x < N; ++x) {
      mean += p[x] * loss[x];
      if (loss[x] <= o.target) ++done;
    }
    if (!row.steps_all_classes && done == N) row.steps_all_classes = k;
    if (!row.steps_mean_loss && mean <= o.target) row.steps_mean_loss = k;
    row.rarest_loss = loss[N - 1];
    if ((row.steps_all_classes && row.steps_mean_loss) || k == o.max_steps) break;
    for (int x = 0; x < N; ++x) {
      if (row.steps_mean_loss && loss[x] <= o.target) continue;
      const double m = a[x] - b[x];
      // 1 - s = (M - 1) e^-m / (1 + (M - 1) e^-m), without cancellation at large m.
      const double rest = wrong * std::exp(-m) / (1 + wrong * std::exp(-m));
      G(0, 0) = -p[x] * rest;
      G(0, 1) = p[x] * rest / wrong;
      const std::string undefined = rules[x]->direction(G, D);
      if (!undefined.empty()) throw std::runtime_error(undefined);
      a[x] -= o.eta * D(0, 0);
      b[x] -= o.eta * D(0, 1);
      loss[x] = per_class(a[x] - b[x]);
    }
  }
  return row;
}

scaling_result scaling(const scaling_options& o,
                       const std::function<void(const scaling_row&)>& on_row) {
  o.validate();
  const long n = static_cast<long>(o.rules.size() * o.sizes.size());
  scaling_result result;
  result.rows.resize(static_cast<size_t>(n));
  parallel_for_ordered(
      n, o.threads,
      [&](long i) {
        const auto& rule = o.rules[static_cast<size_t>(i) / o.sizes.size()];
        result.rows[i] = scaling_run(o, rule, o.sizes[static_cast<size_t>(i) % o.sizes.size()]);
      },
      [&](long i) {
        if (on_row) on_row(result.rows[i]);
      });
  return result;
}

power_fit fit_exponent(const std::vector<scaling_row>& rows, descent::rule_kind rule, bool mean) {
  std::vector<double> xs, ys;
  for (const auto& r : rows) {
    const auto& s = mean ? r.steps_mean_loss : r.steps_all_classes;
    if (r.rule != rule || !s || *s < 1) continue;
    xs.push_back(std::log(double(r.tokens)));
    ys.push_back(std::log(double(*s)));
  }
  power_fit f;
  f.points = static_cast<int>(xs.size());
  if (f.points < 2) return f;
  const double n = f.points;
  double mx = 0, my = 0;
  for (int i = 0; i < f.points; ++i) mx += xs[i] / n, my += ys[i] / n;
  double sxx = 0, sxy = 0;
  for (int i = 0; i < f.points; ++i) {
    sxx += (xs[i] - mx) * (xs[i] - mx);
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  f.exponent = sxy / sxx;
  if (f.points > 2) {
    double rss = 0;
    for (int i = 0; i < f.points; ++i) {
      const double e = ys[i] - (my + f.exponent * (xs[i] - mx));
      rss += e * e;
    }
    f.standard_error = std::sqrt(rss / (n - 2) / sxx);
  }
  return f;
}

}  // namespace amflow::analysis
