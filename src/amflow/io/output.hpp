// Writing results: to standard output, or atomically to a file (a temporary file in the same
// folder, renamed over the target only once everything is written, so a failure leaves nothing
// behind).
#pragma once

#include <string>

namespace amflow::io {

// Writes `content` to `path` atomically, or to standard output when path is empty or "-".
// Throws std::runtime_error (an I/O failure, exit code 1) when the file cannot be written.
void write_output(const std::string& path, const std::string& content);

}  // namespace amflow::io
