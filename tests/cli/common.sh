# Shared by the command-line test scripts (sourced): a scratch folder, pass/fail counts, and the
# check of the bad-input contract. Expects $amflow to name the binary.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
py=/usr/bin/python3
[ -x "$py" ] || py=python3

ok() { passed=$((passed + 1)); }
# wait_lines FILE N: waits (up to 10 s) until FILE has at least N lines.
wait_lines() {
  for _ in $(seq 200); do
    [ -e "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ] && return
    sleep 0.05
  done
}
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# expect_bad NAME NEEDLE... -- ARGS: exit 2, exactly one line on stderr (at most 1100 bytes) holding
# every NEEDLE, and nothing left at --output (no file, no temporary).
expect_bad() {
  local name="$1"; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  rm -f "$work/out.json"
  "$amflow" "$@" --output "$work/out.json" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -ne 2 ]; then fail "$name: exit code $rc, expected 2: $(head -c 300 "$work/stderr")"; return; fi
  if [ "$(wc -l <"$work/stderr")" -ne 1 ]; then fail "$name: not one line on stderr: $(head -c 300 "$work/stderr")"; return; fi
  if [ "$(wc -c <"$work/stderr")" -gt 1100 ]; then fail "$name: $(wc -c <"$work/stderr") bytes on stderr"; return; fi
  for n in "${needles[@]}"; do
    if ! grep -qF -- "$n" "$work/stderr"; then fail "$name: stderr lacks '$n': $(head -c 300 "$work/stderr")"; return; fi
  done
  if [ -e "$work/out.json" ]; then fail "$name: left an output file behind"; return; fi
  if ls -a "$work" | grep -q '\.tmp\.'; then fail "$name: left a temporary file behind"; return; fi
  ok
}

# The sweeps' shared grids: the authors' learning-rate grid (1000 cells) and a 10,000-cell one.
authors=(sweep --problem pair --grid p0_logit=logspace:-0.5:0.5:10 --grid alpha=linspace:0.5:1:10
  --grid eta=logspace:-1:1:10 --steps 1000)
large=(sweep --problem pair --grid p0_logit=logspace:-0.5:0.5:10 --grid alpha=linspace:0.5:1:10
  --grid eta=logspace:-1:1:100 --steps 300)
