// amflow gd: gradient descent or SGD at one step size, one row per recorded step, and the run's
// transients (loss increases and spikes, margin sign changes, first perfect step) in the meta.
#include <memory>
#include <stdexcept>

#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/output.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/parallel.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct gd_cli_options {
  common_options common;
  problem_source source;
  std::string format;
  std::string eta = "1";
  long steps = 100;
  long batch = 0;
  std::uint64_t seed = 0;
  long seeds = 1;
  int threads = 0;
  bool sharpness = false;
  long every = 1;
  std::string space = "particle";
};

template <class Real>
nlohmann::json transients_json(const descent::transients<Real>& t) {
  const auto str = [](const Real& x) { return scalar::to_text<Real>(x); };
  nlohmann::json spikes = nlohmann::json::array();
  for (const auto& s : t.spikes) {
    spikes.push_back({{"start", s.start}, {"peak", s.peak}, {"height", str(s.height)}});
  }
  return {{"loss_increases", t.loss_increases},
          {"spikes", spikes},
          {"max_loss", str(t.max_loss)},
          {"max_loss_step", t.max_loss_step},
          {"first_perfect_step", t.first_perfect_step},
          {"ever_perfect", t.ever_perfect},
          {"margin_sign_changes", t.margin_sign_changes}};
}

template <class Real>
std::string run_gd(const gd_cli_options& o) {
  const auto str = [](const Real& x) { return scalar::to_text<Real>(x); };
  const io::format fmt = resolve_format(o.format, o.common.output);
  const model::problem<Real> pb = io::parse_problem<Real>(load_problem(o.source));

  descent::descent_options<Real> opt;
  opt.eta = scalar::parse_real<Real>(o.eta, "--eta");
  opt.steps = o.steps;
  opt.batch = o.batch;
  opt.seed = o.seed;
  opt.sharpness = o.sharpness;
  opt.every = o.every;
  opt.space = descent::parse_space(o.space, "--space");
  opt.validate();
  if (o.seeds < 1) throw input_error("--seeds", std::to_string(o.seeds), "must be at least 1");
  if (o.seeds > 1 && o.batch == 0) {
    throw input_error("--seeds", std::to_string(o.seeds),
                      "averaging over seeds needs SGD (--batch B)");
  }
  if (o.seeds > 1 && o.sharpness) {
    throw input_error("--sharpness", "true", "not available for the mean over --seeds");
  }

  io::table t;
  t.meta = run_meta<Real>("gd");
  t.meta["problem"] = o.source.name.empty() ? o.source.file : o.source.name;
  t.meta["eta"] = str(opt.eta);
  t.meta["steps"] = opt.steps;
  t.meta["update"] = opt.batch == 0 ? "full-batch GD"
                                    : "SGD, batch " + std::to_string(opt.batch) + ", seed " +
                                          std::to_string(opt.seed);
  t.meta["space"] = descent::space_name(opt.space);
  t.meta["error_estimate"] =
      "none needed: each step is computed directly at the working precision (rounding only)";

  if (o.seeds > 1) {
    const descent::sgd_mean_result<Real> mean = descent::sgd_mean(pb, opt, o.seeds, o.threads);
    if (!mean.ok) throw std::runtime_error("SGD did not complete: " + mean.message);
    t.meta["seeds"] = std::to_string(opt.seed) + " .. " + std::to_string(opt.seed + o.seeds - 1);
    t.meta["rows"] = "mean and standard deviation over " + std::to_string(o.seeds) + " runs";
    t.columns = {"step", "tau", "loss", "loss_sd"};
    for (int x = 0; x < pb.tokens; ++x) t.columns.push_back("m_" + std::to_string(x));
    for (int x = 0; x < pb.tokens; ++x) t.columns.push_back("m_" + std::to_string(x) + "_sd");
    for (size_t j = 0; j < mean.steps.size(); ++j) {
      std::vector<io::cell> row = {{std::to_string(mean.steps[j]), true},
                                   {str(Real(opt.eta * mean.steps[j])), true},
                                   {str(mean.loss[j]), true},
                                   {str(mean.loss_sd[j]), true}};
      for (int x = 0; x < pb.tokens; ++x) row.push_back({str(mean.margins[j](x)), true});
      for (int x = 0; x < pb.tokens; ++x) row.push_back({str(mean.margins_sd[j](x)), true});
      t.rows.push_back(std::move(row));
    }
    return io::render(t, fmt);
  }

  const descent::descent_result<Real> r = descent::run(pb, opt);
  if (!r.ok) throw std::runtime_error("gd did not complete: " + r.message);
  t.columns = {"step", "tau", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) t.columns.push_back("m_" + std::to_string(x));
  if (opt.sharpness) {
    t.columns.push_back("sharpness");
    t.columns.push_back(
        "eta_sharpness_half");  // eta lambda_max / 2: > 1 beyond the edge of stability
  }
  for (size_t j = 0; j < r.samples.size(); ++j) {
    const auto& s = r.samples[j];
    std::vector<io::cell> row = {{std::to_string(r.steps[j]), true},
                                 {str(s.tau), true},
                                 {str(s.loss), true},
                                 {str(s.zero_one_loss), true}};
    for (Eigen::Index x = 0; x < s.margins.size(); ++x) row.push_back({str(s.margins(x)), true});
    if (opt.sharpness) {
      row.push_back({str(*s.sharpness), true});
      row.push_back({str(Real(opt.eta * *s.sharpness / 2)), true});
    }
    t.rows.push_back(std::move(row));
  }
  t.meta["transients"] = transients_json(r.summary);
  return io::render(t, fmt);
}

}  // namespace

void register_gd(CLI::App& app) {
  auto o = std::make_shared<gd_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "gd", "gradient descent (or SGD with --batch) at step --eta, one row per recorded step");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  add_format(*cmd, o->format);
  cmd->add_option("--eta", o->eta, "step size (decimal or rational string, exact)")
      ->capture_default_str();
  cmd->add_option("--steps", o->steps, "number of updates K (rows k = 0 .. K)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch,
                  "SGD: B tokens drawn independently from p per step (0: full-batch GD)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "SGD seed (the same batches at every precision)")
      ->capture_default_str();
  cmd->add_option("--seeds", o->seeds,
                  "SGD: report the mean and standard deviation over seeds seed .. seed+n-1")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads for --seeds (0: all cores)")
      ->capture_default_str();
  cmd->add_flag("--sharpness", o->sharpness,
                "add the Hessian's largest eigenvalue and eta * sharpness / 2 to each row");
  cmd->add_option("--every", o->every, "print every n-th step (and the last)")
      ->capture_default_str();
  cmd->add_option("--space", o->space,
                  "particle (N x M logits; default) or weights (W itself, d x d: a cross-check)")
      ->capture_default_str();
  cmd->callback([o] {
    const std::string text =
        scalar::with_scalar(o->common.digits, [&]<class Real>() { return run_gd<Real>(*o); });
    io::write_output(o->common.output, text);
  });
}

}  // namespace amflow::cli
