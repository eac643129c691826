#include "cli/jsonl_table.hpp"

#include <fstream>
#include <iterator>

#include "amflow/errors.hpp"
#include "amflow/io/json_read.hpp"

namespace amflow::cli {
namespace {

// One row line of a JSON Lines table, read without losing a digit: numbers keep their text
// (nlohmann's SAX interface hands over the token), keys their order.
class row_reader : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::vector<std::string> keys;
  std::vector<io::cell> cells;
  std::string problem;

  bool null() override { return value(io::cell::null()); }
  bool boolean(bool v) override { return value(io::cell::boolean(v)); }
  bool number_integer(number_integer_t v) override {
    if (in_array_) return element(std::to_string(v));
    return value(io::cell::integer(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (in_array_) return element(std::to_string(v));
    return value(io::cell::number(std::to_string(v)));
  }
  bool number_float(number_float_t, const string_t& text) override {
    if (in_array_) return element(text);
    return value(io::cell::number(text));
  }
  bool string(string_t& v) override { return value(io::cell::words(v)); }
  bool binary(binary_t&) override { return refuse("a binary value"); }
  bool start_object(std::size_t) override {
    if (depth_++ > 0) return refuse("a nested object");
    return true;
  }
  bool key(string_t& k) override {
    keys.push_back(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  // An array of numbers, as one cell.
  bool start_array(std::size_t) override {
    if (in_array_ || depth_ != 1) return refuse("a nested array");
    in_array_ = true;
    elements_.clear();
    return true;
  }
  bool end_array() override {
    in_array_ = false;
    return value(io::cell::numbers(elements_));
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return refuse("not JSON");
  }

 private:
  bool element(const std::string& text) {
    elements_.push_back(text);
    return true;
  }
  bool value(io::cell c) {
    if (in_array_) return refuse("an array of other than numbers");
    if (depth_ != 1) return refuse("a value outside an object");
    cells.push_back(std::move(c));
    return true;
  }
  bool refuse(const std::string& why) {
    if (problem.empty()) problem = why;
    return false;
  }
  int depth_ = 0;
  bool in_array_ = false;
  std::vector<std::string> elements_;
};

}  // namespace

nlohmann::json unsharded_meta(nlohmann::json meta) {
  meta.erase("shard");
  meta.erase("grid_cells");
  return meta;
}

std::string first_difference(const nlohmann::json& a, const nlohmann::json& b) {
  for (const auto& [name, value] : a.items()) {
    if (!b.contains(name) || b[name] != value) return name;
  }
  for (const auto& [name, value] : b.items()) {
    if (!a.contains(name)) return name;
  }
  return "";
}

jsonl_table read_jsonl_table(const std::string& path, const std::string& field, bool strict,
                             const jsonl_layout& layout) {
  const auto bad = [&](const std::string& why) { return input_error(field, path, why); };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bad("cannot be read");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  jsonl_table t;
  long number = 0;
  bool ended = false;
  for (size_t at = 0; at < text.size();) {
    const size_t newline = text.find('\n', at);
    const bool whole = newline != std::string::npos;
    const std::string line = text.substr(at, (whole ? newline : text.size()) - at);
    const size_t next = whole ? newline + 1 : text.size();
    ++number;
    const std::string where = "line " + std::to_string(number) + ": ";
    // The last line of a stopped run may be cut short: a resumed run goes on from before it.
    const auto cut_short = [&] { return !strict && !whole && !ended; };
    if (line.empty()) {
      at = next;
      continue;
    }
    if (ended) throw bad(where + "a line after the summary");
    if (number == 1) {
      nlohmann::json head = nlohmann::json::parse(line, nullptr, false);
      if (head.is_discarded() || !head.is_object() || !head.contains("meta") || !whole) {
        throw bad(
            "not a JSON Lines table (its first line is not {\"meta\": ...}); run the "
            "shards with --format jsonl");
      }
      t.meta = head["meta"];
      if (!t.meta.is_object()) throw bad("its meta is not an object");
      if (layout.sharded && (!t.meta.contains("shard") || !t.meta.contains("grid_cells") ||
                             !t.meta["grid_cells"].is_number_unsigned())) {
        throw bad("its meta has no shard and grid_cells: not written by sweep --shard");
      }
      t.complete_bytes = t.meta_bytes = static_cast<long long>(next);
      at = next;
      continue;
    }
    if (line.rfind("{\"summary\": ", 0) == 0) {
      // Its numbers kept as written (strings holding every digit), as the writer had them.
      nlohmann::json tail;
      try {
        tail = io::parse_json_exact(line, path);
      } catch (const input_error&) {
        tail = nlohmann::json();
      }
      if (!tail.is_object() || !tail["summary"].is_object()) {
        if (cut_short()) break;
        throw bad(where + "a bad summary");
      }
      t.summary = tail["summary"];
      ended = true;
      at = next;
      continue;
    }
    row_reader r;
    if (!nlohmann::json::sax_parse(line, &r) || r.keys.size() != r.cells.size() || !whole) {
      if (cut_short()) break;
      throw bad(where + (r.problem.empty() ? "not a row" : r.problem) +
                (whole ? ""
                       : " (cut short: the run was stopped while writing; " + layout.resumed_by +
                             " goes on from before it)"));
    }
    if (t.columns.empty()) {
      t.columns = r.keys;
      if (t.columns.empty() || t.columns.front() != layout.index) {
        throw bad(where + "no " + layout.index + " column");
      }
    } else if (r.keys != t.columns) {
      throw bad(where + "its columns differ from the first row's");
    }
    const io::cell& c = r.cells.front();
    if (c.kind != io::cell_kind::number ||
        c.text.find_first_not_of("0123456789") != std::string::npos || c.text.size() > 18) {
      throw bad(where + layout.index + " = " + c.text + " is not an index");
    }
    const long long index = std::stoll(c.text);
    r.cells.erase(r.cells.begin());
    t.rows.emplace_back(index, std::move(r.cells));
    t.row_ends.push_back(static_cast<long long>(next));
    t.complete_bytes = static_cast<long long>(next);
    at = next;
  }
  if (number == 0) throw bad("is empty");
  if (strict && !ended) {
    throw bad("has no summary line: the run did not finish (" + std::to_string(t.rows.size()) +
              " cells written; sweep --resume goes on from there)");
  }
  return t;
}

}  // namespace amflow::cli
