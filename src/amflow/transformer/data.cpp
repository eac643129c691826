#include "amflow/transformer/data.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>

#include "amflow/errors.hpp"
#include "amflow/parallel.hpp"

namespace amflow::transformer {
namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

// The character named in a U line's trailing comment: # 'c' or # "c", with \n for a newline.
std::string label_of(std::string_view line) {
  const size_t hash = line.find('#');
  if (hash == std::string_view::npos) return "";
  std::string_view c = line.substr(hash + 1);
  while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
  while (!c.empty() && (c.back() == ' ' || c.back() == '\t' || c.back() == '\r'))
    c.remove_suffix(1);
  if (c.size() >= 2 && (c.front() == '\'' || c.front() == '"') && c.back() == c.front()) {
    c = c.substr(1, c.size() - 2);
  }
  if (c == "\\n") return "\n";
  return std::string(c);
}

// x in [0, n) without bias: rejection of the top 2^64 mod n values.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do {
    r = rng();
  } while (r >= limit);
  return r % n;
}

// An index drawn with probability counts[i] / total from the cumulative counts (exact integers).
int draw(std::mt19937_64& rng, const std::vector<std::uint64_t>& cum) {
  const std::uint64_t r = uniform_below(rng, cum.back());
  return static_cast<int>(std::upper_bound(cum.begin(), cum.end(), r) - cum.begin());
}

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

double bigram_table::unigram_entropy() const {
  const double total = static_cast<double>(unigram_cum.back());
  double h = 0;
  for (std::uint64_t c : unigram) {
    if (c > 0) h -= (double(c) / total) * std::log(double(c) / total);
  }
  return h;
}

double bigram_table::conditional_entropy() const {
  double all = 0, h = 0;
  for (const auto& row : bigram_cum) all += double(row.back());
  for (int i = 0; i < tokens; ++i) {
    const double row_total = double(bigram_cum[i].back());
    if (row_total == 0) continue;
    for (std::uint64_t c : bigram[i]) {
      if (c > 0) h -= (double(c) / all) * std::log(double(c) / row_total);
    }
  }
  return h;
}

long bigram_table::nonzero_bigrams() const {
  long n = 0;
  for (const auto& row : bigram)
    n += std::count_if(row.begin(), row.end(), [](auto c) { return c > 0; });
  return n;
}

std::vector<int> bigram_table::top_tokens(int k, int offset) const {
  std::vector<int> order(tokens);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return unigram[a] < unigram[b]; });
  return std::vector<int>(order.end() - offset - k, order.end() - offset);
}

bigram_table parse_bigram_table(std::string_view text, const std::string& field,
                                const std::string& source) {
  struct u_line {
    long id;
    std::uint64_t count;
    std::string label;
  };
  struct b_line {
    long prev, next;
    std::uint64_t count;
    int line;
  };
  std::vector<u_line> us;
  std::vector<b_line> bs;
  int line_no = 0;
  const auto fail = [&](const std::string& why) {
    throw input_error(field, source, "line " + std::to_string(line_no) + ": " + why);
  };
  const auto integer = [&](std::string_view s, const char* what) {
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      fail(std::string(what) + " '" + std::string(s) + "' is not a non-negative integer");
    }
    return v;
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::vector<std::string_view> f = fields_of(line);
    if (f.empty()) continue;
    if (f[0] == "U") {
      if (f.size() != 3) fail("a U line is: U <id> <count>");
      us.push_back({long(integer(f[1], "id")), integer(f[2], "count"), label_of(line)});
    } else if (f[0] == "B") {
      if (f.size() != 4) fail("a B line is: B <previous id> <next id> <count>");
      bs.push_back(
          {long(integer(f[1], "id")), long(integer(f[2], "id")), integer(f[3], "count"), line_no});
    } else {
      fail("expected a U or B line, found '" + std::string(f[0]) + "'");
    }
    if (end == text.size()) break;
  }
  line_no = 0;
  const long n = static_cast<long>(us.size());
  if (n < 2) throw input_error(field, source, "needs at least 2 tokens (U lines)");
  if (n > 100000) throw input_error(field, source, "more than 100000 tokens");
  bigram_table t;
  t.tokens = static_cast<int>(n);
  t.labels.assign(n, "");
  t.unigram.assign(n, 0);
  std::vector<bool> seen(n, false);
  for (const u_line& u : us) {
    if (u.id < 0 || u.id >= n || seen[u.id]) {
      throw input_error(field, source,
                        "U ids must be 0.." + std::to_string(n - 1) + ", each once (id " +
                            std::to_string(u.id) + ")");
    }
    seen[u.id] = true;
    t.unigram[u.id] = u.count;
    t.labels[u.id] = u.label;
  }
  t.bigram.assign(n, std::vector<std::uint64_t>(n, 0));
  for (const b_line& b : bs) {
    line_no = b.line;
    if (b.prev < 0 || b.prev >= n || b.next < 0 || b.next >= n) {
      fail("ids must be in 0.." + std::to_string(n - 1));
    }
    if (t.bigram[b.prev][b.next] != 0) fail("a repeated pair");
    t.bigram[b.prev][b.next] = b.count;
  }
  line_no = 0;
  t.unigram_cum.resize(n);
  std::partial_sum(t.unigram.begin(), t.unigram.end(), t.unigram_cum.begin());
  if (t.unigram_cum.back() == 0) throw input_error(field, source, "every unigram count is 0");
  t.bigram_cum.resize(n);
  for (long i = 0; i < n; ++i) {
    t.bigram_cum[i].resize(n);
    std::partial_sum(t.bigram[i].begin(), t.bigram[i].end(), t.bigram_cum[i].begin());
    if (t.bigram_cum[i].back() == 0) {
      throw input_error(field, source,
                        "token " + std::to_string(i) +
                            " has no bigram row (every token can follow a trigger, so every row "
                            "needs a count): not a stochastic table");
    }
  }
  return t;
}

const bigram_table& shakespeare_bigrams() {
  static const bigram_table table = parse_bigram_table(shakespeare_counts_text(), "counts",
                                                       "data/char-bigram-counts.tsv (built in)");
  return table;
}

void task_options::validate(int tokens) const {
  if (length < 2 || length > 4096) {
    throw input_error("length", std::to_string(length), "must be in [2, 4096]");
  }
  if (triggers < 1 || triggers > tokens - 1) {
    throw input_error("triggers", std::to_string(triggers),
                      "must be in [1, " + std::to_string(tokens - 1) + "] (N - 1)");
  }
}

std::uint64_t sequence_seed(std::uint64_t seed, std::uint64_t step, std::uint64_t sequence) {
  std::uint64_t state = seed;
  std::uint64_t h = splitmix(state);
  state = h ^ step;
  h = splitmix(state);
  state = h ^ sequence;
  return splitmix(state);
}

batch sample_batch(const bigram_table& table, const task_options& task, std::uint64_t seed,
                   std::uint64_t step, int sequences, int threads) {
  task.validate(table.tokens);
  const int T = task.length, k = task.triggers, N = table.tokens;
  batch out;
  out.sequences = sequences;
  out.length = T;
  out.x.assign(size_t(sequences) * T, 0);
  out.y.assign(size_t(sequences) * T, 0);
  out.outs.assign(size_t(sequences) * T, 0);
  const std::vector<int> fixed = table.top_tokens(k);
  parallel_for(sequences, threads, [&](long b) {
    std::mt19937_64 rng(sequence_seed(seed, step, static_cast<std::uint64_t>(b)));
    std::vector<int> trig = fixed;
    if (!task.fixed_triggers) {
      trig.clear();
      while (static_cast<int>(trig.size()) < k) {
        const int c = draw(rng, table.unigram_cum);
        if (std::find(trig.begin(), trig.end(), c) == trig.end()) trig.push_back(c);
      }
    }
    std::vector<int> output(k), count(k, 0), which(N, -1);
    for (int j = 0; j < k; ++j) {
      output[j] = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(N)));
      which[trig[j]] = j;
    }
    int* x = &out.x[size_t(b) * T];
    int* y = &out.y[size_t(b) * T];
    int* outs = &out.outs[size_t(b) * T];
    int last = draw(rng, table.unigram_cum);
    for (int t = 0; t < T; ++t) {
      x[t] = last;
      int next;
      if (const int j = which[last]; j >= 0) {
        next = output[j];
        outs[t] = ++count[j];
      } else {
        next = draw(rng, table.bigram_cum[last]);
      }
      y[t] = next;
      last = next;
    }
  });
  return out;
}

}  // namespace amflow::transformer
