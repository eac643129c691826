// JSON reading that keeps every number exactly as written and refuses what a problem file must not
// hold. RFC 8259 JSON, strictly: a number with a fraction or an exponent (and an integer beyond the
// 64-bit range) is stored as its original text (a string), so that "alpha": 0.95 reaches the
// parser as "0.95" and "1e999" as "1e999", rounded once at the working precision, never through a
// double. Refused, with the line and column: nesting deeper than max_json_depth, a key given twice
// in one object (named by its path), anything but white space after the value, control characters
// and invalid UTF-8 in strings, lone surrogates.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace amflow::io {

inline constexpr int max_json_depth = 64;
// Larger files are refused before they are read (a problem file of N = d = 10^4 explicit rows at
// 50 digits is about 5 GB; such problems are better described by kinds and seeds).
inline constexpr long long max_json_bytes = 1LL << 30;

// Parses `text`; throws input_error naming `source` (or the key path of a duplicate key) and the
// line and column of the error.
nlohmann::json parse_json_exact(const std::string& text, const std::string& source);

// At most about `limit` bytes of v as compact JSON, for messages: containers and strings are cut
// (ending in "...") without serialising what is not shown.
std::string brief_json(const nlohmann::json& v, std::size_t limit = 80);

// Reads and parses a file; a missing, unreadable, too large file or a directory is an input_error
// naming the path.
nlohmann::json read_json_file(const std::string& path);

}  // namespace amflow::io
