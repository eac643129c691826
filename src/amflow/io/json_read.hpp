// JSON reading that keeps every number exactly as written: a JSON number with a fraction or an
// exponent is stored as its original text (a string), so that "alpha": 0.95 reaches the parser as
// "0.95" and is rounded once, at the working precision, never through a double.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace amflow::io {

// Parses `text`; throws input_error naming `source` and the line and column of a syntax error.
nlohmann::json parse_json_exact(const std::string& text, const std::string& source);

// Reads and parses a file; a missing or unreadable file is an input_error naming the path.
nlohmann::json read_json_file(const std::string& path);

}  // namespace amflow::io
