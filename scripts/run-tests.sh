#!/usr/bin/env bash
# Quick start, tests: installs what is missing, configures, builds and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
phase "packages (Debian, only what is missing)"
# PyTorch for the Transformer's check against autograd (tests/transformer/torch_check.py).
bash scripts/setup-deps.sh python3-torch
use_ccache
use_generator build
phase "configure (build/)"
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_TESTS=ON "${launcher[@]}" >/dev/null
phase "build (everything: the command, the library, the tests)"
cmake --build build -j"$(nproc)"
phase "tests (ctest, all but the full figure set)"
cd build
ctest -j"$(nproc)" --output-on-failure -LE figures-full
phase ""
