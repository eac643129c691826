// amflow sweep: GD over a grid of parameters, one row per cell, in grid order whatever the thread
// count.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "analysis/instantiate.hpp"
#include "cli/common.hpp"
#include "cli/jsonl_table.hpp"
#include "cli/mpi_cells.hpp"

namespace amflow::cli {
namespace {

struct sweep_cli_options {
  common_options common;
  problem_source source;
  std::vector<std::string> grid;
  std::string eta = "1";
  std::string steps = "1000";
  std::string batch = "0";
  std::string seed = "0";
  std::string threads = "0";
  bool certify = false;
  std::string shard;
  std::string resume;
  bool mpi = false;
  rule_cli_options rule;
};

// Which shard this process runs: --shard I/K, else a SLURM job array's task (SLURM_ARRAY_TASK_ID
// counted from SLURM_ARRAY_TASK_MIN, K = SLURM_ARRAY_TASK_COUNT or MAX - MIN + 1), else none.
struct shard_choice {
  long long index = 0, count = 0;  // 1 <= index <= count; count 0: not sharded
};

shard_choice choose_shard(const std::string& flag) {
  constexpr long long most = 1000000000;
  shard_choice s;
  if (!flag.empty()) {
    const size_t slash = flag.find('/');
    const std::string why =
        "expected I/K with 1 <= I <= K, e.g. 2/4 (the cells c with c % K == I - 1)";
    if (slash == std::string::npos) throw input_error("--shard", flag, why);
    try {
      s.count = parse_integer(flag.substr(slash + 1), "--shard", 1, most);
      s.index = parse_integer(flag.substr(0, slash), "--shard", 1, most);
    } catch (const input_error&) {
      throw input_error("--shard", flag, why + "; I and K integers up to " + std::to_string(most));
    }
    if (s.index > s.count) throw input_error("--shard", flag, why);
    return s;
  }
  const char* id = std::getenv("SLURM_ARRAY_TASK_ID");
  if (id == nullptr) return s;
  const auto read = [&](const char* name, long long fallback) {
    const char* v = std::getenv(name);
    return v == nullptr ? fallback : parse_integer(v, name, 0, most);
  };
  const long long task = read("SLURM_ARRAY_TASK_ID", 0), low = read("SLURM_ARRAY_TASK_MIN", 1);
  const long long high = read("SLURM_ARRAY_TASK_MAX", -1);
  const long long count = read("SLURM_ARRAY_TASK_COUNT", high >= low ? high - low + 1 : -1);
  if (count < 1) {
    throw input_error("SLURM_ARRAY_TASK_COUNT", "(unset)",
                      "SLURM_ARRAY_TASK_ID is set but neither the count nor MIN and MAX are; "
                      "pass --shard I/K");
  }
  if (high >= low && count != high - low + 1) {
    throw input_error("SLURM_ARRAY_TASK_COUNT", std::to_string(count),
                      "differs from MAX - MIN + 1 = " + std::to_string(high - low + 1) +
                          " (an array with a step or gaps); pass --shard I/K");
  }
  s.index = task - low + 1;
  s.count = count;
  if (s.index < 1 || s.index > s.count) {
    throw input_error(
        "SLURM_ARRAY_TASK_ID", std::to_string(task),
        "outside [" + std::to_string(low) + ", " + std::to_string(low + count - 1) + "]");
  }
  return s;
}

template <class Real>
analysis::sweep_options<Real> sweep_options_from(const sweep_cli_options& o) {
  analysis::sweep_options<Real> opt;
  opt.problem = load_problem(o.source);
  for (const std::string& g : o.grid) {
    const size_t eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size()) {
      throw input_error("--grid", g, "expected NAME=SPEC, e.g. eta=logspace:-1:1:10");
    }
    opt.axes.push_back({g.substr(0, eq), g.substr(eq + 1)});
  }
  opt.eta = scalar::parse_real<Real>(o.eta, "--eta");
  opt.steps = parse_integer(o.steps, "--steps", 1, 1000000000000LL);
  opt.batch = parse_integer(o.batch, "--batch", 0, 1000000000);
  opt.seed = parse_seed(o.seed, "--seed");
  opt.threads = parse_threads(o.threads);
  opt.certify = o.certify;
  opt.eta_text = o.eta;
  opt.rule = parse_rule_options<Real>(o.rule);
  return opt;
}

// The cells a --resume FILE holds (none without --resume or when FILE is missing), each one this
// shard runs and each once.
std::optional<jsonl_table> resumed_cells(const std::string& file, const shard_choice& shard) {
  struct stat st {};
  if (file.empty() || ::stat(file.c_str(), &st) != 0) return std::nullopt;
  jsonl_table done = read_jsonl_table(file, "--resume", false);
  std::set<long long> seen;
  for (const auto& row : done.rows) {
    if (row.first % shard.count != shard.index - 1 || !seen.insert(row.first).second) {
      throw input_error(
          "--resume", file,
          "cell " + std::to_string(row.first) + " is not one this shard runs, or is there twice");
    }
  }
  return done;
}

template <class Real>
nlohmann::json sweep_meta(const sweep_cli_options& o, const analysis::sweep_options<Real>& opt,
                          const shard_choice& shard) {
  nlohmann::json meta = run_meta<Real>("sweep");
  meta["problem"] = o.source.label();
  nlohmann::json axes = nlohmann::json::array();
  std::vector<std::string> names;
  bool eta_axis = false;
  for (const auto& a : opt.axes) {
    axes.push_back(a.name + "=" + a.spec);
    names.push_back(a.name);
    eta_axis = eta_axis || a.name == "eta";
  }
  meta["grid"] = axes;
  meta["steps"] = opt.steps;
  if (!eta_axis) meta["eta"] = o.eta;
  meta["rule"] = rule_text(o.rule, opt.rule.kind, names);
  meta["update"] = opt.batch == 0 ? "full-batch GD"
                                  : "SGD, batch " + std::to_string(opt.batch) + ", seed " +
                                        std::to_string(opt.seed);
  meta["first_perfect_step"] =
      "first k in [0, steps - 1] (state before update k + 1) with every token right; steps - 1 "
      "if none (ever_perfect = false)";
  meta["spikes"] = "maximal runs of loss increases; max_spike = largest rise within one run";
  meta["margin_sign_changes"] =
      "flips of a margin between positive and negative, summed over tokens (leaving 0 is none)";
  meta["error_estimate"] = "none needed: GD is computed directly (rounding only)";
  if (opt.certify) {
    meta["certified"] =
        "yes: the cell's first perfect step and ever_perfect decided in ball arithmetic (the "
        "cell's problem and step size exactly as printed, from the exact data) and equal to this "
        "run's; differs: decided and different (this run's answer is wrong); undecided: the "
        "balls could not tell up to 16384 bits; certified_bits: the precision that decided it";
  }
  if (shard.count > 0) {
    // `amflow merge` puts the shards back together (the meta without shard and grid_cells is the
    // unsharded run's).
    meta["shard"] = std::to_string(shard.index) + "/" + std::to_string(shard.count) +
                    ": the cells c with c % " + std::to_string(shard.count) +
                    " == " + std::to_string(shard.index - 1) + ", in column cell";
  }
  return meta;
}

// The sweep's table: its columns once the grid is known, a row per cell (computed here, on
// another MPI rank, or read back by --resume), and the summary, which counts every row alike.
template <class Real>
class sweep_table {
 public:
  sweep_table(const analysis::sweep_options<Real>& opt, const common_options& common,
              const shard_choice& shard, const std::optional<jsonl_table>& done,
              const std::string& resume, nlohmann::json meta)
      : opt_(opt),
        common_(common),
        shard_(shard),
        done_(done),
        resume_(resume),
        meta_(std::move(meta)) {}

  // The problem's token count, which the rows need (every MPI rank makes rows).
  void set_tokens(int tokens) { tokens_ = tokens; }

  // The grid has `cells` cells, `selected` of them run here, on a problem of `tokens` tokens.
  void open(size_t cells, size_t selected, int tokens) {
    tokens_ = tokens;
    if (shard_.count > 0) {
      meta_["grid_cells"] = cells;
      columns_.push_back("cell");
    }
    for (const auto& a : opt_.axes) columns_.push_back(a.name);
    for (const char* c :
         {"first_perfect_step", "ever_perfect", "max_loss", "loss_increases", "spikes", "max_spike",
          "margin_sign_changes", "final_loss", "final_zero_one_loss"}) {
      columns_.push_back(c);
    }
    for (int x = 0; x < tokens_; ++x) columns_.push_back("m_" + std::to_string(x));
    columns_.push_back("status");
    if (opt_.certify) {
      columns_.push_back("certified");
      columns_.push_back("certified_bits");
    }
    long long in_place_from = -1;
    bool continuing = false;
    if (done_) {
      if (done_->meta["grid_cells"] != cells) {
        throw input_error("--resume", resume_,
                          "written for a grid of " + done_->meta["grid_cells"].dump() +
                              " cells, this one has " + std::to_string(cells));
      }
      if (!done_->rows.empty() && done_->columns != columns_) {
        throw input_error("--resume", resume_, "its columns differ from this run's");
      }
      // The cells read back count in the summary as if run now.
      for (const auto& [c, row] : done_->rows) account(c, row);
      in_place_from = done_->complete_bytes;
      continuing = true;
    } else if (shard_.count > 0 &&
               resolve_format(common_.format, common_.output) == io::format::jsonl &&
               !common_.output.empty() && common_.output != "-") {
      in_place_from = 0;  // a stopped shard leaves its finished cells for --resume
    }
    progress_ =
        std::make_unique<progress_meter>("sweep", "cells", static_cast<long long>(selected));
    out_ = std::make_unique<table_output>(common_, columns_, meta_, progress_.get(), in_place_from,
                                          continuing);
  }

  // A cell's row (without the `cell` column).
  std::vector<io::cell> row_of(const analysis::sweep_cell<Real>& c) const {
    const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
    std::vector<io::cell> row;
    for (size_t a = 0; a < c.texts.size(); ++a) row.push_back(io::cell::number(c.texts[a]));
    const auto& s = c.summary;
    Real max_spike(0);
    for (const auto& sp : s.spikes) {
      if (sp.height > max_spike) max_spike = sp.height;
    }
    long sign_changes = 0;
    for (long n : s.margin_sign_changes) sign_changes += n;
    row.push_back(io::cell::integer(s.first_perfect_step));
    row.push_back(io::cell::boolean(s.ever_perfect));
    row.push_back(num(s.max_loss));
    row.push_back(io::cell::integer(s.loss_increases));
    row.push_back(io::cell::integer(static_cast<long long>(s.spikes.size())));
    row.push_back(num(max_spike));
    row.push_back(io::cell::integer(sign_changes));
    if (c.ok()) {
      underflow_watch cell_watch;  // null below the smallest normal number (account notes it)
      row.push_back(cell_watch.positive(c.final_loss, "the final loss", ""));
      row.push_back(num(c.final_zero_one_loss));
      for (int x = 0; x < tokens_; ++x) row.push_back(num(c.final_margins(x)));
      row.push_back(io::cell::words("ok"));
    } else {
      for (int x = 0; x < tokens_ + 2; ++x) row.push_back(io::cell::null());
      row.push_back(io::cell::words(c.message));
    }
    if (opt_.certify) {
      if (!c.certified) {
        row.push_back(io::cell::words("no"));
        row.push_back(io::cell::null());
      } else {
        row.push_back(io::cell::words(verdict_name(*c.certified)));
        row.push_back(io::cell::integer(c.certified_bits));
      }
    }
    return row;
  }

  void write(long long index, std::vector<io::cell> row) {
    progress_->add();
    account(index, row);
    if (shard_.count > 0) row.insert(row.begin(), io::cell::integer(index));
    out_->row(row);
  }

  void finish(size_t selected) {
    nlohmann::json summary = {{"cells", selected + (done_ ? done_->rows.size() : 0)}};
    if (failed_ > 0) summary["failed_cells"] = failed_;
    if (opt_.certify) {
      for (verdict v : {verdict::yes, verdict::differs, verdict::undecided}) {
        summary[std::string("certified_") + verdict_name(v)] = certified_counts_[verdict_name(v)];
      }
    }
    underflow_.note(summary, scalar::name<Real>());
    if (shard_.count > 0 && first_underflow_ >= 0) {
      summary["first_underflow_cell"] = first_underflow_;
    }
    out_->finish(summary);
  }

 private:
  // What a row adds to the summary, read from the row itself. The row has no `cell` column.
  void account(long long index, const std::vector<io::cell>& row) {
    const auto at = [&](const std::string& name) {
      return static_cast<size_t>(std::find(columns_.begin(), columns_.end(), name) -
                                 columns_.begin()) -
             (shard_.count > 0 ? 1 : 0);
    };
    if (row[at("status")].text != "ok") {
      ++failed_;
    } else if (row[at("final_loss")].kind == io::cell_kind::null) {
      std::string where = "the cell";
      for (size_t a = 0; a < opt_.axes.size(); ++a) {
        where += " " + opt_.axes[a].name + " = " + row[a].text;
      }
      underflow_.mark("the final loss", where);
      if (first_underflow_ < 0) first_underflow_ = index;
    }
    if (opt_.certify && row[at("certified")].text != "no") {
      ++certified_counts_[row[at("certified")].text];
    }
  }

  const analysis::sweep_options<Real>& opt_;
  const common_options& common_;
  const shard_choice& shard_;
  const std::optional<jsonl_table>& done_;
  const std::string& resume_;
  nlohmann::json meta_;
  int tokens_ = 0;
  std::vector<std::string> columns_;
  std::unique_ptr<progress_meter> progress_;
  std::unique_ptr<table_output> out_;
  long failed_ = 0;
  std::map<std::string, long> certified_counts_;
  underflow_watch underflow_;
  long long first_underflow_ = -1;  // the cell of the first underflow (merge keeps the lowest)
};

// Every rank builds the plan (and meets bad input the same way); rank 0 opens the output and tells
// the others whether it could; then the cells go round (cli/mpi_cells.hpp).
template <class Real>
void sweep_over_mpi(const mpi_session& mpi, const analysis::sweep_options<Real>& opt,
                    const common_options& common, sweep_table<Real>& table) {
  const analysis::sweep_plan<Real> plan(opt);
  table.set_tokens(plan.tokens());
  std::vector<size_t> chosen;
  for (size_t c = 0; c < plan.cells(); ++c) {
    if (!opt.select || opt.select(c)) chosen.push_back(c);
  }
  if (mpi.rank() == 0) {
    try {
      table.open(plan.cells(), chosen.size(), plan.tokens());
    } catch (...) {
      mpi.agree(false);
      throw;
    }
  }
  if (!mpi.agree(true)) throw input_error("--output", common.output, "rank 0 could not open it");
  mpi_distribute(
      mpi, chosen, [&](size_t c) { return table.row_of(plan.run(c)); },
      [&](size_t k, std::vector<io::cell> row) {
        table.write(static_cast<long long>(chosen[k]), std::move(row));
      });
  if (mpi.rank() == 0) table.finish(chosen.size());
}

template <class Real>
void run_sweep_on(const sweep_cli_options& o, const mpi_session* session) {
  analysis::sweep_options<Real> opt = sweep_options_from<Real>(o);
  common_options common = o.common;
  shard_choice shard = choose_shard(o.shard);
  // --resume FILE: go on writing FILE (JSON Lines, in place), skipping the cells it holds.
  if (!o.resume.empty()) {
    resume_into(common, o.resume);
    if (shard.count == 0) shard = {1, 1};  // for the cell column
  }
  const std::optional<jsonl_table> done = resumed_cells(o.resume, shard);
  // A shard is for `amflow merge`, which reads JSON Lines: that is a shard's default format.
  if (shard.count > 0 && common.format.empty()) common.format = "jsonl";
  resolve_format(common.format, common.output);
  std::set<long long> present;
  if (done) {
    for (const auto& row : done->rows) present.insert(row.first);
  }
  if (shard.count > 0) {
    opt.select = [&shard, &present](size_t c) {
      return static_cast<long long>(c % static_cast<size_t>(shard.count)) == shard.index - 1 &&
             present.count(static_cast<long long>(c)) == 0;
    };
  }
  nlohmann::json meta = sweep_meta<Real>(o, opt, shard);
  if (done) {
    const nlohmann::json theirs = unsharded_meta(done->meta), ours = unsharded_meta(meta);
    const std::string key = first_difference(ours, theirs);
    if (!key.empty() || done->meta["shard"] != meta["shard"]) {
      throw input_error("--resume", o.resume,
                        "written by another run (its meta differs at " +
                            (key.empty() ? std::string("shard") : key) + ")");
    }
  }
  sweep_table<Real> table(opt, common, shard, done, o.resume, std::move(meta));
  if (o.mpi) {
    sweep_over_mpi<Real>(*session, opt, common, table);
    return;
  }
  opt.on_ready = [&](size_t cells, size_t selected, int tokens) {
    table.open(cells, selected, tokens);
  };
  opt.on_cell = [&](const analysis::sweep_cell<Real>& c) {
    table.write(static_cast<long long>(c.index), table.row_of(c));
  };
  table.finish(analysis::sweep(opt).selected_count);
}

template <class Real>
void run_sweep(const sweep_cli_options& o) {
  // MPI first, so that every later refusal is said once: every rank meets the same bad input, and
  // only rank 0 reports it (exit 2); the others end quietly.
  std::optional<mpi_session> session;
  if (o.mpi) session.emplace();
  try {
    run_sweep_on<Real>(o, session ? &*session : nullptr);
  } catch (const input_error&) {
    if (session && session->rank() > 0) return;
    throw;
  }
}

}  // namespace

void register_sweep(CLI::App& app) {
  auto o = std::make_shared<sweep_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "GD over a grid of parameters (phase diagrams), one row per cell");
  add_problem_source(*cmd, o->source);
  add_common(*cmd, o->common);
  cmd->add_option("--grid", o->grid,
                  "axis NAME=SPEC, repeated; NAME: eta, alpha, p0, p0_logit, the rule's momentum, "
                  "beta1, beta2, epsilon, or a problem field path (inputs.alpha, "
                  "frequencies.p[0], init.seed); SPEC: list:a,b | "
                  "linspace:a:b:n | logspace:a:b:n")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--eta", o->eta, "step size when eta is not an axis")->capture_default_str();
  cmd->add_option("--steps", o->steps, "GD steps per cell")->capture_default_str();
  cmd->add_option("--batch", o->batch, "SGD batch (0: full-batch GD)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "SGD seed")->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads (0: all cores)")->capture_default_str();
  add_rule_options(*cmd, o->rule);
  cmd->add_option("--shard", o->shard,
                  "run shard I of K: the cells c (grid order, from 0) with c % K == I - 1, with "
                  "their index in a first column cell; `amflow merge` joins the shards. Without "
                  "it, a SLURM job array's SLURM_ARRAY_TASK_ID (from SLURM_ARRAY_TASK_MIN) and "
                  "SLURM_ARRAY_TASK_COUNT choose the shard when set");
  cmd->add_option("--resume", o->resume,
                  "go on with the run that writes FILE (JSON Lines, from --shard or --resume): "
                  "the cells it holds are kept and the others run and are appended; a last line "
                  "cut short by a stop is dropped. FILE is also the output; a missing FILE starts "
                  "it. Without --shard it runs every cell, with a cell column (merge it with "
                  "amflow merge)");
  cmd->add_flag("--mpi", o->mpi,
                "run under mpirun -np K: rank 0 hands the cells out one at a time to the ranks "
                "that ask (itself included, on a second thread), and writes the rows in grid "
                "order: the same bytes as one process. One cell at a time per rank (--threads is "
                "not used); with --shard or --resume, the shard's remaining cells")
      ->disable_flag_override();
  cmd->add_flag("--certify", o->certify,
                "certify each cell's first perfect step in ball arithmetic (a certified column: "
                "yes, differs or undecided)")
      ->disable_flag_override();
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("grid", "--grid")
        .add("eta", "--eta", o->eta)
        .add("steps", "--steps", o->steps)
        .add("certify", "--certify")
        .add("shard", "--shard", o->shard)
        .add("resume", "--resume", o->resume)
        .add("batch", "--batch", o->batch);
    add_rule_flags(flags, o->rule);
    run_command(*cmd, flags, [&] {
      scalar::with_scalar(parse_digits(o->common.digits),
                          [&]<class Real>() { run_sweep<Real>(*o); });
    });
  });
}

}  // namespace amflow::cli
