#!/usr/bin/env bash
# Benchmarks (not part of the tests): installs what is missing (with Google Benchmark), builds with
# -DAMFLOW_BUILD_BENCH=ON and runs the benchmark programs; arguments go to each of them, e.g.
#   bash scripts/run-bench.sh --benchmark_filter=goal
# With AMFLOW_PEERS=1 it also installs python3-mpmath, python3-scipy and python3-torch and runs the
# comparison with the tools people use (bench/peers/compare.py: mpmath's odefun, SciPy's solve_ivp,
# the authors' PyTorch loops; about 10 minutes), writing build/work-precision.png and peers.json.
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
  bash scripts/setup-deps.sh python3-torch python3-numpy python3-mpmath python3-scipy \
    python3-matplotlib
  echo "== bench/peers/compare.py (mpmath, SciPy, PyTorch; about 10 minutes)"
  /usr/bin/python3 bench/peers/compare.py build/amflow --figure build/work-precision.png \
    --json build/peers.json
fi
