#!/usr/bin/env bash
# Benchmarks (not part of the tests): installs what is missing (with Google Benchmark), builds with
# -DAMFLOW_BUILD_BENCH=ON and runs the benchmark programs; arguments go to each of them, e.g.
#   bash scripts/run-bench.sh --benchmark_filter=goal
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh libbenchmark-dev
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)" --target scalar_bench flow_bench
for program in scalar_bench flow_bench; do
  echo "== bench/$program"
  "build/bench/$program" "$@"
done
