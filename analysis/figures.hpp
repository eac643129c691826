// The figures of `amflow figures`, as data: for each figure its title, caption, problem and
// precision lines, the problem files its runs read and the amflow runs that make its data. The
// CLI (src/cli/figures_cmd.cpp) runs them, the plot script (analysis/plot/amflow_plots.py) draws
// NAME.png from the runs' output alone. Adding a figure: a function in analysis/figures.cpp, its
// name in figure_names and a drawing function in the plot script.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace amflow::analysis {

// One amflow run: its arguments after "amflow", its output file (relative to the output
// directory) and the key the plot script finds it under.
struct figure_run {
  std::string key;
  std::vector<std::string> args;
  std::string file;
  bool may_fail_claims = false;  // verify: exit 3 (a claim failed) still gives a table
};

// A problem file the figure's runs read: a built-in problem with some fields changed.
struct figure_problem {
  std::string file;                                            // data/NAME.json
  std::string base;                                            // the built-in problem
  std::vector<std::pair<std::string, nlohmann::json>> fields;  // dotted path, new value
  std::string description;
};

struct figure_def {
  std::string name, title, caption, problem, precision;
  std::vector<figure_problem> problems;
  std::vector<figure_run> runs;
  nlohmann::json params = nlohmann::json::object();  // what the plot script needs besides data
};

// The figures, in the order of the report. `quick` makes small runs of the same experiments (a
// smoke test: coarser grids, shorter horizons, fewer digits); the captions say so.
std::vector<figure_def> figure_registry(bool quick);

// The figures' names in the registry's order, for --help (a constant: building the registry at
// every start of amflow would cost every command; tests/analysis/figures_test.cpp holds it to
// the registry).
inline constexpr const char* figure_names =
    "spike, landscapes, learning-rates-p0, learning-rates-alpha, sharpness, large-memory, "
    "underparameterized, orthogonal, gd-vs-flow, convergence, rule-scaling, precision, "
    "transformer-wo2, transformer-all";

// The file a figure_problem describes: the built-in problem with its fields replaced, named
// after the file.
nlohmann::json figure_problem_json(const figure_problem& p);

// The shell command of a run ("amflow ARGS --output FILE", quoted where needed) and the comment
// line that says how a problem file was made, for the report page.
std::string figure_command(const figure_run& r);
std::string figure_problem_comment(const figure_problem& p);

}  // namespace amflow::analysis
