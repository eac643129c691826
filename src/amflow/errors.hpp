// Errors amflow raises for bad input. Numerical outcomes (tolerance not reached, divergence) are
// not errors: they are reported in a run's summary.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace amflow {

// `text` made safe to echo on one terminal line: control characters (NUL, newlines, escapes),
// DEL and bytes that are not UTF-8 become \xHH (a newline \n, a tab \t), and anything beyond
// `limit` bytes is cut at a character boundary and ends with "... (N bytes)". Valid UTF-8 passes
// unchanged.
std::string printable(std::string_view text, std::size_t limit);

// Length of the valid UTF-8 sequence that starts at text[i] (1 to 4 bytes), or 0 when the bytes
// there are not one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i);

// "; did you mean NAME?" for the candidate nearest to `word` (edit distance, with a swap of two
// neighbours as one edit) when it is close enough to be a typo (at most 1 edit for words of up to
// 4 letters, 2 up to 8, else 3), else "". Candidates equal to `word` are ignored.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// Bounds on the parts of an input_error's message (bytes, before escaping).
inline constexpr std::size_t field_echo_limit = 120;
inline constexpr std::size_t value_echo_limit = 120;
inline constexpr std::size_t reason_echo_limit = 400;

// Invalid user input: names the field (a JSON path such as "frequencies.p[2]", or an option field
// such as "eta", which the command line shows as its flag "--eta"), the offending value as the user
// wrote it, and the reason. The CLI prints "amflow: invalid input: FIELD = VALUE: REASON" on one
// bounded line and exits with code 2. field() and value() are kept whole (for programs); the
// message is bounded and printable whatever they hold.
class input_error : public std::runtime_error {
 public:
  input_error(std::string field, std::string value, const std::string& reason)
      : std::runtime_error(printable(field, field_echo_limit) + " = " +
                           printable(value, value_echo_limit) + ": " +
                           printable(reason, reason_echo_limit)),
        field_(std::move(field)),
        value_(std::move(value)),
        reason_(reason) {}

  const std::string& field() const { return field_; }
  const std::string& value() const { return value_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string field_;
  std::string value_;
  std::string reason_;
};

}  // namespace amflow
