// The sign flow dW/dtau = -sign(grad L(W)), the limit of sign descent (and of Adam with epsilon
// -> 0) as eta -> 0 at tau = eta k. Its right-hand side is constant wherever no entry of grad L
// changes sign, so the flow is piecewise linear: W(tau) = W_s - (tau - tau_s) S on each segment,
// S = sign(grad L(W_s)) (entries 0 where grad L is exactly 0). A segment ends at an event: the
// first tau where the sign of some entry of grad L(W(tau)) differs from S. There the flow goes on
// with the new signs when it crosses the switching surface {G_ij = 0} (the entry keeps moving the
// same way under the new S, d G_ij / dtau of the new side's sign), and is not defined classically
// when it would slide along it (the new direction pushes the entry back to 0: in Filippov's sense
// S_ij would have to take a value inside (-1, 1)); the run then stops and says where.
//
// Events are searched on steps of at most 1.5 times the first predicted zero of an entry (from
// its value and derivative) and at most `max_step` (1 + tau), and located by bisection to a few
// units in the last place; an entry that crosses 0 and back within one step is missed. Between
// events the path is exact up to rounding; each event's location is known to its bisection
// bracket w, which moves W by at most 2 w per entry (the estimate reported with each sample).
// Header-only.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "amflow/errors.hpp"
#include "amflow/flow/sample_times.hpp"
#include "amflow/model/problem.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/model/trajectory.hpp"
#include "amflow/outcome.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow {

template <class Real>
struct sign_flow_options {
  std::vector<Real> times;       // sample times: finite, >= 0, strictly increasing
  Real max_step = Real(1) / 10;  // steps of the event search are at most max_step (1 + tau)
  long max_events = 100000;
};

template <class Real>
struct sign_flow_event {
  Real tau = Real(0);
  Real bracket = Real(0);  // the width of the bisection bracket around tau
  int row = 0, col = 0;    // an entry of grad L whose sign changed there
  int entries = 0;         // how many entries changed sign at once
};

// An outcome: undefined where the flow stops being defined, step_limit past max_events.
template <class Real>
struct sign_flow_result : outcome {
  std::vector<model::trajectory_sample<Real>> samples;  // margin_error: the events' estimate
  std::vector<sign_flow_event<Real>> events;
  long steps = 0;  // steps of the event search
};

namespace detail {

// d/dt grad L(W + t V) at t = 0: U^T dR^T E with dR = diag(p) dPi, dPi(x, y) = pi(x, y) (dZ(x, y) -
// sum_y' pi(x, y') dZ(x, y')) and dZ = E V^T U^T.
template <class Real>
model::matrix<Real> gradient_derivative(const model::problem<Real>& pb,
                                        const model::matrix<Real>& W,
                                        const model::matrix<Real>& V) {
  const model::matrix<Real> pi = model::softmax_rows(model::logits(pb, W));
  const model::matrix<Real> dZ = pb.E * V.transpose() * pb.U.transpose();
  model::matrix<Real> dR(pb.tokens, pb.classes);
  for (int x = 0; x < pb.tokens; ++x) {
    Real mean(0);
    for (int y = 0; y < pb.classes; ++y) mean += pi(x, y) * dZ(x, y);
    for (int y = 0; y < pb.classes; ++y) dR(x, y) = pb.p(x) * pi(x, y) * (dZ(x, y) - mean);
  }
  return pb.U.transpose() * dR.transpose() * pb.E;
}

template <class Real>
int sign_of(const Real& v) {
  return v > 0 ? 1 : (v < 0 ? -1 : 0);
}

}  // namespace detail

// Integrates the sign flow from the problem's W0 and samples it at options.times (invalid options
// throw input_error naming times, max_step or max_events).
// Longer than .clang-tidy's 120 lines until the flow has one driver for every stepper.
template <class Real>
// NOLINTNEXTLINE(readability-function-size)
sign_flow_result<Real> integrate_sign_flow(const model::problem<Real>& pb,
                                           const sign_flow_options<Real>& o) {
  using std::abs;
  check_sample_times(o.times);
  if (!(o.max_step > 0) || !scalar::is_finite(o.max_step)) {
    throw input_error("max_step", scalar::to_text<Real>(o.max_step), "must be finite and positive");
  }
  if (o.max_events < 0) {
    throw input_error("max_events", std::to_string(o.max_events), "must be >= 0");
  }
  const int d = pb.dim;
  const Real eps = scalar::epsilon<Real>();
  sign_flow_result<Real> r;
  model::matrix<Real> Ws = pb.W0;  // the segment's start
  Real tau_s(0);
  model::matrix<Real> S(d, d);
  const auto signs_at = [&](const model::matrix<Real>& G, model::matrix<Real>& into) {
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) into(i, j) = Real(detail::sign_of(G(i, j)));
    }
  };
  signs_at(model::gradient(pb, Ws), S);
  const auto at = [&](const Real& tau) { return model::matrix<Real>(Ws - (tau - tau_s) * S); };
  // Whether the signs of grad L at W(tau) all agree with S.
  const auto agrees = [&](const Real& tau, model::matrix<Real>* G_out) {
    const model::matrix<Real> G = model::gradient(pb, at(tau));
    if (G_out) *G_out = G;
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        if (detail::sign_of(G(i, j)) != static_cast<int>(S(i, j))) return false;
      }
    }
    return true;
  };
  Real shift(0);  // sum over events of 2 * bracket: the estimate of each entry's error
  Real now(0);
  size_t next = 0;
  // The margins are differences of logits u_y . W e_x: an error of `shift` per entry of W moves
  // them by at most shift * max_{x,y,y'} |e_x|_1 |u_y - u_y'|_1.
  Real scale(0);
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      for (int z = 0; z < pb.classes; ++z) {
        using std::max;
        scale = max(scale, Real(pb.E.row(x).cwiseAbs().sum() *
                                (pb.U.row(y) - pb.U.row(z)).cwiseAbs().sum()));
      }
    }
  }
  const auto emit = [&](const Real& tau) {
    model::trajectory_sample<Real> s = model::measure(pb, tau, model::logits(pb, at(tau)));
    s.margin_error = shift * scale;
    s.loss_error = shift * scale;  // |dL| <= max |d margin| (L is 1-Lipschitz in the logits)
    r.samples.push_back(std::move(s));
  };
  while (next < o.times.size()) {
    if (o.times[next] <= now) {
      emit(o.times[next]);
      ++next;
      continue;
    }
    // The next search step: 1.5 times the first predicted zero of an entry, capped.
    const model::matrix<Real> G = model::gradient(pb, at(now));
    const model::matrix<Real> dG =
        detail::gradient_derivative(pb, at(now), model::matrix<Real>(-S));
    Real h = o.max_step * (1 + now);
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        if (G(i, j) != 0 && G(i, j) * dG(i, j) < 0) {
          using std::min;
          h = min(h, Real(Real(3) / 2 * abs(G(i, j) / dG(i, j))));
        }
      }
    }
    const Real target = o.times[next];
    Real end = now + h < target ? Real(now + h) : target;
    if (!(end > now)) end = target;
    ++r.steps;
    model::matrix<Real> G_end;
    if (agrees(end, &G_end)) {
      now = end;
      continue;
    }
    // An event in (now, end]: bisect to the first tau whose signs disagree.
    Real lo = now, hi = end;
    while (hi - lo > 4 * eps * (abs(hi) + 1)) {
      const Real mid = (lo + hi) / 2;
      if (!(mid > lo && mid < hi)) break;
      if (agrees(mid, nullptr)) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    model::matrix<Real> G_hi;
    agrees(hi, &G_hi);
    sign_flow_event<Real> ev;
    ev.tau = hi;
    ev.bracket = hi - lo;
    model::matrix<Real> S_new = S;
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        const int now_sign = detail::sign_of(G_hi(i, j));
        if (now_sign != static_cast<int>(S(i, j))) {
          if (ev.entries++ == 0) {
            ev.row = i;
            ev.col = j;
          }
          S_new(i, j) = Real(now_sign);
        }
      }
    }
    if (static_cast<long>(r.events.size()) >= o.max_events) {
      r.fail(reason::step_limit, "more than " + std::to_string(o.max_events) +
                                     " sign changes by tau = " + scalar::to_text<Real>(hi));
      return r;
    }
    // Crossing or sliding: under the new signs each changed entry must keep moving away from 0.
    const model::matrix<Real> W_event = at(hi);
    const model::matrix<Real> dG_new =
        detail::gradient_derivative(pb, W_event, model::matrix<Real>(-S_new));
    for (int i = 0; i < d; ++i) {
      for (int j = 0; j < d; ++j) {
        if (S_new(i, j) == S(i, j)) continue;
        const int moving = detail::sign_of(dG_new(i, j));
        if (S_new(i, j) != 0 && moving != static_cast<int>(S_new(i, j))) {
          // Samples up to the event are exact; the flow is not defined past it.
          while (next < o.times.size() && o.times[next] <= lo) {
            emit(o.times[next]);
            ++next;
          }
          const size_t crossed = r.events.size();
          r.events.push_back(ev);
          r.fail(reason::undefined,
                 "the sign flow is not defined past tau = " + scalar::to_text<Real>(hi) +
                     " (after " + std::to_string(crossed) + " crossing" +
                     (crossed == 1 ? "" : "s") + " of the switching surfaces)" + ": entry (" +
                     std::to_string(i) + ", " + std::to_string(j) +
                     ") of grad L reaches 0 and both signs push it back (it would slide along "
                     "G_ij = 0, a Filippov solution with sign(0) in (-1, 1))");
          return r;
        }
      }
    }
    r.events.push_back(ev);
    // Samples before the event, then the new segment from it.
    while (next < o.times.size() && o.times[next] < hi) {
      emit(o.times[next]);
      ++next;
    }
    Ws = W_event;
    tau_s = hi;
    S = S_new;
    shift += 2 * ev.bracket;
    now = hi;
  }
  return r;
}

}  // namespace amflow::flow
