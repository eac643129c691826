// The Taylor-series integrator of the particle flow: included by integrate_impl.hpp, by the
// certificate's approximate trajectory (certify/enclose.cpp) and by its test and benchmark.
//
// Around (t0, Z0) the solution is Z(t0 + h) = sum_k z_k h^k, with z_0 = Z0 and
//   z_{k+1} = V_k / (k + 1),   V = -G_E (c R(Z)) G_U,
// c = 1 in linear time and c = e^t in log time. The coefficients come from automatic-
// differentiation recurrences, row by row; in row x with target t (the other classes y != t):
//   a_y = exp(z_y - z_t) exp(z_t(t0) - top):  a_y,0 = exp(z_y,0 - top),
//                        a_y,k = (1/k) sum_{j=1..k} j (z_y,j - z_t,j) a_y,k-j
//        (top the row's largest logit at t0; the target's own a_t = exp(z_t,0 - top) is then a
//        constant, so it needs no series);
//   S = a_t + sum_{y != t} a_y  and  T = S / c  (in log time T_k = sum_j (-1)^j e^-t0 / j! S_k-j,
//        one product per row, not per entry);
//   q_y = a_y / T = c pi_y:  q_y,k = (a_y,k - sum_{j=1..k} T_j q_y,k-j) / T_0;
//   c R = p(x) q_y for y != t, and the target entry is minus the others (as in model::residual:
//        c p (pi_t - 1) = -c p sum_{y != t} pi_y).
// Work per row and order: 2 (M - 1) products of series (+ 1 in log time), each O(K^2) for order K,
// against 3 M for the plain recurrences (exponential and quotient of every entry, then the factor
// c on every entry). j z_j is kept from z's own recurrence; for MPFR the sums of products are
// scalar::dot (exact products, one rounding per sum). The order follows the tolerance and the step
// the decay of the last two coefficients (Jorba and Zou, 2005): K = ceil(-log(tol) / 2) + 1 and
//   h = e^-2 min( (1/|z_{K-1}|)^(1/(K-1)), (1/|z_K|)^(1/K) )   (norms relative to max(1, |z_0|)),
// so that the first neglected terms are about e^(-2K) <= tol; the step is shrunk if the estimate
// |z_{K-1}| h^(K-1) + |z_K| h^K of the remainder exceeds the tolerance. Sample times inside a step
// are evaluated from the series (dense output), so steps are never shortened to land on them.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "amflow/flow/drive.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/model/quantities.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dot.hpp"

namespace amflow::flow::detail {

template <class Real>
class taylor_series {
 public:
  // eta > 0: the modified flow of GD at step eta instead of the gradient flow.
  taylor_series(const model::problem<Real>& pb, int order, const Real& eta = Real(0))
      : pb_(pb), K_(order), N_(pb.tokens), M_(pb.classes), eta_(eta), modified_(eta > 0) {
    // Each entry's coefficients are contiguous (the products of series walk them), and every
    // number is allocated once, here.
    const size_t entries = static_cast<size_t>(N_) * M_ * (K_ + 1);
    for (auto* v : {&z_, &dz_, &dd_, &a_, &q_}) v->assign(entries, Real(0));
    if (modified_) {
      for (auto* v : {&D_, &E_, &U_}) v->assign(entries, Real(0));
    }
    for (auto* v : {&S_, &T_}) v->assign(static_cast<size_t>(N_) * (K_ + 1), Real(0));
    c_.assign(K_ + 1, Real(0));
    at_.assign(N_, Real(0));
    R_ = model::matrix<Real>::Zero(N_, M_);
  }

  int order() const { return K_; }

  // z_k (N x M), 0 <= k <= K, of the last expansion.
  model::matrix<Real> coefficient(int k) const {
    model::matrix<Real> C(N_, M_);
    for (int x = 0; x < N_; ++x) {
      for (int y = 0; y < M_; ++y) C(x, y) = z(x, y)[k];
    }
    return C;
  }

  // The coefficients z_0 .. z_K at (t0, Z0).
  void expand(const model::matrix<Real>& Z0, const Real& t0, bool log_time) {
    using std::exp;
    if (log_time) {
      // The gradient flow divides the row sums by c (T = S / c): c_j are those of e^-t. The
      // modified flow multiplies its residual by c: c_j are those of e^t.
      c_[0] = exp(modified_ ? t0 : Real(-t0));
      for (int j = 1; j <= K_; ++j) c_[j] = (modified_ ? c_[j - 1] : Real(-c_[j - 1])) / j;
    }
    for (int x = 0; x < N_; ++x) {
      const int t = pb_.target[x];
      const Real top = Z0.row(x).maxCoeff();
      Real& S0 = row(S_, x)[0];
      at_[x] = exp(Real(Z0(x, t) - top));  // a_t, constant
      S0 = at_[x];
      for (int y = 0; y < M_; ++y) {
        z(x, y)[0] = Z0(x, y);
        if (y == t) continue;
        a(x, y)[0] = exp(Real(Z0(x, y) - top));
        S0 += a(x, y)[0];
      }
    }
    // In-place operations on reused numbers: MPFR temporaries would allocate each time.
    for (int k = 0; k < K_; ++k) {
      for (int x = 0; x < N_; ++x) residual_row(x, k, log_time);
      if (modified_) modify(k, log_time);
      // (k + 1) z_{k+1} = -(G_E c R_k G_U), R_k the residual's coefficient (with the modified
      // flow's correction)
      if (!(pb_.G_E_identity && pb_.G_U_identity)) R_ = model::interact(pb_, R_);
      for (int x = 0; x < N_; ++x) {
        const int t = pb_.target[x];
        for (int y = 0; y < M_; ++y) {
          Real& dzk = dz(x, y)[k + 1];
          dzk = R_(x, y);
          dzk *= -1;
          z(x, y)[k + 1] = dzk;
          z(x, y)[k + 1] /= k + 1;
        }
        for (int y = 0; y < M_; ++y) {
          if (y == t) continue;
          dd(x, y)[k + 1] = dz(x, y)[k + 1];
          dd(x, y)[k + 1] -= dz(x, t)[k + 1];
        }
      }
    }
  }

  // sum_k z_k h^k by Horner's rule.
  model::matrix<Real> at(const Real& h) const {
    model::matrix<Real> Z(N_, M_);
    for (int x = 0; x < N_; ++x) {
      for (int y = 0; y < M_; ++y) {
        const Real* zs = z(x, y);
        Real& v = Z(x, y);
        v = zs[K_];
        for (int k = K_ - 1; k >= 0; --k) {
          v *= h;
          v += zs[k];
        }
      }
    }
    return Z;
  }

  // The Jorba-Zou step (coefficient sizes relative to max(1, |z_0|)), shrunk if the remainder
  // estimate |z_{K-1}| h^(K-1) + |z_K| h^K (relative) exceeds tol.
  Real step(const Real& tol) const {
    using std::abs;
    using std::exp;
    using std::max;
    using std::min;
    using std::pow;
    const auto largest = [&](int k) {
      Real m(0);
      for (int x = 0; x < N_; ++x) {
        for (int y = 0; y < M_; ++y) m = max(m, Real(abs(z(x, y)[k])));
      }
      return m;
    };
    const Real scale = max(Real(1), largest(0));
    Real size[2], h(-1);
    for (int i = 0; i < 2; ++i) {
      const int j = K_ - 1 + i;
      size[i] = largest(j) / scale;
      if (!(size[i] > 0)) continue;  // a vanishing coefficient sets no bound
      const Real r = pow(Real(1 / size[i]), Real(1) / j);
      h = h < 0 ? r : min(h, r);
    }
    if (h < 0) {
      // Every checked coefficient vanishes (a polynomial solution): any step is exact; take one
      // that keeps the series' other terms small.
      return exp(Real(-2));
    }
    h *= exp(Real(-2));
    const Real remainder = size[0] * pow(h, Real(K_ - 1)) + size[1] * pow(h, Real(K_));
    if (remainder > tol) h *= pow(Real(tol / remainder), Real(1) / (K_ - 1));
    return h;
  }

 private:
  // Row x's coefficient k of the exponentials and of the residual, into R_: c R_k for the gradient
  // flow; R_k (no factor c) for the modified flow, which needs the softmax itself (q = pi).
  void residual_row(int x, int k, bool log_time) {
    const int t = pb_.target[x];
    Real* S = row(S_, x);
    Real* T = row(T_, x);
    if (k > 0) {
      S[k] = 0;
      for (int y = 0; y < M_; ++y) {
        if (y == t) continue;
        Real* ay = a(x, y);
        convolve(ay[k], dd(x, y), 1, ay, k);
        ay[k] /= k;
        S[k] += ay[k];
      }
    }
    if (log_time && !modified_) {
      convolve(T[k], c_.data(), 0, S, k);
    } else {
      T[k] = S[k];
    }
    Real& others = R_(x, t);
    others = 0;
    for (int y = 0; y < M_; ++y) {
      if (y == t && !modified_) continue;  // the gradient flow needs no pi_t
      Real* qy = q(x, y);
      convolve(acc_, T, 1, qy, k);
      if (y != t) {
        qy[k] = a(x, y)[k];
      } else if (k == 0) {
        qy[k] = at_[x];
      } else {
        qy[k] = 0;
      }
      qy[k] -= acc_;
      qy[k] /= T[0];
      if (y == t) continue;
      R_(x, y) = qy[k];
      R_(x, y) *= pb_.p(x);
      others -= R_(x, y);
    }
  }

  // The modified flow (P10): R_ (coefficient k of R, from residual_row) becomes c (R + (eta/2) T),
  //   D = G_E R G_U,  w_x = sum_y pi_y D_y,  T_y = p(x) pi_y (D_y - w_x),
  // the target entry again minus the others (the rows of T sum to zero as those of R do).
  void modify(int k, bool log_time) {
    model::matrix<Real> Dk = pb_.G_E_identity && pb_.G_U_identity ? R_ : model::interact(pb_, R_);
    const Real half_eta = eta_ / 2;
    for (int x = 0; x < N_; ++x) {
      const int t = pb_.target[x];
      for (int y = 0; y < M_; ++y) entry(D_, x, y)[k] = Dk(x, y);
      Real w(0);
      for (int y = 0; y < M_; ++y) {
        convolve(acc_, q(x, y), 0, entry(D_, x, y), k);
        w += acc_;
      }
      Real& others = R_(x, t);
      others = 0;
      for (int y = 0; y < M_; ++y) {
        Real* Ey = entry(E_, x, y);
        Ey[k] = entry(D_, x, y)[k];
        Ey[k] -= w;
        if (y == t) continue;
        Real* Uy = entry(U_, x, y);
        convolve(acc_, q(x, y), 0, Ey, k);
        Uy[k] = acc_;
        Uy[k] *= pb_.p(x);
        Uy[k] *= half_eta;
        Uy[k] += R_(x, y);
        if (log_time) {
          convolve(R_(x, y), c_.data(), 0, Uy, k);
        } else {
          R_(x, y) = Uy[k];
        }
        others -= R_(x, y);
      }
    }
  }

  // out = sum_{j=from..k} x_j y_{k-j}; for MPFR with one rounding (scalar::dot).
  void convolve(Real& out, const Real* xs, int from, const Real* ys, int k) {
    if constexpr (is_mpfr_v<Real>) {
      scalar::dot(out, xs + from, 1, ys + (k - from), -1, k - from + 1, limbs_);
    } else {
      out = 0;
      for (int j = from; j <= k; ++j) {
        tmp_ = xs[j];
        tmp_ *= ys[k - j];
        out += tmp_;
      }
    }
  }

  Real* entry(std::vector<Real>& v, int x, int y) { return v.data() + (x * M_ + y) * (K_ + 1); }
  const Real* entry(const std::vector<Real>& v, int x, int y) const {
    return v.data() + (x * M_ + y) * (K_ + 1);
  }
  Real* row(std::vector<Real>& v, int x) { return v.data() + x * (K_ + 1); }
  Real* z(int x, int y) { return entry(z_, x, y); }
  const Real* z(int x, int y) const { return entry(z_, x, y); }
  Real* dz(int x, int y) { return entry(dz_, x, y); }
  Real* dd(int x, int y) { return entry(dd_, x, y); }
  Real* a(int x, int y) { return entry(a_, x, y); }
  Real* q(int x, int y) { return entry(q_, x, y); }

  const model::problem<Real>& pb_;
  int K_, N_, M_;
  Real eta_;
  bool modified_;
  // Per entry (x, y), coefficients 0..K: z_k, dz_k = k z_k, dd_k = k (z_y,k - z_t,k) (y != t), a_k,
  // q_k; per row: S_k, T_k; c_j = (-1)^j e^-t0 / j! (gradient flow) or e^t0 / j! (modified flow).
  std::vector<Real> z_, dz_, dd_, a_, q_, S_, T_, c_;
  // The modified flow's per-entry series: D_k, E_k = D_k - w_k, U_k = R_k + (eta/2) T_k.
  std::vector<Real> D_, E_, U_;
  std::vector<Real> at_;          // a_t = exp(z_t,0 - top) per row
  model::matrix<Real> R_;         // c R_k, reused
  Real acc_, tmp_;                // scratch numbers, reused
  std::vector<mp_limb_t> limbs_;  // scalar::dot's accumulator, reused
};

// The order for a tolerance: K = ceil(-log(tol) / 2) + 1 (at least 4).
template <class Real>
int taylor_order(const Real& tol) {
  using std::log;
  const double k = std::ceil(static_cast<double>(-log(tol)) / 2) + 1;
  return static_cast<int>(std::max(4.0, k));
}

// Where the Taylor run hands over to an implicit stepper (flow::stepper_kind::automatic): set by
// taylor_drive when the flow has become stiff for it, with the state, the time, the step it was
// about to take and the next target.
template <class Real>
struct taylor_handover {
  bool happened = false;
  model::matrix<Real> Z;
  Real t = Real(0);
  Real h = Real(0);
  size_t next = 0;
};

// Decides where the Taylor run should hand over to Radau IIA: where its step is held by stability
// and that will not pass. The rate of the linearised flow is c(t) lambda_max (lambda_max the
// Hessian's largest eigenvalue, c = e^t in log time). For a mode decaying at rate Lambda, the
// Jorba-Zou step is e^-2 (K! / (a Lambda^K))^(1/K) ~ (K / (e^3 Lambda)) a^(-1/K) for amplitude a:
// once a is near the tolerance, h Lambda ~ 0.4 K (measured: 0.40 on every named problem); the step
// is taken to be held by stability when h Lambda >= K / 4. That alone is no reason to leave: on
// separable problems the rate in log time tends to a constant (the Hessian decays like 1 / tau)
// and the steps keep one size (pair, large-memory: 0.40 K from s = 8 on, ~170 steps to 1e15),
// while near a finite limit it grows like e^s (underparameterized, mixed: log(rate) grows by 1.00
// per unit of s). So the monitor fits the growth g of log(rate) per unit of t over its last three
// checks, all held, and predicts the Taylor steps left at h = 0.4 K / rate(t'), rate(t') = rate(t)
// e^(g (t' - t)):
//   g > 0:  (e^(g T) - 1) / g  rate / (0.4 K),   g <= 0:  min(T, 1 / |g|) rate / (0.4 K),
// T the time left (in linear time a rate falling like 1 / tau, g = -1 / tau, gets tau rate /
// (0.4 K) per e-folding). It hands over when more than 5000 steps are predicted (a Radau step
// costs as much as some tens of Taylor steps and it needs some dozens to reach tau = 1e15).
// Checked every 8 steps; lambda_max (a symmetric eigenproblem) only once the trace of the Hessian,
// an upper bound, says the step may be held.
template <class Real>
class stiffness_monitor {
 public:
  bool stiff(const model::problem<Real>& pb, const model::matrix<Real>& Z, const Real& t,
             const Real& h, int order, bool log_time, long steps, const Real& end) {
    using std::exp;
    using std::log;
    if (steps == 0 || steps % 8 != 0) return false;
    const Real c = log_time ? Real(exp(t)) : Real(1);
    if (h * c * trace(pb, Z) * 4 < order) {
      checks_.clear();
      return false;
    }
    const Real rate = model::sharpness(pb, Z) * c;
    if (!(rate > 0) || h * rate * 4 < order) {
      checks_.clear();
      return false;
    }
    checks_.push_back({static_cast<double>(t), static_cast<double>(log(rate))});
    if (checks_.size() > 3) checks_.erase(checks_.begin());
    if (checks_.size() < 3) return false;
    const double g = (checks_.back().log_rate - checks_.front().log_rate) /
                     (checks_.back().t - checks_.front().t);
    const double left = static_cast<double>(end - t);
    const double per_step = static_cast<double>(rate) / (0.4 * order);
    const double predicted = g > 0 ? std::expm1(std::min(g * left, 700.0)) / g * per_step
                                   : std::min(left, g < 0 ? -1 / g : left) * per_step;
    return predicted > 5000;
  }

 private:
  // tr H = sum_x p(x) G_E(x, x) (sum_y pi_y G_U(y, y) - pi^T G_U pi) >= lambda_max.
  static Real trace(const model::problem<Real>& pb, const model::matrix<Real>& Z) {
    const model::matrix<Real> P = model::softmax_rows(Z);
    Real sum(0);
    for (int x = 0; x < pb.tokens; ++x) {
      const model::vector<Real> pi = P.row(x).transpose();
      Real diag(0), quad(0);  // pi . diag(G_U), pi^T G_U pi
      if (pb.G_U.size() != 0) {
        diag = pi.dot(pb.G_U.diagonal());
        quad = pi.dot(pb.G_U * pi);
      } else {
        for (int y = 0; y < pb.classes; ++y) diag += pi(y) * pb.U.row(y).squaredNorm();
        quad = (pb.U.transpose() * pi).squaredNorm();
      }
      sum += pb.p(x) * model::gram_diagonal(pb.E, pb.G_E, x) * Real(diag - quad);
    }
    return sum;
  }

  struct check {
    double t;
    double log_rate;
  };
  std::vector<check> checks_;
};

// One run of the Taylor integrator through the targets (integration variable), recording the state
// at each from the series. Returns "" or why it stopped. With a handover (the gradient flow only),
// the run stops where stiffness_monitor says so and fills it in.
template <class Real, class Record>
outcome taylor_drive(const model::problem<Real>& pb, const std::vector<Real>& targets,
                     const Real& tol, const Real& modified_eta, long max_steps, bool log_time,
                     run_stats& stats, const run_control<Real>& control, Record&& record,
                     taylor_handover<Real>* handover = nullptr) {
  using std::abs;
  using std::max;
  taylor_series<Real> series(pb, taylor_order(tol), modified_eta);
  stiffness_monitor<Real> monitor;
  model::matrix<Real> Z = pb.Z0;
  Real t(0);
  size_t next = 0;
  while (next < targets.size() && !(targets[next] > t)) record(next++, Z);
  const auto where = [&] { return " at tau = " + scalar::to_text<Real>(tau_of(t, log_time)); };
  while (next < targets.size()) {
    if (control.stop && *control.stop) return outcome::failure(reason::stopped, "stopped");
    if (stats.steps >= max_steps) {
      return outcome::failure(reason::step_limit,
                              "taylor: the step limit (" + std::to_string(max_steps) +
                                  ") was reached" + where() + "; raise max_steps or the tolerance");
    }
    series.expand(Z, t, log_time);
    stats.series_coefficients += series.order();
    const Real h = series.step(tol);
    if (!(h > 16 * scalar::epsilon<Real>() * max(Real(1), abs(t)))) {
      return outcome::failure(reason::step_underflow, "taylor: the step size fell to " +
                                                          scalar::to_text<Real>(h) + where());
    }
    if (handover && !(modified_eta > 0) &&
        monitor.stiff(pb, Z, t, h, series.order(), log_time, stats.steps, targets.back())) {
      handover->happened = true;
      handover->Z = Z;
      handover->t = t;
      handover->h = h;
      handover->next = next;
      return {};
    }
    const Real t_new = t + h;
    while (next < targets.size() && !(targets[next] > t_new)) {
      record(next, series.at(Real(targets[next] - t)));
      ++next;
    }
    ++stats.steps;
    if (next == targets.size()) break;
    Z = series.at(h);
    t = t_new;
    for (Eigen::Index i = 0; i < Z.size(); ++i) {
      if (!scalar::is_finite(Z(i))) {
        return outcome::failure(reason::not_finite,
                                "taylor: the state is no longer finite" + where());
      }
    }
    if (control.on_step) control.on_step(t);
  }
  return {};
}

}  // namespace amflow::flow::detail
