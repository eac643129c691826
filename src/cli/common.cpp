#include "cli/common.hpp"

#include <unistd.h>

#include <cstdio>

#include "amflow/errors.hpp"
#include "amflow/io/json_read.hpp"
#include "amflow/io/problem_io.hpp"

namespace amflow::cli {

void add_common(CLI::App& cmd, common_options& opts) {
  cmd.add_option("--digits", opts.digits,
                 "decimal digits: 15 double, 18 long double, 33 float128, other values in "
                 "[10, 10000] MPFR")
      ->capture_default_str();
  cmd.add_option("--output", opts.output,
                 "write the result to this file (atomically: nothing is left on failure)");
}

void add_format(CLI::App& cmd, std::string& format) {
  cmd.add_option("--format", format,
                 "table, csv, json, md or latex (default: table on a terminal, csv otherwise)");
}

io::format resolve_format(const std::string& format, const std::string& output) {
  if (!format.empty()) return io::parse_format(format);
  return output.empty() && isatty(fileno(stdout)) ? io::format::table : io::format::csv;
}

void add_problem_source(CLI::App& cmd, problem_source& src) {
  cmd.add_option("problem", src.file, "problem JSON file");
  cmd.add_option("--problem", src.name, "a built-in problem (amflow problem list)");
}

nlohmann::json load_problem(const problem_source& src) {
  if (!src.file.empty() && !src.name.empty()) {
    throw input_error("--problem", src.name, "give either a problem file or --problem, not both");
  }
  if (!src.name.empty()) return io::named_problem(src.name);
  if (src.file.empty())
    throw input_error("problem", "missing", "give a problem file or --problem NAME");
  return io::read_json_file(src.file);
}

}  // namespace amflow::cli
