#!/usr/bin/env bash
# The build options beside the default, each built and tested whole: AMFLOW_FLOAT128=OFF (no
# __float128 or libquadmath: what a compiler or platform without them gets; --digits 33 then runs
# in MPFR) into build-no-float128/. CI runs it after the sanitizers (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-deps.sh
cmake -S . -B build-no-float128 -DCMAKE_BUILD_TYPE=Release -DAMFLOW_BUILD_TESTS=ON \
  -DAMFLOW_FLOAT128=OFF -DAMFLOW_MPI=OFF >/dev/null
cmake --build build-no-float128 -j"$(nproc)"
# The variant is what it says: no float128 unit compiled, no libquadmath linked.
if [ -n "$(find build-no-float128/src/instantiate build-no-float128/analysis/instantiate -name "*float128*")" ]; then
  echo "run-variants: build-no-float128 compiled a float128 unit" >&2
  exit 1
fi
if ldd build-no-float128/amflow | grep -q quadmath; then
  echo "run-variants: build-no-float128/amflow links libquadmath" >&2
  exit 1
fi
cd build-no-float128
ctest -j"$(nproc)" --output-on-failure -LE "figures-full|install"
