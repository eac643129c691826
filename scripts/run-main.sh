#!/usr/bin/env bash
# Quick start, main job: installs what is missing, builds the amflow command (nothing else), and
# runs the main job: `amflow verify`, the paper's predictions P1..P10 checked at 50 digits (exit
# code 3 if any fails). Says what it is doing, one line per phase.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
phase "packages (Debian, only what is missing)"
bash scripts/setup-deps.sh
use_ccache
use_generator build
phase "configure (build/)"
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
phase "build of build/amflow (about 5 minutes on 2 cores the first time; [done/all] is the progress)"
mkdir -p build
# The build's own exit status decides (an up-to-date build prints no progress line: grep finds
# nothing, and that is not a failure).
set +o pipefail
cmake --build build -j"$(nproc)" --target amflow 2>&1 | tee build/build.log |
  { grep --line-buffered -E '^\[ *([0-9]+%|[0-9]+/[0-9]+)\] (Building|Linking)' |
    sed -u -E 's/^\[ *([0-9]+%|[0-9]+\/[0-9]+)\] (Building CXX object|Linking CXX [a-z ]+) (.*\/)?([^/]+)$/  [\1] \4/'; }
status=${PIPESTATUS[0]}
set -o pipefail
if [ "$status" -ne 0 ]; then
  tail -n 40 build/build.log >&2
  echo "amflow: the build failed (the whole log: build/build.log)" >&2
  exit 1
fi
phase ""
echo "amflow: build/amflow verify $*" >&2
exec ./build/amflow verify "$@"
