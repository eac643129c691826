#!/usr/bin/env bash
# The whole test suite under AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer, in a
# build without float128 (-DAMFLOW_FLOAT128=OFF: what a compiler without __float128 gets; --digits
# 33 then runs in MPFR): installs what is missing, builds into build-sanitize/ (-O1 -g1,
# -DAMFLOW_SANITIZE=ON), checks that no float128 unit was compiled and no libquadmath linked, and
# runs every test there. Any memory error, leak or undefined behaviour fails the run. CI runs it
# after the test command (.ci/run). The float128 code itself is tested by the test command, without
# sanitizers: its templates are the same as the other types'.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh
bash scripts/setup-deps.sh
use_ccache
use_generator build-sanitize
# The install test (a consumer project linking the installed library) is left out: an instrumented
# library needs the sanitizers' runtime in its consumers too.
# Without MPI: OpenMPI's own initialisation is reported by LeakSanitizer (open-mpi/ompi#12584), from
# frames too often unsymbolised to suppress narrowly; `sweep --mpi` is tested by the test command.
phase "configure (build-sanitize/: sanitizers, no float128)"
cmake -S . -B build-sanitize "${generator[@]}" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1" \
  -DAMFLOW_SANITIZE=ON -DAMFLOW_BUILD_TESTS=ON -DAMFLOW_MPI=OFF -DAMFLOW_FLOAT128=OFF \
  "${launcher[@]}" >/dev/null
phase "build (build-sanitize/)"
cmake --build build-sanitize -j"$(nproc)"
# The variant is what it says: no float128 unit compiled, no libquadmath linked.
if [ -n "$(find build-sanitize/src/instantiate build-sanitize/analysis/instantiate -name "*float128*")" ]; then
  echo "run-sanitizers: build-sanitize compiled a float128 unit" >&2
  exit 1
fi
if ldd build-sanitize/amflow | grep -q quadmath; then
  echo "run-sanitizers: build-sanitize/amflow links libquadmath" >&2
  exit 1
fi
phase "tests under the sanitizers"
cd build-sanitize
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="exitcode=23"
ctest -j"$(nproc)" --output-on-failure --timeout 1500 -LE "figures-full|install"
phase ""
