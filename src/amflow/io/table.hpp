// The result table every command emits, and its writers: table (aligned text), csv, json, md and
// latex. Numbers are stored with every digit the working precision carries; csv and json print them
// all, table, md and latex round them for reading (`reading_digits`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace amflow::io {

struct cell {
  std::string text;      // a number as scalar::to_text prints it, or plain text
  bool numeric = false;  // numeric cells are rounded for reading and unquoted in csv/json
};

struct table {
  std::vector<std::string> columns;
  std::vector<std::vector<cell>> rows;
  // Goes to the JSON "meta" object and, for the other formats, to a header comment: version,
  // command, digits, scalar, problem, and whatever the command adds (error estimates, steps).
  nlohmann::json meta = nlohmann::json::object();
};

enum class format { table, csv, json, md, latex };

// Parses "table", "csv", "json", "md", "latex"; throws input_error("--format", ...) otherwise.
format parse_format(const std::string& name);

// Digits kept when rounding for reading (table, md, latex).
inline constexpr int reading_digits = 10;

// Renders the whole table in the given format (ends with a newline).
std::string render(const table& t, format f);

}  // namespace amflow::io
