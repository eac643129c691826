// amflow enclose: a validated enclosure of the gradient flow (certify::enclose): at each sample
// time, a lower and an upper bound of the loss and of every margin that the exact flow of the
// problem provably lies between; with --crossings, certified brackets of the margins' zero
// crossings and turns. Nothing is printed unless everything is certified.
#include <mpfr.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "amflow/certify/enclose.hpp"
#include "amflow/errors.hpp"
#include "amflow/io/points.hpp"
#include "amflow/io/problem_io.hpp"
#include "amflow/scalar/convert.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct enclose_cli_options {
  common_options common;
  problem_source source;
  std::string t_end;
  std::string times;
  std::string max_steps = "1000000";
  bool crossings = false;
};

// The largest problem enclose takes: its cost grows like (N M)^2 per step.
constexpr int max_entries = 400;

std::vector<rational> exact_times(const enclose_cli_options& o) {
  const bool have_t_end = !o.t_end.empty();
  rational t_end(100);
  if (have_t_end) {
    t_end = scalar::parse_exact(o.t_end, "--t-end");
    if (!(t_end > 0)) throw input_error("--t-end", o.t_end, "must be positive");
    if (t_end > rational(mp::pow(mp::mpz_int(10), 300))) {
      throw input_error("--t-end", o.t_end, "must be at most 1e300");
    }
  }
  std::vector<rational> times;
  if (!o.times.empty()) {
    for (const io::point& p : io::parse_point_list(o.times, "--times")) {
      if (p.power_of_ten) {
        throw input_error("--times", o.times,
                          "10^x at a non-integer x is irrational; enclose needs exact times");
      }
      times.push_back(p.value);
    }
    for (size_t i = 0; i < times.size(); ++i) {
      if (times[i] < 0 || (i > 0 && !(times[i] > times[i - 1]))) {
        throw input_error("--times", o.times,
                          "sample times must be >= 0 and increase strictly (entry " +
                              std::to_string(i + 1) + " does not)");
      }
    }
    if (times.back() > rational(mp::pow(mp::mpz_int(10), 300))) {
      throw input_error("--times", o.times, "times must be at most 1e300");
    }
    if (have_t_end && t_end > times.back()) times.push_back(t_end);
    if (have_t_end && times.back() > t_end) {
      throw input_error("--times", o.times, "its last time is later than --t-end " + o.t_end);
    }
    return times;
  }
  times.push_back(rational(0));
  for (int k = -1;; ++k) {
    const rational decade = scalar::parse_exact("1e" + std::to_string(k), "--t-end");
    if (!(decade < t_end)) break;
    times.push_back(decade);
  }
  times.push_back(t_end);
  return times;
}

void run_enclose(const enclose_cli_options& o) {
  const long digits = parse_digits(o.common.digits);
  const nlohmann::json spec = load_problem(o.source);
  // Validation (every field named) before any work; the enclosure builds its own problems.
  scalar::set_mpfr_digits(static_cast<int>(digits));
  const model::problem<mpfr_real> pb = io::parse_problem<mpfr_real>(spec);
  if (static_cast<long>(pb.tokens) * pb.classes > max_entries) {
    throw input_error("tokens", std::to_string(pb.tokens),
                      "enclose takes tokens x classes <= " + std::to_string(max_entries) +
                          " (here " + std::to_string(pb.tokens) + " x " +
                          std::to_string(pb.classes) + ")");
  }
  certify::enclose_options opt;
  opt.digits = static_cast<int>(digits);
  opt.times = exact_times(o);
  opt.events = o.crossings;
  opt.max_steps = parse_integer(o.max_steps, "--max-steps", 1, 1000000000000LL);
  resolve_format(o.common.format, o.common.output);

  progress_meter progress("enclose", "% of log(1 + tau)", 100);
  if (progress.enabled()) {
    opt.on_progress = [&](double f) { progress.update(static_cast<long long>(100 * f)); };
  }
  const certify::enclosure_result r = certify::enclose(spec, opt);
  progress.clear();
  if (!r.ok()) throw std::runtime_error("enclose: cannot certify: " + r.message);

  const int shown = static_cast<int>(digits);
  nlohmann::json meta = {{"amflow", version},
                         {"command", "enclose"},
                         {"digits", digits},
                         {"problem", o.source.label()},
                         {"certified", true}};
  meta["method"] =
      "validated: the flow is nonexpansive in |e|_* = <e, (G_E x G_U)^-1 e>^1/2 (the loss is "
      "convex), so |Z - Zt|_* <= |Z(0) - Zt(0)|_* + integral |Zt' + G grad l(Zt)|_*, for Zt the "
      "Taylor stepper's piecewise polynomial, with the defect bounded in ball arithmetic (Arb)";
  meta["time"] = "log: s = log(1 + tau)";
  meta["bounds"] = "every *_lo / *_hi pair brackets the exact value, rounded outward to " +
                   std::to_string(shown) + " significant digits";
  meta["tau"] =
      "the times asked, exactly (a time without a finite decimal numeral, such as 1/3, "
      "is shown to the digits printed; its bounds are for the exact time)";
  meta["working_digits"] = r.working_digits;
  meta["taylor_order"] = r.order;
  meta["radius"] = upper_text(r.largest_radius);
  meta["error_bound"] = upper_text(r.error_bound);
  meta["gram_lower_bound"] = upper_text(r.gram_bound);
  if (o.crossings) {
    const auto events = [&](const std::vector<certify::event>& list, bool turns) {
      nlohmann::json out = nlohmann::json::array();
      for (const certify::event& e : list) {
        nlohmann::json j = {
            {"token", e.token}, {"lo", e.tau.lower(shown)}, {"hi", e.tau.upper(shown)}};
        if (turns) {
          j["kind"] = e.direction > 0 ? "minimum" : "maximum";
        } else {
          j["direction"] = e.direction > 0 ? "up" : "down";
        }
        j["unique"] = e.unique;
        out.push_back(j);
      }
      return out;
    };
    meta["crossings"] = events(r.crossings, false);
    meta["turns"] = events(r.turns, true);
    meta["events_complete"] = r.events_complete;
    meta["events_note"] =
        "crossings: zeros of a margin; turns: zeros of its velocity; unique: the bracket holds "
        "exactly one (the derivative's enclosure excludes 0 on it); events_complete: every other "
        "part of (0, " +
        scalar::to_text<rational>(opt.times.back()) +
        "] was proven free of them (the search covers whole steps, up to the last one's end)";
  }
  // The formats rounded for reading (table, md, latex) would print every _lo like its _hi: they
  // show each ball as its value and radius instead; csv, json and jsonl give the bounds.
  const io::format fmt = resolve_format(o.common.format, o.common.output);
  const bool as_radius =
      fmt == io::format::table || fmt == io::format::md || fmt == io::format::latex;
  const std::string lo = as_radius ? "" : "_lo", hi = as_radius ? "_radius" : "_hi";
  if (as_radius) {
    meta["bounds"] =
        "each quantity as its ball's midpoint (rounded for reading) and radius (rounded up): the "
        "exact value is within the radius of the midpoint; --format csv or json give the bounds "
        "*_lo / *_hi rounded outward to " +
        std::to_string(shown) + " significant digits";
  }
  std::vector<std::string> columns = {"tau", "loss" + lo, "loss" + hi};
  const int N = static_cast<int>(r.rows.front().margins.size());
  for (int x = 0; x < N; ++x) {
    columns.push_back("m_" + std::to_string(x) + lo);
    columns.push_back("m_" + std::to_string(x) + hi);
  }
  table_output out(o.common, columns, meta);
  const auto pair = [&](const certify::ball& b, std::vector<io::cell>& cells) {
    cells.push_back(io::cell::number(as_radius ? b.mid_text(shown) : b.lower(shown)));
    cells.push_back(io::cell::number(as_radius ? b.radius_text(3) : b.upper(shown)));
  };
  for (const certify::enclosure_row& row : r.rows) {
    std::vector<io::cell> cells = {io::cell::number(exact_text(row.tau, shown))};
    pair(row.loss, cells);
    for (const certify::ball& m : row.margins) pair(m, cells);
    out.row(cells);
  }
  out.finish({{"steps", r.steps}});
}

}  // namespace

void register_enclose(CLI::App& app) {
  auto o = std::make_shared<enclose_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "enclose",
      "certified bounds of the gradient flow's loss and margins (validated Taylor enclosure)");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->get_option("--digits")
      ->description(
          "digits of the bounds printed, in [10, 10000]; the certificate works at 12 "
          "more (ball arithmetic whatever the digits)");
  cmd->add_option("--t-end", o->t_end, "final time tau (default 100, or the last --times)");
  cmd->add_option("--times", o->times,
                  "sample times: a,b,c | linspace:a:b:n | logspace:a:b:n (integer exponents)");
  cmd->add_option("--max-steps", o->max_steps, "give up (exit 1) after this many steps")
      ->capture_default_str();
  cmd->add_flag("--crossings", o->crossings,
                "certify the margins' zero crossings and turns (minima, maxima) with brackets");
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("max_steps", "--max-steps", o->max_steps);
    run_command(*cmd, flags, [&] { run_enclose(*o); });
  });
}

}  // namespace amflow::cli
