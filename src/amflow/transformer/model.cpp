#include <cmath>
#include <random>

#include "amflow/descent/rules_impl.hpp"
#include "amflow/errors.hpp"
#include "amflow/model/random.hpp"
#include "amflow/transformer/model.hpp"

namespace amflow::transformer {

trained_set parse_trained_set(const std::string& text, const std::string& field) {
  if (text == "wo2") return trained_set::wo2;
  if (text == "all") return trained_set::all;
  throw input_error(
      field, text,
      "must be wo2 (W_O^2 only) or all (W_K^1, W_K^2, W_O^2)" + did_you_mean(text, {"wo2", "all"}));
}

loss_positions parse_loss_positions(const std::string& text, const std::string& field) {
  if (text == "head") return loss_positions::head;
  if (text == "all") return loss_positions::all;
  throw input_error(field, text,
                    "must be head (second and later trigger occurrences) or all (every position)" +
                        did_you_mean(text, {"head", "all"}));
}

const char* name_of(trained_set t) { return t == trained_set::wo2 ? "wo2" : "all"; }
const char* name_of(loss_positions l) { return l == loss_positions::head ? "head" : "all"; }

namespace {

// Streams for the initial weights: one per matrix, numbered after the data's steps never reach.
enum : std::uint64_t { tag_E = 1, tag_P, tag_K1, tag_V1, tag_O1, tag_K2, tag_V2, tag_O2, tag_U };

matrix<double> normals(int rows, int cols, std::uint64_t seed, std::uint64_t tag) {
  const std::vector<double> z = model::standard_normals(sequence_seed(seed, ~std::uint64_t(0), tag),
                                                        static_cast<size_t>(rows) * cols);
  matrix<double> m(rows, cols);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) m(i, j) = double(float(z[size_t(i) * cols + j]));
  }
  return m;
}

matrix<double> uniforms(int rows, int cols, int dim, std::uint64_t seed, std::uint64_t tag) {
  std::mt19937_64 rng(sequence_seed(seed, ~std::uint64_t(0), tag));
  const double bound = 1.0 / std::sqrt(double(dim));
  matrix<double> m(rows, cols);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < cols; ++j) {
      const double u = double(rng() >> 11) * 0x1p-53;
      m(i, j) = double(float((2.0 * u - 1.0) * bound));
    }
  }
  return m;
}

}  // namespace

weights<double> initial_weights(int tokens, int dim, int length, std::uint64_t seed,
                                bool zero_wo2) {
  weights<double> w;
  w.tokens = tokens;
  w.dim = dim;
  w.length = length;
  w.E = normals(tokens, dim, seed, tag_E);
  w.P = normals(length, dim, seed, tag_P);
  w.WK1 = uniforms(dim, dim, dim, seed, tag_K1);
  w.WV1 = uniforms(dim, dim, dim, seed, tag_V1);
  w.WO1 = uniforms(dim, dim, dim, seed, tag_O1);
  w.WK2 = uniforms(dim, dim, dim, seed, tag_K2);
  w.WV2 = uniforms(dim, dim, dim, seed, tag_V2);
  w.WO2 = zero_wo2 ? matrix<double>(matrix<double>::Zero(dim, dim))
                   : uniforms(dim, dim, dim, seed, tag_O2);
  w.WU = uniforms(tokens, dim, dim, seed, tag_U);
  return w;
}

}  // namespace amflow::transformer

// float has no descent unit (the Transformer is its only user): the rules it trains with.
template void amflow::descent::rule_options<float>::validate() const;
template std::unique_ptr<amflow::descent::update_rule<float>> amflow::descent::make_rule<float>(
    const amflow::descent::rule_options<float>&);
