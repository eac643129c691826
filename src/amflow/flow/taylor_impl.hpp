// The Taylor-series integrator of the particle flow; included only by integrate_impl.hpp.
//
// Around (t0, Z0) the solution is Z(t0 + h) = sum_k z_k h^k, with z_0 = Z0 and
//   z_{k+1} = V_k / (k + 1),   V = c(t) F(Z),   F(Z) = -G_E R(Z) G_U,
// c = 1 in linear time and c = e^t in log time (c_j = e^t0 / j!). The coefficients of R(Z(t)) come
// from automatic-differentiation recurrences, row by row (shift by the row's largest logit):
//   a = exp(z - top):    a_0 = exp(z_0 - top),  a_k = (1/k) sum_{j=1..k} j z_j a_{k-j}
//                        (j z_j is kept from z's own recurrence; sums of products use one
//                        rounding each, mpfr_fma, for MPFR)
//   S = sum_y a_y,       pi = a / S:  pi_k = (a_k - sum_{j=1..k} S_j pi_{k-j}) / S_0
//   R_k = p(x) (pi_k - [k = 0] Y), the target entry as minus the other classes' entries (as in
//   model::residual), and F_k = -G_E R_k G_U;
// O(K^2) work per entry for order K. The order follows the tolerance and the step the decay of the
// last two coefficients (Jorba and Zou, 2005): K = ceil(-log(tol) / 2) + 1 and
//   h = e^-2 min( (1/|z_{K-1}|)^(1/(K-1)), (1/|z_K|)^(1/K) )   (norms relative to max(1, |z_0|)),
// so that the first neglected terms are about e^(-2K) <= tol. Sample times inside a step are
// evaluated from the series (dense output), so steps are never shortened to land on them.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "amflow/flow/integrate.hpp"
#include "amflow/model/particles.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow::detail {

// Defined in integrate_impl.hpp.
template <class Real>
bool is_finite(const Real& x);
template <class Real>
Real tau_of(const Real& t, bool log_time);

// acc += x y, with one rounding (mpfr_fma) for MPFR numbers.
template <class Real>
void add_product(Real& acc, const Real& x, const Real& y, Real& scratch) {
  if constexpr (is_mpfr_v<Real>) {
    mpfr_fma(acc.backend().data(), x.backend().data(), y.backend().data(), acc.backend().data(),
             MPFR_RNDN);
  } else {
    scratch = x;
    scratch *= y;
    acc += scratch;
  }
}

template <class Real>
class taylor_series {
 public:
  taylor_series(const model::problem<Real>& pb, int order) : pb_(pb), K_(order) {
    const int N = pb.tokens, M = pb.classes;
    z_.assign(K_ + 1, model::matrix<Real>(N, M));
    dz_.assign(K_ + 1, model::matrix<Real>(N, M));
    a_.assign(K_ + 1, model::matrix<Real>(N, M));
    pi_.assign(K_ + 1, model::matrix<Real>(N, M));
    F_.assign(K_ + 1, model::matrix<Real>(N, M));
    S_.assign(K_ + 1, model::vector<Real>(N));
    c_.assign(K_ + 1, Real(0));
  }

  int order() const { return K_; }

  // The coefficients z_0 .. z_K at (t0, Z0).
  void expand(const model::matrix<Real>& Z0, const Real& t0, bool log_time) {
    using std::exp;
    const int N = pb_.tokens, M = pb_.classes;
    z_[0] = Z0;
    if (log_time) {
      c_[0] = exp(t0);
      for (int j = 1; j <= K_; ++j) c_[j] = c_[j - 1] / j;
    }
    model::matrix<Real> R(N, M);
    for (int k = 0; k < K_; ++k) {
      for (int x = 0; x < N; ++x) {
        const int t = pb_.target[x];
        Real sum(0);
        if (k == 0) {
          const Real top = Z0.row(x).maxCoeff();
          for (int y = 0; y < M; ++y) {
            a_[0](x, y) = exp(Real(Z0(x, y) - top));
            sum += a_[0](x, y);
          }
        } else {
          for (int y = 0; y < M; ++y) {
            // In-place operations on reused numbers: MPFR temporaries would allocate each time.
            acc_ = 0;
            for (int j = 1; j <= k; ++j) add_product(acc_, dz_[j](x, y), a_[k - j](x, y), tmp_);
            acc_ /= k;
            a_[k](x, y) = acc_;
            sum += acc_;
          }
        }
        S_[k](x) = sum;
        Real others(0);
        for (int y = 0; y < M; ++y) {
          acc_ = 0;
          for (int j = 1; j <= k; ++j) add_product(acc_, S_[j](x), pi_[k - j](x, y), tmp_);
          pi_[k](x, y) = a_[k](x, y);
          pi_[k](x, y) -= acc_;
          pi_[k](x, y) /= S_[0](x);
          if (y != t) others += pi_[k](x, y);
        }
        for (int y = 0; y < M; ++y) R(x, y) = pb_.p(x) * pi_[k](x, y);
        R(x, t) = -pb_.p(x) * others;  // p (pi_t - 1) at k = 0; sum_y pi_k = 0 for k >= 1
      }
      F_[k] = -model::interact(pb_, R);
      for (Eigen::Index i = 0; i < F_[k].size(); ++i) {
        if (log_time) {
          acc_ = 0;
          for (int j = 0; j <= k; ++j) add_product(acc_, c_[j], F_[k - j](i), tmp_);
        } else {
          acc_ = F_[k](i);
        }
        dz_[k + 1](i) = acc_;  // (k + 1) z_{k+1}, the factor the exponential's recurrence needs
        acc_ /= k + 1;
        z_[k + 1](i) = acc_;
      }
    }
  }

  // sum_k z_k h^k by Horner's rule.
  model::matrix<Real> at(const Real& h) const {
    model::matrix<Real> Z = z_[K_];
    for (Eigen::Index i = 0; i < Z.size(); ++i) {
      for (int k = K_ - 1; k >= 0; --k) {
        Z(i) *= h;
        Z(i) += z_[k](i);
      }
    }
    return Z;
  }

  // The Jorba-Zou step (coefficient sizes relative to max(1, |z_0|)); the tolerance enters through
  // the order.
  Real step() const {
    using std::exp;
    using std::max;
    using std::min;
    using std::pow;
    const Real scale = max(Real(1), Real(z_[0].cwiseAbs().maxCoeff()));
    Real h(-1);
    for (int j : {K_ - 1, K_}) {
      const Real size = z_[j].cwiseAbs().maxCoeff() / scale;
      if (!(size > 0)) continue;  // a vanishing coefficient sets no bound
      const Real r = pow(Real(1 / size), Real(1) / j);
      h = h < 0 ? r : min(h, r);
    }
    if (h < 0) {
      // Every checked coefficient vanishes (a polynomial solution): any step is exact; take one
      // that keeps the series' other terms small.
      h = Real(1);
    }
    return h * exp(Real(-2));
  }

 private:
  const model::problem<Real>& pb_;
  int K_;
  std::vector<model::matrix<Real>> z_, dz_, a_, pi_, F_;  // dz_[k] = k z_k
  std::vector<model::vector<Real>> S_;
  std::vector<Real> c_;
  Real acc_, tmp_;  // scratch numbers, reused
};

// The order for a tolerance: K = ceil(-log(tol) / 2) + 1 (at least 4).
template <class Real>
int taylor_order(const Real& tol) {
  using std::log;
  const double k = std::ceil(static_cast<double>(-log(tol)) / 2) + 1;
  return static_cast<int>(std::max(4.0, k));
}

// One run of the Taylor integrator through the targets (integration variable), recording the state
// at each from the series. Returns "" or why it stopped.
template <class Real, class Record>
std::string taylor_drive(const model::problem<Real>& pb, const std::vector<Real>& targets,
                         const Real& tol, long max_steps, bool log_time, run_stats& stats,
                         Record&& record) {
  using std::abs;
  using std::max;
  taylor_series<Real> series(pb, taylor_order(tol));
  model::matrix<Real> Z = pb.Z0;
  Real t(0);
  size_t next = 0;
  while (next < targets.size() && !(targets[next] > t)) record(next++, Z);
  const auto where = [&] { return " at tau = " + scalar::to_text<Real>(tau_of(t, log_time)); };
  while (next < targets.size()) {
    if (stats.steps >= max_steps) {
      return "taylor: the step limit (" + std::to_string(max_steps) + ") was reached" + where() +
             "; raise --max-steps or --tol";
    }
    series.expand(Z, t, log_time);
    stats.evaluations += series.order();
    const Real h = series.step();
    if (!(h > 16 * scalar::epsilon<Real>() * max(Real(1), abs(t)))) {
      return "taylor: the step size fell to " + scalar::to_text<Real>(h) + where();
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
      if (!is_finite(Z(i))) return "taylor: the state is no longer finite" + where();
    }
  }
  return "";
}

}  // namespace amflow::flow::detail
