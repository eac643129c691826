// amflow gd: gradient descent or SGD at one step size, one row per recorded step (streamed as the
// run goes), and the run's transients (loss increases and spikes, margin sign changes, first
// perfect step) in the summary.
#include <memory>
#include <stdexcept>

#include "amflow/certify/descent.hpp"
#include "amflow/certify/problem.hpp"
#include "amflow/certify/spectrum.hpp"
#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/json_read.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

// Steps and every are at most this (10^15 GD steps of the smallest problem take months).
constexpr long long max_steps = 1000000000000000LL;

struct gd_cli_options {
  common_options common;
  problem_source source;
  std::string eta = "1";
  std::string steps = "100";
  std::string batch = "0";
  std::string seed = "0";
  std::string seeds = "1";
  std::string threads = "0";
  bool sharpness = false;
  bool weights = false;
  std::string every = "1";
  std::string space = "auto";
  rule_cli_options rule;
  std::string param = "full";
  std::string factor_scale, factor_seed, factor_init;
  bool balanced = false;
  bool layer_norm = false;
  std::string layer_norm_epsilon;
  bool certify = false;
};

// gd --certify: full-batch GD in ball arithmetic from the problem's exact data (certify::
// certified_gd): bounds of the loss and the margins per step, and every decision (a token right,
// a loss increase, the first perfect step) made only when certain.
void run_gd_certified(const gd_cli_options& o) {
  const long digits = parse_digits(o.common.digits);
  const nlohmann::json spec = load_problem(o.source);
  const rational eta = scalar::parse_exact(o.eta, "--eta");
  if (!(eta > 0)) throw input_error("--eta", o.eta, "must be positive");
  const long steps = parse_integer(o.steps, "--steps", 1, 1000000000);
  const long every = parse_integer(o.every, "--every", 1, max_steps);
  if (parse_integer(o.batch, "--batch", 0, 1000000000) != 0) {
    throw input_error("--batch", o.batch, "--certify runs full-batch GD only");
  }
  if (parse_integer(o.seeds, "--seeds", 1, 1000000000) != 1) {
    throw input_error("--seeds", o.seeds, "--certify runs one full-batch GD run");
  }
  if (descent::parse_space(o.space, "--space") == descent::space_kind::weights) {
    throw input_error("--space", o.space, "--certify runs in particle coordinates");
  }
  if (o.rule.rule != "gd") throw input_error("--rule", o.rule.rule, "--certify runs plain GD only");
  if (o.layer_norm)
    throw input_error("--layer-norm", "true", "--certify runs the linear head only");
  if (o.weights) throw input_error("--weights", "true", "not available with --certify");
  // Validation of the problem (every field named) at the asked precision, which the sharpness's
  // approximate eigenvectors use too.
  scalar::set_mpfr_digits(static_cast<int>(digits));
  const int tokens = io::parse_problem<mpfr_real>(spec).tokens;
  resolve_format(o.common.format, o.common.output);
  const certify::precision_scope bits(certify::bits_for_digits(static_cast<int>(digits)));
  const certify::ball_problem bp = certify::ball_problem_of(spec);
  const int shown = static_cast<int>(digits);

  nlohmann::json meta = {{"amflow", version},           {"command", "gd"},     {"digits", digits},
                         {"problem", o.source.label()}, {"eta", o.eta},        {"steps", steps},
                         {"update", "full-batch GD"},   {"space", "particle"}, {"certified", true}};
  meta["method"] =
      "ball arithmetic (Arb, " + std::to_string(certify::bits_for_digits(shown)) +
      " bits) from the problem's exact data: every *_lo / *_hi pair brackets the exact GD value, "
      "rounded outward to " +
      std::to_string(shown) + " significant digits";
  meta["decisions"] =
      "right/perfect: yes or no only when every comparison is certain (ties go to the lowest "
      "class, as argmax does), else undecided; zero_one_loss is null where a token is undecided";
  std::vector<std::string> columns = {
      "step", "tau", "loss_lo", "loss_hi", "zero_one_loss_lo", "zero_one_loss_hi"};
  for (int x = 0; x < tokens; ++x) {
    columns.push_back("m_" + std::to_string(x) + "_lo");
    columns.push_back("m_" + std::to_string(x) + "_hi");
  }
  columns.push_back("perfect");
  if (o.sharpness) {
    columns.push_back("sharpness_lo");
    columns.push_back("sharpness_hi");
    meta["sharpness"] =
        "the Hessian's largest eigenvalue at every W the logits' balls allow, bracketed by a "
        "Rayleigh quotient and a Cholesky factorisation in balls (certify::sharpness)";
  }
  progress_meter progress("gd", "steps", steps);
  table_output out(o.common, columns, meta, &progress);
  const auto bounds = [&](std::vector<io::cell>& row, const certify::ball& b) {
    row.push_back(io::cell::number(b.lower(shown)));
    row.push_back(io::cell::number(b.upper(shown)));
  };
  const auto on_state = [&](const certify::certified_state& st) {
    if ((st.step & 1023) == 0) progress.update(st.step);
    if (st.step % every != 0 && st.step != steps) return;
    std::vector<io::cell> row = {io::cell::integer(st.step),
                                 io::cell::number(exact_text(eta * st.step, shown))};
    bounds(row, st.loss);
    bool decided = true;
    certify::ball wrong;
    for (int x = 0; x < tokens; ++x) {
      if (st.right[x] == certify::decision::undecided) decided = false;
      if (st.right[x] == certify::decision::no) wrong += bp.p[x];
    }
    if (decided) {
      bounds(row, wrong);
    } else {
      row.push_back(io::cell::null());
      row.push_back(io::cell::null());
    }
    for (const certify::ball& m : st.margins) bounds(row, m);
    row.push_back(io::cell::words(certify::decision_name(st.perfect)));
    if (o.sharpness) {
      const certify::ball sharp = certify::sharpness(bp, st.Z);
      if (!sharp.is_finite()) {
        throw std::runtime_error("gd --certify: the sharpness at step " + std::to_string(st.step) +
                                 " could not be bracketed");
      }
      bounds(row, sharp);
    }
    out.row(row);
  };
  const certify::certified_run r =
      certify::certified_gd(bp, certify::ball::of(eta), steps, false, on_state);
  progress.clear();
  if (!r.ok()) {
    throw std::runtime_error(
        "gd --certify: cannot certify: " + r.message +
        " (the balls widen as GD runs; more --digits keep them narrow longer)");
  }
  nlohmann::json transients = {
      {"loss_increases", r.loss_increases},
      {"undecided_increases", r.undecided_increases},
      {"ever_perfect", r.ever_perfect},
      {"first_perfect_step", r.first_perfect_step},
      {"first_perfect_decided", certify::decision_name(r.first_perfect_decided)}};
  out.finish({{"transients", transients},
              {"radius", upper_text(r.widest)},
              {"transients_note",
               "loss_increases: steps k with L_k > L_(k-1) certainly; undecided_increases: steps "
               "where the balls cannot tell; first_perfect_step as gd's (the first k < K with "
               "every token right, K - 1 if none), decided when first_perfect_decided is yes"}});
}

template <class Real>
nlohmann::json transients_json(const descent::transients<Real>& t) {
  const auto str = [](const Real& x) { return scalar::to_text<Real>(x); };
  nlohmann::json spikes = nlohmann::json::array();
  for (const auto& s : t.spikes) {
    spikes.push_back({{"start", s.start}, {"peak", s.peak}, {"height", str(s.height)}});
  }
  return {{"loss_increases", t.loss_increases},
          {"rounding_increases", t.rounding_increases},
          {"spikes", spikes},
          {"max_loss", str(t.max_loss)},
          {"max_loss_step", t.max_loss_step},
          {"first_perfect_step", t.first_perfect_step},
          {"ever_perfect", t.ever_perfect},
          {"margin_sign_changes", t.margin_sign_changes}};
}

// --param factorised:R and the factors' flags into `f` (refused with --param full).
template <class Real>
void parse_factor_options(const gd_cli_options& o, const model::problem<Real>& pb,
                          descent::factorisation<Real>& f) {
  if (o.param.rfind("factorised:", 0) == 0) {
    f.rank = static_cast<int>(parse_integer(o.param.substr(11), "--param", 1, 100000));
    if (!o.factor_scale.empty()) {
      f.scale = scalar::parse_real<Real>(o.factor_scale, "--factor-scale");
    }
    if (!o.factor_seed.empty()) f.seed = parse_seed(o.factor_seed, "--factor-seed");
    f.balanced = o.balanced;
    if (!o.factor_init.empty()) {
      if (!o.factor_scale.empty() || !o.factor_seed.empty() || o.balanced) {
        throw input_error("--factor-init", o.factor_init,
                          "gives A0 and B0 itself: no --factor-scale, --factor-seed or --balanced");
      }
      try {
        std::tie(f.A0, f.B0) =
            io::parse_factors<Real>(io::read_json_file(o.factor_init), pb.dim, f.rank);
      } catch (const input_error& e) {
        if (e.value() == o.factor_init)
          throw input_error("--factor-init", o.factor_init, e.reason());
        throw input_error("--factor-init", o.factor_init + ": " + e.field(),
                          e.value() + ": " + e.reason());
      }
    }
    if (!pb.zero_init) {
      throw input_error("--param", o.param,
                        "a factorised memory starts at A0 B0: the problem's W0 must be 0");
    }
  } else if (o.param != "full") {
    throw input_error("--param", o.param, "expected full or factorised:R (R >= 1)");
  } else if (!o.factor_scale.empty() || !o.factor_seed.empty() || o.balanced ||
             !o.factor_init.empty()) {
    throw input_error(!o.factor_scale.empty()  ? "--factor-scale"
                      : !o.factor_seed.empty() ? "--factor-seed"
                      : o.balanced             ? "--balanced"
                                               : "--factor-init",
                      !o.factor_scale.empty()  ? o.factor_scale
                      : !o.factor_seed.empty() ? o.factor_seed
                      : o.balanced             ? "true"
                                               : o.factor_init,
                      "applies to --param factorised:R");
  }
}

// The options as given (validated by the caller, after the other flags are read).
template <class Real>
descent::descent_options<Real> gd_options_from(const gd_cli_options& o,
                                               const model::problem<Real>& pb) {
  descent::descent_options<Real> opt;
  opt.eta = scalar::parse_real<Real>(o.eta, "--eta");
  opt.steps = parse_integer(o.steps, "--steps", 1, max_steps);
  opt.batch = parse_integer(o.batch, "--batch", 0, 1000000000);
  opt.seed = parse_seed(o.seed, "--seed");
  opt.sharpness = o.sharpness;
  opt.weights = o.weights;
  opt.every = parse_integer(o.every, "--every", 1, max_steps);
  opt.space = descent::parse_space(o.space, "--space");
  opt.rule = parse_rule_options<Real>(o.rule);
  parse_factor_options(o, pb, opt.factors);
  opt.layer_norm = o.layer_norm;
  if (!o.layer_norm_epsilon.empty()) {
    if (!o.layer_norm) {
      throw input_error("--layer-norm-epsilon", o.layer_norm_epsilon, "applies to --layer-norm");
    }
    opt.layer_norm_epsilon = scalar::parse_real<Real>(o.layer_norm_epsilon, "--layer-norm-epsilon");
  }
  return opt;
}

// The space the run uses, and why when --space auto chose it.
template <class Real>
std::string space_text(const descent::descent_options<Real>& opt, const model::problem<Real>& pb) {
  const descent::space_kind space = opt.resolved_space(pb);
  std::string why;  // why auto chose the space
  const descent::step_costs cost = descent::step_cost(pb);
  const auto count = [](double x) { return scalar::round_text(std::to_string(x), 3); };
  const std::string costs = count(cost.particle) +
                            " multiplications per step in particle coordinates, " +
                            count(cost.weights) + " in W";
  if (space == descent::space_kind::particle) {
    why = " (auto: N x M logits; " + costs + ")";
  } else if (descent::rule_is_linear(opt.rule.kind) && opt.factors.rank == 0 && !opt.layer_norm) {
    why = " (auto: " + costs + ")";
  } else if (opt.factors.rank > 0) {
    why = " (auto: the factors A, B of W)";
  } else if (opt.layer_norm) {
    why = " (auto: with layer norm the logits are not linear in W)";
  } else {
    why = " (auto: the rule " + descent::rule_name(opt.rule.kind) +
          " is not linear and runs on W, d x d)";
  }
  return descent::space_name(space) + (opt.space == descent::space_kind::automatic ? why : "");
}

template <class Real>
nlohmann::json gd_meta(const gd_cli_options& o, const descent::descent_options<Real>& opt,
                       const model::problem<Real>& pb) {
  nlohmann::json meta = run_meta<Real>("gd");
  meta["problem"] = o.source.label();
  meta["eta"] = o.eta;
  meta["steps"] = opt.steps;
  meta["update"] = opt.batch == 0 ? "full-batch GD"
                                  : "SGD, batch " + std::to_string(opt.batch) + ", seed " +
                                        std::to_string(opt.seed);
  meta["rule"] = rule_text(o.rule, opt.rule.kind);
  if (opt.factors.rank > 0) {
    meta["param"] =
        "factorised: W = A B, A d x " + std::to_string(opt.factors.rank) + ", B " +
        std::to_string(opt.factors.rank) +
        " x d, both trained (each with its own rule "
        "state); " +
        (!o.factor_init.empty()
             ? "A0 and B0 from " + o.factor_init
             : "A0 = " + (o.factor_scale.empty() ? std::string("0.1") : o.factor_scale) +
                   " N(0, 1) from seed " + std::to_string(opt.factors.seed) +
                   (opt.factors.balanced
                        ? ", B0 = A0^T (balanced)"
                        : ", B0 the same from seed " + std::to_string(opt.factors.seed + 1)));
  } else {
    meta["param"] = "full: W";
  }
  meta["head"] = opt.layer_norm ? "layer norm: logits u_y . W e_x / sqrt(|W e_x|^2 + " +
                                      (o.layer_norm_epsilon.empty() ? std::string("1e-5")
                                                                    : o.layer_norm_epsilon) +
                                      ") (margins below min_{y != f*(x)} |u_f*(x) - u_y|)"
                                : "linear: logits u_y . W e_x";
  meta["space"] = space_text(opt, pb);
  meta["error_estimate"] =
      "none needed: each step is computed directly at the working precision (rounding only)";
  return meta;
}

// --seeds S: the mean and standard deviation over S SGD runs, one row per recorded step.
template <class Real>
void write_sgd_mean(const gd_cli_options& o, const model::problem<Real>& pb,
                    const descent::descent_options<Real>& opt, long seeds, int threads,
                    nlohmann::json meta) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  progress_meter progress("gd", "runs", seeds);
  std::vector<std::string> columns = {"step",    "tau",           "loss",
                                      "loss_sd", "zero_one_loss", "zero_one_loss_sd"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x) + "_sd");
  meta["seeds"] = std::to_string(opt.seed) + " .. " + std::to_string(opt.seed + (seeds - 1));
  meta["rows"] = "mean and standard deviation over " + std::to_string(seeds) +
                 " runs (the standard error of a mean is sd / sqrt(runs))";
  table_output out(o.common, columns, meta, &progress);
  underflow_watch underflow;
  const descent::sgd_mean_result<Real> mean =
      descent::sgd_mean(pb, opt, seeds, threads, [&](long done) { progress.update(done); });
  if (!mean.ok()) throw std::runtime_error("SGD did not complete: " + mean.message);
  for (size_t j = 0; j < mean.steps.size(); ++j) {
    std::vector<io::cell> row = {
        io::cell::integer(mean.steps[j]),
        num(Real(opt.eta * mean.steps[j])),
        underflow.positive(mean.loss[j], "the mean loss", "step " + std::to_string(mean.steps[j])),
        num(mean.loss_sd[j]),
        num(mean.zero_one_loss[j]),
        num(mean.zero_one_loss_sd[j])};
    for (int x = 0; x < pb.tokens; ++x) row.push_back(num(mean.margins[j](x)));
    for (int x = 0; x < pb.tokens; ++x) row.push_back(num(mean.margins_sd[j](x)));
    out.row(row);
  }
  nlohmann::json summary = nlohmann::json::object();
  underflow.note(summary, scalar::name<Real>());
  out.finish(summary);
}

// One run: a row per recorded step as it goes, the transients in the summary.
template <class Real>
void write_gd_run(const gd_cli_options& o, const model::problem<Real>& pb,
                  descent::descent_options<Real> opt, nlohmann::json meta) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  progress_meter progress("gd", "steps", opt.steps);
  std::vector<std::string> columns = {"step", "tau", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  if (opt.sharpness) {
    // eta lambda_max / 2: > 1 beyond the edge of stability
    for (const char* c : {"sharpness", "sharpness_error", "eta_sharpness_half"}) {
      columns.push_back(c);
    }
    meta["sharpness_error"] =
        "a bound on the distance from the sharpness to an eigenvalue of the Hessian (the residual "
        "of its eigenvector plus the rounding of computing it); N M <= 64 by a dense eigensolver, "
        "larger by Lanczos";
  }
  if (opt.weights) {
    for (int r = 0; r < pb.dim; ++r) {
      for (int c = 0; c < pb.dim; ++c) {
        columns.push_back("w_" + std::to_string(r) + "_" + std::to_string(c));
      }
    }
    meta["weights"] =
        "w_r_c = W[r][c], the memory at the step (logits u_y^T W e_x: r indexes the output "
        "embedding's coordinates, c the input's); in particle space W = W0 - U^T Q^T E";
  }
  table_output out(o.common, columns, meta, &progress);
  underflow_watch underflow;
  opt.on_record = [&](long k, const model::trajectory_sample<Real>& s) {
    const std::string where = "step " + std::to_string(k);
    std::vector<io::cell> row = {io::cell::integer(k), num(s.tau),
                                 underflow.positive(s.loss, "the loss", where),
                                 num(s.zero_one_loss)};
    for (Eigen::Index x = 0; x < s.margins.size(); ++x) row.push_back(num(s.margins(x)));
    if (opt.sharpness) {
      // With its absolute error bound beside it, a sharpness that underflowed to 0 is honest.
      row.push_back(num(*s.sharpness));
      row.push_back(num(*s.sharpness_error));
      row.push_back(num(Real(opt.eta * *s.sharpness / 2)));
    }
    if (opt.weights) {
      for (Eigen::Index r = 0; r < s.W->rows(); ++r) {
        for (Eigen::Index c = 0; c < s.W->cols(); ++c) row.push_back(num((*s.W)(r, c)));
      }
    }
    out.row(row);
  };
  if (progress.enabled()) {
    opt.on_step = [&](long k) {
      if ((k & 1023) == 0 || k == opt.steps) progress.update(k);
    };
  }
  const descent::descent_result<Real> r = descent::run(pb, opt);
  if (!r.ok()) throw std::runtime_error("gd did not complete: " + r.message);
  nlohmann::json summary = {{"transients", transients_json(r.summary)}};
  if (opt.factors.rank > 0) {
    // Conserved by the gradient flow; GD moves it by O(eta^2) per step.
    const auto [A0, B0] = descent::initial_factors(opt.factors, pb.dim);
    const model::matrix<Real> drift = (r.A.transpose() * r.A - r.B * r.B.transpose()) -
                                      (A0.transpose() * A0 - B0 * B0.transpose());
    summary["balancedness_drift"] = scalar::to_text<Real>(drift.cwiseAbs().maxCoeff());
    summary["balancedness_drift_note"] =
        "max |(A^T A - B B^T)(last) - (A^T A - B B^T)(0)|: 0 along the gradient flow, exactly "
        "eta^2 (B G^T G B^T - A^T G G^T A) per step of rule gd; the other rules do not conserve "
        "it";
  }
  underflow.note(summary, scalar::name<Real>());
  out.finish(summary);
}

template <class Real>
void run_gd(const gd_cli_options& o) {
  if (o.certify) return run_gd_certified(o);
  const model::problem<Real> pb = io::parse_problem<Real>(load_problem(o.source));
  const descent::descent_options<Real> opt = gd_options_from<Real>(o, pb);
  const long seeds = parse_integer(o.seeds, "--seeds", 1, 1000000000);
  const int threads = parse_threads(o.threads);
  opt.validate();
  if (seeds > 1 && opt.batch == 0) {
    throw input_error("--seeds", o.seeds, "averaging over seeds needs SGD (--batch B)");
  }
  if (seeds > 1 && opt.sharpness) {
    throw input_error("--sharpness", "true", "not available for the mean over --seeds");
  }
  if (seeds > 1 && opt.weights) {
    throw input_error("--weights", "true", "not available for the mean over --seeds");
  }
  resolve_format(o.common.format, o.common.output);
  nlohmann::json meta = gd_meta<Real>(o, opt, pb);
  if (seeds > 1) return write_sgd_mean<Real>(o, pb, opt, seeds, threads, std::move(meta));
  write_gd_run<Real>(o, pb, opt, std::move(meta));
}

}  // namespace

void register_gd(CLI::App& app) {
  auto o = std::make_shared<gd_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "gd", "gradient descent (or SGD with --batch) at step --eta, one row per recorded step");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->add_option("--eta", o->eta, "step size (decimal or rational string, exact)")
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "number of updates K (rows k = 0 .. K; 1 to 10^15)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch,
                  "SGD: B tokens drawn independently from p per step (0: full-batch GD)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed,
                  "SGD seed, 0 to 2^64 - 1 (the same batches at every precision)")
      ->capture_default_str();
  cmd->add_option("--seeds", o->seeds,
                  "SGD: report the mean and standard deviation over seeds seed .. seed+n-1 "
                  "(n up to 10^9)")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads for --seeds (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--sharpness", o->sharpness,
                "add the Hessian's largest eigenvalue, its error bound and eta * sharpness / 2 to "
                "each row")
      ->disable_flag_override();
  cmd->add_flag("--weights", o->weights,
                "add the memory's entries w_r_c = W[r][c] to each row (d^2 columns)")
      ->disable_flag_override();
  cmd->add_option("--every", o->every, "print every n-th step (and the last)")
      ->capture_default_str();
  cmd->add_flag("--certify", o->certify,
                "ball arithmetic from the exact data: _lo/_hi bounds per quantity, every decision "
                "certain or undecided (full-batch GD)")
      ->disable_flag_override();
  cmd->add_option("--space", o->space,
                  "auto (for gd, momentum and nesterov on a full W without layer norm the "
                  "cheaper per step: particle N^2 M + N M^2 (2 N d M for a side through its "
                  "embeddings when N or M > 2 d) against weights 2 N M d + 2 d^2 M "
                  "multiplications; weights otherwise), particle (N x M logits) "
                  "or weights (W itself, d x d)")
      ->capture_default_str();
  add_rule_options(*cmd, o->rule);
  cmd->add_option("--param", o->param,
                  "full (W) or factorised:R (W = A B, A d x R and B R x d both trained)")
      ->capture_default_str();
  cmd->add_option("--factor-scale", o->factor_scale,
                  "factorised: A0, B0 entries are this times N(0, 1) (default 0.1)");
  cmd->add_option("--factor-seed", o->factor_seed,
                  "factorised: seed of A0 (B0: seed + 1), 0 to 2^64 - 1 (default 0)");
  cmd->add_flag("--balanced", o->balanced, "factorised: B0 = A0^T (A^T A - B B^T = 0 at start)")
      ->disable_flag_override();
  cmd->add_option("--factor-init", o->factor_init,
                  "factorised: A0 and B0 from a JSON file {\"A\": d rows of R, \"B\": R rows of "
                  "d} (reals as in problem files)");
  cmd->add_flag("--layer-norm", o->layer_norm,
                "layer norm before the unembedding: logits u_y . W e_x / sqrt(|W e_x|^2 + eps) "
                "(runs on W)")
      ->disable_flag_override();
  cmd->add_option("--layer-norm-epsilon", o->layer_norm_epsilon,
                  "eps of --layer-norm, > 0 (default 1e-5)");
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("eta", "--eta", o->eta)
        .add("layer_norm_epsilon", "--layer-norm-epsilon", o->layer_norm_epsilon)
        .add("steps", "--steps", o->steps)
        .add("batch", "--batch", o->batch)
        .add("every", "--every", o->every)
        .add("seeds", "--seeds", o->seeds)
        .add("space", "--space", o->space)
        .add("rank", "--param", o->param)
        .add("scale", "--factor-scale", o->factor_scale)
        .add("sharpness", "--sharpness");
    add_rule_flags(flags, o->rule);
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits), [&]<class Real>() { run_gd<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
