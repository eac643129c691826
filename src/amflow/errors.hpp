// Errors amflow raises for bad input. Numerical outcomes (tolerance not reached, divergence) are
// not errors: they are reported in a run's summary.
#pragma once

#include <stdexcept>
#include <string>

namespace amflow {

// Invalid user input: names the field (a JSON path such as "frequencies.p[2]" or an option such as
// "--digits"), the offending value as the user wrote it, and the reason. The CLI prints
// "amflow: invalid input: FIELD = VALUE: REASON" on one line and exits with code 2.
class input_error : public std::runtime_error {
 public:
  input_error(std::string field, std::string value, const std::string& reason)
      : std::runtime_error(one_line(field + " = " + value + ": " + reason)),
        field_(std::move(field)),
        value_(std::move(value)) {}

  const std::string& field() const { return field_; }
  const std::string& value() const { return value_; }

 private:
  static std::string one_line(std::string s) {
    for (char& c : s) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return s;
  }
  std::string field_;
  std::string value_;
};

}  // namespace amflow
