// Options shared by every command and the pieces every command uses to describe its run.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "amflow/scalar/types.hpp"

namespace amflow::cli {

inline constexpr const char* version = "0.1.0";

struct common_options {
  long digits = 15;    // --digits: 15 double, 18 long double, 33 float128, else MPFR
  std::string output;  // --output: written atomically; standard output when empty
};

// Adds --digits and --output to a command.
void add_common(CLI::App& cmd, common_options& opts);

// The problem a command runs on: a file path or --problem NAME (exactly one of them).
struct problem_source {
  std::string file;
  std::string name;
};

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

// Registers "amflow problem show|check".
void register_problem(CLI::App& app);

}  // namespace amflow::cli
