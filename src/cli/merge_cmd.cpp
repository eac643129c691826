// amflow merge OUT SHARD...: the shards of a sweep (`sweep --shard I/K --format jsonl`) put back
// together into the table the unsharded run writes, byte for byte, after checking that they belong
// together (the same meta but for the shard) and cover every cell of the grid exactly once.
#include <sys/stat.h>

#include <memory>

#include "amflow/errors.hpp"
#include "cli/common.hpp"
#include "cli/jsonl_table.hpp"

namespace amflow::cli {
namespace {

struct merge_cli_options {
  std::string output;
  std::vector<std::string> shards;
  std::string format;
};

void run_merge(const merge_cli_options& o) {
  if (o.shards.empty()) throw input_error("shards", "(none)", "give at least one shard file");
  const std::string output = o.output == "-" ? "" : o.output;
  resolve_format(o.format, output);  // a bad --format is refused before any shard is read
  // `amflow merge part-1.jsonl part-2.jsonl` (OUT forgotten) would write over a shard.
  struct stat st {};
  if (!output.empty() && ::stat(output.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    bool is_shard = false;
    try {
      is_shard = read_jsonl_table(output, "OUT", false).meta.contains("shard");
    } catch (const std::exception&) {
    }
    if (is_shard) {
      throw input_error("OUT", o.output,
                        "is a shard of a sweep; the merged file comes first: amflow merge OUT "
                        "SHARD...");
    }
  }
  std::vector<jsonl_table> shards;
  for (const std::string& path : o.shards) shards.push_back(read_jsonl_table(path, "shard", true));
  const jsonl_table& first = shards.front();
  const nlohmann::json meta = unsharded_meta(first.meta);
  std::vector<std::string> columns;  // of the first shard with rows (a shard may have none)
  for (const jsonl_table& s : shards) {
    if (columns.empty()) columns = s.columns;
  }
  const size_t cells = first.meta["grid_cells"].get<size_t>();
  // Every cell exactly once; rows in grid order.
  std::vector<const std::vector<io::cell>*> rows(cells, nullptr);
  std::vector<size_t> owner(cells);
  for (size_t k = 0; k < shards.size(); ++k) {
    const jsonl_table& s = shards[k];
    const nlohmann::json other = unsharded_meta(s.meta);
    if (other != meta) {
      const std::string key = first_difference(other, meta);
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
  for (const jsonl_table& s : shards) {
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
  table_output out(common_options{.output = output, .format = o.format}, columns, meta);
  for (size_t c = 0; c < cells; ++c) out.row(*rows[c]);
  out.finish(summary);
}

}  // namespace

void register_merge(CLI::App& app) {
  auto o = std::make_shared<merge_cli_options>();
  CLI::App* cmd = app.add_subcommand(
      "merge",
      "join the shards of a sweep (sweep --shard I/K --format jsonl) into the unsharded table");
  cmd->add_option("OUT", o->output, "the merged table's file (- for standard output)")->required();
  cmd->add_option("SHARD", o->shards, "the shards' JSON Lines files, in any order")->required();
  cmd->add_option("--format", o->format, format_help);
  cmd->callback([o, cmd] {
    flag_map flags;
    run_command(*cmd, flags, [&] { run_merge(*o); });
  });
}

}  // namespace amflow::cli
