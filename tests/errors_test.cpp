// Echoed user text is bounded and printable whatever bytes it holds.
#include "amflow/errors.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

TEST(printable, escapes_control_bytes_and_invalid_utf8) {
  EXPECT_EQ(printable("plain text", 100), "plain text");
  EXPECT_EQ(printable(std::string("a\0b", 3), 100), "a\\x00b");
  EXPECT_EQ(printable("line\nnext\ttab\r\x1b[31m", 100), "line\\nnext\\ttab\\x0d\\x1b[31m");
  EXPECT_EQ(printable("caf\xc3\xa9 \xf0\x9f\x98\x80", 100), "caf\xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(printable("p\xff.json", 100), "p\\xff.json");
  EXPECT_EQ(printable("\xc3", 100), "\\xc3");                    // a truncated sequence
  EXPECT_EQ(printable("\xed\xa0\x80", 100), "\\xed\\xa0\\x80");  // a surrogate
  EXPECT_EQ(printable("\x7f", 100), "\\x7f");
}

TEST(printable, cuts_long_text_at_a_character_boundary) {
  const std::string big(1000000, 'x');
  const std::string shown = printable(big, 120);
  EXPECT_EQ(shown, std::string(120, 'x') + "... (1000000 bytes)");
  // A two-byte character straddling the limit is left out whole.
  EXPECT_EQ(printable("ab\xc3\xa9", 3), "ab... (4 bytes)");
}

TEST(input_error, messages_are_one_bounded_printable_line) {
  const std::string key(100000, 'k'), value(1000000, 'v');
  const input_error e(key + std::string("\0\n", 2), value, "reason\nwith a newline");
  const std::string what = e.what();
  EXPECT_LT(what.size(), 800u);
  EXPECT_EQ(what.find('\n'), std::string::npos);
  EXPECT_NE(what.find("(1000000 bytes)"), std::string::npos);
  EXPECT_EQ(e.value().size(), value.size());  // kept whole for programs
  const input_error nul(std::string("a\0b", 3), "x", "r");
  EXPECT_NE(std::string(nul.what()).find("a\\x00b = x: r"), std::string::npos) << nul.what();
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
