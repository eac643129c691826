// Reading back the JSON Lines tables of sharded sweeps (`sweep --shard I/K --format jsonl`), for
// `amflow merge` and `sweep --resume`: numbers keep their text to the last digit and columns their
// order, so that what is read is written again byte for byte.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "amflow/io/table.hpp"

namespace amflow::cli {

struct jsonl_table {
  nlohmann::json meta;               // the first line's
  nlohmann::json summary;            // the last line's (null when the run did not finish)
  std::vector<std::string> columns;  // the rows' keys, the index column first
  std::vector<std::pair<long long, std::vector<io::cell>>> rows;  // index, the other cells
  std::vector<long long> row_ends;                                // the byte after each row's line
  long long meta_bytes = 0;                                       // the byte after the meta line
  long long complete_bytes = 0;  // the meta line and the whole row lines before any cut-off
};

// Whose table it is: the index column's name (a non-negative integer on every row), whether the
// meta must be a shard's (shard and grid_cells), and the command named in messages.
struct jsonl_layout {
  std::string index = "cell";
  bool sharded = true;
  std::string resumed_by = "sweep --resume";
};

// Reads the table at `path` (errors are input_error naming `field` and the path). strict: every
// line whole and the summary present (merge); otherwise a last line cut short (a run stopped while
// writing it) and a missing summary are allowed (resume). Arrays of numbers (a row's margins) are
// read as one `numbers` cell.
jsonl_table read_jsonl_table(const std::string& path, const std::string& field, bool strict,
                             const jsonl_layout& layout = {});

// The meta without what tells shards apart (shard, grid_cells).
nlohmann::json unsharded_meta(nlohmann::json meta);

// The first key (in key order) whose value differs between two metas or that only one has; ""
// when they are equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace amflow::cli
