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
  std::vector<std::string> columns;  // the rows' keys, cell first
  std::vector<std::pair<long long, std::vector<io::cell>>> rows;  // cell index, the other cells
  long long complete_bytes = 0;  // the meta line and the whole row lines before any cut-off
};

// Reads the table at `path` (errors are input_error naming `field` and the path). strict: every
// line whole and the summary present (merge); otherwise a last line cut short (a run stopped while
// writing it) and a missing summary are allowed (resume).
jsonl_table read_jsonl_table(const std::string& path, const std::string& field, bool strict);

// The meta without what tells shards apart (shard, grid_cells).
nlohmann::json unsharded_meta(nlohmann::json meta);

// The first key (in key order) whose value differs between two metas or that only one has; ""
// when they are equal.
std::string first_difference(const nlohmann::json& a, const nlohmann::json& b);

}  // namespace amflow::cli
