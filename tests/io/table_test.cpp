// The writers: every digit in csv and json, rounding for reading, typed cells (numbers, words,
// booleans, nulls), escapes in md and latex, streaming, and the refusal of non-finite numbers.
#include <nlohmann/json.hpp>

#include "amflow/io/json_read.hpp"
#include "amflow/io/table.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using io::cell;

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
  // Exponent notation throughout, as a table column that needs it once uses it everywhere.
  EXPECT_EQ(round_text("100000000", 10, true), "1e+08");
  EXPECT_EQ(round_text("-2.5e-01", 10, true), "-2.5e-01");
  EXPECT_EQ(round_text("3", 10, true), "3e+00");
  EXPECT_EQ(round_text("0.0e+00", 10, true), "0");
}

TEST(writers, table_columns_keep_one_notation) {
  io::table t;
  t.columns = {"tau", "loss", "zero_one_loss"};
  for (const char* tau : {"0", "1", "100000000", "1000000000", "1.0e+10"}) {
    t.rows.push_back({cell::number(tau), cell::number("2.5e-01"), cell::number("0.5")});
  }
  t.rows.back()[1] = cell::number("2.0000000994331833e-09");
  const std::string out = io::render(t, io::format::table);
  for (const char* line :
       {"\n    0          2.5e-01            0.5\n", "\n1e+00          2.5e-01            0.5\n",
        "\n1e+08          2.5e-01", "\n1e+09          2.5e-01", "\n1e+10  2.000000099e-09  "}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  }
  EXPECT_EQ(out.find("100000000"), std::string::npos) << out;
  // csv keeps the numbers as they came.
  EXPECT_NE(io::render(t, io::format::csv).find("\n1000000000,"), std::string::npos);
}

io::table sample() {
  io::table t;
  t.columns = {"name", "tau", "m_0", "ok", "order"};
  t.rows = {{cell::words("a,b"), cell::number("1.0000000000000000000000000000000000001e+02"),
             cell::number("-2.5e-01"), cell::boolean(true), cell::null()},
            {cell::words("c|d ^ x_1 \\ ~"), cell::number("3"), cell::number("4.5e+00"),
             cell::boolean(false), cell::number("1.0e+00")}};
  t.meta = {{"digits", 50}, {"command", "test"}};
  t.summary = {{"steps", 7}};
  return t;
}

TEST(writers, csv_keeps_every_digit_and_quotes) {
  const std::string out = io::render(sample(), io::format::csv);
  EXPECT_NE(out.find("# command: test\n"), std::string::npos);
  EXPECT_NE(out.find("name,tau,m_0,ok,order\n"), std::string::npos);
  EXPECT_NE(out.find("\"a,b\",1.0000000000000000000000000000000000001e+02,-2.5e-01,true,\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("# steps: 7\n"), std::string::npos);  // the summary, after the rows
  EXPECT_GT(out.find("# steps: 7\n"), out.find("4.5e+00"));
}

TEST(writers, json_has_typed_values_and_a_summary) {
  const std::string out = io::render(sample(), io::format::json);
  const auto parsed = nlohmann::json::parse(out);
  EXPECT_EQ(parsed["meta"]["digits"], 50);
  EXPECT_EQ(parsed["summary"]["steps"], 7);
  ASSERT_EQ(parsed["rows"].size(), 2u);
  EXPECT_EQ(parsed["rows"][0]["name"], "a,b");
  EXPECT_TRUE(parsed["rows"][0]["ok"].is_boolean());  // not the string "true"
  EXPECT_EQ(parsed["rows"][0]["ok"], true);
  EXPECT_EQ(parsed["rows"][1]["ok"], false);
  EXPECT_TRUE(parsed["rows"][0]["order"].is_null());  // not an empty string
  EXPECT_EQ(parsed["rows"][1]["m_0"], 4.5);
  EXPECT_NE(out.find("\"tau\": 1.0000000000000000000000000000000000001e+02"), std::string::npos);
  // Our exact reader keeps the literal's digits.
  const auto exact = io::parse_json_exact(out, "test");
  EXPECT_EQ(exact["rows"][0]["tau"], "1.0000000000000000000000000000000000001e+02");
}

TEST(writers, json_summaries_hold_numbers_like_the_rows) {
  io::table t = sample();
  t.summary = nlohmann::json::parse(
      R"({"max_loss": "1.0000000000000000000000000000000000001e+02", "eta": "1/3",
          "spikes": [{"height": "-2.5e-01", "peak": 1}], "version": "0.1.0", "empty": {}})");
  for (auto f : {io::format::json, io::format::jsonl}) {
    const std::string out = io::render(t, f);
    EXPECT_NE(out.find(R"("max_loss":1.0000000000000000000000000000000000001e+02)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(R"("spikes":[{"height":-2.5e-01,"peak":1}])"), std::string::npos) << out;
    const std::string last = out.substr(out.rfind("\"summary\""));
    const auto summary = nlohmann::json::parse("{" + last.substr(0, last.rfind('}')) + "}");
    EXPECT_TRUE(summary["summary"]["max_loss"].is_number_float()) << out;
    EXPECT_EQ(summary["summary"]["eta"], "1/3");  // not a numeral: stays a string
    EXPECT_EQ(summary["summary"]["version"], "0.1.0");
    EXPECT_TRUE(summary["summary"]["empty"].is_object());
  }
}

TEST(writers, table_md_latex_round_for_reading_and_escape) {
  const std::string table = io::render(sample(), io::format::table);
  EXPECT_NE(table.find("100"), std::string::npos);
  EXPECT_EQ(table.find("0000000000001"), std::string::npos);
  EXPECT_NE(table.find("-0.25"), std::string::npos);
  const std::string md = io::render(sample(), io::format::md);
  EXPECT_NE(
      md.find("| name | tau | m_0 | ok | order |\n|---|---|---|---|---|\n| a,b | 100 | -0.25 |"),
      std::string::npos)
      << md;
  EXPECT_NE(md.find("| c\\|d ^ x_1 \\\\ ~ |"), std::string::npos) << md;  // | escaped
  const std::string latex = io::render(sample(), io::format::latex);
  EXPECT_NE(latex.find("\\begin{tabular}{rrrrr}"), std::string::npos);
  EXPECT_NE(latex.find("m\\_0"), std::string::npos);
  EXPECT_NE(latex.find("a,b & $100$ & $-0.25$ & true & - \\\\"), std::string::npos) << latex;
  EXPECT_NE(latex.find("c|d \\textasciicircum{} x\\_1 \\textbackslash{} \\textasciitilde{}"),
            std::string::npos)
      << latex;
  EXPECT_THROW(io::parse_format("xml"), input_error);
}

TEST(writers, table_spreads_nested_summaries_over_lines_and_rounds_them) {
  io::table t;
  t.columns = {"k"};
  t.rows = {{io::cell::integer(1)}};
  t.meta = {{"eta", "1/3"}, {"tol", "1e-43"}};
  t.summary = nlohmann::json::parse(
      R"({"transients": {"first": 2, "max_loss": "1.3486637032285309e+00", "changes": [2, 13],
          "spikes": [{"height": "4.6998825347219719e-01", "peak": 1}, {"height": "0.25", "peak": 3}]},
          "note": "a sentence, kept whole", "empty": []})");
  const std::string out = io::render(t, io::format::table);
  for (const char* line :
       {"# eta: 1/3\n", "# tol: 1e-43\n", "# transients.first: 2\n",
        "# transients.max_loss: 1.348663703\n", "# transients.changes: 2, 13\n",
        "# transients.spikes[0]: height 0.4699882535, peak 1\n",
        "# transients.spikes[1]: height 0.25, peak 3\n", "# note: a sentence, kept whole\n",
        "# empty: (none)\n", "# shown: numbers rounded to 10 significant digits"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " in\n" << out;
  }
  // csv keeps one line per entry with every digit.
  const std::string csv = io::render(t, io::format::csv);
  EXPECT_NE(csv.find("\"max_loss\":\"1.3486637032285309e+00\""), std::string::npos) << csv;
}

TEST(writers, refuse_a_number_that_is_not_finite) {
  for (const char* bad : {"nan", "-nan", "inf", "-inf", "1/3", "", "1e", "--1", "0x10"}) {
    io::table t = sample();
    t.rows[1][1] = cell::number(bad);
    for (auto f : {io::format::csv, io::format::json, io::format::table}) {
      EXPECT_THROW(io::render(t, f), std::runtime_error) << bad;
    }
  }
}

TEST(writers, rows_stream_as_they_come) {
  for (auto f : {io::format::csv, io::format::json, io::format::md, io::format::latex}) {
    std::string out;
    io::table_writer w(f, {"k"}, {{"command", "test"}}, [&](std::string_view s) { out += s; });
    const size_t header = out.size();
    EXPECT_GT(header, 0u);
    w.row({cell::integer(1)});
    EXPECT_GT(out.size(), header) << "a row must be written at once";
    w.finish();
  }
  // The aligned table holds its first rows to size its columns, then streams.
  std::string out;
  io::table_writer w(io::format::table, {"k"}, {}, [&](std::string_view s) { out += s; });
  for (int k = 0; k < 200; ++k) w.row({cell::integer(k)});
  EXPECT_NE(out.find("199"), std::string::npos);
  w.row({cell::integer(12345)});
  EXPECT_NE(out.find("12345"), std::string::npos);
  w.finish();
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
