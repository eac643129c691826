// amflow limits: where the flow goes as tau -> infinity (model/limits.hpp). A separable problem:
// its hard-margin memory W_hat (support constraints with their dual weights, the margins it gives,
// |W_hat|^2 and the loss constants tau L -> |W_hat|^2 and tau l_x -> sum_y alpha_xy / p(x)). A
// non-separable one: its minimiser W* (margins, loss), the Hessian's spectrum there and
// eta_c = 2 / lambda_max. A mixed one (neither): the split into a converging part (its margins'
// limits and the loss's) and a separable part (its hard margin off the converging span).
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/model/limits.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct limits_cli_options {
  common_options common;
  problem_source source;
};

// The quantity table of every kind of limit: quantity, x, y, value, error.
template <class Real>
io::cell num(const Real& x) {
  return io::cell::number(scalar::to_text<Real>(x));
}
io::cell idx(int i) { return i < 0 ? io::cell::null() : io::cell::integer(i); }
const std::vector<std::string> limit_columns = {"quantity", "x", "y", "value", "error"};

// A separable problem: its hard-margin memory and the constants of the flow's approach.
template <class Real>
void write_separable(const limits_cli_options& o, const model::problem<Real>& pb,
                     const model::hard_margin_result<Real>& hm, nlohmann::json meta,
                     nlohmann::json summary) {
  meta["limit"] =
      "separable: W(tau) / |W(tau)| -> W_hat / |W_hat|, W_hat = argmin |W|_F^2 subject to "
      "(u_t - u_y)^T W e_x >= 1 (the hard margin); tau L(tau) -> |W_hat|_F^2 = sum alpha, "
      "tau l_x(tau) -> sum_y alpha_xy / p(x) (l_x the loss of token x); W(tau) = W_hat log tau "
      "+ W~ + o(1), tan(angle(W, W_hat)) (log tau + angle_shift) -> angle_constant (printed "
      "when the support spans the directions the flow moves in, W~ then fixed), W - W_hat log "
      "tau approaching W~ like tau^-approach_rate when approach_rate < 1 (log tau / tau "
      "otherwise)";
  meta["method"] =
      "support found by dual coordinate ascent in double, then K_SS alpha_S = 1 solved at the "
      "working precision; KKT checked there: alpha_S > 0 and every other margin > 1";
  meta["trust"] =
      "the working precision's solve of the exact active set (the KKT checks hold with margins "
      "smallest_alpha and slack); error, an estimate: margins the largest |m_i - 1| on the "
      "support, the weights and the constants cond(K_SS) (that + eps) times their value (the "
      "problem's own inputs, as rounded at this precision, are taken as exact)";
  table_output out(o.common, limit_columns, meta);
  const Real e = hm.residual;
  const Real relative = hm.condition * (hm.residual + scalar::epsilon<Real>());
  for (Eigen::Index a = 0; a < hm.alpha.size(); ++a) {
    out.row({io::cell::words("alpha"), idx(hm.support[a].first), idx(hm.support[a].second),
             num(hm.alpha(a)), num(Real(relative * hm.alpha(a)))});
  }
  for (int x = 0; x < pb.tokens; ++x) {
    for (int y = 0; y < pb.classes; ++y) {
      if (y == pb.target[x]) continue;
      out.row({io::cell::words("margin"), idx(x), idx(y), num(hm.margins(x, y)), num(e)});
    }
  }
  out.row(
      {io::cell::words("norm2"), idx(-1), idx(-1), num(hm.norm2), num(Real(relative * hm.norm2))});
  for (int x = 0; x < pb.tokens; ++x) {
    Real sum(0);
    for (Eigen::Index a = 0; a < hm.alpha.size(); ++a) {
      if (hm.support[a].first == x) sum += hm.alpha(a);
    }
    out.row({io::cell::words("tau_loss_of_token"), idx(x), idx(-1), num(Real(sum / pb.p(x))),
             num(Real(relative * sum / pb.p(x)))});
  }
  out.row({io::cell::words("tau_loss"), idx(-1), idx(-1), num(hm.norm2),
           num(Real(relative * hm.norm2))});
  const Real shift_error = relative * (abs(hm.shift) + 1);
  out.row({io::cell::words("angle_shift"), idx(-1), idx(-1), num(hm.shift), num(shift_error)});
  if (hm.offset_determined) {
    out.row({io::cell::words("angle_constant"), idx(-1), idx(-1), num(hm.angle_constant),
             num(Real(relative * (hm.angle_constant + abs(hm.shift) + 1)))});
  }
  out.row({io::cell::words("approach_rate"), idx(-1), idx(-1), num(hm.approach_rate),
           num(Real(relative * hm.approach_rate))});
  summary["support"] = static_cast<long>(hm.support.size());
  summary["smallest_alpha"] = scalar::to_text<Real>(hm.smallest_alpha);
  summary["slack"] = scalar::to_text<Real>(hm.slack);
  summary["condition"] = scalar::to_text<Real>(hm.condition);
  summary["offset_determined"] = hm.offset_determined;
  out.finish(summary);
}

// Neither separable nor with a minimiser: the converging part's limit and the separable part's
// hard margin.
template <class Real>
void write_mixed(const limits_cli_options& o, const model::split_result<Real>& sp,
                 const std::string& no_minimiser, nlohmann::json meta, nlohmann::json summary) {
  summary["no_minimiser"] = no_minimiser;
  meta["limit"] =
      "mixed: the constraints split into a converging part J, whose margins tend to the "
      "minimiser of L_J(m) = sum_x p(x) log(1 + sum_{(x, y) in J} e^-m_xy) and L(tau) -> L_J, "
      "and a separable part S, W(tau) ~ W_hat_S log tau with W_hat_S the hard margin of S off "
      "span J (its margins 1 on its support)";
  meta["method"] =
      "J peeled by dual coordinate ascent in double (the constraints an unbounded dual grows "
      "along, repeatedly, on the rest projected off span J); S's hard margin by K'_SS alpha = 1 "
      "at the working precision (K' the Schur complement off J) with its KKT checks; J's limit "
      "by Newton's method on the margins span J reaches";
  meta["trust"] =
      "estimates: converging margins |grad L_J| / its smallest curvature (to first order), the "
      "loss limit |grad L_J| times that, the separable part's as for a separable problem";
  table_output out(o.common, limit_columns, meta);
  const Real distance =
      sp.smallest_curvature > 0 ? Real(sp.gradient_norm / sp.smallest_curvature) : Real(0);
  for (size_t a = 0; a < sp.converging.size(); ++a) {
    out.row({io::cell::words("converging_margin"), idx(sp.converging[a].first),
             idx(sp.converging[a].second), num(sp.converging_margins(static_cast<Eigen::Index>(a))),
             num(distance)});
  }
  out.row({io::cell::words("loss_limit"), idx(-1), idx(-1), num(sp.loss_limit),
           num(Real(sp.gradient_norm * distance))});
  const Real relative = sp.condition * (sp.residual + scalar::epsilon<Real>());
  for (Eigen::Index a = 0; a < sp.alpha.size(); ++a) {
    out.row({io::cell::words("alpha"), idx(sp.support[a].first), idx(sp.support[a].second),
             num(sp.alpha(a)), num(Real(relative * sp.alpha(a)))});
  }
  for (size_t a = 0; a < sp.separable.size(); ++a) {
    out.row({io::cell::words("margin"), idx(sp.separable[a].first), idx(sp.separable[a].second),
             num(sp.margins(static_cast<Eigen::Index>(a))), num(sp.residual)});
  }
  out.row(
      {io::cell::words("norm2"), idx(-1), idx(-1), num(sp.norm2), num(Real(relative * sp.norm2))});
  summary["converging"] = static_cast<long>(sp.converging.size());
  summary["separable"] = static_cast<long>(sp.separable.size());
  summary["support"] = static_cast<long>(sp.support.size());
  summary["newton_iterations"] = sp.iterations;
  out.finish(summary);
}

// Not separable: the minimiser W*, the Hessian's spectrum there and eta_c.
template <class Real>
void write_minimiser(const limits_cli_options& o, const model::problem<Real>& pb,
                     const model::minimiser_result<Real>& w, nlohmann::json meta,
                     nlohmann::json summary) {
  meta["limit"] =
      "not separable: W(tau) -> W*, the minimiser of L (in the span the flow moves in); GD "
      "converges to it for eta < eta_c = 2 / lambda_max(Hessian at W*)";
  meta["method"] =
      "Newton's method with the Hessian pseudo-inverted and a backtracking line search, to a "
      "gradient of 100 eps; the spectrum by the symmetric eigensolver on the d^2 x d^2 Hessian";
  meta["trust"] =
      "estimates to first order: d = |grad L| / lambda_min+ is the distance from the computed "
      "minimiser to the exact one of a function lambda_min+-strongly convex near it (lambda_min+ "
      "the smallest positive eigenvalue); margins and eigenvalues move by about d, the loss by "
      "|grad L| d, eta_c by eta_c^2 d / 2";
  table_output out(o.common, limit_columns, meta);
  Real smallest(0);
  const Real top = w.spectrum.maxCoeff();
  for (Eigen::Index k = 0; k < w.spectrum.size(); ++k) {
    if (w.spectrum(k) > 1000 * scalar::epsilon<Real>() * top &&
        (smallest == 0 || w.spectrum(k) < smallest)) {
      smallest = w.spectrum(k);
    }
  }
  const Real distance = smallest > 0 ? Real(w.gradient_norm / smallest) : Real(0);
  const model::vector<Real> m = model::margins(pb, w.Z);
  for (int x = 0; x < pb.tokens; ++x) {
    out.row({io::cell::words("margin"), idx(x), idx(-1), num(m(x)), num(distance)});
  }
  out.row({io::cell::words("loss"), idx(-1), idx(-1), num(w.loss),
           num(Real(w.gradient_norm * distance))});
  for (Eigen::Index k = 0; k < w.spectrum.size(); ++k) {
    out.row({io::cell::words("hessian_eigenvalue"), idx(static_cast<int>(k)), idx(-1),
             num(w.spectrum(k)), num(distance)});
  }
  out.row({io::cell::words("eta_c"), idx(-1), idx(-1), num(w.eta_c),
           num(Real(w.eta_c * w.eta_c / 2 * distance))});
  summary["newton_iterations"] = w.iterations;
  summary["gradient_norm"] = scalar::to_text<Real>(w.gradient_norm);
  out.finish(summary);
}

template <class Real>
void run_limits(const limits_cli_options& o) {
  const model::problem<Real> pb = io::parse_problem<Real>(load_problem(o.source));
  resolve_format(o.common.format, o.common.output);
  nlohmann::json meta = run_meta<Real>("limits");
  meta["problem"] = o.source.label();
  meta["columns"] =
      "quantity; x, y: the token and the competing class it concerns (null: none); value; error: "
      "a bound or estimate of value's distance to the exact quantity (see trust)";
  const model::hard_margin_result<Real> hm = model::hard_margin(pb);
  nlohmann::json summary = nlohmann::json::object();
  summary["separable"] = hm.separable;
  if (hm.separable) return write_separable(o, pb, hm, std::move(meta), std::move(summary));
  summary["not_separable"] = hm.message;
  const model::minimiser_result<Real> w = model::minimiser(pb);
  if (w.ok()) return write_minimiser(o, pb, w, std::move(meta), std::move(summary));
  const model::split_result<Real> sp = model::split_limit(pb);
  if (!sp.ok()) {
    throw std::runtime_error("limits: not separable (" + hm.message + "), no minimiser (" +
                             w.message + ") and no split: " + sp.message);
  }
  write_mixed(o, sp, w.message, std::move(meta), std::move(summary));
}

}  // namespace

void register_limits(CLI::App& app) {
  auto o = std::make_shared<limits_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "limits",
      "where the flow goes as tau -> infinity: the hard-margin memory, the loss constants and "
      "the implicit bias's angle constants of a separable problem; the minimiser W*, the "
      "Hessian's spectrum there and eta_c of a non-separable one; the split of a mixed one");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->callback([o, cmd] {
    flag_map flags;
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits),
                          [&]<class Real>() { run_limits<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
