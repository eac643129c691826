// The check every flow makes of its sample times.
#pragma once

#include <vector>

#include "amflow/errors.hpp"
#include "amflow/scalar/convert.hpp"

namespace amflow::flow {

// Throws input_error naming "times" unless there is at least one time and every time is finite,
// >= 0 and later than the one before.
template <class Real>
void check_sample_times(const std::vector<Real>& times) {
  if (times.empty()) throw input_error("times", "(none)", "give at least one sample time");
  for (size_t i = 0; i < times.size(); ++i) {
    if (!scalar::is_finite(times[i]) || times[i] < 0 || (i > 0 && !(times[i] > times[i - 1]))) {
      throw input_error("times", scalar::to_text<Real>(times[i]),
                        "sample times must be finite, >= 0 and increase strictly");
    }
  }
}

}  // namespace amflow::flow
