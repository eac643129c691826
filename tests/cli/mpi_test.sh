#!/usr/bin/env bash
# sweep --mpi under mpirun: the same bytes as one process (4 ranks oversubscribed, 1 rank, a shard,
# a certified grid whose cells differ in cost), and bad input said once. Usage: mpi_test.sh AMFLOW
set -u
amflow="$1"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
# OpenMPI refuses root without these (CI runs as root); containers need the copy mechanism off.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() { mpirun --oversubscribe -np "$@"; }

# authors, large: common.sh
for grid in authors large; do
  declare -n args="$grid"
  "$amflow" "${args[@]}" --format csv --output "$work/$grid.csv" || fail "$grid one process"
  for np in 4 1; do
    if mpi "$np" "$amflow" "${args[@]}" --mpi --format csv --output "$work/$grid-mpi$np.csv" &&
      cmp -s "$work/$grid.csv" "$work/$grid-mpi$np.csv"; then
      ok
    else
      fail "$grid: $np MPI ranks differ from one process"
    fi
  done
  unset -n args
done
# A shard under MPI is the shard; the certified grid (cells from 192 to 3072 bits) on 2 ranks.
"$amflow" "${authors[@]}" --shard 2/3 --format jsonl --output "$work/s.jsonl"
if mpi 3 "$amflow" "${authors[@]}" --shard 2/3 --mpi --format jsonl --output "$work/s-mpi.jsonl" &&
  cmp -s "$work/s.jsonl" "$work/s-mpi.jsonl"; then ok; else fail "a shard under MPI"; fi
certified=(sweep --problem pair --grid p0_logit=logspace:-0.5:0.5:3 --grid alpha=linspace:0.5:1:4
  --grid eta=logspace:-1:1:4 --steps 300 --certify --format csv)
"$amflow" "${certified[@]}" --output "$work/c.csv"
if mpi 2 "$amflow" "${certified[@]}" --mpi --output "$work/c-mpi.csv" && cmp -s "$work/c.csv" "$work/c-mpi.csv"; then
  ok
else
  fail "certified grid on 2 ranks"
fi
# Bad input: exit 2, said once (by rank 0), no output left.
mpi 4 "$amflow" sweep --problem pair --grid eta=list:-1 --mpi --output "$work/bad.csv" >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(grep -c '^amflow: invalid input: --grid eta' "$work/stderr")" -eq 1 ] &&
  [ ! -e "$work/bad.csv" ]; then ok; else fail "bad input under MPI: rc $rc: $(grep amflow "$work/stderr")"; fi
mpi 2 "$amflow" "${authors[@]}" --mpi --output "$work/none/x.csv" >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 2 ] && [ "$(grep -c '^amflow: invalid input: --output' "$work/stderr")" -eq 1 ]; then ok; else
  fail "unwritable output under MPI: rc $rc: $(grep amflow "$work/stderr")"
fi

echo "mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
