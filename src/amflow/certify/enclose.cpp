#include "amflow/certify/enclose.hpp"

#include <arb_poly.h>

#include <algorithm>
#include <cmath>

#include "amflow/certify/problem.hpp"
#include "amflow/flow/taylor_impl.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::certify {
namespace {

// A power series (or polynomial) with ball coefficients.
class series {
 public:
  series() { arb_poly_init(p_); }
  series(const series& o) {
    arb_poly_init(p_);
    arb_poly_set(p_, o.p_);
  }
  series& operator=(const series& o) {
    if (this != &o) arb_poly_set(p_, o.p_);
    return *this;
  }
  ~series() { arb_poly_clear(p_); }
  arb_poly_struct* raw() { return p_; }
  const arb_poly_struct* raw() const { return p_; }
  ball coeff(long k) const {
    ball b;
    arb_poly_get_coeff_arb(b.raw(), p_, k);
    return b;
  }
  void set(long k, const ball& b) { arb_poly_set_coeff_arb(p_, k, b.raw()); }
  ball at(const ball& u) const {
    ball b;
    arb_poly_evaluate(b.raw(), p_, u.raw(), precision_scope::bits());
    return b;
  }

 private:
  arb_poly_t p_;
};

// The flow's rate as a power series: V = c(u) G_E R(Q(u)) G_U to n terms, where dZ/ds = -V and
// c(u) = c0 e^u.
struct velocity {
  const ball_problem& pb;
  bool identity_E, identity_U;

  std::vector<series> operator()(const std::vector<series>& Q, const ball& c0, long n) const {
    const int N = pb.tokens, M = pb.classes;
    // c(u) = c0 e^u = c0 sum u^k / k!
    series c;
    ball ck = c0;
    for (long k = 0; k < n; ++k) {
      c.set(k, ck);
      ck /= ball(k + 1);
    }
    std::vector<series> R(static_cast<size_t>(N) * M);
    series d, a, S, inv, q;
    for (int x = 0; x < N; ++x) {
      const int t = pb.target[x];
      // pi_y = e^(d_y - m) / (e^-m + sum e^(d_y' - m)), d_y = z_y - z_t, m the largest midpoint of
      // the d_y(0) and 0 (any shift is exact mathematics; this one keeps the exponentials <= ~1).
      arf_t m;
      arf_init(m);
      arf_zero(m);
      for (int y = 0; y < M; ++y) {
        if (y == t) continue;
        ball d0 = Q[x * M + y].coeff(0) - Q[x * M + t].coeff(0);
        if (arf_cmp(arb_midref(d0.raw()), m) > 0) arf_set(m, arb_midref(d0.raw()));
      }
      ball shift;
      arb_set_arf(shift.raw(), m);
      arf_clear(m);
      arb_poly_zero(S.raw());
      S.set(0, exp(-shift));
      std::vector<series> as(M);
      for (int y = 0; y < M; ++y) {
        if (y == t) continue;
        arb_poly_sub(d.raw(), Q[x * M + y].raw(), Q[x * M + t].raw(), precision_scope::bits());
        arb_poly_truncate(d.raw(), n);
        ball c = d.coeff(0) - shift;
        d.set(0, c);
        arb_poly_exp_series(as[y].raw(), d.raw(), n, precision_scope::bits());
        arb_poly_add(S.raw(), S.raw(), as[y].raw(), precision_scope::bits());
      }
      arb_poly_inv_series(inv.raw(), S.raw(), n, precision_scope::bits());
      arb_poly_mullow(inv.raw(), inv.raw(), c.raw(), n,
                      precision_scope::bits());  // c / S: the factor c, once
      series& Rt = R[x * M + t];
      arb_poly_zero(Rt.raw());
      for (int y = 0; y < M; ++y) {
        if (y == t) continue;
        series& Ry = R[x * M + y];
        arb_poly_mullow(Ry.raw(), as[y].raw(), inv.raw(), n, precision_scope::bits());
        arb_poly_scalar_mul(Ry.raw(), Ry.raw(), pb.p[x].raw(), precision_scope::bits());
        arb_poly_sub(Rt.raw(), Rt.raw(), Ry.raw(), precision_scope::bits());
      }
    }
    // G_E R G_U: out(x, y) = sum_k G(x or y, k) in(k or x, ...), one side at a time.
    const auto mix = [&](const std::vector<series>& in, bool left) {
      std::vector<series> out(in.size());
      series tmp;
      const int K = left ? N : M;
      const std::vector<ball>& G = left ? pb.G_E : pb.G_U;
      for (int x = 0; x < N; ++x) {
        for (int y = 0; y < M; ++y) {
          for (int k = 0; k < K; ++k) {
            const series& term = left ? in[k * M + y] : in[x * M + k];
            const ball& g = left ? G[x * K + k] : G[k * K + y];
            arb_poly_scalar_mul(tmp.raw(), term.raw(), g.raw(), precision_scope::bits());
            arb_poly_add(out[x * M + y].raw(), out[x * M + y].raw(), tmp.raw(),
                         precision_scope::bits());
          }
        }
      }
      return out;
    };
    std::vector<series> A = identity_E ? R : mix(R, true);
    std::vector<series> B = identity_U ? A : mix(A, false);
    return B;
  }
};

// |v|_F rounded up, as an exact ball.
ball frobenius_upper(const std::vector<ball>& v) {
  ball s;
  for (const ball& b : v) {
    const ball a = ball::abs_upper(b);
    s += a * a;
  }
  return ball::abs_upper(sqrt(s));
}

// What is kept of a step for the samples and the event search.
struct step_record {
  ball t0;  // exact
  ball h;   // t1 - t0 (t1 the next step's exact start)
  std::vector<series> P;
  ball error;  // bound on |Z - Zt|_* over the step
};

class engine {
 public:
  // goal: a defect per unit of s small enough not to be worth halving a step for.
  engine(const ball_problem& pb, const ball& gram_bound, const ball& goal, int max_halvings)
      : pb_(pb),
        goal_(goal),
        max_halvings_(max_halvings),
        N_(pb.tokens),
        M_(pb.classes),
        rate_{pb, is_identity(pb.G_E, pb.tokens), is_identity(pb.G_U, pb.classes)},
        inv_sqrt_gram_(ball(1) / sqrt(gram_bound)) {
    // sqrt(v^T G v) for v = 1_(x,t) - 1_(x,y) (a logit difference) and v = 1_(x,y) (a logit).
    diff_scale_.resize(static_cast<size_t>(N_) * M_);
    entry_scale_.resize(static_cast<size_t>(N_) * M_);
    for (int x = 0; x < N_; ++x) {
      const int t = pb.target[x];
      for (int y = 0; y < M_; ++y) {
        const ball gx = pb.G_E[x * N_ + x];
        entry_scale_[x * M_ + y] = ball::abs_upper(sqrt(gx * pb.G_U[y * M_ + y]));
        const ball q = pb.G_U[t * M_ + t] + pb.G_U[y * M_ + y] - ball(2) * pb.G_U[t * M_ + y];
        diff_scale_[x * M_ + y] = ball::abs_upper(sqrt(ball::abs_upper(gx * q)));
      }
    }
  }

  const velocity& rate() const { return rate_; }
  const ball& inv_sqrt_gram() const { return inv_sqrt_gram_; }

  // The integral of |delta|_* over the step [0, h] of the polynomial P started at s = t0.
  ball defect_integral(const std::vector<series>& P, const ball& t0, const ball& h, long n) const {
    return piece(P, t0, ball(0), h, n, 0) * inv_sqrt_gram_;
  }

  // Logit differences z_x,f*(x) - z_x,y (y != f*(x)) at s = t0 + u for u a ball inside the step,
  // widened by the error bound; the target entry holds +inf radius (unused).
  std::vector<ball> differences(const step_record& st, const ball& u) const {
    std::vector<ball> D(static_cast<size_t>(N_) * M_);
    for (int x = 0; x < N_; ++x) {
      const int t = pb_.target[x];
      const ball zt = st.P[x * M_ + t].at(u);
      for (int y = 0; y < M_; ++y) {
        if (y == t) continue;
        ball d = zt - st.P[x * M_ + y].at(u);
        d.add_error(diff_scale_[x * M_ + y] * st.error);
        D[x * M_ + y] = d;
      }
    }
    return D;
  }

  // The logit differences of the exact initial state.
  std::vector<ball> initial_differences() const {
    std::vector<ball> D(static_cast<size_t>(N_) * M_);
    for (int x = 0; x < N_; ++x) {
      const int t = pb_.target[x];
      for (int y = 0; y < M_; ++y) {
        if (y != t) D[x * M_ + y] = pb_.Z0[x * M_ + t] - pb_.Z0[x * M_ + y];
      }
    }
    return D;
  }

  // Every logit at s = t0 + u, widened by the error bound.
  std::vector<ball> logits(const step_record& st, const ball& u) const {
    std::vector<ball> Z(static_cast<size_t>(N_) * M_);
    for (size_t i = 0; i < Z.size(); ++i) {
      Z[i] = st.P[i].at(u);
      Z[i].add_error(entry_scale_[i] * st.error);
    }
    return Z;
  }

  ball margin(const std::vector<ball>& D, int x) const {
    const int t = pb_.target[x];
    ball m;
    bool first = true;
    for (int y = 0; y < M_; ++y) {
      if (y == t) continue;
      m = first ? D[x * M_ + y] : min(m, D[x * M_ + y]);
      first = false;
    }
    return m;
  }

  ball loss(const std::vector<ball>& D) const {
    ball L;
    for (int x = 0; x < N_; ++x) {
      const int t = pb_.target[x];
      ball s;
      for (int y = 0; y < M_; ++y) {
        if (y != t) s += exp(-D[x * M_ + y]);
      }
      L += pb_.p[x] * log1p(s);
    }
    return L;
  }

 private:
  // delta = Q' + V(Q) to n terms.
  std::vector<series> defect(const std::vector<series>& Q, const ball& c0, long n) const {
    std::vector<series> V = rate_(Q, c0, n);
    series dQ;
    for (size_t i = 0; i < V.size(); ++i) {
      arb_poly_derivative(dQ.raw(), Q[i].raw(), precision_scope::bits());
      arb_poly_add(V[i].raw(), V[i].raw(), dQ.raw(), precision_scope::bits());
      arb_poly_truncate(V[i].raw(), n);
    }
    return V;
  }

  // The integral of |delta|_F over [a, a + w] (a exact): the series at a to n terms (its
  // coefficients cancel to rounding where the Taylor series is good) plus the remainder,
  // coefficient n over the whole piece. Ball arithmetic over a wide argument overestimates that
  // coefficient (the argument's radius reaches every power), so while the remainder dominates the
  // piece is halved: each half multiplies the remainder's weight w^(n+1) by 2^-(n+1).
  ball piece(const std::vector<series>& P, const ball& t0, const ball& a, const ball& w, long n,
             int depth) const {
    std::vector<series> Q(P.size());
    const bool at_zero = arb_is_zero(a.raw()) != 0;
    if (!at_zero) {
      for (size_t i = 0; i < P.size(); ++i) {
        arb_poly_taylor_shift(Q[i].raw(), P[i].raw(), a.raw(), precision_scope::bits());
      }
    }
    const std::vector<series>& PA = at_zero ? P : Q;
    std::vector<series> D0 = defect(PA, exp(t0 + a), n);
    ball point;
    ball wk = w;  // w^(k+1)
    for (long k = 0; k < n; ++k) {
      point += size_of(D0, k) * wk / ball(k + 1);
      wk *= w;
    }
    // The remainder needs only a few correct digits of a coefficient that is not the result of a
    // cancellation (P' has degree < n): it is computed at 128 bits, which Arb keeps rigorous.
    ball remainder;
    {
      precision_scope low(std::min<long>(128, precision_scope::bits()));
      const ball range = ball::between(ball(0), w);
      for (size_t i = 0; i < P.size(); ++i) {
        arb_poly_taylor_shift(Q[i].raw(), PA[i].raw(), range.raw(), precision_scope::bits());
      }
      std::vector<series> D1 = defect(Q, exp(t0 + a + range), n + 1);
      remainder = size_of(D1, n) * wk / ball(n + 1);
    }
    if (depth < max_halvings_ && !arb_le(remainder.raw(), point.raw()) &&
        !arb_le(remainder.raw(), (goal_ * w).raw())) {
      const ball half = w / ball(2);
      ball split = piece(P, t0, a, half, n, depth + 1) + piece(P, t0, a + half, half, n, depth + 1);
      // Keep the smaller bound (both are bounds).
      if (arb_lt(split.raw(), (point + remainder).raw())) return split;
    }
    return point + remainder;
  }

  static ball size_of(const std::vector<series>& D, long k) {
    std::vector<ball> v(D.size());
    for (size_t i = 0; i < D.size(); ++i) v[i] = D[i].coeff(k);
    return frobenius_upper(v);
  }

  const ball_problem& pb_;
  ball goal_;
  int max_halvings_;
  int N_, M_;
  velocity rate_;
  ball inv_sqrt_gram_;
  std::vector<ball> diff_scale_, entry_scale_;
};

std::string tau_text(const ball& s) {
  ball tau;
  arb_expm1(tau.raw(), s.raw(), precision_scope::bits());
  return tau.text(12);
}

}  // namespace

namespace {

// The event search over the recorded steps: for one token, the zeros of f (its margin: crossings)
// or of f' (turns), by bisection of each step's interval; an interval is free of zeros when f's
// enclosure over it excludes 0, or when f is monotone there (f' excludes 0) with the same sign at
// both ends; it holds exactly one zero when f is monotone with opposite signs at its ends.
class event_search {
 public:
  event_search(const engine& eng, const ball_problem& pb, const std::vector<step_record>& steps,
               int token, bool turns)
      : eng_(eng), pb_(pb), steps_(steps), x_(token), turns_(turns) {}

  bool complete = true;
  std::vector<event> found;
  // The search's work is bounded: an interval still undecided after 40 halvings, or a token that
  // has taken 20000 intervals, leaves the search incomplete (never a wrong event).
  long budget = 20000;

  void run() {
    for (size_t n = 0; n < steps_.size(); ++n) search(n, ball(0), steps_[n].h, 0);
  }

 private:
  // The margin's derivatives 0, 1, 2 over u in U (a ball inside step n); order 2 only for turns.
  ball derivative(size_t n, const ball& U, int order) const {
    const step_record& st = steps_[n];
    const int M = pb_.classes, t = pb_.target[x_];
    // At s = 0 the exact initial state; elsewhere the differences over U with their own, tighter
    // radius (the logits themselves only for the derivatives).
    const bool at_start = n == 0 && arb_is_zero(U.raw());
    const std::vector<ball> all = at_start ? eng_.initial_differences() : eng_.differences(st, U);
    std::vector<ball> D(M);
    for (int y = 0; y < M; ++y) {
      if (y != t) D[y] = all[x_ * M + y];
    }
    ball m;  // the margin: the least difference
    bool first = true;
    for (int y = 0; y < M; ++y) {
      if (y == t) continue;
      m = first ? D[y] : min(m, D[y]);
      first = false;
    }
    if (order == 0) return m;
    const std::vector<ball> Z = at_start ? pb_.Z0 : eng_.logits(st, U);
    // The differences that can be the least somewhere on U (their enclosures reach below the
    // margin's upper bound). Where the margin is differentiable its derivative is one of theirs,
    // so the hull of their velocities bounds m' (and a hull excluding 0 makes m strictly monotone
    // on U, kinks included: a minimum of increasing functions increases). The acceleration is
    // used only where one difference is the margin throughout U.
    std::vector<int> active;
    for (int y = 0; y < M; ++y) {
      if (y != t && !arb_lt(m.raw(), D[y].raw())) active.push_back(y);
    }
    const int N = pb_.tokens;
    std::vector<series> Q(static_cast<size_t>(N) * M);
    for (size_t i = 0; i < Q.size(); ++i) Q[i].set(0, Z[i]);
    const ball c0 = exp(st.t0 + U);
    std::vector<series> V = eng_.rate()(Q, c0, 1);
    long k = 0;
    if (order == 2) {
      if (active.size() != 1) {
        ball any;
        arb_indeterminate(any.raw());
        return any;
      }
      // Z(w) = Z + Z' w with Z' = -V: coefficient 1 of V(Z(w)) is dV/ds along the flow.
      for (size_t i = 0; i < Q.size(); ++i) Q[i].set(1, -V[i].coeff(0));
      V = eng_.rate()(Q, c0, 2);
      k = 1;
    }
    ball out;
    for (size_t j = 0; j < active.size(); ++j) {
      const ball d = -(V[x_ * M + t].coeff(k) - V[x_ * M + active[j]].coeff(k));
      out = j == 0 ? d : ball::hull(out, d);
    }
    return out;
  }

  ball f(size_t n, const ball& U) const { return derivative(n, U, turns_ ? 1 : 0); }
  ball fprime(size_t n, const ball& U) const { return derivative(n, U, turns_ ? 2 : 1); }

  void search(size_t n, const ball& a, const ball& b, int depth) {
    if (--budget < 0) {
      complete = false;
      return;
    }
    const ball range = ball::between(a, b);
    const sign_of whole = sign(f(n, range));
    if (whole == sign_of::positive || whole == sign_of::negative) return;
    const sign_of slope = sign(fprime(n, range));
    if (slope == sign_of::positive || slope == sign_of::negative) {
      const sign_of fa = sign(f(n, a)), fb = sign(f(n, b));
      const bool fa_known = fa == sign_of::positive || fa == sign_of::negative;
      const bool fb_known = fb == sign_of::positive || fb == sign_of::negative;
      if (fa_known && fb_known && fa != fb) {
        refine(n, a, b, fa, slope);
        return;
      }
      if (fa_known && fb_known) return;  // monotone, one sign at both ends
      // Starting exactly at zero (s = 0 with W0 = 0) and leaving it: no zero on (a, b].
      if (fa == sign_of::zero && fb_known) return;
    }
    if (depth >= 40) {
      complete = false;
      return;
    }
    ball mid = (a + b) / ball(2);
    mid = mid.midpoint();
    search(n, a, mid, depth + 1);
    search(n, mid, b, depth + 1);
  }

  // [a, b] holds exactly one zero (f monotone, opposite signs at the ends): narrowed by bisection
  // while the sign at the midpoint is decided.
  void refine(size_t n, ball a, ball b, sign_of fa, sign_of slope) {
    for (int i = 0; i < 4000; ++i) {
      ball mid = ((a + b) / ball(2)).midpoint();
      const sign_of fm = sign(f(n, mid));
      if (fm == fa) {
        a = mid;
      } else if (fm == sign_of::positive || fm == sign_of::negative) {
        b = mid;
      } else {
        break;
      }
    }
    ball lo, hi;
    arb_expm1(lo.raw(), (steps_[n].t0 + a).raw(), precision_scope::bits());
    arb_expm1(hi.raw(), (steps_[n].t0 + b).raw(), precision_scope::bits());
    event e;
    e.token = x_;
    e.tau = ball::between(lo, hi);
    e.direction = slope == sign_of::positive ? 1 : -1;
    e.unique = true;
    found.push_back(e);
  }

  const engine& eng_;
  const ball_problem& pb_;
  const std::vector<step_record>& steps_;
  int x_;
  bool turns_;
};

}  // namespace

enclosure_result enclose(const nlohmann::json& spec, const enclose_options& opt) {
  enclosure_result res;
  const auto fail = [&](const std::string& why) {
    res.fail(reason::not_enclosed, why);
    return res;
  };
  const int work = opt.keep_precision ? scalar::mpfr_digits() : opt.digits + 12;
  const int digits = work - 12;  // what the tolerances below are set for
  res.working_digits = work;
  const scalar::mpfr_digits_scope restore(opt.keep_precision ? 0 : work);
  precision_scope scope(bits_for_digits(work));

  const model::problem<mpfr_real> approx = io::parse_problem<mpfr_real>(spec);
  const ball_problem pb = ball_problem_of(spec);
  const int N = pb.tokens, M = pb.classes;
  const ball lambda_E = smallest_eigenvalue_bound(pb.G_E, N);
  const ball lambda_U = smallest_eigenvalue_bound(pb.G_U, M);
  if (sign(lambda_E) != sign_of::positive) {
    return fail(
        "the input Gram matrix E E^T is singular (or within rounding of it): the flow's "
        "nonexpansive norm needs linearly independent input embeddings");
  }
  if (sign(lambda_U) != sign_of::positive) {
    return fail(
        "the output Gram matrix U U^T is singular (or within rounding of it): the flow's "
        "nonexpansive norm needs linearly independent output embeddings");
  }
  const ball gram = lambda_E * lambda_U;
  res.gram_bound = arf_get_d(arb_midref(gram.raw()), ARF_RND_DOWN);
  // Halving a step's remainder stops once it is below 10^-(digits + 6) per unit of s.
  const engine eng(pb, gram, ball::of(rational(1, mp::pow(mp::mpz_int(10), digits + 6))),
                   opt.max_halvings);

  std::vector<ball> targets;
  for (const rational& tau : opt.times) targets.push_back(log1p(ball::of(tau)));

  using std::pow;
  const mpfr_real tol = pow(mpfr_real(10), -(digits + 2));
  flow::detail::taylor_series<mpfr_real> ser(approx, flow::detail::taylor_order(tol));
  const int K = ser.order();
  res.order = K;
  // Terms of the defect at each piece's start beyond the series' own order: the remainder over a
  // piece [0, w] grows like (1 - w/rho)^-n against the point terms' e^-2n (rho ~ e^2 h, the
  // Jorba-Zou step), so about n / 10 more terms spare most halvings (measured: 8 at K = 61, 12 at
  // K = 119 are the fastest).
  const long n_terms = opt.defect_terms > 0 ? opt.defect_terms : K + std::max(8, K / 10 + 1);

  model::matrix<mpfr_real> Z = approx.Z0;
  mpfr_real t(0);
  ball error;  // |Z(t) - Zt(t)|_*
  {
    std::vector<ball> diff(static_cast<size_t>(N) * M);
    for (int x = 0; x < N; ++x) {
      for (int y = 0; y < M; ++y) diff[x * M + y] = ball::of(Z(x, y)) - pb.Z0[x * M + y];
    }
    error = frobenius_upper(diff) * eng.inv_sqrt_gram();
  }
  const double s_end = std::log1p(static_cast<double>(opt.times.back()));
  std::vector<step_record> records;
  size_t next = 0;
  while (next < targets.size()) {
    if (res.steps >= opt.max_steps) {
      return fail("the step limit (" + std::to_string(opt.max_steps) +
                  ") was reached at tau = " + tau_text(ball::of(t)));
    }
    ser.expand(Z, t, true);
    const mpfr_real h = ser.step(tol);
    const mpfr_real t_new = t + h;
    if (!(t_new > t) || !scalar::is_finite(t_new)) {
      return fail("step " + std::to_string(res.steps) + ": the step size fell to " +
                  scalar::to_text<mpfr_real>(h) + " at tau = " + tau_text(ball::of(t)));
    }
    std::vector<model::matrix<mpfr_real>> C(K + 1);
    for (int k = 0; k <= K; ++k) C[k] = ser.coefficient(k);
    if (opt.tamper) opt.tamper(res.steps, C);
    step_record st;
    st.t0 = ball::of(t);
    arb_sub(st.h.raw(), ball::of(t_new).raw(), st.t0.raw(), ARF_PREC_EXACT);
    st.P.resize(static_cast<size_t>(N) * M);
    for (int x = 0; x < N; ++x) {
      for (int y = 0; y < M; ++y) {
        for (int k = 0; k <= K; ++k) st.P[x * M + y].set(k, ball::of(C[k](x, y)));
      }
    }
    const ball integral = eng.defect_integral(st.P, st.t0, st.h, n_terms);
    st.error = error + integral;
    const std::string where = "step " + std::to_string(res.steps) + " (tau " + tau_text(st.t0) +
                              " to " + tau_text(ball::of(t_new)) + ")";
    if (!st.error.is_finite()) {
      return fail(where + ": the bound on the defect of the Taylor series is not finite");
    }
    while (next < targets.size()) {
      const ball u = targets[next] - st.t0;
      if (arb_gt(u.raw(), st.h.raw())) break;
      if (!(arb_is_nonnegative(u.raw()) && arb_le(u.raw(), st.h.raw()))) {
        return fail(where + ": sample time tau = " + scalar::to_text<rational>(opt.times[next]) +
                    " straddles the step's end at this precision");
      }
      enclosure_row row;
      row.tau = opt.times[next];
      // At tau = 0 the state is the exact initial one.
      const std::vector<ball> D = row.tau == 0 ? eng.initial_differences() : eng.differences(st, u);
      for (int x = 0; x < N; ++x) row.margins.push_back(eng.margin(D, x));
      row.loss = eng.loss(D);
      double widest = row.loss.radius();
      for (const ball& m : row.margins) widest = std::max(widest, m.radius());
      if (!row.loss.is_finite()) {
        return fail(where + ": the loss at tau = " + scalar::to_text<rational>(row.tau) +
                    " is not finite");
      }
      res.largest_radius = std::max(res.largest_radius, widest);
      if (opt.on_row) {
        opt.on_row(next, row);
      } else {
        res.rows.push_back(std::move(row));
      }
      ++next;
    }
    ++res.steps;
    // The next polynomial starts at the rounded end of this one: the jump joins the bound.
    Z = ser.at(h);
    t = t_new;
    std::vector<ball> jump(static_cast<size_t>(N) * M);
    for (int x = 0; x < N; ++x) {
      for (int y = 0; y < M; ++y) {
        if (!scalar::is_finite(Z(x, y))) {
          return fail(where + ": the approximate state is no longer finite");
        }
        jump[x * M + y] = ball::of(Z(x, y)) - st.P[x * M + y].at(st.h);
      }
    }
    error = st.error + frobenius_upper(jump) * eng.inv_sqrt_gram();
    if (opt.events) records.push_back(std::move(st));
    if (opt.on_progress && s_end > 0) {
      opt.on_progress(std::min(1.0, static_cast<double>(t) / s_end));
    }
  }
  res.error_bound = arf_get_d(arb_midref(ball::abs_upper(error).raw()), ARF_RND_UP);
  if (opt.events) {
    res.events_complete = true;
    for (int x = 0; x < N; ++x) {
      for (bool turns : {false, true}) {
        event_search search(eng, pb, records, x, turns);
        search.run();
        res.events_complete = res.events_complete && search.complete;
        auto& out = turns ? res.turns : res.crossings;
        out.insert(out.end(), search.found.begin(), search.found.end());
      }
    }
  }
  return res;
}

}  // namespace amflow::certify
