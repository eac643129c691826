// amflow transformer: the paper's small Transformer trained on in-context bigrams (docs/
// transformer.md): one row per step with the loss, the sharpness of the W_O^2 block against the
// step size, and the authors' margin probes (wo1: W_O^2's 65 token margins; wk1: W_K^2's trigger
// margins); JSON Lines carry the margins as arrays under the authors' field names.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "amflow/descent/descent.hpp"
#include "amflow/errors.hpp"
#include "amflow/instantiate.hpp"
#include "amflow/io/json_read.hpp"
#include "amflow/io/output.hpp"
#include "amflow/scalar/convert.hpp"
#include "amflow/scalar/dispatch.hpp"
#include "amflow/transformer/model.hpp"
#include "cli/common.hpp"
#include "cli/jsonl_table.hpp"

namespace amflow::cli {
namespace {

struct transformer_cli_options {
  common_options common;
  std::string train = "wo2";
  std::string loss = "head";
  std::string dim = "64", length = "256", batch = "512", triggers = "5";
  bool random_triggers = false;
  std::string steps = "50";
  std::string eta = "20", weight_decay = "0";
  rule_cli_options rule;
  std::string seed = "0", data_seed = "0";
  bool zero_wo2 = false;
  std::string counts;
  std::string sharpness_every = "10";
  std::string threads = "0";
  std::string export_path;
  std::string resume;
};

// --resume: what a run writes beside its JSON Lines after every row, FILE.state: the next row and
// the state that row starts from (the trained matrices, the update rules' states, the Lanczos warm
// start), every number with all its digits so that a resumed run writes the bytes of an
// uninterrupted one.
template <class Real>
nlohmann::json matrix_json(const model::matrix<Real>& A) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < A.rows(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index j = 0; j < A.cols(); ++j) row.push_back(scalar::to_text<Real>(A(i, j)));
    rows.push_back(std::move(row));
  }
  return rows;
}

// The matrix `key` of the state, rows x cols (-1: any; a ragged or non-numeral entry is refused).
template <class Real>
model::matrix<Real> matrix_of(const nlohmann::json& state, const std::string& key,
                              Eigen::Index rows, Eigen::Index cols, const std::string& path) {
  const auto bad = [&](const std::string& why) {
    return input_error("--resume", path, "its state's " + key + " " + why);
  };
  if (!state.contains(key) || !state[key].is_array()) throw bad("is not a matrix");
  const nlohmann::json& m = state[key];
  if (rows < 0) rows = static_cast<Eigen::Index>(m.size());
  if (cols < 0) cols = m.empty() || !m[0].is_array() ? 0 : static_cast<Eigen::Index>(m[0].size());
  if (m.size() != size_t(rows)) throw bad("is not " + std::to_string(rows) + " rows");
  model::matrix<Real> A(rows, cols);
  for (Eigen::Index i = 0; i < rows; ++i) {
    const nlohmann::json& row = m[i];
    if (!row.is_array() || row.size() != size_t(cols)) throw bad("has a row of another length");
    for (Eigen::Index j = 0; j < cols; ++j) {
      if (!row[j].is_string()) throw bad("has a value that is not a numeral");
      A(i, j) = scalar::parse_real<Real>(row[j].get<std::string>(), key);
    }
  }
  return A;
}

std::string read_text_file(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(flag, path, "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw input_error(flag, path, "cannot read the file");
  return text.str();
}

// A double rounded to `digits` significant digits for reading (measured or estimated values).
std::string rounded(double x, int digits) {
  return scalar::round_text(scalar::to_text<double>(x), digits);
}

// The exported problem's description: where it comes from and what it is.
std::string export_description(const transformer_cli_options& o, const char* train,
                               const char* loss, long step, int tokens, const std::string& type) {
  return "The W_O^2 block of amflow transformer (--train " + std::string(train) + " --loss " +
         loss + " --dim " + o.dim + " --length " + o.length + " --batch " + o.batch +
         " --triggers " + o.triggers + (o.random_triggers ? " --random-triggers" : "") + " --eta " +
         o.eta + " --rule " + o.rule.rule + " --weight-decay " + o.weight_decay + " --seed " +
         o.seed + " --data-seed " + o.data_seed + (o.zero_wo2 ? " --zero-wo2" : "") +
         (o.counts.empty() ? "" : " --counts " + o.counts) + ", computed in " + type +
         ") on batch " + std::to_string(step) + " at W_" + std::to_string(step) +
         ": with every other weight fixed, logits_t = c_t + W_U W_O^2 z_t, so the batch loss is "
         "this memory's: one token per loss position t (" +
         std::to_string(tokens) +
         ", sequence by sequence), inputs z_t (layer 2's attention output), outputs the rows of "
         "W_U, offsets c_t = W_U h1_t, targets y_t, uniform frequencies, W0 = W_O^2";
}

// The command's settings, parsed and checked once.
template <class Real>
struct settings {
  transformer::bigram_table owned;
  const transformer::bigram_table* table = nullptr;
  transformer::trained_set trained{};
  transformer::loss_positions positions{};
  transformer::task_options task;
  int d = 0, B = 0, threads = 1, N = 0, k = 0;
  long steps = 0, every = 0;
  Real eta = 0, weight_decay = 0;
  descent::rule_options<Real> rule;
  std::uint64_t seed = 0, data_seed = 0;
  std::vector<int> probe;
};

template <class Real>
settings<Real> parse_settings(const transformer_cli_options& o) {
  using namespace transformer;
  settings<Real> s;
  if (!o.counts.empty()) {
    s.owned = parse_bigram_table(read_text_file(o.counts, "--counts"), "--counts", o.counts);
  }
  s.table = o.counts.empty() ? &shakespeare_bigrams() : &s.owned;
  s.trained = parse_trained_set(o.train, "--train");
  s.positions = parse_loss_positions(o.loss, "--loss");
  s.d = static_cast<int>(parse_integer(o.dim, "--dim", 1, 4096));
  s.task.length = static_cast<int>(parse_integer(o.length, "--length", 2, 4096));
  s.task.triggers =
      static_cast<int>(parse_integer(o.triggers, "--triggers", 1, s.table->tokens - 1));
  s.task.fixed_triggers = !o.random_triggers;
  s.B = static_cast<int>(parse_integer(o.batch, "--batch", 1, 100000));
  s.steps = parse_integer(o.steps, "--steps", 0, 100000000);
  s.eta = scalar::parse_real<Real>(o.eta, "--eta");
  if (!(s.eta > 0)) throw input_error("--eta", o.eta, "must be positive");
  s.rule = parse_rule_options<Real>(o.rule);
  s.weight_decay = scalar::parse_real<Real>(o.weight_decay, "--weight-decay");
  if (s.weight_decay < 0) throw input_error("--weight-decay", o.weight_decay, "must be >= 0");
  s.seed = parse_seed(o.seed, "--seed");
  s.data_seed = parse_seed(o.data_seed, "--data-seed");
  s.every = parse_integer(o.sharpness_every, "--sharpness-every", 0, 100000000);
  s.threads = parse_threads(o.threads);
  s.N = s.table->tokens;
  s.k = s.task.triggers;
  s.probe = s.table->top_tokens(s.k);
  return s;
}

template <class Real>
nlohmann::json transformer_meta(const transformer_cli_options& o, const settings<Real>& s) {
  using transformer::name_of;
  nlohmann::json meta = run_meta<Real>("transformer");
  if constexpr (std::is_same_v<Real, float>) meta["digits"] = 7;
  meta["counts"] =
      o.counts.empty() ? "data/char-bigram-counts.tsv (built in: tiny Shakespeare)" : o.counts;
  nlohmann::json trig = nlohmann::json::array();
  for (int t : s.probe) trig.push_back({{"id", t}, {"char", s.table->labels[t]}});
  meta["model"] = {{"tokens", s.N},
                   {"dim", s.d},
                   {"length", s.task.length},
                   {"batch", s.B},
                   {"triggers", s.k},
                   {"fixed_triggers", s.task.fixed_triggers},
                   {"train", name_of(s.trained)},
                   {"loss", name_of(s.positions)}};
  meta["probe_tokens"] = trig;
  meta["optimizer"] = {
      {"rule", rule_text(o.rule, s.rule.kind)},
      {"eta", o.eta},
      {"weight_decay", o.weight_decay},
      {"convention",
       "PyTorch's: g + weight_decay W (coupled), then W - eta D; gd is torch.optim.SGD, momentum "
       "and nesterov SGD(momentum, nesterov), adam Adam; one rule state per trained matrix"}};
  meta["seed"] = o.seed;
  meta["data_seed"] = o.data_seed;
  meta["init"] = std::string("E, P ~ N(0, 1); W_K, W_V, W_O, W_U ~ U(-1/sqrt(d), 1/sqrt(d)) ") +
                 "(PyTorch's defaults), rounded to float32 so that every precision starts from "
                 "the same weights" +
                 (o.zero_wo2 ? "; W_O^2 = 0" : "");
  meta["rows"] =
      "row t: the loss of W_t on batch t, then the margins, sharpness and eta_over_threshold of "
      "W_t, before step t (the authors log the margins after the step: their row t is our t+1)";
  meta["margins"] =
      "wo1: m_k = s_k[k] - max_{j!=k} s_k[j], s_k = W_U W_O^2 W_V^2 e_k, one per token (wo1_min, "
      "wo1_max; wo1_positive: how many are > 0); wk1: S = E_a W_K^2 W_O^1 W_V^1 E_a^T over the "
      "probe tokens a, m_i = S[i,i] - max_{j!=i} S[i,j], probe units (no 1/sqrt(d))";
  meta["sharpness"] =
      s.every > 0 ? "largest eigenvalue of the Hessian of the batch loss in W_O^2 (Lanczos in "
                    "double, every " +
                        std::to_string(s.every) +
                        " steps; sharpness_error: the residual, a bound on the distance to an "
                        "eigenvalue); eta_over_threshold = eta sharpness / 2 (> 1: above GD's "
                        "stability threshold for this batch)"
                  : "not computed (--sharpness-every 0)";
  meta["accuracy"] =
      "every value is computed at the working precision without an error bound (rounding only); "
      "above the stability threshold, runs at different precisions part after some steps: "
      "compare --digits 7, 15 and 50 on the same seeds";
  return meta;
}

std::vector<std::string> transformer_columns(int N, int k, io::format format) {
  std::vector<std::string> columns = {
      "epoch",        "loss",    "sharpness", "sharpness_error", "eta_over_threshold",
      "wo1_positive", "wo1_min", "wo1_max",   "wk1_min",         "wk1_max"};
  if (format == io::format::json || format == io::format::jsonl) {
    columns.push_back("wo1_margins");
    columns.push_back("wk1_margins");
  } else if (format == io::format::csv) {
    for (int t = 0; t < N; ++t) columns.push_back("wo1_" + std::to_string(t));
    for (int i = 0; i < k; ++i) columns.push_back("wk1_" + std::to_string(i));
  }
  return columns;
}

// What a run carries from row to row: the weights, the optimizer, the summary's watch and the
// Lanczos warm start; with --resume, written to FILE.state after every row and read back.
template <class Real>
struct run_state {
  transformer::weights<Real> w;
  transformer::optimizer<Real> opt;
  descent::transient_detector<double> watch;
  Eigen::MatrixXd power_start;
  double min_loss = 0, last_loss = 0;

  void observe(long t, double loss, long positive, const model::vector<double>& md) {
    const int N = static_cast<int>(md.size());
    watch.observe(loss, double(N - positive) / N, md);
    min_loss = t == 0 ? loss : std::min(min_loss, loss);
    last_loss = loss;
  }

  // The state row `next` starts from, written atomically once the rows before it are.
  void save(const std::string& path, long next, transformer::trained_set trained) const {
    nlohmann::json st = {{"next", next}};
    st["WO2"] = matrix_json(w.WO2);
    if (trained == transformer::trained_set::all) {
      st["WK1"] = matrix_json(w.WK1);
      st["WK2"] = matrix_json(w.WK2);
    }
    nlohmann::json rules = nlohmann::json::array();
    for (const auto& one : opt.state()) {
      nlohmann::json r = nlohmann::json::array();
      for (const auto& m : one) r.push_back(matrix_json(m));
      rules.push_back(std::move(r));
    }
    st["rules"] = std::move(rules);
    if (power_start.size() != 0) st["lanczos_start"] = matrix_json<double>(power_start);
    io::write_output(path, st.dump() + "\n");
  }

  // Reads the state back (the rows before `next` are replayed by the caller).
  void load(const nlohmann::json& st, const std::string& path, int d,
            transformer::trained_set trained, const std::string& bad_state,
            const std::string& file) {
    w.WO2 = matrix_of<Real>(st, "WO2", d, d, path);
    if (trained == transformer::trained_set::all) {
      w.WK1 = matrix_of<Real>(st, "WK1", d, d, path);
      w.WK2 = matrix_of<Real>(st, "WK2", d, d, path);
    }
    if (!st.contains("rules") || !st["rules"].is_array()) {
      throw input_error("--resume", file, bad_state);
    }
    std::vector<std::vector<model::matrix<Real>>> rules;
    for (const nlohmann::json& r : st["rules"]) {
      std::vector<model::matrix<Real>> one;
      if (!r.is_array()) throw input_error("--resume", file, bad_state);
      for (const nlohmann::json& m : r) {
        one.push_back(matrix_of<Real>({{"rule", m}}, "rule", -1, -1, path));
      }
      rules.push_back(std::move(one));
    }
    opt.set_state(rules);
    if (st.contains("lanczos_start")) {
      power_start = matrix_of<double>(st, "lanczos_start", d, d, path);
    }
  }
};

// Where a --resume run goes on: the first row to compute and the byte of FILE to write from;
// nullopt when FILE is finished (left as it is). The rows kept are replayed into the summary.
struct resume_point {
  long first = 0;
  long long in_place_from = 0;
};
template <class Real>
std::optional<resume_point> resume_from(const transformer_cli_options& o, const jsonl_table& done,
                                        const nlohmann::json& state, const std::string& state_path,
                                        const nlohmann::json& meta, const settings<Real>& s,
                                        run_state<Real>& run) {
  const std::string bad_state = "its state " + state_path + " does not match it";
  if (const std::string key = first_difference(meta, done.meta); !key.empty()) {
    throw input_error("--resume", o.resume,
                      "written by another run (its meta differs at " + key + ")");
  }
  if (!state.is_object() || !state.contains("next") || !state["next"].is_number_unsigned() ||
      state["next"].get<std::uint64_t>() > done.rows.size()) {
    throw input_error("--resume", o.resume, bad_state);
  }
  const long first = static_cast<long>(state["next"].get<std::uint64_t>());
  if (first > s.steps) {
    throw input_error("--steps", o.steps,
                      o.resume + " goes on from row " + std::to_string(first) +
                          ": give at least that many steps");
  }
  if (!done.summary.is_null() && first == s.steps &&
      done.rows.size() == static_cast<size_t>(s.steps) + 1) {
    return std::nullopt;
  }
  const auto column = [&](const char* name) {
    const auto it = std::find(done.columns.begin(), done.columns.end(), name);
    if (it == done.columns.end()) throw input_error("--resume", o.resume, bad_state);
    return static_cast<size_t>(it - done.columns.begin()) - 1;  // rows hold no epoch cell
  };
  const size_t c_loss = column("loss"), c_positive = column("wo1_positive"),
               c_margins = column("wo1_margins");
  for (long t = 0; t < first; ++t) {
    const auto& [epoch, cells] = done.rows[t];
    if (epoch != t) throw input_error("--resume", o.resume, bad_state);
    std::istringstream margins(cells[c_margins].text);
    model::vector<double> md(s.N);
    std::string text;
    for (int i = 0; i < s.N; ++i) {
      if (!(margins >> text)) throw input_error("--resume", o.resume, bad_state);
      md(i) = double(scalar::parse_real<Real>(text, "wo1_margins"));
    }
    run.observe(t, double(scalar::parse_real<Real>(cells[c_loss].text, "loss")),
                std::stol(cells[c_positive].text), md);
  }
  run.load(state, state_path, s.d, s.trained, bad_state, o.resume);
  return resume_point{first, first == 0 ? done.meta_bytes : done.row_ends[first - 1]};
}

// Row t's cells from the step's result and the margins (the sharpness when `block`); sets the
// count of positive wo1 margins and the margins in double for the watch.
template <class Real>
std::vector<io::cell> transformer_row(long t, const transformer::step_result<Real>& r,
                                      const std::vector<Real>& m1, const std::vector<Real>& m2,
                                      const settings<Real>& s, io::format format,
                                      run_state<Real>& run, long& positive,
                                      model::vector<double>& md) {
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  std::vector<io::cell> row = {io::cell::integer(t), num(r.loss)};
  if (r.Z.size() != 0) {
    const transformer::sharpness_estimate e =
        transformer::wo2_sharpness(run.w, r, run.power_start, 60, 1e-7, s.threads);
    // Seven digits: the Ritz value's residual is at most 1e-7 of it (else sharpness_error says
    // how far it is).
    row.push_back(io::cell::number(rounded(e.value, 7)));
    row.push_back(io::cell::number(rounded(e.error, 3)));
    row.push_back(io::cell::number(rounded(double(s.eta) * e.value / 2, 7)));
  } else {
    row.insert(row.end(), 3, io::cell::null());
  }
  positive = 0;
  md.resize(s.N);
  for (int i = 0; i < s.N; ++i) {
    md(i) = double(m1[i]);
    if (m1[i] > 0) ++positive;
  }
  row.push_back(io::cell::integer(positive));
  row.push_back(num(*std::min_element(m1.begin(), m1.end())));
  row.push_back(num(*std::max_element(m1.begin(), m1.end())));
  row.push_back(num(*std::min_element(m2.begin(), m2.end())));
  row.push_back(num(*std::max_element(m2.begin(), m2.end())));
  const bool arrays = format == io::format::json || format == io::format::jsonl;
  if (arrays || format == io::format::csv) {
    std::vector<std::string> a1, a2;
    for (const Real& x : m1) a1.push_back(scalar::to_text<Real>(x));
    for (const Real& x : m2) a2.push_back(scalar::to_text<Real>(x));
    if (arrays) {
      row.push_back(io::cell::numbers(a1));
      row.push_back(io::cell::numbers(a2));
    } else {
      for (auto& x : a1) row.push_back(io::cell::number(x));
      for (auto& x : a2) row.push_back(io::cell::number(x));
    }
  }
  return row;
}

// What the run's last line says.
struct run_totals {
  long steps_done = 0, evaluations = 0, first = 0, export_tokens = 0;
  double seconds = 0;
  std::string stopped;
};
template <class Real>
nlohmann::json transformer_summary(const transformer_cli_options& o, long steps,
                                   const run_state<Real>& run, const run_totals& n, bool exported) {
  const descent::transients<double> tr = run.watch.finish(std::max(0L, n.steps_done));
  nlohmann::json spikes = nlohmann::json::array();
  for (const auto& s : tr.spikes) {
    spikes.push_back({{"start", s.start}, {"peak", s.peak}, {"height", rounded(s.height, 6)}});
  }
  nlohmann::json summary = {
      {"steps", n.steps_done},
      {"last_loss", rounded(run.last_loss, 10)},
      {"min_loss", rounded(run.min_loss, 10)},
      {"max_loss", rounded(tr.max_loss, 10)},
      {"max_loss_step", tr.max_loss_step},
      {"loss_increases", tr.loss_increases},
      {"spikes", spikes},
      {"wo1_sign_changes", tr.margin_sign_changes},
      {"seconds", rounded(n.seconds, 3)},
      {"seconds_per_step", rounded(n.seconds / double(std::max(1L, n.evaluations)), 3)},
      {"note",
       "the loss is a fresh batch's each step, so it rises and falls by sampling noise too: "
       "read spikes by their height (the per-batch noise is about 0.2 at the default size)"}};
  if (!n.stopped.empty()) summary["stopped"] = n.stopped;
  if (n.first > 0) {
    summary["resumed_at"] = n.first;
    summary["note_resumed"] =
        "rows before resumed_at were read back from the file (the loss and margin summaries "
        "count them); seconds counts this run only";
  }
  if (exported) {
    summary["export"] = n.export_tokens > 0
                            ? o.export_path + ": the W_O^2 block of batch " +
                                  std::to_string(steps) + " at W_" + std::to_string(steps) + ", " +
                                  std::to_string(n.export_tokens) + " tokens"
                            : "not written: the run stopped before batch " + std::to_string(steps);
  }
  return summary;
}

// --export FILE: checked (and its temporary file opened) before any work.
std::unique_ptr<io::output_target> export_target(const std::string& path, const std::string& output,
                                                 const std::string& state_path) {
  if (path.empty()) return nullptr;
  if (path == "-")
    throw input_error("--export", path, "needs a file path (the table goes to stdout)");
  if (path == output || path == state_path) {
    throw input_error("--export", path, "is also the --output file");
  }
  try {
    return std::make_unique<io::output_target>(path);
  } catch (const input_error& e) {
    throw input_error("--export", path, e.reason());
  }
}

template <class Real>
void run_transformer(const transformer_cli_options& o) {
  using namespace transformer;
  const settings<Real> s = parse_settings<Real>(o);
  // --resume FILE: go on writing FILE (JSON Lines, in place) from the state beside it.
  common_options common = o.common;
  std::optional<jsonl_table> done;
  nlohmann::json state;
  const std::string state_path = o.resume.empty() ? "" : o.resume + ".state";
  if (!o.resume.empty()) {
    resume_into(common, o.resume);
    struct stat st {};
    if (::stat(o.resume.c_str(), &st) == 0 && st.st_size > 0) {
      done =
          read_jsonl_table(o.resume, "--resume", false, {"epoch", false, "transformer --resume"});
      if (::stat(state_path.c_str(), &st) != 0) {
        throw input_error("--resume", o.resume,
                          "has no " + state_path +
                              " beside it: not written by transformer --resume (left as it is)");
      }
      try {
        state = io::read_json_file(state_path);
      } catch (const input_error& e) {
        throw input_error("--resume", state_path, e.reason());
      }
    }
  }
  const io::format format = resolve_format(common.format, common.output);
  std::unique_ptr<io::output_target> exported =
      export_target(o.export_path, common.output, state_path);

  run_state<Real> run{
      cast_weights<Real>(initial_weights(s.N, s.d, s.task.length, s.seed, o.zero_wo2)),
      optimizer<Real>(s.trained, s.rule, s.eta, s.weight_decay),
      descent::transient_detector<double>(s.N)};
  const nlohmann::json meta = transformer_meta(o, s);
  run_totals n;
  long long in_place_from = o.resume.empty() ? -1 : 0;
  if (done) {
    const std::optional<resume_point> at = resume_from(o, *done, state, state_path, meta, s, run);
    if (!at) {
      std::cerr << "amflow: " << o.resume << " is finished (" << s.steps
                << " steps): left as it is\n";
      return;
    }
    n.first = at->first;
    in_place_from = at->in_place_from;
  }
  progress_meter progress("transformer", "steps", s.steps + 1);
  table_output out(common, transformer_columns(s.N, s.k, format), meta, &progress, in_place_from,
                   done.has_value());
  if (!o.resume.empty() && !done) run.save(state_path, 0, s.trained);
  progress.update(n.first);
  const auto started = std::chrono::steady_clock::now();
  n.steps_done = s.steps;
  step_options so;
  so.trained = s.trained;
  so.positions = s.positions;
  so.threads = s.threads;
  for (long t = n.first; t <= s.steps; ++t) {
    const batch data =
        sample_batch(*s.table, s.task, s.data_seed, static_cast<std::uint64_t>(t), s.B, s.threads);
    so.gradients = t < s.steps;
    so.wo2_block = s.every > 0 && t % s.every == 0;
    const step_result<Real> r = loss_and_gradients(run.w, data, so);
    ++n.evaluations;
    if (r.selected == 0) {
      throw input_error("--length", o.length,
                        "batch " + std::to_string(t) +
                            " has no loss position (no trigger seen twice): use longer sequences, "
                            "more of them, or --loss all");
    }
    const std::vector<Real> m1 = wo1_margins(run.w), m2 = wk1_margins(run.w, s.probe);
    const auto finite = [](const Real& x) { return scalar::is_finite(x); };
    if (!finite(r.loss) || !std::all_of(m1.begin(), m1.end(), finite) ||
        !std::all_of(m2.begin(), m2.end(), finite)) {
      n.stopped = "the loss or a margin is not finite at step " + std::to_string(t) + " (beyond " +
                  scalar::name<Real>() + "'s range): the run stops there";
      n.steps_done = t - 1;
      break;
    }
    long positive = 0;
    model::vector<double> md;
    out.row(transformer_row(t, r, m1, m2, s, format, run, positive, md));
    if (exported && t == s.steps) {
      // The W_O^2 block of this batch at these weights, as an amflow problem file.
      const model::problem<problem_real<Real>> pb = wo2_problem(run.w, data, so);
      nlohmann::json file = io::resolved_json(pb);
      file["name"] = "transformer-wo2-block";
      file["description"] = export_description(o, name_of(s.trained), name_of(s.positions), t,
                                               pb.tokens, scalar::name<Real>());
      exported->write(file.dump() + "\n");
      exported->commit();
      n.export_tokens = pb.tokens;
    }
    run.observe(t, double(r.loss), positive, md);
    if (t < s.steps) {
      if (const std::string why = run.opt.step(run.w, r); !why.empty()) {
        n.stopped = "the update rule's direction is undefined at step " + std::to_string(t) + " (" +
                    why + "): the run stops there";
        n.steps_done = t;
        break;
      }
      if (!o.resume.empty()) run.save(state_path, t + 1, s.trained);
    }
    progress.update(t + 1);
  }
  progress.clear();
  n.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.finish(transformer_summary(o, s.steps, run, n, exported != nullptr));
}

}  // namespace

void register_transformer(CLI::App& app) {
  auto o = std::make_shared<transformer_cli_options>();
  o->common.digits = "7";
  CLI::App* cmd = app.add_subcommand(
      "transformer",
      "train the paper's two-layer attention-only Transformer on in-context bigrams (tiny "
      "Shakespeare) and log its loss, sharpness and margin probes");
  add_common(*cmd, o->common);
  cmd->get_option("--digits")
      ->description(
          "decimal digits: 7 float32 (the authors' precision), 15 double, other values "
          "in [10, 10000] MPFR (18 and 33 too; small sizes only: about 100 times "
          "slower than double)");
  cmd->add_option("--train", o->train, "wo2 (W_O^2 only) or all (W_K^1, W_K^2 and W_O^2)")
      ->capture_default_str();
  cmd->add_option("--loss", o->loss,
                  "head (positions whose input is a trigger seen before) or all (every position)")
      ->capture_default_str();
  cmd->add_option("--dim", o->dim, "model width d")->capture_default_str();
  cmd->add_option("--length", o->length, "sequence length T")->capture_default_str();
  cmd->add_option("--batch", o->batch, "sequences per step B (fresh every step)")
      ->capture_default_str();
  cmd->add_option("--triggers", o->triggers, "number of trigger tokens k")->capture_default_str();
  cmd->add_flag("--random-triggers", o->random_triggers,
                "draw each sequence's k triggers from the unigram (default: the k most frequent)")
      ->disable_flag_override();
  cmd->add_option("--steps", o->steps, "update steps (rows 0..steps)")->capture_default_str();
  cmd->add_option("--eta", o->eta, "step size (PyTorch's lr)")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "PyTorch's coupled L2 weight decay")
      ->capture_default_str();
  add_rule_options(*cmd, o->rule);
  cmd->add_option("--seed", o->seed, "seed of the initial weights")->capture_default_str();
  cmd->add_option("--data-seed", o->data_seed, "seed of the batches")->capture_default_str();
  cmd->add_flag("--zero-wo2", o->zero_wo2, "start W_O^2 at zero")->disable_flag_override();
  cmd->add_option("--counts", o->counts,
                  "a bigram counts file (U/B lines as data/char-bigram-counts.tsv; default: the "
                  "built-in tiny Shakespeare counts)");
  cmd->add_option("--sharpness-every", o->sharpness_every,
                  "compute the W_O^2 block's sharpness every this many steps (0: never)")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "threads over sequences (0: all cores)")
      ->capture_default_str();
  cmd->add_option("--resume", o->resume,
                  "go on with the run that writes FILE (JSON Lines, written in place with its "
                  "state in FILE.state after every row): the rows FILE holds are kept and the run "
                  "goes on from them, writing the bytes an uninterrupted run writes; a missing "
                  "FILE starts it");
  cmd->add_option("--export", o->export_path,
                  "write the W_O^2 block of the last batch (batch --steps, at the final weights) "
                  "as an amflow problem file: every amflow command runs on it");
  cmd->callback([o, cmd] {
    flag_map flags;
    flags.add("length", "--length", o->length).add("triggers", "--triggers", o->triggers);
    add_rule_flags(flags, o->rule);
    run_command(*cmd, flags, [&] {
      // float32, double, else MPFR (18 and 33 digits too: the model is compiled for these three).
      const long digits = parse_integer(o->common.digits, "--digits", 1, scalar::max_digits);
      if (digits == 7) return run_transformer<float>(*o);
      if (digits < scalar::min_digits) {
        throw input_error("--digits", o->common.digits,
                          "must be 7 (float32), 15 (double) or an integer in [10, 10000] (MPFR)");
      }
      if (digits == 15) return run_transformer<double>(*o);
      scalar::set_mpfr_digits(static_cast<int>(digits));
      run_transformer<mpfr_real>(*o);
    });
  });
}

}  // namespace amflow::cli
