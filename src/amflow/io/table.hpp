// The tables every command emits, and their writers: table (aligned text), csv, json, jsonl (JSON
// Lines), md and latex.
// Rows are written as they are produced (table_writer), so a long run can be watched and piped.
// Numbers are stored with every digit the working precision carries; csv and json print them all,
// table, md and latex round them for reading (`reading_digits`).
//
// Layout of each format: the run's `meta` (what was asked: version, command, digits, problem,
// options) first, then the rows, then its `summary` (what happened: steps, error estimates,
// transients, counts), known only at the end:
//   json   {"meta": {...}, "rows": [{column: value, ...}, ...], "summary": {...}}
//   jsonl  one JSON object per line: {"meta": {...}}, then each row {column: value, ...}, then
//          {"summary": {...}} (always written, so a file without it is a run that did not finish)
//   csv    "# key: value" lines, the header, the rows, "# key: value" lines
//   table  the same with aligned columns; md and latex with comments in their own syntax.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace amflow::io {

// What a cell holds. number: a finite decimal numeral (JSON number; rounded for reading); text;
// boolean: true or false (JSON boolean); null: a missing value (JSON null, an empty csv field);
// numbers: a list of finite numerals (a JSON array; "a b c" in the other formats).
enum class cell_kind { number, text, boolean, null, numbers };

struct cell {
  std::string text;
  cell_kind kind = cell_kind::text;

  static cell number(std::string text) { return {std::move(text), cell_kind::number}; }
  static cell integer(long long v) { return {std::to_string(v), cell_kind::number}; }
  static cell words(std::string text) { return {std::move(text), cell_kind::text}; }
  static cell boolean(bool v) { return {v ? "true" : "false", cell_kind::boolean}; }
  static cell null() { return {"", cell_kind::null}; }
  static cell numbers(const std::vector<std::string>& values) {
    std::string text;
    for (const std::string& v : values) text += (text.empty() ? "" : " ") + v;
    return {std::move(text), cell_kind::numbers};
  }
};

enum class format { table, csv, json, jsonl, md, latex };

// Parses "table", "csv", "json", "jsonl", "md", "latex"; throws input_error("format", ...)
// otherwise.
format parse_format(const std::string& name);

// Digits kept when rounding for reading (table, md, latex).
inline constexpr int reading_digits = 10;

// Writes one table as its rows arrive. A number cell that is not a finite decimal numeral (a NaN
// or an infinity that escaped a check upstream) throws std::runtime_error naming its column and
// row: no such number is ever printed. The aligned table format holds its first rows (up to 200,
// or for one second) to size its columns, then streams.
class table_writer {
 public:
  using sink = std::function<void(std::string_view)>;
  // continuing: the table's beginning (and some rows) are already written; JSON Lines only.
  table_writer(format f, std::vector<std::string> columns, nlohmann::json meta, sink out,
               bool continuing = false);
  // One row, one cell per column.
  void row(const std::vector<cell>& cells);
  // Closes the table, with the summary (an object; may be empty).
  void finish(const nlohmann::json& summary = nlohmann::json::object());
  long rows() const { return rows_; }

 private:
  void begin();
  void write_row(const std::vector<cell>& cells);
  void settle_widths();

  format format_;
  std::vector<std::string> columns_;
  nlohmann::json meta_;
  sink out_;
  long rows_ = 0;
  bool finished_ = false;
  // table format: rows held until the column widths are known.
  std::vector<std::vector<cell>> held_;
  std::vector<size_t> width_;
  std::vector<bool> right_;
  std::vector<bool> scientific_;  // number columns shown in exponent notation (one per column)
  bool settled_ = false;
  std::chrono::steady_clock::time_point started_;
};

// A whole table, for results that are small and built at once.
struct table {
  std::vector<std::string> columns;
  std::vector<std::vector<cell>> rows;
  nlohmann::json meta = nlohmann::json::object();
  nlohmann::json summary = nlohmann::json::object();
};

// Renders a whole table in the given format (ends with a newline).
std::string render(const table& t, format f);

// JSON text of a value as amflow writes it: bytes that are not UTF-8 (a file name) become U+FFFD
// instead of an error.
std::string dump_json(const nlohmann::json& v, int indent = -1);

}  // namespace amflow::io
