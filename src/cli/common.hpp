// What every command shares: its options (--digits, --output, --format, the problem source), the
// strict parsing of numbers given on the command line, the map from the library's option fields to
// flags, the streamed output, and the progress line.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "amflow/descent/rules.hpp"
#include "amflow/errors.hpp"
#include "amflow/flow/integrate.hpp"
#include "amflow/io/output.hpp"
#include "amflow/io/table.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/types.hpp"

namespace amflow::cli {

inline constexpr const char* version = "0.1.0";

// --digits, --output and --format, kept as the text the user typed (parsed strictly later).
struct common_options {
  std::string digits = "15";  // 15 double, 18 long double, 33 float128, else MPFR
  std::string output;         // written atomically; standard output when empty
  std::string format;         // table on a terminal, csv otherwise
};

// The help text of --format (every tabular command's).
inline constexpr const char* format_help =
    "table, csv, json, jsonl (JSON Lines, one object per row), md or latex (default: table on a "
    "terminal, csv otherwise)";

// Why --digits 10, 16, 20 or 30 are slow (in MPFR, not a hardware type).
inline constexpr const char* mpfr_cost_note =
    "MPFR (software arithmetic) is about 75 times slower per step than double; 15 (double), 18 "
    "(long double) and 33 (float128) digits run in hardware types";

// Adds --digits and --output to a command; --format too when `formats` is true.
void add_common(CLI::App& cmd, common_options& opts, bool formats = true);

// The digits asked for: an integer in [10, 10000] (input_error naming --digits otherwise).
long parse_digits(const std::string& text);

// The format to write: the one asked for, else table on a terminal and csv otherwise (a file or a
// pipe). Throws input_error("--format", ...) for an unknown name.
io::format resolve_format(const std::string& format, const std::string& output);

// An integer option: any exact numeral whose value is an integer in [lo, hi] ("1000", "1e3",
// "+12"); anything else, empty text included, is input_error naming the flag and the text.
long long parse_integer(const std::string& text, const std::string& flag, long long lo,
                        long long hi);
// A seed: an integer in [0, 2^64 - 1].
std::uint64_t parse_seed(const std::string& text, const std::string& flag);
// --threads: 0 (all cores) to max_threads.
inline constexpr long long max_threads = 1024;
int parse_threads(const std::string& text);

// The problem a command runs on: a file path or --problem NAME (exactly one of them).
struct problem_source {
  std::string file;
  std::string name;
  // How the meta names it: the built-in name, or the file path.
  std::string label() const { return name.empty() ? file : name; }
};

// Adds the problem source: a positional PROBLEM.json or --problem NAME.
void add_problem_source(CLI::App& cmd, problem_source& src);

// --rule and its parameters (gd, sweep). Empty parameters: not given (the rule's default); a
// parameter given to a rule that does not use it is refused rather than ignored.
struct rule_cli_options {
  std::string rule = "gd";
  std::map<std::string, std::string> values;  // a parameter's name in rule_table() -> as typed
  // As typed, "" when not given.
  const std::string& typed(const std::string& parameter) const {
    static const std::string none;
    const auto it = values.find(parameter);
    return it == values.end() ? none : it->second;
  }
};
// --rule and a flag per parameter of descent::rule_table() (--bias-correction for
// bias_correction).
void add_rule_options(CLI::App& cmd, rule_cli_options& o);
// One parameter's flag alone (compare and flow: --momentum).
void add_rule_parameter(CLI::App& cmd, rule_cli_options& o, const std::string& parameter);
// The flag of a parameter: --NAME with _ as -.
std::string rule_flag(const std::string& parameter);

// --resume FILE (sweep, transformer): the output is FILE, written in JSON Lines; another --format
// or --output (or FILE = -) is refused.
void resume_into(common_options& common, const std::string& file);
// The rule with its parameters as typed (or their defaults) for the meta; a parameter named in
// `axes` reads "grid".
std::string rule_text(const rule_cli_options& o, descent::rule_kind kind,
                      const std::vector<std::string>& axes = {});

// The library's rule options from the flags (parsed at Real's precision).
template <class Real>
descent::rule_options<Real> parse_rule_options(const rule_cli_options& o) {
  descent::rule_options<Real> r;
  r.kind = descent::parse_rule(o.rule, "--rule");
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    const std::string& text = o.typed(p.name);
    if (text.empty()) continue;
    const std::string flag = rule_flag(p.name);
    if (!descent::rule_uses(r.kind, p.name)) {
      throw input_error(flag, text, "does not apply to --rule " + o.rule);
    }
    if (Real* x = r.number(p.name)) {
      *x = scalar::parse_real<Real>(text, flag);
    } else if (bool* b = r.on_off(p.name)) {
      if (text != "on" && text != "off") throw input_error(flag, text, "must be on or off");
      *b = text == "on";
    }
  }
  return r;
}

// Reads the problem JSON from the source (throws input_error for a missing file or unknown name).
nlohmann::json load_problem(const problem_source& src);

// An exact number as a numeral: its exact decimal when it has one (a denominator 2^a 5^b), else its
// value to `digits` significant digits (say so where it is printed).
std::string exact_text(const rational& q, int digits);

// Bounds of a ball as decimal numerals with `digits` significant digits, rounded outward, and an
// upper bound (of a radius) as a three-digit numeral rounded up.
std::string upper_text(double x);

// meta: {"amflow": version, "command", "digits", "scalar", "bits"} for scalar type Real.
// Where MPFR runs at a precision a hardware type would carry (--digits 16), a "scalar_note" says
// what that costs.
template <class Real>
nlohmann::json run_meta(const std::string& command) {
  nlohmann::json meta = {{"amflow", version},
                         {"command", command},
                         {"digits", scalar::digits<Real>()},
                         {"scalar", scalar::name<Real>()},
                         {"bits", scalar::bits<Real>()}};
  if (scalar::name<Real>().rfind("mpfr", 0) == 0 && scalar::digits<Real>() <= 33) {
    meta["scalar_note"] = mpfr_cost_note;
  }
  return meta;
}

// The library names its own option fields in its messages ("eta", "rel_tol", "times"); a command
// says which flag each one is and what the user typed there, and errors are shown in those terms.
class flag_map {
 public:
  // Knows the fields every command shares: digits, format, output.
  flag_map();
  // `typed` is the text the user gave (empty: the default was used; the library's value stays).
  flag_map& add(const std::string& field, const std::string& flag, const std::string& typed = "");
  // Rethrows e with the flag in place of a known field, and the typed text in place of the value
  // when the library echoed a number computed from it.
  [[noreturn]] void rethrow(const input_error& e) const;

 private:
  struct entry {
    std::string flag, typed;
  };
  std::map<std::string, entry> map_;
};

// The rule parameters' fields (momentum, beta1, ...) mapped to their flags.
void add_rule_flags(flag_map& flags, const rule_cli_options& o);

// Runs a command's body: refuses options given an empty value (--t-end ""), maps the library's
// fields to flags, and exits through the usual error path.
void run_command(const CLI::App& cmd, const flag_map& flags, const std::function<void()>& body);

// A line on standard error saying how far long work has come (done / total, rate, time left), when
// standard error is a terminal (or AMFLOW_PROGRESS=1); redrawn at most four times a second and
// erased at the end. Safe to call from several threads.
class progress_meter {
 public:
  progress_meter(std::string what, std::string unit, long long total);
  ~progress_meter();
  void update(long long done);
  void add(long long n = 1);
  // Erases the line (before a row goes to the same terminal).
  void clear();
  bool enabled() const { return enabled_; }

 private:
  void draw(long long done, bool force);
  std::string what_, unit_;
  long long total_;
  bool enabled_;
  std::mutex mutex_;
  long long done_ = 0;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

// A command's output: the target opened before the work (an unwritable path fails at once), a
// table written row by row, committed at the end. Rows sent to a terminal clear the progress line
// first.
class table_output {
 public:
  // in_place_from and continuing: as io::output_target and io::table_writer (sweep shards).
  table_output(const common_options& common, std::vector<std::string> columns, nlohmann::json meta,
               progress_meter* progress = nullptr, long long in_place_from = -1,
               bool continuing = false);
  void row(const std::vector<io::cell>& cells) { writer_->row(cells); }
  // Closes the table with its summary and makes the file final.
  void finish(const nlohmann::json& summary = nlohmann::json::object());

 private:
  io::output_target target_;
  std::unique_ptr<io::table_writer> writer_;
};

// Quantities that are positive in exact arithmetic (the loss at finite logits) but can fall below
// the smallest normal number of the working type: then they are 0 or subnormal, wrong in most or
// all of their digits, and are printed as null instead; the first place is noted.
class underflow_watch {
 public:
  template <class Real>
  io::cell positive(const Real& x, const std::string& quantity, const std::string& where) {
    if (scalar::is_normal(x)) return io::cell::number(scalar::to_text<Real>(x));
    if (first_.empty()) mark(quantity, where);
    return io::cell::null();
  }
  // Notes an underflow found elsewhere (in the rows a resumed sweep read back).
  void mark(const std::string& quantity, const std::string& where) {
    if (first_.empty()) first_ = quantity + " at " + where;
  }
  // Adds "underflow" to a summary when something underflowed.
  void note(nlohmann::json& summary, const std::string& type) const {
    if (first_.empty()) return;
    summary["underflow"] =
        "values below the smallest normal number of " + type + " are printed as null, from " +
        first_ + " on" +
        (type.rfind("mpfr", 0) == 0 ? " (below MPFR's exponent range, about 1e-323228496)"
                                    : "; more digits (MPFR) reach about 1e-323228496");
  }

 private:
  std::string first_;
};

// --tol: the text parsed at the working precision, or flow::default_tolerance when empty. Refused
// (input_error naming --tol) when positive but below flow::smallest_tolerance, which the precision
// cannot carry; other bad values are left to flow_options::validate.
template <class Real>
Real parse_tolerance(const std::string& text) {
  if (text.empty()) return flow::default_tolerance<Real>();
  Real tol = scalar::parse_real<Real>(text, "--tol");
  const Real smallest = flow::smallest_tolerance<Real>();
  if (tol > 0 && tol < smallest) {
    throw input_error(
        "--tol", text,
        "below what " + std::to_string(scalar::digits<Real>()) + " digits carry (smallest " +
            scalar::round_text(scalar::to_text<Real>(smallest), 3) + " = 100 eps); raise --digits");
  }
  return tol;
}

// The default tolerance as text ("1e-13"), for the meta when --tol was not given.
template <class Real>
std::string default_tolerance_text() {
  return "1e-" + std::to_string((85 * scalar::digits<Real>() + 99) / 100);
}

// --stepper: a stepper's name (input_error naming --stepper when unknown). "auto" is the Taylor
// series at every precision (its order grows with the digits; it beats Bulirsch-Stoer 8-40x from 19
// digits and 2-8x in double, and only it reaches the last digits of double), handing over to Radau
// IIA where the flow turns stiff (near a finite limit), so that far times cost what near ones do.
template <class Real>
flow::stepper_kind parse_stepper_or_auto(const std::string& name) {
  return flow::parse_stepper(name, "--stepper");
}

// The width to write lines to: the terminal's (TIOCGWINSZ) when `terminal`, else $COLUMNS when set,
// else 100; never more than 100 nor less than 40.
int output_width(bool terminal);
// Whether to colour what goes to a terminal: only on a terminal, not when NO_COLOR is set
// (no-color.org) or TERM is "dumb".
bool colour_wanted(bool terminal);
// `text` cut to `width` characters ("..." marks the cut).
std::string fit(const std::string& text, size_t width);

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
void register_merge(CLI::App& app);
// amflow scaling (src/cli/scaling_cmd.cpp).
void register_scaling(CLI::App& app);
void register_limits(CLI::App& app);
// Registers "amflow enclose".
void register_enclose(CLI::App& app);
// Registers "amflow landscape".
void register_landscape(CLI::App& app);
// Registers "amflow figures".
void register_figures(CLI::App& app);
// Registers "amflow verify".
void register_verify(CLI::App& app);
// Registers "amflow transformer".
void register_transformer(CLI::App& app);

}  // namespace amflow::cli
