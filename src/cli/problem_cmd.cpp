// amflow problem list | show NAME | check FILE: the built-in problems, a built-in problem as a
// problem file (to edit and run), and a problem validated and measured at W0 and after one GD step.
#include <memory>

#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

using json = nlohmann::json;
using ordered = nlohmann::ordered_json;

struct problem_options {
  common_options common;
  problem_source source;
  std::string eta = "1";
  bool resolved = false;
};

// show and check print JSON documents; the other formats are for tables.
void json_only(const std::string& format, const std::string& what) {
  if (!format.empty() && format != "json") {
    io::parse_format(format);  // an unknown name says so first
    throw input_error("--format", format, what + " is a JSON document: only json");
  }
}

// A JSON document through the usual atomic output (bytes that are not UTF-8, as in a file name,
// become U+FFFD).
void write_document(const common_options& common, const ordered& doc) {
  io::output_target out(common.output);
  out.write(doc.dump(2, ' ', false, ordered::error_handler_t::replace) + "\n");
  out.commit();
}

template <class Real>
ordered numbers(const model::vector<Real>& v) {
  ordered out = ordered::array();
  for (Eigen::Index i = 0; i < v.size(); ++i) out.push_back(scalar::to_text<Real>(v(i)));
  return out;
}

// A positive quantity, or null when it fell below the smallest normal number (see
// underflow_watch).
template <class Real>
ordered positive(const Real& x) {
  return scalar::is_normal(x) ? ordered(scalar::to_text<Real>(x)) : ordered(nullptr);
}

// The state at logits Z: loss, 0-1 loss, margins and the sharpness with its error bound.
template <class Real>
ordered state_summary(const model::problem<Real>& pb, const model::matrix<Real>& Z) {
  const model::sharpness_result<Real> h = model::sharpness_with_error(pb, Z);
  return {{"loss", positive(model::loss(pb, Z))},
          {"zero_one_loss", scalar::to_text<Real>(model::zero_one_loss(pb, Z))},
          {"margins", numbers<Real>(model::margins(pb, Z))},
          {"sharpness", scalar::to_text<Real>(h.value)},
          {"sharpness_error", scalar::to_text<Real>(h.error)},
          {"sharpness_method",
           h.lanczos_iterations == 0
               ? "dense eigensolver"
               : "Lanczos, " + std::to_string(h.lanczos_iterations) + " iterations"}};
}

ordered to_ordered(const json& j) { return ordered::parse(io::dump_json(j)); }

template <class Real>
void show(const problem_options& o) {
  json_only(o.common.format, "a problem file");
  const json spec = load_problem(o.source);
  if (!o.resolved) {
    // The built-in problem as written (kinds, seeds, exact strings): a problem file to edit.
    ordered doc;
    for (const char* key : {"name", "description", "tokens", "classes", "dim", "inputs", "outputs",
                            "frequencies", "target", "init"}) {
      if (spec.contains(key)) doc[key] = to_ordered(spec.at(key));
    }
    write_document(o.common, doc);
    return;
  }
  const model::problem<Real> pb = io::parse_problem<Real>(spec);
  ordered doc = to_ordered(io::resolved_json(pb));
  write_document(o.common, doc);
}

template <class Real>
void check(const problem_options& o) {
  const json spec = load_problem(o.source);
  const bool as_json = o.common.format.empty() || o.common.format == "json";
  if (!as_json) io::parse_format(o.common.format);
  const model::problem<Real> pb = io::parse_problem<Real>(spec);
  const Real eta = scalar::parse_real<Real>(o.eta, "--eta");
  if (!(eta > 0)) throw input_error("--eta", o.eta, "must be positive");
  model::particle_state<Real> s = model::initial_state(pb);
  const ordered at_init = state_summary(pb, s.Z);
  model::gd_step(pb, s, eta);
  bool finite = true;
  for (Eigen::Index i = 0; i < s.Z.size(); ++i) finite = finite && scalar::is_finite(s.Z(i));
  if (!finite) {
    throw input_error("--eta", o.eta, "one GD step from W0 overflows " + scalar::name<Real>());
  }
  const ordered one_step = state_summary(pb, s.Z);

  json meta = run_meta<Real>("problem check");
  meta["source"] = o.source.label();
  meta["note"] =
      "numbers are strings with every digit of the working precision; they read back exactly; "
      "sharpness_error bounds the distance to an eigenvalue of the Hessian";
  if (as_json) {
    ordered doc;
    doc["meta"] = to_ordered(meta);
    doc["problem"] = to_ordered(spec);
    doc["resolved"] = to_ordered(io::resolved_json(pb));
    doc["at_init"] = at_init;
    doc["one_step"] = one_step;
    doc["one_step"]["eta"] = o.eta;
    write_document(o.common, doc);
    return;
  }
  std::vector<std::string> columns = {"state", "loss", "zero_one_loss"};
  for (int x = 0; x < pb.tokens; ++x) columns.push_back("m_" + std::to_string(x));
  for (const char* c : {"sharpness", "sharpness_error"}) columns.push_back(c);
  meta["eta"] = o.eta;
  table_output out(o.common, columns, meta);
  for (const auto* state : {&at_init, &one_step}) {
    const auto number_or_null = [](const ordered& v) {
      return v.is_null() ? io::cell::null() : io::cell::number(v.get<std::string>());
    };
    std::vector<io::cell> row = {io::cell::words(state == &at_init ? "W0" : "one GD step")};
    row.push_back(number_or_null((*state)["loss"]));
    row.push_back(number_or_null((*state)["zero_one_loss"]));
    for (const auto& m : (*state)["margins"]) row.push_back(number_or_null(m));
    row.push_back(number_or_null((*state)["sharpness"]));
    row.push_back(number_or_null((*state)["sharpness_error"]));
    out.row(row);
  }
  out.finish({{"sharpness_method", at_init["sharpness_method"]}});
}

void list(const common_options& common) {
  table_output out(common, {"name", "description"},
                   {{"amflow", version}, {"command", "problem list"}});
  for (const auto& [name, description] : io::named_problems()) {
    out.row({io::cell::words(name), io::cell::words(description)});
  }
  out.finish();
}

}  // namespace

void register_problem(CLI::App& app) {
  CLI::App* problem = app.add_subcommand("problem", "list, print and check problems");
  problem->require_subcommand(1);

  auto shown = std::make_shared<problem_options>();
  CLI::App* show_cmd = problem->add_subcommand(
      "show",
      "print a built-in problem as a problem file (amflow problem show pair > p.json; edit; "
      "amflow flow p.json)");
  show_cmd->add_option("name", shown->source.name, "built-in problem name (amflow problem list)")
      ->required();
  add_common(*show_cmd, shown->common, false);
  show_cmd->add_option("--format", shown->common.format,
                       "json (the only one: a problem file is a JSON document)");
  show_cmd
      ->add_flag("--resolved", shown->resolved,
                 "print it resolved: explicit matrices at --digits, every digit")
      ->disable_flag_override();
  show_cmd->callback([shown, show_cmd] {
    flag_map flags;
    run_command(*show_cmd, flags, [&] {
      scalar::with_scalar(parse_digits(shown->common.digits),
                          [&]<class Real>() { show<Real>(*shown); });
    });
  });

  auto checked = std::make_shared<problem_options>();
  CLI::App* check_cmd = problem->add_subcommand(
      "check",
      "validate a problem and print it resolved at the working precision with its state at W0 "
      "and after one GD step (JSON; the other formats give the two states as a table)");
  add_problem_source(*check_cmd, checked->source);
  add_common(*check_cmd, checked->common);
  check_cmd->add_option("--eta", checked->eta, "step size of the one GD step shown")
      ->capture_default_str();
  check_cmd->callback([checked, check_cmd] {
    flag_map flags;
    run_command(*check_cmd, flags, [&] {
      scalar::with_scalar(parse_digits(checked->common.digits),
                          [&]<class Real>() { check<Real>(*checked); });
    });
  });

  auto listed = std::make_shared<common_options>();
  CLI::App* list_cmd = problem->add_subcommand("list", "list the built-in problems");
  list_cmd->add_option("--output", listed->output, "write here (atomically)");
  list_cmd->add_option("--format", listed->format, format_help);
  list_cmd->callback([listed, list_cmd] {
    flag_map flags;
    run_command(*list_cmd, flags, [&] { list(*listed); });
  });
}

}  // namespace amflow::cli
