#!/usr/bin/env bash
# Benchmarks (not part of the tests): installs what is missing (with Google Benchmark), builds with
# -DAMFLOW_BUILD_BENCH=ON and runs the benchmark programs; arguments go to each of them, e.g.
#   bash scripts/run-bench.sh --benchmark_filter=goal
# With AMFLOW_PEERS=1 it also installs python3-torch and runs the side-by-side comparison with the
# authors' PyTorch loops (bench/peers/side_by_side.py; several minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh libbenchmark-dev
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_BENCH=ON >/dev/null
cmake --build build -j"$(nproc)" --target scalar_bench flow_bench descent_bench kernel_bench amflow
for program in scalar_bench flow_bench descent_bench kernel_bench; do
  echo "== bench/$program"
  "build/bench/$program" "$@"
done
if [ "${AMFLOW_PEERS:-0}" = 1 ]; then
  bash scripts/setup-deps.sh python3-torch python3-numpy
  echo "== bench/peers/side_by_side.py"
  /usr/bin/python3 bench/peers/side_by_side.py build/amflow --p-count 2
fi
