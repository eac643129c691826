// The writers and atomic output.
#include <filesystem>
#include <fstream>

#include "amflow/io/output.hpp"
#include "amflow/io/table.hpp"
#include "support.hpp"

namespace amflow {
namespace {

TEST(round_text, rounds_for_reading) {
  using scalar::round_text;
  EXPECT_EQ(round_text("1.23456789012e-05", 5), "1.2346e-05");
  EXPECT_EQ(round_text("9.9999999e+02", 4), "1000");
  EXPECT_EQ(round_text("-9.9999999e+02", 4), "-1000");
  EXPECT_EQ(round_text("1.5000000000000000000e+00", 10), "1.5");
  EXPECT_EQ(round_text("0.0000000000000000000e+00", 10), "0");
  EXPECT_EQ(round_text("1.0000000000000000000e-300", 10), "1e-300");
  EXPECT_EQ(round_text("1.2345e+20", 3), "1.23e+20");
  EXPECT_EQ(round_text("3.14159e-03", 3), "0.00314");
  EXPECT_EQ(round_text("42", 10), "42");
  EXPECT_EQ(round_text("12345678901234", 5), "1.2346e+13");
  EXPECT_EQ(round_text("nan", 5), "nan");
  EXPECT_EQ(round_text("-inf", 5), "-inf");
  EXPECT_EQ(round_text("hello", 5), "hello");
  EXPECT_EQ(round_text("1.2345678901234567890123456789012345678901234567890e+123456", 6),
            "1.23457e+123456");
}

io::table sample() {
  io::table t;
  t.columns = {"name", "tau", "m_0"};
  t.rows = {
      {{"a,b", false}, {"1.0000000000000000000000000000000000001e+02", true}, {"-2.5e-01", true}},
      {{"c", false}, {"nan", true}, {"3", true}}};
  t.meta = {{"digits", 50}, {"command", "test"}};
  return t;
}

TEST(writers, csv_keeps_every_digit_and_quotes) {
  const std::string out = io::render(sample(), io::format::csv);
  EXPECT_NE(out.find("# command: test\n"), std::string::npos);
  EXPECT_NE(out.find("name,tau,m_0\n"), std::string::npos);
  EXPECT_NE(out.find("\"a,b\",1.0000000000000000000000000000000000001e+02,-2.5e-01\n"),
            std::string::npos);
}

TEST(writers, json_numbers_are_literals_with_all_digits) {
  const std::string out = io::render(sample(), io::format::json);
  const auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["meta"]["digits"], 50);
  EXPECT_EQ(parsed["rows"].size(), 2u);
  EXPECT_EQ(parsed["rows"][0]["name"], "a,b");
  EXPECT_NE(out.find("\"tau\": 1.0000000000000000000000000000000000001e+02"), std::string::npos);
  EXPECT_EQ(parsed["rows"][1]["tau"], "nan");  // not a JSON number: kept as a string
  EXPECT_EQ(parsed["rows"][1]["m_0"], 3);
}

TEST(writers, table_md_latex_round_for_reading) {
  const std::string table = io::render(sample(), io::format::table);
  EXPECT_NE(table.find("100"), std::string::npos);
  EXPECT_EQ(table.find("0000000000001"), std::string::npos);
  EXPECT_NE(table.find("-0.25"), std::string::npos);
  const std::string md = io::render(sample(), io::format::md);
  EXPECT_NE(md.find("| name | tau | m_0 |\n|---|---|---|\n| a,b | 100 | -0.25 |"),
            std::string::npos);
  const std::string latex = io::render(sample(), io::format::latex);
  EXPECT_NE(latex.find("\\begin{tabular}{rrr}"), std::string::npos);
  EXPECT_NE(latex.find("m\\_0"), std::string::npos);
  EXPECT_NE(latex.find("a,b & $100$ & $-0.25$ \\\\"), std::string::npos);
  EXPECT_THROW(io::parse_format("xml"), input_error);
}

TEST(output, atomic_write_leaves_only_the_target) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("amflow_output_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path target = dir / "out.csv";
  io::write_output(target.string(), "x,y\n1,2\n");
  std::ifstream in(target);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "x,y\n1,2\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  EXPECT_THROW(io::write_output((dir / "missing" / "out.csv").string(), "x"), std::runtime_error);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace amflow
