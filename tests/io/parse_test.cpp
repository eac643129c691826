// Problem parsing: every kind, exact decimal parsing, seeded embeddings, and every refusal.
#include <cmath>
#include <iterator>
#include <random>

#include "amflow/io/json_read.hpp"
#include "amflow/model/random.hpp"
#include "support.hpp"

namespace amflow {
namespace AMFLOW_TEST_UNIT {

using json = nlohmann::json;
using model::matrix;

json base() {
  return {{"tokens", 3},
          {"classes", 3},
          {"dim", 4},
          {"inputs", {{"kind", "orthonormal"}}},
          {"outputs", {{"kind", "orthonormal"}}},
          {"frequencies", {{"kind", "uniform"}}},
          {"target", {{"kind", "identity"}}},
          {"init", {{"kind", "zero"}}}};
}

template <class Real>
class parse_test : public testing::real_test<Real> {};
TYPED_TEST_SUITE(parse_test, testing::scalar_types, testing::scalar_names);

TYPED_TEST(parse_test, every_embedding_kind) {
  using Real = TypeParam;
  using std::sqrt;
  const Real eps = scalar::epsilon<Real>();
  json s = base();
  auto pb = io::parse_problem<Real>(s);
  EXPECT_EQ(pb.E, (matrix<Real>::Identity(3, 4)));

  s["tokens"] = 2;
  s["inputs"] = {{"kind", "pair"}, {"alpha", "0.95"}};
  pb = io::parse_problem<Real>(s);
  const Real alpha = testing::num<Real>("0.95");
  EXPECT_EQ(pb.E(1, 0), alpha);
  EXPECT_EQ(pb.E(1, 1), sqrt(1 - alpha * alpha));
  EXPECT_LT(testing::diff(pb.G_E(0, 1), alpha), static_cast<double>(eps));

  s = base();
  s["inputs"] = {{"kind", "sphere"}, {"seed", 5}};
  pb = io::parse_problem<Real>(s);
  for (int x = 0; x < 3; ++x)
    EXPECT_LT(testing::diff(pb.E.row(x).squaredNorm(), Real(1)), static_cast<double>(10 * eps));
  EXPECT_EQ(pb.E, io::parse_problem<Real>(s).E);  // same seed, same rows
  s["inputs"]["seed"] = 6;
  EXPECT_NE(pb.E, io::parse_problem<Real>(s).E);

  s["inputs"] = {{"kind", "gaussian"}, {"seed", 5}};
  const auto g = io::parse_problem<Real>(s);
  // gaussian = the same normals as sphere(seed 5), scaled by 1/sqrt(dim) instead of row norms.
  for (int x = 0; x < 3; ++x) {
    const Real ratio = g.E(x, 0) / pb.E(x, 0);
    EXPECT_LT(testing::diff(Real(g.E.row(x).norm() / ratio), Real(1)),
              static_cast<double>(10 * eps));
  }

  s["inputs"] = {{"kind", "explicit"},
                 {"rows", {{1, 0, 0, 0}, {"0.5", "1/3", 0, "-2e-3"}, {0, 0, 0, 1}}}};
  pb = io::parse_problem<Real>(s);
  EXPECT_EQ(pb.E(1, 1), Real(1) / 3);
  EXPECT_EQ(pb.E(1, 3), testing::num<Real>("-0.002"));

  s["inputs"] = {{"kind", "angles"}, {"degrees", {0, 30, 90}}};
  pb = io::parse_problem<Real>(s);
  EXPECT_LT(testing::diff(pb.E(1, 0), Real(sqrt(Real(3)) / 2)), static_cast<double>(4 * eps));
  EXPECT_LT(testing::diff(pb.E(1, 1), Real(Real(1) / 2)), static_cast<double>(4 * eps));
}

TYPED_TEST(parse_test, every_frequency_target_and_init_kind) {
  using Real = TypeParam;
  using std::pow;
  json s = base();
  auto pb = io::parse_problem<Real>(s);
  EXPECT_EQ(pb.p(1), Real(1) / 3);

  s["frequencies"] = {{"kind", "zipf"}, {"exponent", 2}};
  pb = io::parse_problem<Real>(s);
  // p proportional to 1, 1/4, 1/9: p0 = 36/49.
  EXPECT_LT(testing::diff(pb.p(0), Real(Real(36) / 49)),
            static_cast<double>(4 * scalar::epsilon<Real>()));

  s["frequencies"] = {{"kind", "explicit"}, {"p", {2, 1, 1}}, {"normalize", true}};
  pb = io::parse_problem<Real>(s);
  EXPECT_EQ(pb.p(0), Real(1) / 2);

  s["target"] = {{"kind", "mod"}, {"modulus", 2}};
  EXPECT_EQ(io::parse_problem<Real>(s).target, (std::vector<int>{0, 1, 0}));
  s["target"] = {{"kind", "explicit"}, {"map", {2, 2, 0}}};
  EXPECT_EQ(io::parse_problem<Real>(s).target, (std::vector<int>{2, 2, 0}));

  s["init"] = {{"kind", "gaussian"}, {"seed", 3}, {"scale", "0.5"}};
  pb = io::parse_problem<Real>(s);
  EXPECT_FALSE(pb.zero_init);
  EXPECT_EQ(pb.W0.rows(), 4);
  s["init"] = {{"kind", "explicit"},
               {"W", {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, "1/7"}}}};
  pb = io::parse_problem<Real>(s);
  EXPECT_EQ(pb.W0(3, 3), Real(1) / 7);
}

TYPED_TEST(parse_test, resolved_json_reads_back_to_the_same_problem) {
  using Real = TypeParam;
  const auto pb = io::parse_problem<Real>(testing::correlated_spec(4, 3, 5, 8, "0.3"));
  const auto again = io::parse_problem<Real>(io::resolved_json(pb));
  EXPECT_EQ(again.E, pb.E);
  EXPECT_EQ(again.U, pb.U);
  EXPECT_EQ(again.p, pb.p);
  EXPECT_EQ(again.W0, pb.W0);
  EXPECT_EQ(again.target, pb.target);
}

TEST(parse, decimals_are_exact_at_100_digits) {
  scalar::set_mpfr_digits(100);
  const mpfr_real tenth = scalar::parse_real<mpfr_real>("0.1", "x");
  // The double 0.1 is 0.1000000000000000055511151231257827...; at 100 digits 0.1 is far closer.
  EXPECT_NE(tenth, mpfr_real(0.1));
  EXPECT_GT(abs(mpfr_real(0.1) - tenth), mpfr_real("5e-18"));
  EXPECT_LT(abs(10 * tenth - 1), mpfr_real("1e-99"));
  const mpfr_real third = scalar::parse_real<mpfr_real>("1/3", "x");
  EXPECT_LT(abs(3 * third - 1), mpfr_real("1e-99"));
  // JSON numbers keep their text too: 0.95 written as a number is read at 100 digits.
  const json spec = io::parse_json_exact(
      R"({"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "pair", "alpha": 0.95},
          "outputs": {"kind": "orthonormal"},
          "frequencies": {"kind": "explicit", "p": [0.75, 0.25]},
          "target": {"kind": "identity"}, "init": {"kind": "zero"}})",
      "inline");
  const auto pb = io::parse_problem<mpfr_real>(spec);
  EXPECT_LT(abs(20 * pb.E(1, 0) - 19), mpfr_real("1e-99"));
  EXPECT_EQ(pb.p(0), mpfr_real(3) / 4);
  scalar::set_mpfr_digits(50);
}

TEST(parse, every_type_rounds_once_to_nearest) {
  // 0.1 rounded once: double matches strtod; float128 differs from the double.
  EXPECT_EQ(scalar::parse_real<double>("0.1", "x"), 0.1);
  EXPECT_EQ(scalar::parse_real<long double>("0.1", "x"), 0.1L);
#if AMFLOW_HAVE_FLOAT128
  EXPECT_NE(scalar::parse_real<float128>("0.1", "x"), float128(0.1));
#endif
  EXPECT_EQ(scalar::parse_real<double>("1/3", "x"), 1.0 / 3.0);  // correctly rounded quotient
  EXPECT_EQ(scalar::parse_real<double>("-2.5e-3", "x"), -0.0025);
  EXPECT_EQ(scalar::parse_exact("2.5/7", "x"), rational(5, 14));
}

TEST(random, normals_are_deterministic_and_standard) {
  const auto a = model::standard_normals(42, 100000);
  EXPECT_EQ(a, model::standard_normals(42, 100000));
  EXPECT_NE(a, model::standard_normals(43, 100000));
  double mean = 0, second = 0;
  for (double v : a) {
    mean += v;
    second += v * v;
  }
  mean /= static_cast<double>(a.size());
  second /= static_cast<double>(a.size());
  // Standard errors: 1/sqrt(n) = 0.0032 for the mean, sqrt(2/n) = 0.0045 for the variance; 5 sigma.
  EXPECT_LT(std::abs(mean), 0.016);
  EXPECT_LT(std::abs(second - 1), 0.023);
}

// Every refusal names the field; checked at double, the checks are precision-independent.
struct bad_case {
  const char* what;
  std::function<void(json&)> edit;
  const char* field;
};

TEST(parse, bad_input_names_the_field) {
  const std::vector<bad_case> cases = {
      {"unknown input kind", [](json& s) { s["inputs"]["kind"] = "orthogonal"; }, "inputs.kind"},
      {"unknown frequency kind", [](json& s) { s["frequencies"]["kind"] = "pareto"; },
       "frequencies.kind"},
      {"row length",
       [](json& s) {
         s["inputs"] = {{"kind", "explicit"}, {"rows", {{1, 0, 0, 0}, {0, 1, 0}, {0, 0, 1, 0}}}};
       },
       "inputs.rows[1]"},
      {"row count",
       [](json& s) {
         s["inputs"] = {{"kind", "explicit"}, {"rows", {{1, 0, 0, 0}}}};
       },
       "inputs.rows"},
      {"p sum",
       [](json& s) {
         s["frequencies"] = {{"kind", "explicit"}, {"p", {"0.5", "0.3", "0.1"}}};
       },
       "frequencies.p"},
      {"negative p",
       [](json& s) {
         s["frequencies"] = {{"kind", "explicit"}, {"p", {"1.2", "-0.1", "-0.1"}}};
       },
       "frequencies.p[1]"},
      {"zero p",
       [](json& s) {
         s["frequencies"] = {{"kind", "explicit"}, {"p", {"1", "0", "0"}}};
       },
       "frequencies.p[1]"},
      {"NaN p",
       [](json& s) {
         s["frequencies"] = {{"kind", "explicit"}, {"p", {"NaN", "0.5", "0.5"}}};
       },
       "frequencies.p[0]"},
      {"text p",
       [](json& s) {
         s["frequencies"] = {{"kind", "explicit"}, {"p", {"abc", "0.5", "0.5"}}};
       },
       "frequencies.p[0]"},
      {"target range",
       [](json& s) {
         s["target"] = {{"kind", "explicit"}, {"map", {0, 3, 1}}};
       },
       "target.map[1]"},
      {"identity needs classes",
       [](json& s) {
         s["classes"] = 2;
         s["outputs"] = {{"kind", "orthonormal"}};
       },
       "target.kind"},
      {"orthonormal needs dim", [](json& s) { s["dim"] = 2; }, "inputs.kind"},
      {"missing tokens", [](json& s) { s.erase("tokens"); }, "tokens"},
      {"tokens not integer", [](json& s) { s["tokens"] = "three"; }, "tokens"},
      {"one class", [](json& s) { s["classes"] = 1; }, "classes"},
      {"typo", [](json& s) { s["frequences"] = 1; }, "frequences"},
      {"pair alpha",
       [](json& s) {
         s["tokens"] = 2;
         s["inputs"] = {{"kind", "pair"}, {"alpha", "1.5"}};
       },
       "inputs.alpha"},
      {"pair tokens",
       [](json& s) {
         s["inputs"] = {{"kind", "pair"}, {"alpha", "0.5"}};
       },
       "tokens"},
      {"outputs pair",
       [](json& s) {
         s["outputs"] = {{"kind", "pair"}, {"alpha", "0.5"}};
       },
       "outputs.kind"},
      {"negative seed",
       [](json& s) {
         s["inputs"] = {{"kind", "sphere"}, {"seed", -1}};
       },
       "inputs.seed"},
      {"init shape",
       [](json& s) {
         s["init"] = {{"kind", "explicit"}, {"W", {{1, 0}, {0, 1}}}};
       },
       "init.W"},
      {"overflow",
       [](json& s) {
         s["init"] = {{"kind", "explicit"},
                      {"W", {{"1e400", 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}}};
       },
       "init.W[0][0]"},
      {"huge exponent",
       [](json& s) {
         s["init"] = {{"kind", "explicit"},
                      {"W", {{"1e999999999", 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}}}};
       },
       "init.W[0][0]"},
      {"not an object", [](json& s) { s = json::array(); }, "problem"},
      {"offsets kind",
       [](json& s) {
         s["offsets"] = {{"kind", "random"}};
       },
       "offsets.kind"},
      {"offsets key",
       [](json& s) {
         s["offsets"] = {{"kind", "zero"}, {"rows", json::array()}};
       },
       "offsets.rows"},
      {"offsets rows",
       [](json& s) {
         s["offsets"] = {{"kind", "explicit"}, {"rows", {{0, 1, 2}, {0, 1, 2}}}};
       },
       "offsets.rows"},
      {"offsets row length",
       [](json& s) {
         s["offsets"] = {{"kind", "explicit"}, {"rows", {{0, 1, 2}, {0, 1}, {0, 1, 2}}}};
       },
       "offsets.rows[1]"},
      {"offsets value",
       [](json& s) {
         s["offsets"] = {{"kind", "explicit"}, {"rows", {{0, 1, 2}, {0, "x", 2}, {0, 1, 2}}}};
       },
       "offsets.rows[1][1]"},
      {"offsets overflow",
       [](json& s) {
         s["offsets"] = {{"kind", "explicit"}, {"rows", {{0, 1, 2}, {0, 1, "1e400"}, {0, 1, 2}}}};
       },
       "offsets.rows[1][2]"},
  };
  for (const auto& c : cases) {
    json s = base();
    c.edit(s);
    try {
      io::parse_problem<double>(s);
      ADD_FAILURE() << c.what << ": accepted";
    } catch (const input_error& e) {
      EXPECT_EQ(e.field(), c.field) << c.what << ": " << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

TEST(parse, sum_check_follows_the_working_precision) {
  // 0.3333333333333333 x 3 is 1 within double precision but not at 50 digits.
  json s = base();
  s["frequencies"] = {{"kind", "explicit"},
                      {"p", {"0.3333333333333333", "0.3333333333333333", "0.3333333333333333"}}};
  EXPECT_NO_THROW(io::parse_problem<double>(s));
  scalar::set_mpfr_digits(50);
  EXPECT_THROW(io::parse_problem<mpfr_real>(s), input_error);
  s["frequencies"]["p"] = {"1/3", "1/3", "1/3"};
  EXPECT_NO_THROW(io::parse_problem<mpfr_real>(s));
  EXPECT_NO_THROW(io::parse_problem<rational>(s));
}

TEST(parse, exact_scalars_refuse_transcendental_kinds) {
  json s = base();
  s["inputs"] = {{"kind", "sphere"}, {"seed", 1}};
  EXPECT_THROW(io::parse_problem<rational>(s), input_error);
  s = base();
  s["frequencies"] = {{"kind", "zipf"}, {"exponent", 1}};
  EXPECT_EQ(io::parse_problem<rational>(s).p(0), rational(6, 11));
}

// Logit offsets read back from the resolved problem (zero offsets are none), and enter the initial
// logits: Z0 = C + E W0^T U^T (here W0 = 0, so Z0 = C).
TEST(parse, offsets_read_back_and_start_the_logits) {
  json s = base();
  s["offsets"] = {{"kind", "explicit"}, {"rows", {{"0.1", 0, "-2/3"}, {0, 0, 0}, {1, 2, 3}}}};
  scalar::set_mpfr_digits(30);
  const auto pb = io::parse_problem<mpfr_real>(s);
  ASSERT_TRUE(pb.has_offsets());
  EXPECT_EQ(pb.Z0(0, 2), scalar::parse_real<mpfr_real>("-2/3", "c"));
  EXPECT_EQ(pb.Z0(0, 0), scalar::parse_real<mpfr_real>("0.1", "c"));
  EXPECT_EQ(pb.Z0(2, 1), mpfr_real(2));
  const auto again = io::parse_problem<mpfr_real>(io::resolved_json(pb));
  EXPECT_EQ(again.C, pb.C);
  s["offsets"] = {{"kind", "explicit"}, {"rows", {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}}}};
  EXPECT_FALSE(io::parse_problem<double>(s).has_offsets());
  EXPECT_FALSE(io::resolved_json(io::parse_problem<double>(s)).contains("offsets"));
  s["offsets"] = {{"kind", "zero"}};
  EXPECT_FALSE(io::parse_problem<double>(s).has_offsets());
  EXPECT_FALSE(io::parse_problem<rational>(s).has_offsets());
}

TEST(named, every_built_in_problem_parses_at_every_precision) {
  scalar::set_mpfr_digits(50);
  for (const auto& [name, description] : io::named_problems()) {
    const json spec = io::named_problem(name);
    EXPECT_NO_THROW(io::parse_problem<double>(spec)) << name;
    EXPECT_NO_THROW(io::parse_problem<mpfr_real>(spec)) << name;
    EXPECT_FALSE(description.empty());
  }
  EXPECT_THROW(io::named_problem("nope"), input_error);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow

namespace amflow {
namespace AMFLOW_TEST_UNIT {

// Fuzzing the input path (JSON reader and problem parser) from the contract: every input, however
// malformed, is accepted (and then reads back from its resolved form) or refused with an
// input_error whose message is one printable line of bounded length; nothing else escapes.
// Deterministic: a fixed seed, the same 50000 inputs on every run.
class problem_fuzzer {
 public:
  explicit problem_fuzzer(std::uint64_t seed) : gen_(seed) {
    for (const auto& [name, description] : io::named_problems()) {
      seeds_.push_back(io::named_problem(name).dump());
    }
    seeds_.push_back(testing::correlated_spec(3, 2, 4, 7, "0.5").dump(1));
    seeds_.push_back(
        R"({"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "explicit", "rows": [[1, 0], ["1/3", 0.5]]},
            "outputs": {"kind": "angles", "degrees": [0, 90]}, "frequencies": {"kind": "explicit",
            "p": [0.25, 0.75], "normalize": false}, "target": {"kind": "explicit", "map": [1, 0]},
            "init": {"kind": "explicit", "W": [[0, 1], [1e-3, "2/7"]]}})");
  }

  std::string next() {
    std::string s = seeds_[pick(seeds_.size())];
    const int edits = 1 + static_cast<int>(pick(3));
    for (int e = 0; e < edits; ++e) mutate(s);
    return s;
  }

 private:
  size_t pick(size_t n) { return static_cast<size_t>(gen_() % n); }

  void mutate(std::string& s) {
    static const char* const numbers[] = {"1e999",
                                          "-1e999",
                                          "1e-999",
                                          "0",
                                          "-0",
                                          "\"1/0\"",
                                          "\"NaN\"",
                                          "\"inf\"",
                                          "-1",
                                          "18446744073709551616",
                                          "-9223372036854775809",
                                          "1e100000",
                                          "\"1e-400\"",
                                          "0.5",
                                          "2",
                                          "100001",
                                          "\"\"",
                                          "null",
                                          "true",
                                          "[]",
                                          "{}",
                                          "\"1/3\"",
                                          "3.000",
                                          "1E2",
                                          "-0.0e-0",
                                          "123456789012345678901234567890",
                                          "\"0x10\"",
                                          "\" 1 \"",
                                          "\"1e99999999999\""};
    static const char* const words[] = {
        "\"pair\"",        "\"sphere\"",   "\"zipf\"",      "\"mod\"",     "\"explicit\"",
        "\"orthonormal\"", "\"gaussian\"", "\"angles\"",    "\"zero\"",    "\"uniform\"",
        "\"identity\"",    "\"tokens\"",   "\"a\\u0000b\"", "\"\\ud800\"", "\"\xff\""};
    static const char bytes[] = {'{',    '}',    '[',    ']',    ',', ':', '"',  '\\',
                                 '0',    '9',    '-',    'e',    '.', ' ', '\n', '\0',
                                 '\x01', '\x7f', '\xc3', '\xff', 'n', 't'};
    if (s.empty()) s = "{}";
    const size_t at = pick(s.size());
    switch (pick(9)) {
      case 0:  // delete a range
        s.erase(at, 1 + pick(8));
        break;
      case 1:  // insert bytes
        for (size_t k = 1 + pick(4); k > 0; --k)
          s.insert(s.begin() + at, bytes[pick(sizeof bytes)]);
        break;
      case 2: {  // replace a number by an edge value
        const size_t d = s.find_first_of("0123456789", at);
        if (d == std::string::npos) break;
        const size_t end = s.find_first_not_of("0123456789.eE+-", d);
        s.replace(d, (end == std::string::npos ? s.size() : end) - d,
                  numbers[pick(std::size(numbers))]);
        break;
      }
      case 3: {  // replace a string by a known word
        const size_t q = s.find('"', at);
        const size_t r = q == std::string::npos ? q : s.find('"', q + 1);
        if (r == std::string::npos) break;
        s.replace(q, r - q + 1, words[pick(std::size(words))]);
        break;
      }
      case 4:  // duplicate a piece (duplicate keys, repeated entries)
        s.insert(at, s.substr(pick(s.size()), 1 + pick(30)));
        break;
      case 5:  // truncate
        s.resize(at);
        break;
      case 6:  // deep nesting around a value
        s.insert(at, std::string(1 + pick(100), '['));
        break;
      case 7:  // a huge numeral or string
        s.insert(at, pick(2) ? std::string(2000 + pick(4000), '7')
                             : "\"" + std::string(5000, 'x') + "\"");
        break;
      default:  // trailing garbage
        s += pick(2) ? std::string(1, '\0') : " {}";
        break;
    }
  }

  std::mt19937_64 gen_;
  std::vector<std::string> seeds_;
};

// Sizes that pass validation but would take long to build (10^9 numbers) are left to the CLI's
// memory check; the fuzzer builds problems of modest size only.
bool modest(const json& spec) {
  long long product = 1;
  for (const char* key : {"tokens", "classes", "dim"}) {
    if (!spec.is_object() || !spec.contains(key) || !spec.at(key).is_number_integer()) return true;
    const long long v = spec.at(key).get<long long>();
    if (v > 3000) return false;
    product *= std::max(1LL, v);
  }
  return product <= 2000000;
}

TEST(fuzz, malformed_problems_are_refused_by_one_bounded_line) {
  problem_fuzzer fuzz(20261129);
  long accepted = 0, refused = 0;
  for (int i = 0; i < 50000; ++i) {
    const std::string doc = fuzz.next();
    const auto check_message = [&](const input_error& e) {
      const std::string what = e.what();
      EXPECT_LE(what.size(), 700u) << printable(doc, 200);
      EXPECT_EQ(printable(what, 10000), what) << "not printable: " << printable(what, 300);
      EXPECT_FALSE(e.field().empty()) << what;
      ++refused;
    };
    try {
      const json spec = io::parse_json_exact(doc, "fuzz.json");
      if (!modest(spec)) continue;
      const auto pb = io::parse_problem<double>(spec);
      // Accepted: the resolved problem reads back to the same problem.
      const auto again = io::parse_problem<double>(io::resolved_json(pb));
      ASSERT_EQ(again.E, pb.E) << printable(doc, 300);
      ASSERT_EQ(again.p, pb.p) << printable(doc, 300);
      for (int x = 0; x < pb.tokens; ++x) ASSERT_GT(pb.p(x), 0) << printable(doc, 300);
      ++accepted;
      if (i % 10 == 0) {
        scalar::set_mpfr_digits(30);
        const auto hp = io::parse_problem<mpfr_real>(spec);
        EXPECT_EQ(hp.tokens, pb.tokens);
        scalar::set_mpfr_digits(50);
      }
    } catch (const input_error& e) {
      check_message(e);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "not an input_error: " << e.what() << " for " << printable(doc, 300);
    }
    if (HasFailure()) break;
  }
  scalar::set_mpfr_digits(50);
  // The generator must reach both sides of the contract.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 25000);
}

}  // namespace AMFLOW_TEST_UNIT
}  // namespace amflow
