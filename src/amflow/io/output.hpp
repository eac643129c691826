// Where results go: standard output, or a path. What sits at the path decides how it is written:
//   - a new path or a regular file: atomically, through a temporary file in the same folder that is
//     renamed over the path only at commit(), so a failure (or SIGINT, SIGTERM, SIGHUP) leaves
//     nothing behind and an existing file keeps its content and its permissions until then;
//   - a device, a FIFO or a socket (/dev/null, /dev/stdout, a named pipe): written straight, never
//     replaced;
//   - a symbolic link: followed to its target (even a dangling one), which the rules above apply
//   to.
// The path is checked when the target is opened, before any work: an unwritable path is bad input.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace amflow::io {

class output_target {
 public:
  // Empty or "-": standard output. Throws input_error("output", path, why) when the path cannot
  // be written (a missing folder, no permission, a directory). in_place_from >= 0: a regular file
  // (or a new one) is written in place instead, cut to its first in_place_from bytes and written
  // on from there, so that what was written stays if the run is stopped (sweep shards in JSON
  // Lines, which --resume goes on from); the rules above hold for anything else.
  explicit output_target(const std::string& path, long long in_place_from = -1);
  ~output_target();
  output_target(const output_target&) = delete;
  output_target& operator=(const output_target&) = delete;

  // Writes at once (rows are streamed as they are produced). Throws std::runtime_error on an I/O
  // error (a full disk).
  void write(std::string_view text);
  // Makes the output final: renames the temporary over the path (atomic mode).
  void commit();

  bool to_terminal() const { return terminal_; }
  // Called before every write (the progress line on a shared terminal is cleared first).
  std::function<void()> before_write;

 private:
  enum class mode { standard_output, direct, atomic };
  mode mode_ = mode::standard_output;
  int fd_ = -1;
  bool terminal_ = false;
  bool committed_ = false;
  std::string path_;       // as given, for messages
  std::string target_;     // the file that receives the output (symbolic links followed)
  std::string temporary_;  // atomic mode
  unsigned permissions_ = 0;
};

// Writes `content` to `path` (or standard output when empty or "-"): open, write, commit.
void write_output(const std::string& path, const std::string& content);

}  // namespace amflow::io
