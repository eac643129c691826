#!/usr/bin/env bash
# Holds the project's own C++ to the checks in .clang-tidy (Debian bookworm's clang-tidy 14,
# installed when missing), warnings as errors: prints each finding and exits 1 when there is one.
# It lints what the build compiles, through the build's own unity units (build-tidy/, configured
# only: nothing is compiled), so the heavy headers are parsed once per unit; two units at a time.
# The library's units per scalar type instantiate the same templates: only double's is linted (and
# Clang 14 lacks GCC's quadmath.h: build-tidy has no float128 unit at all). Silence a finding that is wrong with NOLINTNEXTLINE(check) and a comment saying why.
# Usage: bash scripts/check-tidy.sh [FILE-REGEX]   (default: every unit)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
bash scripts/setup-deps.sh clang-tidy
filter=${1:-.}
phase "configure (build-tidy/: compile commands only)"
cmake -S . -B build-tidy -DCMAKE_EXPORT_COMPILE_COMMANDS=ON -DAMFLOW_PCH=OFF -DAMFLOW_FLOAT128=OFF \
  -DAMFLOW_UNITY=ON -DAMFLOW_BUILD_TESTS=ON >/dev/null
mapfile -t units < <(/usr/bin/python3 -c '
import json, re, sys
seen = set()
for c in json.load(open("build-tidy/compile_commands.json")):
    f = c["file"]
    same_templates = re.search(r"unity_[0-9]+_(mpfr|long_double)_cxx", f)
    if f not in seen and not same_templates and re.search(sys.argv[1], f):
        seen.add(f)
        print(f)
' "$filter")
phase "clang-tidy (${#units[@]} units, $(nproc) at a time)"
log=build-tidy/tidy.log
printf '%s\0' "${units[@]}" |
  xargs -0 -P "$(nproc)" -n 1 clang-tidy -p build-tidy --config-file=.clang-tidy --quiet \
    >"$log" 2>&1 || true
findings=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error):' "$log" | sort -u || true)
phase ""
if [ -n "$findings" ]; then
  echo "tidy: findings (.clang-tidy; the whole output in $log):"
  echo "$findings"
  exit 1
fi
echo "tidy: ${#units[@]} units as .clang-tidy says"
