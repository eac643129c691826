#include "amflow/io/json_read.hpp"

#include <fstream>
#include <sstream>
#include <vector>

#include "amflow/errors.hpp"

namespace amflow::io {
namespace {

using json = nlohmann::json;

// A DOM builder for nlohmann's SAX interface that stores floating-point numbers as their lexeme.
class exact_builder {
 public:
  explicit exact_builder(json& root) : root_(root) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(json::number_integer_t v) { return put(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return put(json(v)); }
  bool number_float(json::number_float_t, const json::string_t& lexeme) {
    return put(json(lexeme));
  }
  bool string(json::string_t& v) { return put(json(v)); }
  bool binary(json::binary_t& v) { return put(json::binary(v)); }
  bool start_object(std::size_t) { return open(json::object()); }
  bool key(json::string_t& k) {
    key_ = k;
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    error_ = e.what();
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  json* place(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    parent[key_] = std::move(v);
    return &parent[key_];
  }
  bool put(json v) {
    place(std::move(v));
    return true;
  }
  bool open(json v) {
    stack_.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::vector<json*> stack_;
  std::string key_;
  std::string error_;
};

}  // namespace

nlohmann::json parse_json_exact(const std::string& text, const std::string& source) {
  json root;
  exact_builder builder(root);
  if (!json::sax_parse(text, &builder)) {
    std::string why = builder.error();
    // nlohmann's message is "[json.exception.parse_error.101] parse error at line L, column C:
    // ...".
    if (auto pos = why.find("] "); pos != std::string::npos) why = why.substr(pos + 2);
    throw input_error(source, "malformed JSON", why);
  }
  return root;
}

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error("problem file", path, "cannot be opened");
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw input_error("problem file", path, "cannot be read");
  return parse_json_exact(buf.str(), path);
}

}  // namespace amflow::io
