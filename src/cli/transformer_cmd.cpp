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

template <class Real>
void run_transformer(const transformer_cli_options& o) {
  using namespace transformer;
  const auto num = [](const Real& x) { return io::cell::number(scalar::to_text<Real>(x)); };
  const bigram_table owned =
      o.counts.empty()
          ? bigram_table{}
          : parse_bigram_table(read_text_file(o.counts, "--counts"), "--counts", o.counts);
  const bigram_table& table = o.counts.empty() ? shakespeare_bigrams() : owned;
  const trained_set trained = parse_trained_set(o.train, "--train");
  const loss_positions positions = parse_loss_positions(o.loss, "--loss");
  const int d = static_cast<int>(parse_integer(o.dim, "--dim", 1, 4096));
  task_options task;
  task.length = static_cast<int>(parse_integer(o.length, "--length", 2, 4096));
  task.triggers = static_cast<int>(parse_integer(o.triggers, "--triggers", 1, table.tokens - 1));
  task.fixed_triggers = !o.random_triggers;
  const int B = static_cast<int>(parse_integer(o.batch, "--batch", 1, 100000));
  const long steps = parse_integer(o.steps, "--steps", 0, 100000000);
  const Real eta = scalar::parse_real<Real>(o.eta, "--eta");
  if (!(eta > 0)) throw input_error("--eta", o.eta, "must be positive");
  const descent::rule_options<Real> rule = parse_rule_options<Real>(o.rule);
  const Real weight_decay = scalar::parse_real<Real>(o.weight_decay, "--weight-decay");
  if (weight_decay < 0) throw input_error("--weight-decay", o.weight_decay, "must be >= 0");
  const std::uint64_t seed = parse_seed(o.seed, "--seed");
  const std::uint64_t data_seed = parse_seed(o.data_seed, "--data-seed");
  const long every = parse_integer(o.sharpness_every, "--sharpness-every", 0, 100000000);
  const int threads = parse_threads(o.threads);
  // --resume FILE: go on writing FILE (JSON Lines, in place) from the state beside it.
  common_options common = o.common;
  std::optional<jsonl_table> done;
  nlohmann::json state;
  const std::string state_path = o.resume + ".state";
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
  const bool arrays = format == io::format::json || format == io::format::jsonl;
  const bool per_token = format == io::format::csv;
  // --export: checked (and its temporary file opened) before any work.
  std::unique_ptr<io::output_target> exported;
  if (!o.export_path.empty()) {
    if (o.export_path == "-") {
      throw input_error("--export", o.export_path, "needs a file path (the table goes to stdout)");
    }
    if (o.export_path == common.output || o.export_path == state_path) {
      throw input_error("--export", o.export_path, "is also the --output file");
    }
    try {
      exported = std::make_unique<io::output_target>(o.export_path);
    } catch (const input_error& e) {
      throw input_error("--export", o.export_path, e.reason());
    }
  }

  const int N = table.tokens, k = task.triggers;
  const std::vector<int> probe = table.top_tokens(k);
  weights<Real> w = cast_weights<Real>(initial_weights(N, d, task.length, seed, o.zero_wo2));
  optimizer<Real> opt(trained, rule, eta, weight_decay);

  nlohmann::json meta = run_meta<Real>("transformer");
  if constexpr (std::is_same_v<Real, float>) meta["digits"] = 7;
  meta["counts"] =
      o.counts.empty() ? "data/char-bigram-counts.tsv (built in: tiny Shakespeare)" : o.counts;
  nlohmann::json trig = nlohmann::json::array();
  for (int t : probe) trig.push_back({{"id", t}, {"char", table.labels[t]}});
  meta["model"] = {{"tokens", N},
                   {"dim", d},
                   {"length", task.length},
                   {"batch", B},
                   {"triggers", k},
                   {"fixed_triggers", task.fixed_triggers},
                   {"train", name_of(trained)},
                   {"loss", name_of(positions)}};
  meta["probe_tokens"] = trig;
  meta["optimizer"] = {
      {"rule", rule_text(o.rule, rule.kind)},
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
      every > 0 ? "largest eigenvalue of the Hessian of the batch loss in W_O^2 (Lanczos in "
                  "double, every " +
                      std::to_string(every) +
                      " steps; sharpness_error: the residual, a bound on the distance to an "
                      "eigenvalue); eta_over_threshold = eta sharpness / 2 (> 1: above GD's "
                      "stability threshold for this batch)"
                : "not computed (--sharpness-every 0)";
  meta["accuracy"] =
      "every value is computed at the working precision without an error bound (rounding only); "
      "above the stability threshold, runs at different precisions part after some steps: "
      "compare --digits 7, 15 and 50 on the same seeds";

  std::vector<std::string> columns = {
      "epoch",        "loss",    "sharpness", "sharpness_error", "eta_over_threshold",
      "wo1_positive", "wo1_min", "wo1_max",   "wk1_min",         "wk1_max"};
  if (arrays) {
    columns.push_back("wo1_margins");
    columns.push_back("wk1_margins");
  } else if (per_token) {
    for (int t = 0; t < N; ++t) columns.push_back("wo1_" + std::to_string(t));
    for (int i = 0; i < k; ++i) columns.push_back("wk1_" + std::to_string(i));
  }
  progress_meter progress("transformer", "steps", steps + 1);
  descent::transient_detector<double> watch(N);
  Eigen::MatrixXd power_start;
  double min_loss = 0, last_loss = 0;
  // The rows a resumed run keeps: read back into the summary's watch as if computed now.
  const auto observe = [&](long t, double loss, long positive, const model::vector<double>& md) {
    watch.observe(loss, double(N - positive) / N, md);
    min_loss = t == 0 ? loss : std::min(min_loss, loss);
    last_loss = loss;
  };
  long first = 0;
  long long in_place_from = o.resume.empty() ? -1 : 0;
  if (done) {
    const std::string bad_state = "its state " + state_path + " does not match it";
    if (const std::string key = first_difference(meta, done->meta); !key.empty()) {
      throw input_error("--resume", o.resume,
                        "written by another run (its meta differs at " + key + ")");
    }
    if (!state.is_object() || !state.contains("next") || !state["next"].is_number_unsigned() ||
        state["next"].get<std::uint64_t>() > done->rows.size()) {
      throw input_error("--resume", o.resume, bad_state);
    }
    first = static_cast<long>(state["next"].get<std::uint64_t>());
    if (first > steps) {
      throw input_error("--steps", o.steps,
                        o.resume + " goes on from row " + std::to_string(first) +
                            ": give at least that many steps");
    }
    if (!done->summary.is_null() && first == steps &&
        done->rows.size() == static_cast<size_t>(steps) + 1) {
      std::cerr << "amflow: " << o.resume << " is finished (" << steps
                << " steps): left as it is\n";
      return;
    }
    const auto column = [&](const char* name) {
      const auto it = std::find(done->columns.begin(), done->columns.end(), name);
      if (it == done->columns.end()) throw input_error("--resume", o.resume, bad_state);
      return static_cast<size_t>(it - done->columns.begin()) - 1;  // rows hold no epoch cell
    };
    const size_t c_loss = column("loss"), c_positive = column("wo1_positive"),
                 c_margins = column("wo1_margins");
    for (long t = 0; t < first; ++t) {
      const auto& [epoch, cells] = done->rows[t];
      if (epoch != t) throw input_error("--resume", o.resume, bad_state);
      std::istringstream margins(cells[c_margins].text);
      model::vector<double> md(N);
      std::string text;
      for (int i = 0; i < N; ++i) {
        if (!(margins >> text)) throw input_error("--resume", o.resume, bad_state);
        md(i) = double(scalar::parse_real<Real>(text, "wo1_margins"));
      }
      observe(t, double(scalar::parse_real<Real>(cells[c_loss].text, "loss")),
              std::stol(cells[c_positive].text), md);
    }
    in_place_from = first == 0 ? done->meta_bytes : done->row_ends[first - 1];
    w.WO2 = matrix_of<Real>(state, "WO2", d, d, state_path);
    if (trained == trained_set::all) {
      w.WK1 = matrix_of<Real>(state, "WK1", d, d, state_path);
      w.WK2 = matrix_of<Real>(state, "WK2", d, d, state_path);
    }
    if (!state.contains("rules") || !state["rules"].is_array()) {
      throw input_error("--resume", o.resume, bad_state);
    }
    std::vector<std::vector<model::matrix<Real>>> rules;
    for (const nlohmann::json& r : state["rules"]) {
      std::vector<model::matrix<Real>> one;
      if (!r.is_array()) throw input_error("--resume", o.resume, bad_state);
      for (const nlohmann::json& m : r)
        one.push_back(matrix_of<Real>({{"rule", m}}, "rule", -1, -1, state_path));
      rules.push_back(std::move(one));
    }
    opt.set_state(rules);
    if (state.contains("lanczos_start")) {
      power_start = matrix_of<double>(state, "lanczos_start", d, d, state_path);
    }
  }
  table_output out(common, columns, meta, &progress, in_place_from, done.has_value());
  // The state row `next` starts from, written (atomically) once the rows before it are.
  const auto save_state = [&](long next) {
    nlohmann::json st = {{"next", next}};
    st["WO2"] = matrix_json(w.WO2);
    if (trained == trained_set::all) {
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
    io::write_output(state_path, st.dump() + "\n");
  };
  if (!o.resume.empty() && !done) save_state(0);
  progress.update(first);
  const auto started = std::chrono::steady_clock::now();
  std::string stopped;
  long steps_done = steps, evaluations = 0, export_tokens = 0;
  step_options so;
  so.trained = trained;
  so.positions = positions;
  so.threads = threads;
  for (long t = first; t <= steps; ++t) {
    const batch data =
        sample_batch(table, task, data_seed, static_cast<std::uint64_t>(t), B, threads);
    so.gradients = t < steps;
    so.wo2_block = every > 0 && t % every == 0;
    const step_result<Real> r = loss_and_gradients(w, data, so);
    ++evaluations;
    if (r.selected == 0) {
      throw input_error("--length", o.length,
                        "batch " + std::to_string(t) +
                            " has no loss position (no trigger seen twice): use longer sequences, "
                            "more of them, or --loss all");
    }
    const std::vector<Real> m1 = wo1_margins(w);
    const std::vector<Real> m2 = wk1_margins(w, probe);
    const auto finite = [](const Real& x) { return scalar::is_finite(x); };
    if (!finite(r.loss) || !std::all_of(m1.begin(), m1.end(), finite) ||
        !std::all_of(m2.begin(), m2.end(), finite)) {
      stopped = "the loss or a margin is not finite at step " + std::to_string(t) + " (beyond " +
                scalar::name<Real>() + "'s range): the run stops there";
      steps_done = t - 1;
      break;
    }
    std::vector<io::cell> row = {io::cell::integer(t), num(r.loss)};
    if (so.wo2_block) {
      const sharpness_estimate s = wo2_sharpness(w, r, power_start, 60, 1e-7, threads);
      // Seven digits: the Ritz value's residual is at most 1e-7 of it (else sharpness_error
      // says how far it is).
      row.push_back(io::cell::number(rounded(s.value, 7)));
      row.push_back(io::cell::number(rounded(s.error, 3)));
      const double ratio = double(eta) * s.value / 2;
      row.push_back(io::cell::number(rounded(ratio, 7)));
    } else {
      row.insert(row.end(), 3, io::cell::null());
    }
    long positive = 0;
    model::vector<double> md(N);
    for (int i = 0; i < N; ++i) {
      md(i) = double(m1[i]);
      if (m1[i] > 0) ++positive;
    }
    row.push_back(io::cell::integer(positive));
    row.push_back(num(*std::min_element(m1.begin(), m1.end())));
    row.push_back(num(*std::max_element(m1.begin(), m1.end())));
    row.push_back(num(*std::min_element(m2.begin(), m2.end())));
    row.push_back(num(*std::max_element(m2.begin(), m2.end())));
    if (arrays || per_token) {
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
    out.row(row);
    if (exported && t == steps) {
      // The W_O^2 block of this batch at these weights, as an amflow problem file.
      const model::problem<problem_real<Real>> pb = wo2_problem(w, data, so);
      nlohmann::json file = io::resolved_json(pb);
      file["name"] = "transformer-wo2-block";
      file["description"] = export_description(o, name_of(trained), name_of(positions), t,
                                               pb.tokens, scalar::name<Real>());
      exported->write(file.dump() + "\n");
      exported->commit();
      export_tokens = pb.tokens;
    }
    observe(t, double(r.loss), positive, md);
    if (t < steps) {
      if (const std::string why = opt.step(w, r); !why.empty()) {
        stopped = "the update rule's direction is undefined at step " + std::to_string(t) + " (" +
                  why + "): the run stops there";
        steps_done = t;
        break;
      }
      if (!o.resume.empty()) save_state(t + 1);
    }
    progress.update(t + 1);
  }
  progress.clear();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const descent::transients<double> tr = watch.finish(std::max(0L, steps_done));
  nlohmann::json spikes = nlohmann::json::array();
  for (const auto& s : tr.spikes) {
    spikes.push_back({{"start", s.start}, {"peak", s.peak}, {"height", rounded(s.height, 6)}});
  }
  nlohmann::json summary = {
      {"steps", steps_done},
      {"last_loss", rounded(last_loss, 10)},
      {"min_loss", rounded(min_loss, 10)},
      {"max_loss", rounded(tr.max_loss, 10)},
      {"max_loss_step", tr.max_loss_step},
      {"loss_increases", tr.loss_increases},
      {"spikes", spikes},
      {"wo1_sign_changes", tr.margin_sign_changes},
      {"seconds", rounded(seconds, 3)},
      {"seconds_per_step", rounded(seconds / double(std::max(1L, evaluations)), 3)},
      {"note",
       "the loss is a fresh batch's each step, so it rises and falls by sampling noise too: "
       "read spikes by their height (the per-batch noise is about 0.2 at the default size)"}};
  if (!stopped.empty()) summary["stopped"] = stopped;
  if (first > 0) {
    summary["resumed_at"] = first;
    summary["note_resumed"] =
        "rows before resumed_at were read back from the file (the loss and margin summaries "
        "count them); seconds counts this run only";
  }
  if (exported) {
    summary["export"] = export_tokens > 0
                            ? o.export_path + ": the W_O^2 block of batch " +
                                  std::to_string(steps) + " at W_" + std::to_string(steps) + ", " +
                                  std::to_string(export_tokens) + " tokens"
                            : "not written: the run stopped before batch " + std::to_string(steps);
  }
  out.finish(summary);
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
    flags.add("length", "--length", o->length)
        .add("triggers", "--triggers", o->triggers)
        .add("momentum", "--momentum", o->rule.momentum)
        .add("beta1", "--beta1", o->rule.beta1)
        .add("beta2", "--beta2", o->rule.beta2)
        .add("epsilon", "--epsilon", o->rule.epsilon);
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
