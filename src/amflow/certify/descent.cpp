#include "amflow/certify/descent.hpp"

#include <algorithm>

namespace amflow::certify {
namespace {

// Three-valued and.
decision both(decision a, decision b) {
  if (a == decision::no || b == decision::no) return decision::no;
  if (a == decision::undecided || b == decision::undecided) return decision::undecided;
  return decision::yes;
}

// Whether the target's logit beats another's: strictly when the other has the lower index (argmax
// keeps the first of equal values), or at least equal when it has the higher.
decision beats(const ball& target, const ball& other, bool other_first) {
  const ball d = target - other;
  const sign_of s = sign(d);
  if (s == sign_of::positive) return decision::yes;
  if (s == sign_of::negative) return decision::no;
  if (s == sign_of::zero) return other_first ? decision::no : decision::yes;
  return decision::undecided;
}

// The row's largest midpoint: a shift for exp that keeps every exponent <= about 0 (any shift is
// exact mathematics; this one only keeps the balls small).
ball shift_of(const std::vector<ball>& Z, int row, int M) {
  int best = 0;
  for (int y = 1; y < M; ++y) {
    if (arf_cmp(arb_midref(Z[row * M + y].raw()), arb_midref(Z[row * M + best].raw())) > 0) {
      best = y;
    }
  }
  ball s;
  arb_set_arf(s.raw(), arb_midref(Z[row * M + best].raw()));
  return s;
}

bool finite(const std::vector<ball>& v) {
  return std::all_of(v.begin(), v.end(), [](const ball& b) { return b.is_finite(); });
}

// G_E V G_U for V (N x M, row-major).
std::vector<ball> interact(const ball_problem& pb, const std::vector<ball>& V) {
  const int N = pb.tokens, M = pb.classes;
  std::vector<ball> T(V.size()), out(V.size());
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) {
      ball s(0);
      for (int x2 = 0; x2 < N; ++x2) s += pb.G_E[x * N + x2] * V[x2 * M + y];
      T[x * M + y] = s;
    }
  }
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) {
      ball s(0);
      for (int y2 = 0; y2 < M; ++y2) s += T[x * M + y2] * pb.G_U[y2 * M + y];
      out[x * M + y] = s;
    }
  }
  return out;
}

// Softmax rows of Z (balls), each shifted by its largest midpoint.
std::vector<ball> softmax(const std::vector<ball>& Z, int N, int M) {
  std::vector<ball> pi(Z.size());
  for (int x = 0; x < N; ++x) {
    const ball shift = shift_of(Z, x, M);
    ball sum(0);
    for (int y = 0; y < M; ++y) sum += pi[x * M + y] = exp(Z[x * M + y] - shift);
    for (int y = 0; y < M; ++y) pi[x * M + y] /= sum;
  }
  return pi;
}

// The residual p (pi - Y) from the softmax rows pi, the target entry as minus the others.
std::vector<ball> residual(const ball_problem& pb, const std::vector<ball>& pi) {
  const int N = pb.tokens, M = pb.classes;
  std::vector<ball> R(pi.size());
  for (int x = 0; x < N; ++x) {
    const int t = pb.target[x];
    ball others(0);
    for (int y = 0; y < M; ++y) {
      if (y == t) continue;
      R[x * M + y] = pb.p[x] * pi[x * M + y];
      others += R[x * M + y];
    }
    R[x * M + t] = -others;
  }
  return R;
}

// One GD step Phi(Z) = Z - eta G_E R(Z) G_U, enclosed twice and intersected: directly from the
// balls (pi = softmax(Z) and R_Z = R(Z), already computed), and in the mean-value form
//   Phi(Z) subset of Phi(c) + J(Z) (Z - c),  J = I - eta (G_E (x) G_U) DR,  c the midpoints,
// DR block-diagonal with blocks p(x) (diag pi_x - pi_x pi_x^T) over the balls. The direct form
// widens every step by the dependency of each ball on itself (exponentially over many steps);
// the mean-value form multiplies the radii by |J|, whose rows sum to about 1 here.
std::vector<ball> gd_step(const ball_problem& pb, const ball& eta, const std::vector<ball>& Z,
                          const std::vector<ball>& pi, const std::vector<ball>& R_Z) {
  const int N = pb.tokens, M = pb.classes, n = N * M;
  const std::vector<ball> V_Z = interact(pb, R_Z);
  std::vector<ball> direct(Z.size());
  for (int i = 0; i < n; ++i) direct[i] = Z[i] - eta * V_Z[i];
  // Mean value.
  std::vector<ball> c(Z.size()), delta(Z.size());
  for (int i = 0; i < n; ++i) {
    c[i] = Z[i].midpoint();
    delta[i] = Z[i] - c[i];
  }
  bool exact = true;
  for (const ball& z : Z) exact = exact && z.is_exact();
  if (exact) return direct;  // nothing to gain: the balls are points
  const std::vector<ball> V_c = interact(pb, residual(pb, softmax(c, N, M)));
  // (DR delta)_x = p(x) (pi_x * delta_x - pi_x (pi_x . delta_x)), then J delta = delta - eta G (.)
  // would lose the correlation of delta with itself; J is formed entry by entry instead:
  // J = I - eta A, A_(x,y),(x',y') = G_E(x, x') (G_U D_x')(y, y').
  std::vector<ball> GD(static_cast<size_t>(N) * M * M);  // per x': G_U D_x' (M x M)
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) {
      for (int y2 = 0; y2 < M; ++y2) {
        ball s(0);
        for (int a = 0; a < M; ++a) {
          // D_x(a, y2) = p (pi_a delta_a,y2 - pi_a pi_y2)
          ball d = -(pi[x * M + a] * pi[x * M + y2]);
          if (a == y2) d += pi[x * M + a];
          s += pb.G_U[y * M + a] * d;
        }
        GD[(x * M + y) * M + y2] = pb.p[x] * s;
      }
    }
  }
  std::vector<ball> out(Z.size());
  for (int x = 0; x < N; ++x) {
    for (int y = 0; y < M; ++y) {
      const int i = x * M + y;
      ball s = c[i] - eta * V_c[i];
      for (int x2 = 0; x2 < N; ++x2) {
        for (int y2 = 0; y2 < M; ++y2) {
          const int j = x2 * M + y2;
          ball a = pb.G_E[x * N + x2] * GD[(x2 * M + y) * M + y2];
          ball Jij = -(eta * a);
          if (i == j) Jij += ball(1);
          s += Jij * delta[j];
        }
      }
      out[i] = s;
    }
  }
  for (int i = 0; i < n; ++i) {
    ball both;
    if (arb_intersection(both.raw(), out[i].raw(), direct[i].raw(), precision_scope::bits())) {
      out[i] = both;
    }
  }
  return out;
}

}  // namespace

std::string decision_name(decision d) {
  switch (d) {
    case decision::no:
      return "no";
    case decision::yes:
      return "yes";
    case decision::undecided:
      return "undecided";
  }
  return "?";
}

ball_problem pair_problem(const ball& alpha, const ball& p0) {
  ball_problem pb;
  pb.tokens = pb.classes = 2;
  pb.G_E = {ball(1), alpha, alpha, ball(1)};
  pb.G_U = {ball(1), ball(0), ball(0), ball(1)};
  pb.p = {p0, ball(1) - p0};
  pb.target = {0, 1};
  pb.Z0.assign(4, ball(0));
  return pb;
}

certified_run certified_gd(const ball_problem& pb, const ball& eta, long steps,
                           bool stop_at_perfect,
                           const std::function<void(const certified_state&)>& on_state) {
  const int N = pb.tokens, M = pb.classes;
  certified_run run;
  std::vector<ball> Z = pb.Z0;
  ball previous_loss;
  bool undecided_before = false;
  run.first_perfect_step = steps - 1;
  for (long k = 0; k <= steps; ++k) {
    if (!finite(Z)) {
      run.fail(reason::not_finite,
               "a logit's ball is no longer finite at step " + std::to_string(k));
      return run;
    }
    certified_state state;
    state.step = k;
    state.Z = Z;
    state.perfect = decision::yes;
    const std::vector<ball> pi = softmax(Z, N, M);
    const std::vector<ball> R = residual(pb, pi);
    for (int x = 0; x < N; ++x) {
      const int t = pb.target[x];
      const ball& zt = Z[x * M + t];
      // The loss log1p(sum_{y != t} e^(z_y - z_t)).
      ball rest(0);
      for (int y = 0; y < M; ++y) {
        if (y != t) rest += exp(Z[x * M + y] - zt);
      }
      state.loss += pb.p[x] * log1p(rest);
      // Margin and correctness.
      ball best;
      bool first = true;
      decision right = decision::yes;
      for (int y = 0; y < M; ++y) {
        if (y == t) continue;
        if (first) {
          best = Z[x * M + y];
          first = false;
        } else {
          arb_max(best.raw(), best.raw(), Z[x * M + y].raw(), precision_scope::bits());
        }
        right = both(right, beats(zt, Z[x * M + y], y < t));
      }
      state.margins.push_back(zt - best);
      state.right.push_back(right);
      state.perfect = both(state.perfect, right);
    }
    run.widest = std::max(run.widest, state.loss.radius());
    for (const ball& m : state.margins) run.widest = std::max(run.widest, m.radius());
    if (k > 0) {
      const sign_of s = sign(state.loss - previous_loss);
      if (s == sign_of::positive) run.loss_increases.push_back(k);
      if (s == sign_of::undecided) run.undecided_increases.push_back(k);
    }
    previous_loss = state.loss;
    // The first perfect step, k in [0, K - 1].
    if (k < steps && !run.ever_perfect && !undecided_before) {
      if (state.perfect == decision::yes) {
        run.ever_perfect = true;
        run.first_perfect_step = k;
        run.first_perfect_decided = decision::yes;
      } else if (state.perfect == decision::undecided) {
        undecided_before = true;
        run.first_perfect_decided = decision::undecided;
      }
    }
    if (on_state) {
      on_state(state);
    } else {
      run.states.push_back(std::move(state));
    }
    if (stop_at_perfect && (run.ever_perfect || undecided_before)) return run;
    if (k == steps) break;
    Z = gd_step(pb, eta, Z, pi, R);
  }
  if (!run.ever_perfect && !undecided_before) run.first_perfect_decided = decision::yes;
  return run;
}

widening_result first_perfect_widening(const std::function<std::pair<ball_problem, ball>()>& data,
                                       long steps, long bits, long max_bits) {
  widening_result out;
  for (out.bits = bits;; out.bits *= 4) {
    const precision_scope scope(out.bits);
    const auto [pb, eta] = data();
    out.run = certified_gd(pb, eta, steps, true);
    if (out.decided() || out.bits * 4 > max_bits) return out;
  }
}

}  // namespace amflow::certify
