// A minimal parallel loop for sweeps and repeated runs: deterministic because every index writes
// its own result slot and reductions happen afterwards in index order.
#pragma once

#include <functional>

namespace amflow {

// The number of hardware threads (at least 1).
int hardware_threads();

// Runs f(i) for every i in [0, n) exactly once, on min(threads, n) threads (threads <= 0: all
// hardware threads). The first exception thrown by any f(i) is rethrown here, after every thread
// has stopped; the remaining indices are then skipped.
void parallel_for(long n, int threads, const std::function<void(long)>& f);

}  // namespace amflow
