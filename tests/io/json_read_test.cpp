// The strict JSON reader: exact numbers, and every refusal with its position (depth, duplicate
// keys, trailing bytes, bad strings), checked against nlohmann's parser on valid documents.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "amflow/io/json_read.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using json = nlohmann::json;

// The input_error of parsing `text`, or a failure when it is accepted.
input_error refusal(const std::string& text) {
  try {
    io::parse_json_exact(text, "p.json");
  } catch (const input_error& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << printable(text, 80);
  return input_error("", "", "");
}

TEST(json_read, malformed_json_names_the_source_and_position) {
  const input_error e = refusal("{\"tokens\": 3,\n \"classes\": }");
  EXPECT_EQ(e.field(), "p.json");
  EXPECT_NE(std::string(e.what()).find("line 2, column 13"), std::string::npos) << e.what();
  EXPECT_THROW(io::read_json_file("/nonexistent/problem.json"), input_error);
}

TEST(json_read, numbers_keep_their_text) {
  const json v = io::parse_json_exact(
      R"({"a": 0.95, "b": 1e999, "c": 12, "d": -7, "e": 18446744073709551616,
          "f": -9223372036854775809, "g": 18446744073709551615, "h": -0.0, "i": 1E-400})",
      "t");
  EXPECT_EQ(v["a"], "0.95");
  EXPECT_EQ(v["b"], "1e999");  // beyond double: kept, not "malformed"
  EXPECT_TRUE(v["c"].is_number_unsigned());
  EXPECT_EQ(v["c"], 12);
  EXPECT_EQ(v["d"], -7);
  EXPECT_EQ(v["e"], "18446744073709551616");  // beyond 64 bits: kept as text
  EXPECT_EQ(v["f"], "-9223372036854775809");
  EXPECT_EQ(v["g"], 18446744073709551615ULL);
  EXPECT_EQ(v["h"], "-0.0");
  EXPECT_EQ(v["i"], "1E-400");
  for (const char* bad :
       {"01", "1.", ".5", "-", "1e", "1e+", "+1", "0x10", "NaN", "Infinity", "1.5.2", "--1"}) {
    refusal(std::string("[") + bad + "]");
  }
}

TEST(json_read, nesting_is_bounded) {
  // 200 KB of brackets: refused at depth 65 with a message, not a stack overflow.
  const input_error e = refusal(std::string(200000, '['));
  EXPECT_NE(std::string(e.what()).find("nested deeper than 64"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("column 65"), std::string::npos) << e.what();
  std::string deep = std::string(64, '[') + std::string(64, ']');
  EXPECT_NO_THROW(io::parse_json_exact(deep, "t"));
  deep = std::string(65, '[') + std::string(65, ']');
  refusal(deep);
  std::string objects;
  for (int i = 0; i < 100; ++i) objects += "{\"a\":";
  refusal(objects + "1" + std::string(100, '}'));
}

TEST(json_read, duplicate_keys_are_refused_by_their_path) {
  input_error e = refusal(R"({"tokens": 2, "tokens": 3})");
  EXPECT_EQ(e.field(), "tokens");
  EXPECT_NE(std::string(e.what()).find("duplicate key"), std::string::npos);
  e = refusal(R"({"frequencies": {"kind": "zipf", "exponent": 1, "kind": "uniform"}})");
  EXPECT_EQ(e.field(), "frequencies.kind");
  e = refusal(R"({"rows": [{"a": 1}, {"b": 2, "b": 3}]})");
  EXPECT_EQ(e.field(), "rows[1].b");
  EXPECT_NO_THROW(io::parse_json_exact(R"([{"a": 1}, {"a": 2}])", "t"));  // different objects
}

TEST(json_read, nothing_may_follow_the_value) {
  for (const std::string& tail : {std::string(1, '\0'), std::string(" x"), std::string("{}"),
                                  std::string(","), std::string("\x01")}) {
    const input_error e = refusal("{\"a\": 1}" + tail);
    EXPECT_NE(std::string(e.what()).find("after the JSON value"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(io::parse_json_exact("{\"a\": 1}\n\t \r\n", "t"));
  refusal("");
  refusal("   ");
}

TEST(json_read, strings_are_valid_utf8_without_control_characters) {
  EXPECT_EQ(io::parse_json_exact(R"(["\u00e9\ud83d\ude00\n\"\\\/"])", "t")[0],
            "\xc3\xa9\xf0\x9f\x98\x80\n\"\\/");
  const json nul = io::parse_json_exact(R"({"a\u0000b": 1})", "t");
  EXPECT_TRUE(nul.contains(std::string("a\0b", 3)));
  refusal("[\"a\nb\"]");          // a raw newline
  refusal("[\"\xff\"]");          // not UTF-8
  refusal("[\"\xc0\xaf\"]");      // overlong
  refusal("[\"\xed\xa0\x80\"]");  // an encoded surrogate
  refusal(R"(["\ud800"])");       // a lone high surrogate
  refusal(R"(["\udc00"])");       // a lone low surrogate
  refusal(R"(["\x"])");           // unknown escape
  refusal(R"(["\u12"])");
  refusal("[\"abc");
}

TEST(json_read, files_directories_and_sizes) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("amflow_json_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    io::read_json_file(dir.string());
    ADD_FAILURE() << "a directory was read";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "p.json") << "{\"a\": [1, 2]}";
  EXPECT_EQ(io::read_json_file((dir / "p.json").string())["a"][1], 2);
  fs::remove_all(dir);
}

TEST(json_read, brief_json_is_bounded) {
  json big = json::array();
  for (int i = 0; i < 100000; ++i) big.push_back(i);
  EXPECT_LE(io::brief_json(big, 80).size(), 80u);
  EXPECT_EQ(io::brief_json(big, 80).substr(0, 6), "[0, 1,");
  EXPECT_LE(io::brief_json(json(std::string(1000000, 'x')), 80).size(), 80u);
  EXPECT_EQ(io::brief_json(json{{"a", 1}}, 80), "{\"a\": 1}");
}

// Random valid documents (no floats, whose text we keep): the same tree as nlohmann's parser.
json random_value(std::mt19937_64& gen, int depth) {
  const int kind = static_cast<int>(gen() % (depth > 5 ? 4 : 6));
  switch (kind) {
    case 0:
      return json(static_cast<std::int64_t>(gen()) >> (gen() % 64));
    case 1: {
      std::string s;
      for (int i = static_cast<int>(gen() % 6); i > 0; --i) s += static_cast<char>(32 + gen() % 95);
      return json(s);
    }
    case 2:
      return json(gen() % 2 == 0);
    case 3:
      return json(nullptr);
    case 4: {
      json a = json::array();
      for (int i = static_cast<int>(gen() % 4); i > 0; --i)
        a.push_back(random_value(gen, depth + 1));
      return a;
    }
    default: {
      json o = json::object();
      for (int i = static_cast<int>(gen() % 4); i > 0; --i) {
        o["k" + std::to_string(gen() % 100)] = random_value(gen, depth + 1);
      }
      return o;
    }
  }
}

TEST(json_read, agrees_with_nlohmann_on_valid_documents) {
  std::mt19937_64 gen(12);
  for (int i = 0; i < 2000; ++i) {
    const json v = random_value(gen, 0);
    const std::string text = v.dump(static_cast<int>(gen() % 3) - 1);
    EXPECT_EQ(io::parse_json_exact(text, "t"), json::parse(text)) << text;
  }
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
