#!/usr/bin/env bash
# Quick start, main job: installs what is missing, builds amflow, and runs the main job.
# Until `amflow verify` exists (issue 5) the main job prints the built-in orthogonal problem at
# 50 digits with its state at W0 and after one GD step (P4: margins eta p(x), zero error).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target amflow
./build/amflow problem show orthogonal --digits 50 --eta 7/3
