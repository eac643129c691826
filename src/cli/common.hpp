// Options shared by every command and the pieces every command uses to describe its run.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/io/table.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::cli {

inline constexpr const char* version = "0.1.0";

struct common_options {
  long digits = 15;    // --digits: 15 double, 18 long double, 33 float128, else MPFR
  std::string output;  // --output: written atomically; standard output when empty
};

// Adds --digits and --output to a command.
void add_common(CLI::App& cmd, common_options& opts);

// Adds --format (table|csv|json|md|latex).
void add_format(CLI::App& cmd, std::string& format);

// The format to write: the one asked for, else table on a terminal and csv otherwise (a file or a
// pipe). Throws input_error("--format", ...) for an unknown name.
io::format resolve_format(const std::string& format, const std::string& output);

// The problem a command runs on: a file path or --problem NAME (exactly one of them).
struct problem_source {
  std::string file;
  std::string name;
};

// Adds the problem source: a positional PROBLEM.json or --problem NAME.
void add_problem_source(CLI::App& cmd, problem_source& src);

// Reads the problem JSON from the source (throws input_error for a missing file or unknown name).
nlohmann::json load_problem(const problem_source& src);

// meta: {"amflow": version, "command", "digits", "scalar", "bits"} for scalar type Real.
template <class Real>
nlohmann::json run_meta(const std::string& command) {
  return {{"amflow", version},
          {"command", command},
          {"digits", scalar::digits<Real>()},
          {"scalar", scalar::name<Real>()},
          {"bits", scalar::bits<Real>()}};
}

// --tol: the text parsed at the working precision, or flow::default_tolerance when empty. Refused
// (input_error naming --tol) when positive but below flow::smallest_tolerance, which the precision
// cannot carry; other bad values are left to flow_options::validate.
template <class Real>
Real parse_tolerance(const std::string& text) {
  if (text.empty()) return flow::default_tolerance<Real>();
  const Real tol = scalar::parse_real<Real>(text, "--tol");
  const Real smallest = flow::smallest_tolerance<Real>();
  if (tol > 0 && tol < smallest) {
    throw input_error("--tol", text,
                      "below what " + std::to_string(scalar::digits<Real>()) +
                          " digits carry (smallest " + scalar::to_text<Real>(smallest) +
                          " = 100 eps); raise --digits");
  }
  return tol;
}

// --stepper: "auto" is the Taylor series from 19 digits (float128 and MPFR; its order grows with
// the digits, and it beats Bulirsch-Stoer 8-40x there) and Bulirsch-Stoer in double and long
// double; otherwise a stepper's name (input_error naming --stepper when unknown).
template <class Real>
flow::stepper_kind parse_stepper_or_auto(const std::string& name) {
  if (name != "auto") return flow::parse_stepper(name, "--stepper");
  return scalar::digits<Real>() > 18 ? flow::stepper_kind::taylor
                                     : flow::stepper_kind::bulirsch_stoer;
}

// Thrown by `amflow verify` after writing its table when a claim failed: exit code 3.
struct claims_failed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Registers "amflow problem show|check|list".
void register_problem(CLI::App& app);
// Registers "amflow flow".
void register_flow(CLI::App& app);
// Registers "amflow gd".
void register_gd(CLI::App& app);
// Registers "amflow compare".
void register_compare(CLI::App& app);
// Registers "amflow sweep".
void register_sweep(CLI::App& app);
// Registers "amflow verify".
void register_verify(CLI::App& app);

}  // namespace amflow::cli
