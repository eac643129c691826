// The figure registry (analysis/figures.hpp): its names, runs and problem files are well formed.
#include "analysis/figures.hpp"

#include <gtest/gtest.h>

#include <set>

namespace amflow::analysis {
namespace {

TEST(figures, the_help_names_the_registry_in_order) {
  for (bool quick : {false, true}) {
    std::string names;
    for (const figure_def& f : figure_registry(quick))
      names += (names.empty() ? "" : ", ") + f.name;
    EXPECT_EQ(names, figure_names) << "quick = " << quick;
  }
}

TEST(figures, every_run_writes_json_into_data_under_a_key_of_its_own) {
  for (bool quick : {false, true}) {
    for (const figure_def& f : figure_registry(quick)) {
      std::set<std::string> keys;
      EXPECT_FALSE(f.runs.empty()) << f.name;
      for (const figure_run& r : f.runs) {
        EXPECT_TRUE(keys.insert(r.key).second) << f.name << ": key " << r.key << " twice";
        EXPECT_EQ(r.file.rfind("data/", 0), 0u) << f.name << ": " << r.file;
        ASSERT_GE(r.args.size(), 2u) << f.name;
        EXPECT_EQ(r.args[r.args.size() - 2], r.key == "problem" ? "--digits" : "--format")
            << f.name << ": " << r.key;
      }
      EXPECT_EQ(f.caption.find("--quick") != std::string::npos, quick) << f.name;
    }
  }
}

TEST(figures, problem_files_change_existing_fields_of_a_built_in_problem) {
  for (const figure_def& f : figure_registry(false)) {
    for (const figure_problem& p : f.problems) {
      const nlohmann::json pb = figure_problem_json(p);
      EXPECT_EQ(pb.at("name"), p.file.substr(5, p.file.size() - 10)) << p.file;
      EXPECT_EQ(pb.at("description"), p.description);
      for (const auto& [path, value] : p.fields) {
        std::string pointer = "/" + path;
        for (char& ch : pointer) ch = ch == '.' ? '/' : ch;
        EXPECT_EQ(pb.at(nlohmann::json::json_pointer(pointer)), value) << p.file << ": " << path;
      }
    }
  }
  // A path that does not exist is the registry's own mistake: refused, not added.
  EXPECT_THROW(figure_problem_json({"data/x.json", "pair", {{"inputs.nope", 1}}, ""}),
               nlohmann::json::exception);
}

TEST(figures, commands_are_quoted_for_a_posix_shell) {
  EXPECT_EQ(figure_command({"k", {"gd", "--eta", "0.5", "a b", "it's", ""}, "data/x y.json"}),
            "amflow gd --eta 0.5 'a b' 'it'\\''s' '' --output 'data/x y.json'");
  EXPECT_EQ(figure_problem_comment({"data/p.json", "pair", {{"inputs.alpha", "0.5"}}, ""}),
            "# data/p.json: amflow problem show pair, with inputs.alpha = \"0.5\"");
}

}  // namespace
}  // namespace amflow::analysis
