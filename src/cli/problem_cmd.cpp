// amflow problem show NAME | check FILE: validate a problem, print it resolved (explicit matrices
// at the working precision) with its state at W0 and after one GD step.
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/output.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

using json = nlohmann::json;

struct problem_options {
  common_options common;
  problem_source source;
  std::string eta = "1";
};

template <class Real>
json numbers(const model::vector<Real>& v) {
  json out = json::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) out.push_back(scalar::to_text<Real>(v(i)));
  return out;
}

template <class Real>
json state_summary(const model::problem<Real>& pb, const model::matrix<Real>& Z) {
  return {{"loss", scalar::to_text<Real>(model::loss(pb, Z))},
          {"zero_one_loss", scalar::to_text<Real>(model::zero_one_loss(pb, Z))},
          {"margins", numbers<Real>(model::margins(pb, Z))},
          {"sharpness", scalar::to_text<Real>(model::sharpness(pb, Z))}};
}

template <class Real>
std::string describe(const std::string& command, const problem_options& opts) {
  const json spec = load_problem(opts.source);
  const model::problem<Real> pb = io::parse_problem<Real>(spec);
  const Real eta = scalar::parse_real<Real>(opts.eta, "--eta");
  if (!(eta > 0)) throw input_error("--eta", opts.eta, "must be positive");
  model::particle_state<Real> s = model::initial_state(pb);
  nlohmann::ordered_json out;  // keeps meta first, then the problem, then the measurements
  out["meta"] = run_meta<Real>(command);
  out["meta"]["source"] = opts.source.name.empty() ? opts.source.file : opts.source.name;
  out["meta"]["note"] =
      "numbers are strings with every digit of the working precision; they read back exactly";
  out["problem"] = nlohmann::ordered_json::parse(spec.dump());
  out["resolved"] = nlohmann::ordered_json::parse(io::resolved_json(pb).dump());
  out["at_init"] = nlohmann::ordered_json::parse(state_summary(pb, s.Z).dump());
  model::gd_step(pb, s, eta);
  out["one_step"] = nlohmann::ordered_json::parse(state_summary(pb, s.Z).dump());
  out["one_step"]["eta"] = opts.eta;
  return out.dump(2) + "\n";
}

void run(const std::string& command, const problem_options& opts) {
  const std::string text = scalar::with_scalar(
      opts.common.digits, [&]<class Real>() { return describe<Real>(command, opts); });
  io::write_output(opts.common.output, text);
}

}  // namespace

void register_problem(CLI::App& app) {
  auto opts = std::make_shared<problem_options>();
  CLI::App* problem = app.add_subcommand("problem", "validate and print problems");
  problem->require_subcommand(1);

  CLI::App* show = problem->add_subcommand(
      "show", "print a built-in problem resolved at the working precision, as JSON");
  show->add_option("name", opts->source.name, "built-in problem name")->required();
  add_common(*show, opts->common);
  show->add_option("--eta", opts->eta, "step size of the one GD step shown")->capture_default_str();
  show->callback([opts] { run("problem show", *opts); });

  CLI::App* check = problem->add_subcommand(
      "check", "validate a problem file and print it resolved at the working precision, as JSON");
  check->add_option("file", opts->source.file, "problem JSON file")->required();
  add_common(*check, opts->common);
  check->add_option("--eta", opts->eta, "step size of the one GD step shown")
      ->capture_default_str();
  check->callback([opts] { run("problem check", *opts); });

  CLI::App* list = problem->add_subcommand("list", "list the built-in problems");
  list->callback([] {
    std::string text;
    for (const auto& [name, description] : io::named_problems()) {
      text += name + std::string(name.size() < 20 ? 20 - name.size() : 1, ' ') + description + "\n";
    }
    io::write_output("", text);
  });
}

}  // namespace amflow::cli
