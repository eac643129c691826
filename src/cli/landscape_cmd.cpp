// amflow landscape: the loss, the 0-1 loss, the margins and (with --sharpness) the Hessian's
// largest eigenvalue over a grid of the plane of two-class memories the authors draw, gamma = W^T
// (u_0 - u_1) in R^2 (their gamma_i = W[i,0] - W[i,1], their W being the transpose of ours). Every
// margin is a function of gamma alone: (u_0 - u_1)^T W e_x = gamma . e_x, so the grid point gamma
// stands for the memory W = (u_0 - u_1) gamma^T / |u_0 - u_1|^2, and a GD run started on the plane
// stays on it. The summary adds what the figures mark on the plane: the cross-entropy minimiser
// (certified, when the data are not separable) and the best 0-1 loss over the sign regions.
#include <algorithm>
#include <memory>
#include <stdexcept>

#include "amflow/certify/logistic.hpp"
#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/model/plane.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct landscape_cli_options {
  common_options common;
  problem_source source;
  std::string gamma0 = "linspace:-10:10:101";
  std::string gamma1 = "linspace:-10:10:101";
  bool sharpness = false;
};

constexpr size_t max_axis = 2001;
constexpr size_t max_points = 1000000;

// The certified cross-entropy minimiser on the plane (certify::certify_two_class_threshold), or
// why there is none (separable data: the loss has infimum 0 and no minimiser).
nlohmann::json minimiser_json(const nlohmann::json& spec, int digits) {
  scalar::set_mpfr_digits(digits);  // Newton's iterates (the working type's own when it is MPFR)
  const certify::precision_scope bits(certify::bits_for_digits(digits));
  const certify::two_class_threshold t = certify::certify_two_class_threshold(spec);
  if (!t.ok()) return {{"certified", false}, {"reason", t.message}};
  nlohmann::json out = {{"certified", true}};
  for (size_t i = 0; i < t.w.size(); ++i) {
    const std::string g = "gamma_" + std::to_string(i);
    out[g] = t.w[i].midpoint().lower(digits);
    out[g + "_lo"] = t.w[i].lower(digits);
    out[g + "_hi"] = t.w[i].upper(digits);
  }
  out["loss_lo"] = t.loss.lower(digits);
  out["loss_hi"] = t.loss.upper(digits);
  out["note"] =
      "the only zero of the loss's gradient on the plane, proven inside [gamma_i_lo, gamma_i_hi] "
      "by the Krawczyk operator in ball arithmetic; the least loss lies in [loss_lo, loss_hi]";
  return out;
}

// The best 0-1 loss over the plane's sign regions (model::best_zero_one_on_plane).
template <class Real>
nlohmann::json best_zero_one_json(const model::problem<Real>& pb) {
  const model::best_region<Real> best = model::best_zero_one_on_plane(pb);
  return {
      {"zero_one_loss", scalar::to_text<Real>(best.zero_one_loss)},
      {"direction", {scalar::to_text<Real>(best.gamma(0)), scalar::to_text<Real>(best.gamma(1))}},
      {"regions", best.regions},
      {"note",
       "the least 0-1 loss over the plane (constant on each of the regions cut by the lines "
       "gamma . e_x = 0), reached along the ray t * direction, t > 0; at the working "
       "precision"}};
}

template <class Real>
void run_landscape(const landscape_cli_options& o) {
  using std::abs;
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  const nlohmann::json spec = load_problem(o.source);
  const model::problem<Real> pb = io::parse_problem<Real>(spec);
  if (pb.classes != 2) {
    throw input_error("classes", std::to_string(pb.classes),
                      "the gamma plane is defined for two classes");
  }
  if (pb.dim != 2) {
    throw input_error("dim", std::to_string(pb.dim), "the gamma plane needs d = 2");
  }
  const std::vector<Real> g0 = io::parse_points<Real>(o.gamma0, "--gamma0");
  const std::vector<Real> g1 = io::parse_points<Real>(o.gamma1, "--gamma1");
  for (const auto& [axis, flag, text] :
       {std::tuple{&g0, "--gamma0", &o.gamma0}, std::tuple{&g1, "--gamma1", &o.gamma1}}) {
    if (axis->size() > max_axis) {
      throw input_error(flag, *text, "at most " + std::to_string(max_axis) + " points per axis");
    }
    for (const Real& v : *axis) {
      if (!scalar::is_finite(v) || abs(v) > Real(1e6)) {
        throw input_error(flag, *text, "points must lie in [-1e6, 1e6]");
      }
    }
  }
  if (g0.size() * g1.size() > max_points) {
    throw input_error("--gamma1", o.gamma1,
                      "the grid has more than " + std::to_string(max_points) + " points");
  }
  if (!((pb.U.row(0) - pb.U.row(1)).squaredNorm() > 0)) {
    throw input_error("outputs", "u_0 = u_1", "the gamma plane needs distinct output embeddings");
  }
  resolve_format(o.common.format, o.common.output);

  nlohmann::json meta = run_meta<Real>("landscape");
  meta["problem"] = o.source.label();
  meta["gamma0"] = o.gamma0;
  meta["gamma1"] = o.gamma1;
  meta["plane"] =
      "gamma = W^T (u_0 - u_1) (the authors' gamma_i = W[i,0] - W[i,1]); the point gamma is the "
      "memory W = (u_0 - u_1) gamma^T / |u_0 - u_1|^2, whose margins are +-gamma . e_x; rows "
      "run over gamma_0 fastest";
  meta["error_estimate"] =
      "none needed: each value is computed directly at the working precision (rounding only)";
  std::vector<std::string> columns = {"gamma_0", "gamma_1", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  if (o.sharpness) {
    columns.push_back("sharpness");
    columns.push_back("sharpness_error");
    meta["sharpness_error"] =
        "a bound on the distance from the sharpness to an eigenvalue of the Hessian (in W, "
        "d^2 x d^2)";
  }
  progress_meter progress("landscape", "points", static_cast<long long>(g0.size() * g1.size()));
  table_output out(o.common, columns, meta, &progress);
  underflow_watch underflow;
  model::vector<Real> g(2);
  long long done = 0;
  for (const Real& b : g1) {
    for (const Real& a : g0) {
      g << a, b;
      const model::matrix<Real> Z = model::logits(pb, model::plane_memory(pb, g));
      const std::string where =
          "gamma = (" + scalar::to_text<Real>(a) + ", " + scalar::to_text<Real>(b) + ")";
      std::vector<io::cell> row = {num(a), num(b),
                                   underflow.positive(model::loss(pb, Z), "the loss", where),
                                   num(model::zero_one_loss(pb, Z))};
      const model::vector<Real> m = model::margins(pb, Z);
      for (Eigen::Index x = 0; x < m.size(); ++x) row.push_back(num(m(x)));
      if (o.sharpness) {
        const model::sharpness_result<Real> h = model::sharpness_with_error(pb, Z);
        row.push_back(num(h.value));
        row.push_back(num(h.error));
      }
      out.row(row);
      if ((++done & 255) == 0) progress.update(done);
    }
  }
  progress.clear();
  nlohmann::json summary = {
      {"minimiser", minimiser_json(spec, static_cast<int>(scalar::digits<Real>()))},
      {"best_zero_one", best_zero_one_json(pb)}};
  underflow.note(summary, scalar::name<Real>());
  out.finish(summary);
}

}  // namespace

void register_landscape(CLI::App& app) {
  auto o = std::make_shared<landscape_cli_options>();
  CLI::App* cmd = app.add_subcommand("landscape",
                                     "loss, 0-1 loss, margins and sharpness over the plane gamma = "
                                     "W^T (u_0 - u_1) of a two-class, d = 2 "
                                     "problem");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->add_option("--gamma0", o->gamma0, "gamma_0 axis: a,b,c | linspace:a:b:n | logspace:a:b:n")
      ->capture_default_str();
  cmd->add_option("--gamma1", o->gamma1, "gamma_1 axis: a,b,c | linspace:a:b:n | logspace:a:b:n")
      ->capture_default_str();
  cmd->add_flag("--sharpness", o->sharpness,
                "add the Hessian's largest eigenvalue and its error bound at every point")
      ->disable_flag_override();
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("gamma0", "--gamma0", o->gamma0).add("gamma1", "--gamma1", o->gamma1);
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits),
                          [&]<class Real>() { run_landscape<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
