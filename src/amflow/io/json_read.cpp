// A strict recursive-descent JSON reader (RFC 8259). Recursion is bounded by max_json_depth, so no
// input can exhaust the stack; nlohmann::json is only the container it fills.
#include "amflow/io/json_read.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include "amflow/errors.hpp"

namespace amflow::io {
namespace {

using json = nlohmann::json;

class reader {
 public:
  reader(const std::string& text, const std::string& source) : s_(text), source_(source) {}

  json document() {
    skip_space();
    if (end()) fail("expected a JSON value, found the end of the input");
    json v = value(0, "");
    skip_space();
    if (!end()) fail("unexpected " + here() + " after the JSON value");
    return v;
  }

 private:
  bool end() const { return i_ >= s_.size(); }
  char peek() const { return s_[i_]; }

  // What stands at the current position, for messages.
  std::string here() const {
    if (end()) return "end of the input";
    const unsigned char c = static_cast<unsigned char>(peek());
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    return "byte " + printable(std::string(1, static_cast<char>(c)), 4);
  }

  std::string position() const {
    long line = 1, column = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw input_error(source_, "malformed JSON", position() + ": " + what);
  }

  void skip_space() {
    while (!end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++i_;
  }

  void expect(char c) {
    if (end() || peek() != c) {
      // Built step by step: GCC 12 misreads the one-expression form (-Warray-bounds).
      std::string what = "expected '";
      what += c;
      what += "', found ";
      what += here();
      fail(what);
    }
    ++i_;
  }

  // The path of a member; an empty key shows as "" so that the path is never empty.
  static std::string member(const std::string& path, const std::string& key) {
    const std::string name = key.empty() ? "\"\"" : key;
    return path.empty() ? name : path + "." + name;
  }

  json value(int depth, const std::string& path) {
    if (end()) fail("expected a JSON value, found the end of the input");
    switch (peek()) {
      case '{':
        return object(depth + 1, path);
      case '[':
        return array(depth + 1, path);
      case '"':
        return json(string());
      case 't':
        literal("true");
        return json(true);
      case 'f':
        literal("false");
        return json(false);
      case 'n':
        literal("null");
        return json(nullptr);
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number();
        fail("expected a JSON value, found " + here());
    }
  }

  void nest(int depth) const {
    if (depth > max_json_depth) {
      fail("nested deeper than " + std::to_string(max_json_depth) + " levels");
    }
  }

  json object(int depth, const std::string& path) {
    nest(depth);
    expect('{');
    json out = json::object();
    skip_space();
    if (!end() && peek() == '}') {
      ++i_;
      return out;
    }
    while (true) {
      skip_space();
      if (end() || peek() != '"') fail("expected a key in double quotes, found " + here());
      const size_t key_at = i_;
      std::string key = string();
      const std::string key_path = member(path, key);
      if (out.contains(key)) {
        i_ = key_at;
        throw input_error(key_path, "given twice",
                          "duplicate key (" + source_ + ", " + position() +
                              "): each key may appear once in an object");
      }
      skip_space();
      expect(':');
      skip_space();
      out.emplace(std::move(key), value(depth, key_path));
      skip_space();
      if (!end() && peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      return out;
    }
  }

  json array(int depth, const std::string& path) {
    nest(depth);
    expect('[');
    json out = json::array();
    skip_space();
    if (!end() && peek() == ']') {
      ++i_;
      return out;
    }
    while (true) {
      skip_space();
      out.push_back(value(depth, path + "[" + std::to_string(out.size()) + "]"));
      skip_space();
      if (!end() && peek() == ',') {
        ++i_;
        continue;
      }
      expect(']');
      return out;
    }
  }

  void literal(const char* word) {
    const size_t n = std::strlen(word);
    if (s_.compare(i_, n, word) != 0) fail("expected a JSON value, found " + here());
    i_ += n;
  }

  // -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
  json number() {
    const size_t start = i_;
    const auto digits = [&] {
      const size_t from = i_;
      while (!end() && peek() >= '0' && peek() <= '9') ++i_;
      return i_ - from;
    };
    if (peek() == '-') ++i_;
    if (end() || !(peek() >= '0' && peek() <= '9')) fail("expected a digit, found " + here());
    if (peek() == '0') {
      ++i_;
    } else {
      digits();
    }
    bool integer = true;
    if (!end() && peek() == '.') {
      ++i_;
      integer = false;
      if (digits() == 0) fail("expected a digit after the decimal point, found " + here());
    }
    if (!end() && (peek() == 'e' || peek() == 'E')) {
      ++i_;
      integer = false;
      if (!end() && (peek() == '+' || peek() == '-')) ++i_;
      if (digits() == 0) fail("expected a digit in the exponent, found " + here());
    }
    const std::string lexeme = s_.substr(start, i_ - start);
    if (integer) {
      const char* first = lexeme.data();
      const char* last = first + lexeme.size();
      if (lexeme[0] == '-') {
        std::int64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc()) return json(v);
      } else {
        std::uint64_t v = 0;
        if (std::from_chars(first, last, v).ec == std::errc()) return json(v);
      }
    }
    return json(lexeme);  // kept exactly; see the header
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      if (end()) fail("expected four hexadecimal digits after \\u, found the end of the input");
      const char c = peek();
      unsigned d;
      if (c >= '0' && c <= '9') {
        d = static_cast<unsigned>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<unsigned>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<unsigned>(c - 'A' + 10);
      } else {
        fail("expected four hexadecimal digits after \\u, found " + here());
      }
      v = v * 16 + d;
      ++i_;
    }
    return v;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (end()) fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(peek());
      if (c == '"') {
        ++i_;
        return out;
      }
      if (c < 0x20) fail("control character " + here() + " in a string (write it as \\u00XX)");
      if (c == '\\') {
        ++i_;
        if (end()) fail("unterminated string");
        const char e = peek();
        ++i_;
        switch (e) {
          case '"':
          case '\\':
          case '/':
            out += e;
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            unsigned cp = hex4();
            if (cp >= 0xDC00 && cp <= 0xDFFF) fail("a lone low surrogate in a \\u escape");
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (s_.compare(i_, 2, "\\u") != 0) fail("a high surrogate without its low half");
              i_ += 2;
              const unsigned low = hex4();
              if (low < 0xDC00 || low > 0xDFFF) fail("a high surrogate without its low half");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            }
            put_utf8(out, cp);
            break;
          }
          default:
            --i_;
            fail("unknown escape \\" + here());
        }
        continue;
      }
      const size_t n = utf8_sequence_length(s_, i_);
      if (n == 0) fail("invalid UTF-8 " + here() + " in a string");
      out.append(s_, i_, n);
      i_ += n;
    }
  }

  const std::string& s_;
  const std::string& source_;
  size_t i_ = 0;
};

void brief_into(const json& v, std::string& out, size_t limit) {
  const auto quoted = [](const std::string& text) {
    return json(text).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  if (out.size() > limit) return;
  if (v.is_object()) {
    out += '{';
    for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
      if (it != v.begin()) out += ", ";
      out += quoted(it.key().substr(0, limit)) + ": ";
      brief_into(it.value(), out, limit);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t k = 0; k < v.size() && out.size() <= limit; ++k) {
      if (k) out += ", ";
      brief_into(v[k], out, limit);
    }
    out += ']';
  } else if (v.is_string()) {
    out += quoted(v.get_ref<const std::string&>().substr(0, limit + 1));
  } else {
    out += v.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

}  // namespace

std::string brief_json(const nlohmann::json& v, std::size_t limit) {
  std::string out;
  brief_into(v, out, limit);
  if (out.size() > limit) out = out.substr(0, limit > 3 ? limit - 3 : 0) + "...";
  return out;
}

nlohmann::json parse_json_exact(const std::string& text, const std::string& source) {
  return reader(text, source).document();
}

nlohmann::json read_json_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw input_error("problem file", path,
                      std::string("cannot be opened: ") + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) throw input_error("problem file", path, "is a directory, not a file");
  if (S_ISREG(st.st_mode) && st.st_size > max_json_bytes) {
    throw input_error("problem file", path,
                      "is " + std::to_string(st.st_size) + " bytes; the limit is " +
                          std::to_string(max_json_bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw input_error("problem file", path,
                      std::string("cannot be opened: ") + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw input_error("problem file", path, "cannot be read");
  std::string text = buf.str();
  if (static_cast<long long>(text.size()) > max_json_bytes) {
    throw input_error("problem file", path,
                      "is larger than the limit of " + std::to_string(max_json_bytes) + " bytes");
  }
  return parse_json_exact(text, path);
}

}  // namespace amflow::io
