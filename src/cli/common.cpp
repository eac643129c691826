#include "cli/common.hpp"

#include <arb.h>
#include <mpfr.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "amflow/certify/ball.hpp"
#include "amflow/errors.hpp"
#include "amflow/io/json_read.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/dispatch.hpp"

namespace amflow::cli {

void add_common(CLI::App& cmd, common_options& opts, bool formats) {
  cmd.add_option("--digits", opts.digits,
                 std::string("decimal digits: 15 double, 18 long double, ") +
                     (have_float128 ? "33 float128, other values"
                                    : "other values (33 too: this "
                                      "build has no float128)") +
                     " in [10, 10000] MPFR (software: about 75 times slower per step than "
                     "double, so 16 costs far more than 15)")
      ->capture_default_str();
  cmd.add_option("--output", opts.output,
                 "write the result to this file (atomically: nothing is left on failure; devices "
                 "and FIFOs are written straight)");
  if (formats) {
    cmd.add_option("--format", opts.format, format_help);
  }
}

long parse_digits(const std::string& text) {
  return static_cast<long>(parse_integer(text, "--digits", scalar::min_digits, scalar::max_digits));
}

io::format resolve_format(const std::string& format, const std::string& output) {
  if (!format.empty()) {
    try {
      return io::parse_format(format);
    } catch (const input_error& e) {
      throw input_error("--format", format, e.reason());
    }
  }
  return output.empty() && isatty(fileno(stdout)) ? io::format::table : io::format::csv;
}

long long parse_integer(const std::string& text, const std::string& flag, long long lo,
                        long long hi) {
  const std::string range =
      "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  rational q;
  try {
    q = scalar::parse_exact(text, flag);
  } catch (const input_error&) {
    throw input_error(flag, "\"" + text + "\"", range);
  }
  if (mp::denominator(q) != 1 || q < lo || q > hi) throw input_error(flag, text, range);
  return mp::numerator(q).convert_to<long long>();
}

std::uint64_t parse_seed(const std::string& text, const std::string& flag) {
  const std::string range = "must be an integer in [0, 18446744073709551615]";
  rational q;
  try {
    q = scalar::parse_exact(text, flag);
  } catch (const input_error&) {
    throw input_error(flag, "\"" + text + "\"", range);
  }
  const mp::mpz_int top("18446744073709551615");
  if (mp::denominator(q) != 1 || q < 0 || mp::numerator(q) > top) {
    throw input_error(flag, text, range);
  }
  return mp::numerator(q).convert_to<std::uint64_t>();
}

int parse_threads(const std::string& text) {
  return static_cast<int>(parse_integer(text, "--threads", 0, max_threads));
}

void resume_into(common_options& common, const std::string& file) {
  if (!common.format.empty() && common.format != "jsonl") {
    throw input_error("--format", common.format, "--resume writes JSON Lines: give jsonl or none");
  }
  common.format = "jsonl";
  if (common.output.empty()) common.output = file;
  if (common.output != file || file == "-") {
    throw input_error("--output", common.output,
                      "--resume goes on writing its own file " + file + ": give that path or none");
  }
}

std::string rule_flag(const std::string& parameter) {
  std::string flag = "--" + parameter;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

void add_rule_parameter(CLI::App& cmd, rule_cli_options& o, const std::string& parameter) {
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    if (parameter == p.name) cmd.add_option(rule_flag(p.name), o.values[p.name], p.help);
  }
}

void add_rule_options(CLI::App& cmd, rule_cli_options& o) {
  std::string rules;
  for (const descent::rule_info& r : descent::rule_table()) {
    rules += std::string(rules.empty() ? "" : ", ") + r.name +
             (*r.summary ? std::string(" (") + r.summary + ")" : "");
  }
  cmd.add_option("--rule", o.rule, "update rule W -= eta D: " + rules)->capture_default_str();
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    add_rule_parameter(cmd, o, p.name);
  }
}

void add_rule_flags(flag_map& flags, const rule_cli_options& o) {
  for (const descent::rule_parameter& p : descent::all_rule_parameters()) {
    flags.add(p.name, rule_flag(p.name), o.typed(p.name));
  }
}

std::string rule_text(const rule_cli_options& o, descent::rule_kind kind,
                      const std::vector<std::string>& axes) {
  const descent::rule_info& info = descent::rule_info_of(kind);
  std::string parts;
  for (const descent::rule_parameter& p : info.parameters) {
    const bool on_off = p.range == descent::parameter_range::on_off;
    std::string value = o.typed(p.name).empty() ? p.default_text : o.typed(p.name);
    if (std::find(axes.begin(), axes.end(), p.name) != axes.end()) value = "grid";
    parts += std::string(parts.empty() ? "" : ", ") + p.label + (on_off ? " " : " = ") + value;
  }
  return parts.empty() ? std::string(info.name) : std::string(info.name) + " (" + parts + ")";
}

void add_problem_source(CLI::App& cmd, problem_source& src) {
  cmd.add_option("problem", src.file, "problem JSON file (amflow problem show NAME prints one)");
  cmd.add_option("--problem", src.name, "a built-in problem (amflow problem list)");
}

nlohmann::json load_problem(const problem_source& src) {
  if (!src.file.empty() && !src.name.empty()) {
    throw input_error("--problem", src.name, "give either a problem file or --problem, not both");
  }
  if (!src.name.empty()) {
    try {
      return io::named_problem(src.name);
    } catch (const input_error& e) {
      throw input_error("--problem", src.name, e.reason());
    }
  }
  if (src.file.empty()) {
    throw input_error("problem", "missing",
                      "give a problem file or --problem NAME (amflow problem list)");
  }
  struct stat st {};
  if (::stat(src.file.c_str(), &st) != 0 && src.file.find('/') == std::string::npos) {
    // `amflow gd pair`: a built-in problem's name where a file was expected.
    bool built_in = true;
    try {
      io::named_problem(src.file);
    } catch (const input_error&) {
      built_in = false;
    }
    if (built_in) {
      throw input_error(
          "problem file", src.file,
          "no such file; " + src.file + " is a built-in problem: give --problem " + src.file);
    }
  }
  return io::read_json_file(src.file);
}

flag_map::flag_map() {
  add("digits", "--digits");
  add("format", "--format");
  add("output", "--output");
}

flag_map& flag_map::add(const std::string& field, const std::string& flag,
                        const std::string& typed) {
  map_[field] = {flag, typed};
  return *this;
}

void flag_map::rethrow(const input_error& e) const {
  auto it = map_.find(e.field());
  if (it == map_.end()) {
    // "grid eta": the field "grid" about its axis "eta".
    const size_t space = e.field().find(' ');
    if (space == std::string::npos) throw e;
    it = map_.find(e.field().substr(0, space));
    if (it == map_.end()) throw e;
    throw input_error(it->second.flag + e.field().substr(space), e.value(), e.reason());
  }
  throw input_error(it->second.flag, it->second.typed.empty() ? e.value() : it->second.typed,
                    e.reason());
}

void run_command(const CLI::App& cmd, const flag_map& flags, const std::function<void()>& body) {
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->count() == 0 || opt->get_items_expected_max() == 0) continue;
    for (const std::string& v : opt->results()) {
      if (v.empty()) {
        throw input_error(opt->get_name(), "\"\"",
                          "an empty value; give one or leave the option out");
      }
    }
  }
  try {
    body();
  } catch (const input_error& e) {
    flags.rethrow(e);
  }
}

progress_meter::progress_meter(std::string what, std::string unit, long long total)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total) {
  const char* env = std::getenv("AMFLOW_PROGRESS");
  enabled_ = env ? std::string(env) == "1" : isatty(STDERR_FILENO) != 0;
  start_ = last_ = std::chrono::steady_clock::now();
}

progress_meter::~progress_meter() { clear(); }

void progress_meter::update(long long done) {
  if (!enabled_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  draw(done, false);
}

void progress_meter::add(long long n) {
  if (!enabled_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  draw(done_, false);
}

void progress_meter::clear() {
  if (!enabled_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (shown_) std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

void progress_meter::draw(long long done, bool force) {
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  // Quiet for the first half second: short commands print no progress at all.
  if (!force && (since_last < 0.25 || elapsed < 0.5)) return;
  last_ = now;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  char line[256];
  int n = std::snprintf(line, sizeof line, "\r\033[Kamflow %s: %lld / %lld %s (%.1f%%), %.3g %s/s",
                        what_.c_str(), done, total_, unit_.c_str(),
                        total_ > 0 ? 100.0 * static_cast<double>(done) / total_ : 0.0, rate,
                        unit_.c_str());
  if (rate > 0 && done < total_ && n > 0 && n < static_cast<int>(sizeof line)) {
    const double left = static_cast<double>(total_ - done) / rate;
    std::snprintf(line + n, sizeof line - n, ", about %.0f s left", left);
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
  shown_ = true;
}

int output_width(bool terminal) {
  int width = 0;
  struct winsize size {};
  if (terminal && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) width = size.ws_col;
  if (width <= 0) {
    const char* columns = std::getenv("COLUMNS");
    if (columns) width = std::atoi(columns);
  }
  if (width <= 0) width = 100;
  return std::clamp(width, 40, 100);
}

bool colour_wanted(bool terminal) {
  if (!terminal) return false;
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour && *no_colour) return false;
  const char* term = std::getenv("TERM");
  return !(term && std::string(term) == "dumb");
}

std::string fit(const std::string& text, size_t width) {
  if (text.size() <= width) return text;
  return text.substr(0, width > 3 ? width - 3 : 0) + "...";
}

table_output::table_output(const common_options& common, std::vector<std::string> columns,
                           nlohmann::json meta, progress_meter* progress, long long in_place_from,
                           bool continuing)
    : target_(common.output, in_place_from) {
  if (progress && progress->enabled() && target_.to_terminal() && isatty(STDERR_FILENO)) {
    target_.before_write = [progress] { progress->clear(); };
  }
  const io::format fmt = resolve_format(common.format, common.output);
  writer_ = std::make_unique<io::table_writer>(
      fmt, std::move(columns), std::move(meta), [this](std::string_view s) { target_.write(s); },
      continuing);
}

void table_output::finish(const nlohmann::json& summary) {
  writer_->finish(summary);
  target_.commit();
}

}  // namespace amflow::cli

namespace amflow::cli {

std::string exact_text(const rational& q, int digits) {
  mp::mpz_int den = mp::denominator(q);
  int twos = 0, fives = 0;
  while (mp::integer_modulus(den, 2) == 0) den /= 2, ++twos;
  while (mp::integer_modulus(den, 5) == 0) den /= 5, ++fives;
  if (den == 1) {
    const int places = std::max(twos, fives);
    const mp::mpz_int scaled =
        mp::numerator(q) * mp::pow(mp::mpz_int(10), places) / mp::denominator(q);
    std::string text = mp::mpz_int(mp::abs(scaled)).str();
    if (places > 0) {
      if (static_cast<int>(text.size()) <= places) text.insert(0, places + 1 - text.size(), '0');
      text.insert(text.size() - places, ".");
    }
    return (q < 0 ? "-" : "") + text;
  }
  const certify::ball b = certify::ball::of(q);
  char* text = arb_get_str(b.raw(), digits, ARB_STR_NO_RADIUS);
  std::string out(text);
  flint_free(text);
  return out;
}

std::string upper_text(double x) {
  mpfr_t v;
  mpfr_init2(v, 64);
  mpfr_set_d(v, x, MPFR_RNDU);
  char buf[64];
  mpfr_snprintf(buf, sizeof buf, "%.2RUe", v);
  mpfr_clear(v);
  return buf;
}

}  // namespace amflow::cli
