// What every certified statement prints and how it ends: the statement, its evidence line by line,
// then PROVEN (exit code 0) or NOT PROVEN with every requirement that failed (exit code 1).
#pragma once

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace amflow::proofs {

class proof {
 public:
  explicit proof(std::string statement) : statement_(std::move(statement)) {
    std::cout << "statement: " << statement_ << "\n";
  }
  void evidence(const std::string& line) { std::cout << "  " << line << "\n"; }
  // A requirement of the proof; one that fails makes the statement not proven.
  void require(bool holds, const std::string& what) {
    if (!holds) failures_.push_back(what);
  }
  // Runs the body of a proof: an exception is a failed requirement, never an abort.
  template <class Body>
  int run(Body&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      require(false, std::string("stopped by an error: ") + e.what());
    }
    return finish();
  }

  int finish() const {
    if (failures_.empty()) {
      std::cout << "PROVEN\n";
      return 0;
    }
    std::cout << "NOT PROVEN:\n";
    for (const auto& f : failures_) std::cout << "  " << f << "\n";
    return 1;
  }

 private:
  std::string statement_;
  std::vector<std::string> failures_;
};

}  // namespace amflow::proofs
