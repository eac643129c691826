#include "amflow/io/table.hpp"

#include <algorithm>
#include <sstream>

#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::io {
namespace {

std::string shown(const cell& c) {
  return c.numeric ? scalar::round_text(c.text, reading_digits) : c.text;
}

// One line per meta entry, "key: value", for the comment headers of text formats.
std::vector<std::string> meta_lines(const nlohmann::json& meta) {
  std::vector<std::string> lines;
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    lines.push_back(it.key() + ": " + (it->is_string() ? it->get<std::string>() : it->dump()));
  }
  return lines;
}

std::string csv_quote(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string latex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '_' || c == '%' || c == '&' || c == '#' || c == '$' || c == '{' || c == '}')
      out += '\\';
    out += c;
  }
  return out;
}

std::string render_table(const table& t) {
  std::ostringstream out;
  for (const auto& line : meta_lines(t.meta)) out << "# " << line << "\n";
  std::vector<size_t> width(t.columns.size());
  for (size_t j = 0; j < t.columns.size(); ++j) width[j] = t.columns[j].size();
  for (const auto& row : t.rows) {
    for (size_t j = 0; j < row.size() && j < width.size(); ++j) {
      width[j] = std::max(width[j], shown(row[j]).size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells, const std::vector<bool>& right) {
    for (size_t j = 0; j < cells.size(); ++j) {
      const size_t pad = width[j] - cells[j].size();
      if (j) out << "  ";
      if (right[j])
        out << std::string(pad, ' ') << cells[j];
      else
        out << cells[j] << (j + 1 < cells.size() ? std::string(pad, ' ') : "");
    }
    out << "\n";
  };
  std::vector<bool> numeric_column(t.columns.size(), false);
  for (size_t j = 0; j < t.columns.size(); ++j) {
    numeric_column[j] =
        !t.rows.empty() && std::all_of(t.rows.begin(), t.rows.end(),
                                       [&](const auto& r) { return j < r.size() && r[j].numeric; });
  }
  line(t.columns, numeric_column);
  std::vector<std::string> rule;
  for (size_t w : width) rule.push_back(std::string(w, '-'));
  line(rule, std::vector<bool>(width.size(), false));
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    for (const auto& c : row) cells.push_back(shown(c));
    line(cells, numeric_column);
  }
  return out.str();
}

std::string render_csv(const table& t) {
  std::ostringstream out;
  for (const auto& line : meta_lines(t.meta)) out << "# " << line << "\n";
  for (size_t j = 0; j < t.columns.size(); ++j) out << (j ? "," : "") << csv_quote(t.columns[j]);
  out << "\n";
  for (const auto& row : t.rows) {
    for (size_t j = 0; j < row.size(); ++j) out << (j ? "," : "") << csv_quote(row[j].text);
    out << "\n";
  }
  return out.str();
}

// Numbers are written as JSON number literals with all their digits (nlohmann would round them to
// double), text as JSON strings.
std::string render_json(const table& t) {
  std::ostringstream out;
  out << "{\"meta\": " << t.meta.dump() << ",\n \"rows\": [";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    out << (i ? ",\n  {" : "\n  {");
    for (size_t j = 0; j < t.rows[i].size() && j < t.columns.size(); ++j) {
      const cell& c = t.rows[i][j];
      out << (j ? ", " : "") << nlohmann::json(t.columns[j]).dump() << ": ";
      const bool finite_number = c.numeric && c.text.find_first_of("naifNAIF") == std::string::npos;
      out << (finite_number ? c.text : nlohmann::json(c.text).dump());
    }
    out << "}";
  }
  out << (t.rows.empty() ? "]}\n" : "\n ]}\n");
  return out.str();
}

std::string render_md(const table& t) {
  std::ostringstream out;
  for (const auto& line : meta_lines(t.meta)) out << "<!-- " << line << " -->\n";
  out << "|";
  for (const auto& c : t.columns) out << " " << c << " |";
  out << "\n|";
  for (size_t j = 0; j < t.columns.size(); ++j) out << "---|";
  out << "\n";
  for (const auto& row : t.rows) {
    out << "|";
    for (const auto& c : row) out << " " << shown(c) << " |";
    out << "\n";
  }
  return out.str();
}

std::string render_latex(const table& t) {
  std::ostringstream out;
  for (const auto& line : meta_lines(t.meta)) out << "% " << line << "\n";
  out << "\\begin{tabular}{" << std::string(t.columns.size(), 'r') << "}\n\\hline\n";
  for (size_t j = 0; j < t.columns.size(); ++j) {
    out << (j ? " & " : "") << latex_escape(t.columns[j]);
  }
  out << " \\\\\n\\hline\n";
  for (const auto& row : t.rows) {
    for (size_t j = 0; j < row.size(); ++j) {
      const std::string s = shown(row[j]);
      out << (j ? " & " : "") << (row[j].numeric ? "$" + s + "$" : latex_escape(s));
    }
    out << " \\\\\n";
  }
  out << "\\hline\n\\end{tabular}\n";
  return out.str();
}

}  // namespace

format parse_format(const std::string& name) {
  if (name == "table") return format::table;
  if (name == "csv") return format::csv;
  if (name == "json") return format::json;
  if (name == "md") return format::md;
  if (name == "latex") return format::latex;
  throw input_error("--format", name, "must be one of table, csv, json, md, latex");
}

std::string render(const table& t, format f) {
  switch (f) {
    case format::table:
      return render_table(t);
    case format::csv:
      return render_csv(t);
    case format::json:
      return render_json(t);
    case format::md:
      return render_md(t);
    case format::latex:
      return render_latex(t);
  }
  return {};
}

}  // namespace amflow::io
