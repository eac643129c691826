// Definitions for descent.hpp; included only by the per-scalar descent instantiation units.
#pragma once

#include <cmath>
#include <optional>
#include <string>

#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::descent {

template <class Real>
void descent_options<Real>::validate() const {
  if (!(eta > 0) || !(eta - eta == 0)) {
    throw input_error("--eta", scalar::to_text<Real>(eta), "must be finite and positive");
  }
  if (steps < 1) throw input_error("--steps", std::to_string(steps), "must be at least 1");
  if (batch < 0)
    throw input_error("--batch", std::to_string(batch), "must be >= 0 (0: full batch)");
  if (every < 1) throw input_error("--every", std::to_string(every), "must be at least 1");
}

template <class Real>
transient_detector<Real>::transient_detector(int tokens)
    : learned_(static_cast<size_t>(tokens), false) {
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
    if (loss > last_loss_) {
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
    const bool now = margins(x) > 0;
    if (k_ > 0 && now != learned_[x]) ++t_.margin_sign_changes[x];
    learned_[x] = now;
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
  const bool particle = opt.space == space_kind::particle;
  const long K = opt.steps;

  std::optional<batch_sampler> sampler;
  if (opt.batch > 0) {
    std::vector<double> p(static_cast<size_t>(pb.tokens));
    for (int x = 0; x < pb.tokens; ++x) p[x] = static_cast<double>(pb.p(x));
    sampler.emplace(p, opt.batch, opt.seed);
  }
  model::vector<Real> w = pb.p;  // the residual's row weights: p, or the batch frequencies
  model::particle_state<Real> s = model::initial_state(pb);
  model::matrix<Real> W = pb.W0;
  model::matrix<Real> R;
  for (long k = 0; k <= K; ++k) {
    if (!particle) s.Z = model::logits(pb, W);
    if (sampler && k < K) {
      const std::vector<long>& counts = sampler->draw();
      for (int x = 0; x < pb.tokens; ++x) w(x) = Real(counts[x]) / Real(opt.batch);
    }
    const Real loss = model::residual_and_loss(pb, s.Z, w, R);
    if (!(loss - loss == 0)) {
      result.ok = false;
      result.message = "the loss is no longer finite at step " + std::to_string(k) +
                       " (tau = " + scalar::to_text<Real>(Real(opt.eta * k)) + ")";
      break;
    }
    const Real zero_one = model::zero_one_loss(pb, s.Z);
    model::vector<Real> margins = model::margins(pb, s.Z);
    watch.observe(loss, zero_one, margins);
    const bool recorded = opt.record ? (k % opt.every == 0 || k == K) : k == K;
    if (recorded) {
      model::trajectory_sample<Real> sample{Real(opt.eta * k),  s.Z, loss, zero_one,
                                            std::move(margins), {},  {},   {}};
      if (opt.sharpness) sample.sharpness = model::sharpness(pb, s.Z);
      result.steps.push_back(k);
      result.samples.push_back(std::move(sample));
    }
    if (k == K) break;
    if (particle) {
      model::advance(pb, s, R, opt.eta);
    } else {
      W -= opt.eta * (pb.U.transpose() * R.transpose() * pb.E);
    }
  }
  result.summary = watch.finish(K);
  result.Z = s.Z;
  result.W = particle ? model::weights(pb, s.Q) : W;
  return result;
}

template <class Real>
sgd_mean_result<Real> sgd_mean(const model::problem<Real>& pb, const descent_options<Real>& opt,
                               long runs, int threads) {
  using std::sqrt;
  opt.validate();
  if (runs < 1) throw input_error("--seeds", std::to_string(runs), "must be at least 1");
  std::vector<descent_result<Real>> all(static_cast<size_t>(runs));
  parallel_for(runs, threads, [&](long i) {
    descent_options<Real> one = opt;
    one.seed = opt.seed + static_cast<std::uint64_t>(i);
    one.sharpness = false;
    all[i] = run(pb, one);
  });
  sgd_mean_result<Real> mean;
  for (long i = 0; i < runs; ++i) {
    if (!all[i].ok) {
      mean.ok = false;
      mean.message = "seed " + std::to_string(opt.seed + i) + ": " + all[i].message;
      return mean;
    }
  }
  mean.steps = all[0].steps;
  const size_t n = mean.steps.size();
  for (size_t j = 0; j < n; ++j) {
    // Two passes (mean, then squared deviations), summed in seed order.
    Real loss(0);
    model::vector<Real> m = model::vector<Real>::Zero(pb.tokens);
    for (const auto& r : all) {
      loss += r.samples[j].loss;
      m += r.samples[j].margins;
    }
    loss /= Real(runs);
    m /= Real(runs);
    Real loss_var(0);
    model::vector<Real> m_var = model::vector<Real>::Zero(pb.tokens);
    for (const auto& r : all) {
      loss_var += (r.samples[j].loss - loss) * (r.samples[j].loss - loss);
      m_var += (r.samples[j].margins - m).cwiseAbs2();
    }
    const Real divisor = runs > 1 ? Real(runs - 1) : Real(1);
    mean.loss.push_back(loss);
    mean.loss_sd.push_back(sqrt(Real(loss_var / divisor)));
    mean.margins.push_back(m);
    model::vector<Real> sd(pb.tokens);
    for (int x = 0; x < pb.tokens; ++x) sd(x) = sqrt(Real(m_var(x) / divisor));
    mean.margins_sd.push_back(sd);
  }
  return mean;
}

}  // namespace amflow::descent
