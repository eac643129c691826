#!/usr/bin/env bash
# The outputs of a fixed set of runs, one md5 each, for checking that a refactoring changes no bit
# of what amflow prints: every command on the named problems, at double and 30 digits, with timing
# lines and fields removed. Compare two builds with
#   bash scripts/same-bits.sh OLD/amflow > old.txt; bash scripts/same-bits.sh NEW/amflow > new.txt
#   diff old.txt new.txt
# Usage: bash scripts/same-bits.sh [AMFLOW] (default build/amflow); about a minute on 2 cores.
set -uo pipefail
amflow=${1:-build/amflow}
problems=(orthogonal pair zipf-orthogonal underparameterized mixed large-memory)
# Lines or fields that measure time, not results.
untimed() { grep -v -E '^# (seconds|seconds_per_step|elapsed|time|timing)[:_ ]' |
  sed -E 's/"(seconds|seconds_per_step|elapsed)": ?"?[0-9.e+-]+"?,?//g'; }
run() { # NAME ARGS...: one line "md5  NAME" (exit code appended when not 0)
  local name=$1; shift
  local out rc
  out=$("$amflow" "$@" 2>/dev/null | untimed)
  rc=${PIPESTATUS[0]}
  printf '%s  %s%s\n' "$(printf '%s' "$out" | md5sum | cut -c1-32)" "$name" \
    "$([ "$rc" -ne 0 ] && echo " (exit $rc)")"
}
for p in "${problems[@]}"; do
  run "problem check $p" problem check --problem "$p" --format json
  for digits in 15 30; do
    run "flow $p $digits" flow --problem "$p" --digits "$digits" --times 0.5,1,10,100,1000 --format csv
    run "gd $p $digits" gd --problem "$p" --digits "$digits" --eta 0.5 --steps 200 --every 50 --sharpness --format csv
    run "limits $p $digits" limits --problem "$p" --digits "$digits" --format csv
  done
  for rule in momentum nesterov normalized sign rescaled adam; do
    run "gd --rule $rule $p" gd --problem "$p" --rule "$rule" --eta 0.1 --steps 100 --every 25 --format csv
  done
  run "gd sgd $p" gd --problem "$p" --eta 0.5 --steps 100 --batch 4 --seed 3 --every 25 --format csv
  run "compare $p" compare --problem "$p" --etas 0.1,0.5,1 --t-end 10 --format csv
done
run "gd factorised pair" gd --problem pair --param factorised:2 --factor-seed 1 --eta 0.5 --steps 100 --every 25 --format csv
run "gd layer-norm pair" gd --problem pair --layer-norm --eta 0.5 --steps 100 --every 25 --format csv
run "flow sign orthogonal" flow --problem orthogonal --rule sign --times 1,10,100 --format csv
run "sweep pair" sweep --problem pair --grid eta=logspace:-1:1:5 --grid alpha=linspace:0.5:0.9:3 --steps 200 --format csv
run "sweep pair certify" sweep --problem pair --grid eta=list:0.5,2 --steps 20 --certify --format csv
run "enclose orthogonal" enclose --problem orthogonal --times 1,10,1000 --digits 30 --format csv
run "enclose pair crossings" enclose --problem pair --times 1,100 --crossings --digits 30 --format csv
run "gd certify pair" gd --problem pair --eta 2 --steps 20 --certify --format csv
run "landscape pair" landscape --problem pair --format csv
run "scaling" scaling --format csv
run "verify P1" verify --claim orthogonal-closed-form --format csv
run "verify P2" verify --claim log-margins --format csv
run "transformer wo2" transformer --dim 8 --length 32 --batch 6 --steps 3 --format csv
run "transformer all 15" transformer --dim 8 --length 32 --batch 6 --steps 3 --train all --digits 15 --format csv
