// amflow merge OUT SHARD...: the shards of a sweep (`sweep --shard I/K --format jsonl`) put back
// together into the table the unsharded run writes, byte for byte, after checking that they belong
// together (the same meta but for the shard) and cover every cell of the grid exactly once.
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "amflow/errors.hpp"
#include "cli/common.hpp"

namespace amflow::cli {
namespace {

struct merge_cli_options {
  std::string output;
  std::vector<std::string> shards;
  std::string format;
};

// One row line of a JSON Lines table, read without losing a digit: numbers keep their text
// (nlohmann's SAX interface hands over the token), keys their order.
class row_reader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::string> keys;
  std::vector<io::cell> cells;
  std::string problem;

  bool null() override { return value(io::cell::null()); }
  bool boolean(bool v) override { return value(io::cell::boolean(v)); }
  bool number_integer(number_integer_t v) override { return value(io::cell::integer(v)); }
  bool number_unsigned(number_unsigned_t v) override {
    return value(io::cell::number(std::to_string(v)));
  }
  bool number_float(number_float_t, const string_t& text) override {
    return value(io::cell::number(text));
  }
  bool string(string_t& v) override { return value(io::cell::words(v)); }
  bool binary(binary_t&) override { return refuse("a binary value"); }
  bool start_object(std::size_t) override {
    if (depth_++ > 0) return refuse("a nested object");
    return true;
  }
  bool key(string_t& k) override {
    keys.push_back(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return refuse("an array"); }
  bool end_array() override { return refuse("an array"); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return refuse("not JSON");
  }

 private:
  bool value(io::cell c) {
    if (depth_ != 1) return refuse("a value outside an object");
    cells.push_back(std::move(c));
    return true;
  }
  bool refuse(const std::string& why) {
    if (problem.empty()) problem = why;
    return false;
  }
  int depth_ = 0;
};

struct shard_file {
  nlohmann::json meta, summary;
  std::vector<std::string> columns;
  std::vector<std::pair<long long, std::vector<io::cell>>> rows;  // cell index, the other cells
};

shard_file read_shard(const std::string& path) {
  const auto bad = [&](const std::string& why) { return input_error("shard", path, why); };
  std::ifstream in(path);
  if (!in) throw bad("cannot be read");
  shard_file s;
  std::string line;
  long number = 0;
  bool ended = false;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = "line " + std::to_string(number) + ": ";
    if (line.empty()) continue;
    if (ended) throw bad(where + "a line after the summary");
    if (number == 1) {
      nlohmann::json head = nlohmann::json::parse(line, nullptr, false);
      if (head.is_discarded() || !head.is_object() || !head.contains("meta")) {
        throw bad(
            "not a JSON Lines table (its first line is not {\"meta\": ...}); run the "
            "shards with --format jsonl");
      }
      s.meta = head["meta"];
      if (!s.meta.is_object() || !s.meta.contains("shard") || !s.meta.contains("grid_cells") ||
          !s.meta["grid_cells"].is_number_unsigned()) {
        throw bad("its meta has no shard and grid_cells: not written by sweep --shard");
      }
      continue;
    }
    if (line.rfind("{\"summary\": ", 0) == 0) {
      nlohmann::json tail = nlohmann::json::parse(line, nullptr, false);
      if (tail.is_discarded() || !tail["summary"].is_object()) throw bad(where + "a bad summary");
      s.summary = tail["summary"];
      ended = true;
      continue;
    }
    row_reader r;
    if (!nlohmann::json::sax_parse(line, &r) || r.keys.size() != r.cells.size()) {
      throw bad(where + (r.problem.empty() ? "not a row" : r.problem) +
                (line.back() == '}' ? "" : " (cut short: the run was stopped while writing)"));
    }
    if (s.columns.empty()) {
      s.columns = r.keys;
      if (s.columns.empty() || s.columns.front() != "cell") throw bad(where + "no cell column");
    } else if (r.keys != s.columns) {
      throw bad(where + "its columns differ from the first row's");
    }
    const io::cell& c = r.cells.front();
    if (c.kind != io::cell_kind::number ||
        c.text.find_first_not_of("0123456789") != std::string::npos || c.text.size() > 18) {
      throw bad(where + "cell = " + c.text + " is not a cell index");
    }
    const long long index = std::stoll(c.text);
    r.cells.erase(r.cells.begin());
    s.rows.emplace_back(index, std::move(r.cells));
  }
  if (number == 0) throw bad("is empty");
  if (!ended) {
    throw bad("has no summary line: the run did not finish (rerun that shard; " +
              std::to_string(s.rows.size()) + " cells were written)");
  }
  return s;
}

// The meta without what tells shards apart.
nlohmann::json unsharded(nlohmann::json meta) {
  meta.erase("shard");
  meta.erase("grid_cells");
  return meta;
}

void run_merge(const merge_cli_options& o) {
  if (o.shards.empty()) throw input_error("shards", "(none)", "give at least one shard file");
  const io::format fmt = resolve_format(o.format, o.output == "-" ? "" : o.output);
  std::vector<shard_file> shards;
  for (const std::string& path : o.shards) shards.push_back(read_shard(path));
  const shard_file& first = shards.front();
  const nlohmann::json meta = unsharded(first.meta);
  std::vector<std::string> columns;  // of the first shard with rows (a shard may have none)
  for (const shard_file& s : shards) {
    if (columns.empty()) columns = s.columns;
  }
  const size_t cells = first.meta["grid_cells"].get<size_t>();
  // Every cell exactly once; rows in grid order.
  std::vector<const std::vector<io::cell>*> rows(cells, nullptr);
  std::vector<size_t> owner(cells);
  for (size_t k = 0; k < shards.size(); ++k) {
    const shard_file& s = shards[k];
    const nlohmann::json other = unsharded(s.meta);
    if (other != meta) {
      std::string key;
      for (const auto& [name, value] : other.items()) {
        if (key.empty() && (!meta.contains(name) || meta[name] != value)) key = name;
      }
      for (const auto& [name, value] : meta.items()) {
        if (key.empty() && !other.contains(name)) key = name;
      }
      throw input_error("shard", o.shards[k],
                        "its meta differs from " + o.shards[0] + "'s at " + key +
                            " (another grid, problem or option): not a shard of the same sweep");
    }
    if (!s.rows.empty() && s.columns != columns) {
      throw input_error("shard", o.shards[k], "its columns differ from " + o.shards[0] + "'s");
    }
    for (const auto& [c, cellrow] : s.rows) {
      if (c < 0 || static_cast<size_t>(c) >= cells) {
        throw input_error("shard", o.shards[k],
                          "cell " + std::to_string(c) + " is outside the grid's " +
                              std::to_string(cells) + " cells");
      }
      if (rows[c] != nullptr) {
        throw input_error("shard", o.shards[k],
                          "cell " + std::to_string(c) + " is also in " + o.shards[owner[c]] +
                              " (a shard given twice, or shards of different splits)");
      }
      rows[c] = &cellrow;
      owner[c] = k;
    }
  }
  size_t missing = 0, first_missing = 0;
  for (size_t c = cells; c-- > 0;) {
    if (rows[c] == nullptr) ++missing, first_missing = c;
  }
  if (missing > 0) {
    throw input_error("shards", std::to_string(o.shards.size()) + " files",
                      std::to_string(missing) + " of the grid's " + std::to_string(cells) +
                          " cells are in none of them, the first cell " +
                          std::to_string(first_missing));
  }
  // The summary: counts add up; the underflow note is the one of the lowest cell.
  nlohmann::json summary = nlohmann::json::object();
  long long underflow_cell = -1;
  for (const shard_file& s : shards) {
    for (const auto& [name, value] : s.summary.items()) {
      if (name == "first_underflow_cell" || name == "underflow") continue;
      if (!value.is_number_integer()) {
        throw input_error("shard summary", name, "is not a count: amflow merge cannot add it up");
      }
      summary[name] = summary.value(name, 0LL) + value.get<long long>();
    }
    if (s.summary.contains("underflow") && s.summary.contains("first_underflow_cell")) {
      const long long c = s.summary["first_underflow_cell"].get<long long>();
      if (underflow_cell < 0 || c < underflow_cell) {
        underflow_cell = c;
        summary["underflow"] = s.summary["underflow"];
      }
    }
  }
  columns.erase(columns.begin());  // cell
  io::output_target target(o.output == "-" ? "" : o.output);
  io::table_writer writer(fmt, columns, meta, [&](std::string_view s) { target.write(s); });
  for (size_t c = 0; c < cells; ++c) writer.row(*rows[c]);
  writer.finish(summary);
  target.commit();
}

}  // namespace

void register_merge(CLI::App& app) {
  auto o = std::make_shared<merge_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "join the shards of a sweep (sweep --shard I/K --format jsonl) into the unsharded table");
  cmd->add_option("OUT", o->output, "the merged table's file (- for standard output)")->required();
  cmd->add_option("SHARD", o->shards, "the shards' JSON Lines files, in any order")->required();
  cmd->add_option("--format", o->format,
                  "table, csv, json, jsonl (JSON Lines, one object per row), md or latex "
                  "(default: table on a terminal, csv otherwise)");
  cmd->callback([o, cmd] {
    flag_map flags;
    run_command(*cmd, flags, [&] { run_merge(*o); });
  });
}

}  // namespace amflow::cli
