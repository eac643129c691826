#include "amflow/io/table.hpp"

#include <algorithm>
#include <stdexcept>

#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::io {
namespace {

// -?digits[.digits][(e|E)[+-]digits]: what a JSON number and every reader accept.
bool finite_numeral(const std::string& s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digits()) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

std::string shown(const cell& c, bool scientific = false) {
  if (c.kind == cell_kind::number) return scalar::round_text(c.text, reading_digits, scientific);
  if (c.kind == cell_kind::null) return "-";
  return c.text;
}

// A JSON value for a person reading a table: numerals (numbers, and strings that hold one) rounded
// to reading_digits, arrays as "a, b, c", objects as "key value, key value".
std::string readable(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    return finite_numeral(text) ? scalar::round_text(text, reading_digits) : text;
  }
  if (v.is_number_float()) return scalar::round_text(dump_json(v), reading_digits);
  std::string out;
  if (v.is_array()) {
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + readable(e);
    return out.empty() ? "(none)" : out;
  }
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (out.empty() ? "" : ", ") + it.key() + " " + readable(it.value());
    }
    return out.empty() ? "(none)" : out;
  }
  return dump_json(v);
}

// The table format's comment lines: an object's entries each on a line of its own ("# a.b: v"),
// an array of objects one line per element ("# a.b[0]: key v, key v"), numerals rounded for
// reading (the machine formats carry every digit).
void table_comments(const std::string& key, const nlohmann::json& v, std::string& out) {
  if (v.is_object() && !v.empty()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      table_comments(key + "." + it.key(), it.value(), out);
    }
    return;
  }
  if (v.is_array() && !v.empty() && v.front().is_object()) {
    for (size_t i = 0; i < v.size(); ++i) {
      out += "# " + printable(key, 200) + "[" + std::to_string(i) +
             "]: " + printable(readable(v[i]), 100000) + "\n";
    }
    return;
  }
  out += "# " + printable(key, 200) + ": " + printable(readable(v), 100000) + "\n";
}

// One comment line "key: value" per entry of meta, in the format's comment syntax (csv and table
// "# ", md "<!-- -->", latex "% "), one line each whatever the value holds; the table format
// spreads nested values over lines for reading (table_comments).
std::string comments(const nlohmann::json& meta, format f) {
  std::string out;
  if (f == format::table) {
    for (auto it = meta.begin(); it != meta.end(); ++it) table_comments(it.key(), *it, out);
    return out;
  }
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    const std::string value = it->is_string() ? it->get<std::string>() : dump_json(*it);
    std::string line = printable(it.key(), 200) + ": " + printable(value, 100000);
    if (f == format::md) {
      for (size_t k; (k = line.find("--")) != std::string::npos;) line.replace(k, 2, "- -");
      out += "<!-- " + line + " -->\n";
    } else {
      out += (f == format::latex ? "% " : "# ") + line + "\n";
    }
  }
  return out;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos && (s.empty() || s[0] != '#')) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\') out += '\\';
    out += c == '\n' || c == '\r' ? ' ' : c;
  }
  return out;
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\textbackslash{}";
        break;
      case '^':
        out += "\\textasciicircum{}";
        break;
      case '~':
        out += "\\textasciitilde{}";
        break;
      case '_':
      case '%':
      case '&':
      case '#':
      case '$':
      case '{':
      case '}':
        out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string json_value(const cell& c) {
  switch (c.kind) {
    case cell_kind::number:
    case cell_kind::boolean:
      return c.text;
    case cell_kind::null:
      return "null";
    case cell_kind::numbers: {
      std::string out = "[";
      for (char ch : c.text) out += ch == ' ' ? ',' : ch;
      return out + "]";
    }
    case cell_kind::text:
      break;
  }
  return dump_json(nlohmann::json(c.text));
}

// Compact JSON in which strings that hold a numeral (how amflow keeps every digit of a summary's
// numbers) are written as JSON numbers, like the rows' values: {"max_loss":6.93e-01}.
std::string dump_json_numbers(const nlohmann::json& v) {
  if (v.is_string() && finite_numeral(v.get_ref<const std::string&>())) {
    return v.get_ref<const std::string&>();
  }
  std::string out;
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      out += (out.empty() ? "{" : ",") + dump_json(nlohmann::json(it.key())) + ":" +
             dump_json_numbers(it.value());
    }
    return out.empty() ? "{}" : out + "}";
  }
  if (v.is_array()) {
    for (const auto& e : v) out += (out.empty() ? "[" : ",") + dump_json_numbers(e);
    return out.empty() ? "[]" : out + "]";
  }
  return dump_json(v);
}

}  // namespace

std::string dump_json(const nlohmann::json& v, int indent) {
  return v.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

format parse_format(const std::string& name) {
  if (name == "table") return format::table;
  if (name == "csv") return format::csv;
  if (name == "json") return format::json;
  if (name == "md") return format::md;
  if (name == "latex") return format::latex;
  if (name == "jsonl") return format::jsonl;
  throw input_error("format", name, "must be one of table, csv, json, jsonl, md, latex");
}

table_writer::table_writer(format f, std::vector<std::string> columns, nlohmann::json meta,
                           sink out, bool continuing)
    : format_(f),
      columns_(std::move(columns)),
      meta_(std::move(meta)),
      out_(std::move(out)),
      started_(std::chrono::steady_clock::now()) {
  if (continuing && format_ != format::jsonl) {
    throw std::logic_error("table_writer: only JSON Lines tables can be continued");
  }
  if (!continuing) begin();
}

void table_writer::begin() {
  std::string s;
  switch (format_) {
    case format::json:
      s = "{\"meta\": " + dump_json(meta_) + ",\n \"rows\": [";
      break;
    case format::jsonl:
      s = "{\"meta\": " + dump_json(meta_) + "}\n";
      break;
    case format::csv:
      s = comments(meta_, format_);
      for (size_t j = 0; j < columns_.size(); ++j) s += (j ? "," : "") + csv_quote(columns_[j]);
      s += "\n";
      break;
    case format::table:
      s = comments(meta_, format_) + "# shown: numbers rounded to " +
          std::to_string(reading_digits) +
          " significant digits for reading; csv, json and jsonl carry every digit\n";
      break;
    case format::md:
      s = comments(meta_, format_) + "|";
      for (const auto& c : columns_) s += " " + md_escape(c) + " |";
      s += "\n|";
      for (size_t j = 0; j < columns_.size(); ++j) s += "---|";
      s += "\n";
      break;
    case format::latex:
      s = comments(meta_, format_) + "\\begin{tabular}{" + std::string(columns_.size(), 'r') +
          "}\n\\hline\n";
      for (size_t j = 0; j < columns_.size(); ++j)
        s += (j ? " & " : "") + latex_escape(columns_[j]);
      s += " \\\\\n\\hline\n";
      break;
  }
  if (!s.empty()) out_(s);
}

void table_writer::row(const std::vector<cell>& cells) {
  if (finished_) throw std::logic_error("table_writer: row after finish");
  if (cells.size() != columns_.size()) {
    throw std::logic_error("table_writer: a row of " + std::to_string(cells.size()) +
                           " cells for " + std::to_string(columns_.size()) + " columns");
  }
  for (size_t j = 0; j < cells.size(); ++j) {
    if (cells[j].kind == cell_kind::number && !finite_numeral(cells[j].text)) {
      throw std::runtime_error("refusing to print " + printable(cells[j].text, 40) +
                               " as a number (column " + columns_[j] + ", row " +
                               std::to_string(rows_ + 1) +
                               "): the computation lost its finite value");
    }
    if (cells[j].kind == cell_kind::numbers) {
      size_t from = 0;
      while (from < cells[j].text.size()) {
        size_t to = cells[j].text.find(' ', from);
        if (to == std::string::npos) to = cells[j].text.size();
        if (!finite_numeral(cells[j].text.substr(from, to - from))) {
          throw std::runtime_error(
              "refusing to print " + printable(cells[j].text.substr(from, to - from), 40) +
              " as a number (column " + columns_[j] + ", row " + std::to_string(rows_ + 1) +
              "): the computation lost its finite value");
        }
        from = to + 1;
      }
    }
  }
  ++rows_;
  if (format_ == format::table && !settled_) {
    held_.push_back(cells);
    const auto waited = std::chrono::steady_clock::now() - started_;
    if (held_.size() >= 200 || waited > std::chrono::seconds(1)) settle_widths();
    return;
  }
  write_row(cells);
}

void table_writer::settle_widths() {
  settled_ = true;
  width_.assign(columns_.size(), 0);
  right_.assign(columns_.size(), true);
  // One notation per column: exponent for all its numbers once one of them needs it (a tau column
  // reads 1e+08, 1e+09, 1e+10, not 100000000, 1000000000, 1e+10).
  scientific_.assign(columns_.size(), false);
  for (size_t j = 0; j < columns_.size(); ++j) {
    for (const auto& r : held_) {
      if (r[j].kind == cell_kind::number && shown(r[j]).find('e') != std::string::npos) {
        scientific_[j] = true;
      }
    }
    width_[j] = columns_[j].size();
    for (const auto& r : held_) {
      width_[j] = std::max(width_[j], shown(r[j], scientific_[j]).size());
      if (r[j].kind == cell_kind::text) right_[j] = false;
    }
  }
  std::string s;
  std::vector<cell> header, rule;
  for (size_t j = 0; j < columns_.size(); ++j) {
    header.push_back(cell::words(columns_[j]));
    rule.push_back(cell::words(std::string(width_[j], '-')));
  }
  write_row(header);
  write_row(rule);
  for (const auto& r : held_) write_row(r);
  held_.clear();
}

void table_writer::write_row(const std::vector<cell>& cells) {
  std::string s;
  switch (format_) {
    case format::json:
    case format::jsonl:
      if (format_ == format::json) s = rows_ > 1 ? ",\n  {" : "\n  {";
      if (format_ == format::jsonl) s = "{";
      for (size_t j = 0; j < cells.size(); ++j) {
        s += (j ? ", " : "") + dump_json(nlohmann::json(columns_[j])) + ": " + json_value(cells[j]);
      }
      s += format_ == format::json ? "}" : "}\n";
      break;
    case format::csv:
      for (size_t j = 0; j < cells.size(); ++j) s += (j ? "," : "") + csv_quote(cells[j].text);
      s += "\n";
      break;
    case format::table:
      for (size_t j = 0; j < cells.size(); ++j) {
        const std::string v = shown(cells[j], scientific_[j]);
        const size_t pad = width_[j] > v.size() ? width_[j] - v.size() : 0;
        if (j) s += "  ";
        if (right_[j]) {
          s += std::string(pad, ' ') + v;
        } else {
          s += v + (j + 1 < cells.size() ? std::string(pad, ' ') : "");
        }
      }
      s += "\n";
      break;
    case format::md:
      s = "|";
      for (const auto& c : cells) s += " " + md_escape(shown(c)) + " |";
      s += "\n";
      break;
    case format::latex:
      for (size_t j = 0; j < cells.size(); ++j) {
        const std::string v = shown(cells[j]);
        s += (j ? " & " : "") +
             (cells[j].kind == cell_kind::number ? "$" + v + "$" : latex_escape(v));
      }
      s += " \\\\\n";
      break;
  }
  out_(s);
}

void table_writer::finish(const nlohmann::json& summary) {
  if (finished_) return;
  if (format_ == format::table && !settled_) settle_widths();
  finished_ = true;
  std::string s;
  switch (format_) {
    case format::json:
      s = rows_ > 0 ? "\n ]" : "]";
      if (!summary.empty()) s += ",\n \"summary\": " + dump_json_numbers(summary);
      s += "}\n";
      break;
    case format::jsonl:
      s = "{\"summary\": " + dump_json_numbers(summary) + "}\n";
      break;
    case format::csv:
    case format::table:
    case format::md:
      s = comments(summary, format_);
      break;
    case format::latex:
      s = "\\hline\n\\end{tabular}\n" + comments(summary, format_);
      break;
  }
  if (!s.empty()) out_(s);
}

std::string render(const table& t, format f) {
  std::string out;
  table_writer w(f, t.columns, t.meta, [&](std::string_view s) { out.append(s); });
  for (const auto& r : t.rows) w.row(r);
  w.finish(t.summary);
  return out;
}

}  // namespace amflow::io
