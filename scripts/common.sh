# Shared by the scripts (sourced): phase lines with their times, and the compiler launcher.
# phase NAME: says that the phase NAME begins, and how long the one before it took.
phase_started=0
phase_name=""
phase() {
  local now
  now=$(date +%s)
  if [ -n "$phase_name" ]; then
    echo "amflow: $phase_name done in $((now - phase_started)) s" >&2
  fi
  phase_name="$1"
  phase_started=$now
  [ -n "$phase_name" ] && echo "amflow: $phase_name ..." >&2
  return 0
}
# ccache when installed (setup-deps.sh installs it): a second build of the same sources, in this
# clone or in another one, costs little. Paths are taken relative to the clone.
# use_ccache: sets launcher to the CMake option (empty without ccache); call after setup-deps.sh.
launcher=()
use_ccache() {
  launcher=()
  if command -v ccache >/dev/null 2>&1; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    # Precompiled headers (CMake's AMFLOW_PCH) need these to be cached (ccache's manual).
    export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 \
      CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
  fi
}
# The generator: Ninja where it is installed (setup-deps.sh installs it) and the build directory is
# new. Ninja compiles the commands' and the claims' units beside the library's; make waits for the
# whole library first. A directory configured before keeps its generator (CMake refuses a change).
# use_generator DIR: sets generator to the CMake option (empty: CMake's default or DIR's own).
generator=()
use_generator() {
  generator=()
  if [ ! -f "$1/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
    generator=(-G Ninja)
  fi
}
