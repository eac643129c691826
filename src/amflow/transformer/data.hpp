// The in-context bigram task of the paper's Transformer experiment (Bietti et al. 2023, "Birth of
// a Transformer"; docs/transformer.md): a character bigram table (by default the counts of tiny
// Shakespeare shipped in data/char-bigram-counts.tsv), its k most frequent tokens as triggers, and
// sequences in which each trigger is always followed by the sequence's own output token.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace amflow::transformer {

// Unigram and bigram counts over N tokens, exact integers; probabilities are count / total.
struct bigram_table {
  int tokens = 0;                                  // N
  std::vector<std::string> labels;                 // N; a token's character, "" when unnamed
  std::vector<std::uint64_t> unigram;              // N; counts
  std::vector<std::vector<std::uint64_t>> bigram;  // N x N; counts of (previous, next)
  // Derived: cumulative counts for sampling (cum[i] = sum of counts[0..i]).
  std::vector<std::uint64_t> unigram_cum;
  std::vector<std::vector<std::uint64_t>> bigram_cum;

  // Shannon entropy of the unigram, and the conditional entropy H(next | previous) weighted by the
  // bigram rows' totals (nats, in double: facts about the table, not a result).
  double unigram_entropy() const;
  double conditional_entropy() const;
  long nonzero_bigrams() const;
  // The k most frequent tokens after skipping the `offset` most frequent, in ascending frequency
  // (ties by id): the authors' argsort(marginal)[N - offset - k : N - offset].
  std::vector<int> top_tokens(int k, int offset = 0) const;
};

// Parses the counts' text: '#' comments, lines "U <id> <count> [# 'c']" and "B <prev> <next>
// <count>", tab or space separated. Ids run over 0..N-1 with one U line each; every token needs a
// non-empty bigram row (any token can be a trigger's output, and is then followed by a draw).
// Throws input_error naming `field` (the flag or file the text came from) and the line at fault.
bigram_table parse_bigram_table(std::string_view text, const std::string& field,
                                const std::string& source);
// The built-in table: tiny Shakespeare's 65 characters (data/char-bigram-counts.tsv).
const bigram_table& shakespeare_bigrams();
const char* shakespeare_counts_text();

// What a batch of sequences is drawn from.
struct task_options {
  int length = 256;            // T
  int triggers = 5;            // k
  bool fixed_triggers = true;  // the k most frequent tokens; else k drawn per sequence from pi_u
  void validate(int tokens) const;
};

// B sequences of T tokens: x (inputs), y (next tokens) and outs (the trigger occurrence count at
// each position: c >= 1 when x_t is a trigger seen for the c-th time, 0 elsewhere), row-major B x
// T.
struct batch {
  int sequences = 0, length = 0;
  std::vector<int> x, y, outs;
  int at(const std::vector<int>& v, int b, int t) const { return v[size_t(b) * length + t]; }
};

// One sequence's random stream: std::mt19937_64 seeded from (seed, step, sequence) through
// SplitMix64, so a batch is the same whatever the thread count or the order sequences are drawn.
std::uint64_t sequence_seed(std::uint64_t seed, std::uint64_t step, std::uint64_t sequence);

// The batch for (seed, step): B sequences, each from its own stream (sequence_seed).
batch sample_batch(const bigram_table& table, const task_options& task, std::uint64_t seed,
                   std::uint64_t step, int sequences, int threads = 1);

}  // namespace amflow::transformer
