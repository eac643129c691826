#!/usr/bin/env bash
# Sweeps split across processes: --shard I/K and SLURM job arrays, amflow merge (the same bytes as
# the unsharded run), --resume after a stop, and the JSON Lines format. Usage: scale_test.sh AMFLOW
set -u
amflow="$1"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# bad NAME NEEDLE... -- ARGS: exit 2 and one line on stderr holding every NEEDLE (no --output added).
bad() {
  local name="$1"; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  "$amflow" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -ne 2 ]; then fail "$name: exit code $rc, expected 2: $(head -c 300 "$work/stderr")"; return; fi
  if [ "$(wc -l <"$work/stderr")" -ne 1 ]; then fail "$name: not one line on stderr"; return; fi
  for n in "${needles[@]}"; do
    if ! grep -qF -- "$n" "$work/stderr"; then fail "$name: stderr lacks '$n': $(cat "$work/stderr")"; return; fi
  done
  ok
}

# The authors' 1000-cell grid and a 10,000-cell one: merged shards (K = 1, 3, 4) are the unsharded
# run's bytes, in csv, json and jsonl.
# authors, large: common.sh
for grid in authors large; do
  declare -n args="$grid"
  for f in csv json jsonl; do
    "$amflow" "${args[@]}" --format "$f" --output "$work/$grid.$f" || fail "$grid unsharded $f"
  done
  for K in 1 3 4; do
    shards=()
    for ((i = 1; i <= K; i++)); do
      "$amflow" "${args[@]}" --shard "$i/$K" --format jsonl --output "$work/$grid-$i-$K.jsonl" ||
        fail "$grid shard $i/$K"
      shards+=("$work/$grid-$i-$K.jsonl")
    done
    for f in csv json jsonl; do
      if "$amflow" merge "$work/m.$f" "${shards[@]}" --format "$f" && cmp -s "$work/m.$f" "$work/$grid.$f"; then
        ok
      else
        fail "$grid: merge of $K shards in $f differs from the unsharded run"
      fi
    done
  done
  unset -n args
done
# The shards hold what the issue's convention says: cell c on shard I of K iff c % K == I - 1.
"$py" - "$work/authors-2-3.jsonl" <<'PY' && ok || fail "shard 2/3 holds the cells c % 3 == 1"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert "meta" in lines[0] and "summary" in lines[-1], "meta first, summary last"
cells = [l["cell"] for l in lines[1:-1]]
assert cells == list(range(1, 1000, 3)), cells[:5]
assert lines[0]["meta"]["grid_cells"] == 1000 and lines[-1]["summary"]["cells"] == 333
PY

# SLURM job arrays (--array=3-6): the task's shard from SLURM_ARRAY_TASK_ID, MIN and COUNT/MAX.
shards=()
for t in 3 4 5 6; do
  SLURM_ARRAY_TASK_ID=$t SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_MAX=6 SLURM_ARRAY_TASK_COUNT=4 \
    "$amflow" "${authors[@]}" --format jsonl --output "$work/slurm-$t.jsonl" || fail "slurm task $t"
  shards+=("$work/slurm-$t.jsonl")
done
if "$amflow" merge "$work/ms.csv" "${shards[@]}" && cmp -s "$work/ms.csv" "$work/authors.csv" &&
  cmp -s "$work/slurm-4.jsonl" "$work/authors-2-4.jsonl"; then ok; else fail "SLURM array shards"; fi
SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_MAX=6 \
  bad "slurm task outside the array" "SLURM_ARRAY_TASK_ID" "9" -- "${authors[@]}"
SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=9 SLURM_ARRAY_TASK_COUNT=5 \
  bad "slurm array with a step" "SLURM_ARRAY_TASK_COUNT" "5" -- "${authors[@]}"
bad "shard I > K" "--shard" "5/4" -- "${authors[@]}" --shard 5/4
bad "shard 0" "--shard" "0/4" -- "${authors[@]}" --shard 0/4
bad "shard no slash" "--shard" "3" -- "${authors[@]}" --shard 3

# merge refuses what does not add up, and writes nothing then.
a=("$work/authors-1-3.jsonl" "$work/authors-2-3.jsonl" "$work/authors-3-3.jsonl")
bad "merge missing shard" "shards" "333 of the grid's 1000 cells" "the first cell 2" -- merge "$work/x.csv" "${a[@]:0:2}"
bad "merge shard twice" "cell 0 is also in" -- merge "$work/x.csv" "${a[@]}" "${a[0]}"
bad "merge other split" "also in" -- merge "$work/x.csv" "${a[@]}" "$work/authors-2-4.jsonl"
bad "merge other grid" "meta differs" "grid" -- merge "$work/x.csv" "${a[@]:0:2}" "$work/large-3-3.jsonl"
bad "merge a csv" "not a JSON Lines table" -- merge "$work/x.csv" "$work/authors.csv"
bad "merge unsharded jsonl" "no shard" -- merge "$work/x.csv" "$work/authors.jsonl"
head -c 20000 "${a[2]}" >"$work/cut.jsonl"
bad "merge a shard cut short" "cut.jsonl" "cut short" -- merge "$work/x.csv" "${a[@]:0:2}" "$work/cut.jsonl"
head -n 5 "${a[2]}" >"$work/nosummary.jsonl"
bad "merge an unfinished shard" "no summary line" -- merge "$work/x.csv" "${a[@]:0:2}" "$work/nosummary.jsonl"
if [ -e "$work/x.csv" ] || ls -a "$work" | grep -q '\.tmp\.'; then fail "merge left a file behind"; else ok; fi

# --resume: a shard stopped by a signal (and one whose last line was cut short) goes on where it
# stopped; the merged table is the unsharded run's.
slow=(sweep --problem pair --grid eta=logspace:-1:1:6 --grid alpha=linspace:0.5:0.9:4 --steps 400000 --threads 1)
"$amflow" "${slow[@]}" --format csv --output "$work/slow.csv" || fail "slow unsharded"
"$amflow" "${slow[@]}" --shard 2/2 --format jsonl --output "$work/r2.jsonl" &
pid=$!
wait_lines "$work/r2.jsonl" 3
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rows=$(($(wc -l <"$work/r2.jsonl") - 1))
if [ "$rows" -ge 2 ] && [ "$rows" -lt 12 ] && ! grep -q summary "$work/r2.jsonl"; then ok; else
  fail "a stopped shard keeps its finished cells ($rows rows)"
fi
printf '{"cell": 23, "eta": 1.0' >>"$work/r2.jsonl"  # a last line cut short
"$amflow" "${slow[@]}" --shard 1/2 --resume "$work/r1.jsonl" || fail "resume of a missing file"
if "$amflow" "${slow[@]}" --shard 2/2 --resume "$work/r2.jsonl" &&
  "$amflow" merge "$work/mr.csv" "$work/r1.jsonl" "$work/r2.jsonl" && cmp -s "$work/mr.csv" "$work/slow.csv"; then
  ok
else
  fail "resumed shards merge to the unsharded run"
fi
cp "$work/r2.jsonl" "$work/r2-before.jsonl"
if "$amflow" "${slow[@]}" --shard 2/2 --resume "$work/r2.jsonl" && cmp -s "$work/r2.jsonl" "$work/r2-before.jsonl"; then
  ok
else
  fail "resuming a finished shard changes it"
fi
bad "resume another shard" "--resume" "not one this shard runs" -- "${slow[@]}" --shard 1/2 --resume "$work/r2.jsonl"
bad "resume other options" "--resume" "meta differs at steps" -- sweep --problem pair --grid eta=logspace:-1:1:6 \
  --grid alpha=linspace:0.5:0.9:4 --steps 30 --shard 2/2 --resume "$work/r2.jsonl"
bad "resume csv" "--format" "csv" -- "${slow[@]}" --shard 2/2 --resume "$work/r2.jsonl" --format csv
bad "resume other output" "--output" "its own file" -- "${slow[@]}" --shard 2/2 --resume "$work/r2.jsonl" --output "$work/o.jsonl"
if cmp -s "$work/r2.jsonl" "$work/r2-before.jsonl"; then ok; else fail "a refused resume changed its file"; fi

# JSON Lines for other commands: meta first, one object per row, summary last; gd streams its rows.
if "$amflow" gd --problem pair --steps 50 --every 10 --format jsonl --output "$work/gd.jsonl" &&
  "$amflow" gd --problem pair --steps 50 --every 10 --format json --output "$work/gd.json" &&
  "$py" - "$work/gd.jsonl" "$work/gd.json" <<'PY'; then ok; else fail "gd --format jsonl"; fi
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
whole = json.load(open(sys.argv[2]))
assert lines[0] == {"meta": whole["meta"]} and lines[-1] == {"summary": whole["summary"]}
assert lines[1:-1] == whole["rows"] and len(whole["rows"]) == 6
PY

echo "scale: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
