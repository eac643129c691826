// Definitions for descent.hpp: included where its templates are instantiated (the per-scalar units
// that cmake/AmflowInstantiate.cmake generates, or a test or bench for scalar types of its own);
// other code sees the extern declarations.
#pragma once

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

#include "amflow/descent/descent.hpp"
#include "amflow/descent/parameterisations.hpp"
#include "amflow/descent/rules_impl.hpp"
#include "amflow/errors.hpp"
#include "amflow/model/layer_norm.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/model/random.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::descent {

template <class Real>
void descent_options<Real>::validate() const {
  const std::string eta_text = scalar::to_text<Real>(eta);
  if (!(eta > 0) || !scalar::is_finite(eta)) {
    throw input_error("eta", eta_text, "must be finite and positive");
  }
  if (steps < 1) throw input_error("steps", std::to_string(steps), "must be at least 1");
  if (!scalar::is_finite(Real(eta * Real(steps)))) {
    throw input_error("eta", eta_text,
                      "the final time eta * steps = eta * " + std::to_string(steps) +
                          " is beyond the range of " + scalar::name<Real>());
  }
  if (batch < 0) throw input_error("batch", std::to_string(batch), "must be >= 0 (0: full batch)");
  if (every < 1) throw input_error("every", std::to_string(every), "must be at least 1");
  rule.validate();
  if (factors.rank < 0) {
    throw input_error("rank", std::to_string(factors.rank), "must be >= 1 (0: full W)");
  }
  if (factors.rank > 0) {
    if (space == space_kind::particle) {
      throw input_error("space", "particle", "a factorised memory W = A B runs on its factors");
    }
    if (!scalar::is_finite(factors.scale) || factors.scale < 0) {
      throw input_error("scale", scalar::to_text<Real>(factors.scale), "must be finite and >= 0");
    }
    if (sharpness) {
      throw input_error("sharpness", "true",
                        "the sharpness is the Hessian's in W; a factorised run moves on A and B, "
                        "whose Hessian differs");
    }
  }
  if (layer_norm) {
    if (!(layer_norm_epsilon > 0) || !scalar::is_finite(layer_norm_epsilon)) {
      throw input_error("layer_norm_epsilon", scalar::to_text<Real>(layer_norm_epsilon),
                        "must be finite and positive");
    }
    if (space == space_kind::particle) {
      throw input_error("space", "particle",
                        "with layer norm the logits are not linear in W: the run goes on W");
    }
    if (sharpness) {
      throw input_error("sharpness", "true",
                        "the sharpness is computed for the linear head, not with layer norm");
    }
  }
  if (space == space_kind::particle && !rule_is_linear(rule.kind)) {
    throw input_error("space", "particle",
                      "the rule " + rule_name(rule.kind) +
                          " is not linear in the gradient and runs on W (space weights or auto)");
  }
}

template <class Real>
space_kind descent_options<Real>::resolved_space(const model::problem<Real>& pb) const {
  if (space != space_kind::automatic) return space;
  if (!rule_is_linear(rule.kind) || factors.rank > 0 || layer_norm) return space_kind::weights;
  const step_costs cost = step_cost(pb);
  return cost.particle <= cost.weights ? space_kind::particle : space_kind::weights;
}

template <class Real>
std::pair<model::matrix<Real>, model::matrix<Real>> initial_factors(const factorisation<Real>& f,
                                                                    int dim) {
  if (f.A0.size() > 0 || f.B0.size() > 0) {
    const auto shape = [](const model::matrix<Real>& X) {
      return std::to_string(X.rows()) + " x " + std::to_string(X.cols());
    };
    if (f.A0.rows() != dim || f.A0.cols() != f.rank) {
      throw input_error("A0", shape(f.A0),
                        "must be d x r = " + std::to_string(dim) + " x " + std::to_string(f.rank));
    }
    if (f.B0.rows() != f.rank || f.B0.cols() != dim) {
      throw input_error("B0", shape(f.B0),
                        "must be r x d = " + std::to_string(f.rank) + " x " + std::to_string(dim));
    }
    for (Eigen::Index i = 0; i < f.A0.size(); ++i) {
      if (!scalar::is_finite(f.A0(i)))
        throw input_error("A0", "not finite", "entries must be finite");
    }
    for (Eigen::Index i = 0; i < f.B0.size(); ++i) {
      if (!scalar::is_finite(f.B0(i)))
        throw input_error("B0", "not finite", "entries must be finite");
    }
    return {f.A0, f.B0};
  }
  const auto gaussian = [&](std::uint64_t seed, int rows, int cols) {
    const std::vector<double> g =
        model::standard_normals(seed, static_cast<size_t>(rows) * static_cast<size_t>(cols));
    model::matrix<Real> X(rows, cols);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) X(r, c) = f.scale * Real(g[static_cast<size_t>(r) * cols + c]);
    }
    return X;
  };
  model::matrix<Real> A = gaussian(f.seed, dim, f.rank);
  model::matrix<Real> B =
      f.balanced ? model::matrix<Real>(A.transpose()) : gaussian(f.seed + 1, f.rank, dim);
  return {std::move(A), std::move(B)};
}

template <class Real>
transient_detector<Real>::transient_detector(int tokens)
    : sign_(static_cast<size_t>(tokens), 0), rounding_(4 * (tokens + 2) * scalar::epsilon<Real>()) {
  t_.margin_sign_changes.assign(static_cast<size_t>(tokens), 0);
}

template <class Real>
void transient_detector<Real>::observe(const Real& loss, const Real& zero_one_loss,
                                       const model::vector<Real>& margins) {
  ++k_;
  if (k_ == 0 || loss > t_.max_loss) {
    t_.max_loss = loss;
    t_.max_loss_step = k_;
  }
  if (k_ > 0) {
    using std::abs;
    const Real bound = rounding_ * (abs(loss) > abs(last_loss_) ? abs(loss) : abs(last_loss_));
    const bool rounding_only = loss > last_loss_ && !(loss - last_loss_ > bound);
    if (rounding_only) ++t_.rounding_increases;
    if (loss > last_loss_ && !rounding_only) {
      ++t_.loss_increases;
      if (rise_start_ < 0) {
        rise_start_ = k_ - 1;
        rise_start_loss_ = last_loss_;
      }
    } else if (rise_start_ >= 0) {
      t_.spikes.push_back({rise_start_, k_ - 1, Real(last_loss_ - rise_start_loss_)});
      rise_start_ = -1;
    }
  }
  // Every p(x) > 0, so a zero 0-1 loss means every token is classified correctly.
  if (first_perfect_ < 0 && zero_one_loss == 0) first_perfect_ = k_;
  for (Eigen::Index x = 0; x < margins.size(); ++x) {
    const int now = margins(x) > 0 ? 1 : (margins(x) < 0 ? -1 : 0);
    if (now == 0) continue;
    if (sign_[x] != 0 && now != sign_[x]) ++t_.margin_sign_changes[x];
    sign_[x] = now;
  }
  last_loss_ = loss;
}

template <class Real>
transients<Real> transient_detector<Real>::finish(long steps) const {
  transients<Real> t = t_;
  if (rise_start_ >= 0) t.spikes.push_back({rise_start_, k_, Real(last_loss_ - rise_start_loss_)});
  t.ever_perfect = first_perfect_ >= 0 && first_perfect_ <= steps - 1;
  t.first_perfect_step = t.ever_perfect ? first_perfect_ : steps - 1;
  return t;
}

template <class Real>
descent_result<Real> run(const model::problem<Real>& pb, const descent_options<Real>& opt) {
  opt.validate();
  descent_result<Real> result;
  transient_detector<Real> watch(pb.tokens);
  result.space = opt.resolved_space(pb);
  const long K = opt.steps;
  const std::unique_ptr<parameterisation<Real>> state = make_parameterisation(pb, opt);

  std::optional<batch_sampler> sampler;
  if (opt.batch > 0) {
    std::vector<double> p(static_cast<size_t>(pb.tokens));
    for (int x = 0; x < pb.tokens; ++x) p[x] = static_cast<double>(pb.p(x));
    sampler.emplace(p, opt.batch, opt.seed);
  }
  model::vector<Real> w = pb.p;  // the residual's row weights: p, or the batch frequencies
  model::matrix<Real> R;
  model::vector<Real> margins;  // reused: no allocation per step
  for (long k = 0; k <= K; ++k) {
    const model::matrix<Real>& Z = state->logits();
    if (sampler && k < K) {
      const std::vector<long>& counts = sampler->draw();
      for (int x = 0; x < pb.tokens; ++x) w(x) = Real(counts[x]) / Real(opt.batch);
    }
    const Real loss = model::residual_and_loss(pb, Z, w, R);
    bool finite = scalar::is_finite(loss);
    for (Eigen::Index i = 0; finite && i < Z.size(); ++i) finite = scalar::is_finite(Z(i));
    if (!finite) {
      result.fail(reason::not_finite, "the state is no longer finite at step " + std::to_string(k) +
                                          " (tau = " + scalar::to_text<Real>(Real(opt.eta * k)) +
                                          ")");
      break;
    }
    const Real zero_one = model::zero_one_loss(pb, Z);
    model::margins_into(pb, Z, margins);
    watch.observe(loss, zero_one, margins);
    const bool recorded = opt.record ? (k % opt.every == 0 || k == K) : k == K;
    if (recorded) {
      model::trajectory_sample<Real> sample{
          Real(opt.eta * k), Z, loss, zero_one, margins, {}, {}, {}, {}, {}};
      if (opt.sharpness) {
        const model::sharpness_result<Real> h = model::sharpness_with_error(pb, Z);
        sample.sharpness = h.value;
        sample.sharpness_error = h.error;
      }
      if (opt.weights) sample.W = state->memory();
      if (k == K) result.last = sample;
      if (opt.on_record) {
        opt.on_record(k, sample);
      } else {
        result.steps.push_back(k);
        result.samples.push_back(std::move(sample));
      }
    }
    if (k == K) break;
    const std::string undefined = state->step(R, opt.eta);
    if (!undefined.empty()) {
      result.fail(reason::undefined, "the " + rule_name(opt.rule.kind) +
                                         " step is undefined at step " + std::to_string(k) + ": " +
                                         undefined);
      break;
    }
    if (opt.on_step) opt.on_step(k + 1);
  }
  result.summary = watch.finish(K);
  result.Z = state->logits();
  result.W = state->memory();
  state->factors(result.A, result.B);
  return result;
}

template <class Real>
sgd_mean_result<Real> sgd_mean(const model::problem<Real>& pb, const descent_options<Real>& opt,
                               long runs, int threads,
                               const std::function<void(long done)>& on_run) {
  using std::sqrt;
  opt.validate();
  if (runs < 1) throw input_error("seeds", std::to_string(runs), "must be at least 1");
  if (opt.seed > UINT64_MAX - static_cast<std::uint64_t>(runs - 1)) {
    throw input_error("seeds", std::to_string(runs),
                      "seed + seeds - 1 = " + std::to_string(opt.seed) + " + " +
                          std::to_string(runs - 1) + " exceeds the largest seed, 2^64 - 1");
  }
  sgd_mean_result<Real> mean;
  // Running sums per recorded state, folded in seed order: means and sums of squared deviations.
  std::vector<Real> loss_m2, zero_one_m2;
  std::vector<model::vector<Real>> margins_m2;
  const long block = std::max<long>(16, 4L * (threads > 0 ? threads : hardware_threads()));
  std::vector<descent_result<Real>> results;
  long folded = 0;
  for (long first = 0; first < runs; first += block) {
    const long count = std::min(block, runs - first);
    results.assign(static_cast<size_t>(count), {});
    parallel_for(count, threads, [&](long i) {
      descent_options<Real> one = opt;
      one.seed = opt.seed + static_cast<std::uint64_t>(first + i);
      one.sharpness = false;
      one.on_record = nullptr;
      one.on_step = nullptr;
      results[i] = run(pb, one);
    });
    for (long i = 0; i < count; ++i) {
      const descent_result<Real>& r = results[i];
      if (!r.ok()) {
        mean.fail(r.why, "seed " + std::to_string(opt.seed + first + i) + ": " + r.message);
        return mean;
      }
      if (folded == 0) {
        mean.steps = r.steps;
        const size_t n = r.steps.size();
        mean.loss.assign(n, Real(0));
        mean.zero_one_loss.assign(n, Real(0));
        mean.margins.assign(n, model::vector<Real>::Zero(pb.tokens));
        loss_m2.assign(n, Real(0));
        zero_one_m2.assign(n, Real(0));
        margins_m2.assign(n, model::vector<Real>::Zero(pb.tokens));
      }
      ++folded;
      const Real count_now(folded);
      for (size_t j = 0; j < mean.steps.size(); ++j) {
        const auto& sample = r.samples[j];
        const auto fold = [&](Real& m, Real& m2, const Real& v) {
          const Real delta = v - m;
          m += delta / count_now;
          m2 += delta * (v - m);
        };
        fold(mean.loss[j], loss_m2[j], sample.loss);
        fold(mean.zero_one_loss[j], zero_one_m2[j], sample.zero_one_loss);
        for (int x = 0; x < pb.tokens; ++x) {
          fold(mean.margins[j](x), margins_m2[j](x), sample.margins(x));
        }
      }
    }
    if (on_run) on_run(first + count);
  }
  const Real divisor = runs > 1 ? Real(runs - 1) : Real(1);
  for (size_t j = 0; j < mean.steps.size(); ++j) {
    mean.loss_sd.push_back(sqrt(Real(loss_m2[j] / divisor)));
    mean.zero_one_loss_sd.push_back(sqrt(Real(zero_one_m2[j] / divisor)));
    model::vector<Real> sd(pb.tokens);
    for (int x = 0; x < pb.tokens; ++x) sd(x) = sqrt(Real(margins_m2[j](x) / divisor));
    mean.margins_sd.push_back(sd);
  }
  return mean;
}

}  // namespace amflow::descent
