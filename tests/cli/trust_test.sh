#!/usr/bin/env bash
# End-to-end checks that amflow never prints a silently wrong number, damages nothing at --output,
# never crashes, and shows long work as it goes: one or more checks per defect of the trust audit
# (numbered as there). Usage: trust_test.sh AMFLOW
set -u
amflow="$1"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# 1. The loss keeps its relative precision as it goes to 0: at tau = 1e17 (true loss 2e-17) and
# at 50 digits at tau = 1e48; GD far out prints null with a note when the loss underflows.
"$amflow" flow --problem orthogonal --t-end 1e17 --format csv --output "$work/f.csv" 2>/dev/null
"$amflow" flow --problem orthogonal --digits 50 --times 1e12,1e48 --format csv --output "$work/f50.csv" 2>/dev/null
if "$py" - "$work/f.csv" "$work/f50.csv" <<'PY'; then ok; else fail "1: loss precision"; fi
import csv, sys
from decimal import Decimal as D, getcontext
getcontext().prec = 120
def closed_form_loss(tau):
    total = D(0)
    for p in (D(1) / 2, D(3) / 10, D(1) / 5):
        m = (3 * p * tau).ln()
        for _ in range(60):  # Newton on e^m + 2 m - 3 p tau - 1 = 0
            m -= (m.exp() + 2 * m - 3 * p * tau - 1) / (m.exp() + 2)
        total += p * (1 + 2 * (-m).exp()).ln()
    return total
for path, bound in ((sys.argv[1], D("1e-9")), (sys.argv[2], D("1e-30"))):
    rows = list(csv.DictReader(l for l in open(path) if not l.startswith("#")))
    for r in rows:
        tau = D(r["tau"])
        if tau < 1:
            continue
        exact = closed_form_loss(tau)
        assert abs(D(r["loss"]) / exact - 1) < bound, (path, r["tau"], r["loss"], exact)
PY
"$amflow" gd --problem orthogonal --eta 1e14 --steps 4 --digits 40 --format json --output "$work/g.json"
if "$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d['rows'][0]['loss'] > 1, d['rows'][0]
assert all(r['loss'] is None for r in d['rows'][1:]), d['rows']  # below MPFR's range: null, not 0
assert 'underflow' in d['summary'] and 'step 1' in d['summary']['underflow'], d['summary']
" "$work/g.json"; then ok; else fail "1: GD loss underflow is null with a note"; fi

# 2. --output never replaces what is not a regular file; links are followed. (On private copies:
# a regression must not damage the machine's /dev/null or /dev/stdout. As root, a character device
# like /dev/null made in $work; otherwise /dev/null itself, which a user cannot replace.)
null=/dev/null
if [ "$(id -u)" -eq 0 ] && mknod "$work/null" c 1 3 2>/dev/null; then null="$work/null"; fi
if "$amflow" problem show pair --output "$null" && [ -c "$null" ]; then ok; else fail "2: a device"; fi
printf 'old' >"$work/target.json"
ln -s target.json "$work/link.json"
if "$amflow" problem show pair --output "$work/link.json" && [ -L "$work/link.json" ] &&
  grep -q '"tokens"' "$work/target.json"; then ok; else fail "2: a symbolic link"; fi
mkfifo "$work/fifo"
(timeout 30 cat "$work/fifo" >"$work/from_fifo") &
reader=$!
if timeout 30 "$amflow" problem show pair --output "$work/fifo" && wait "$reader" && [ -p "$work/fifo" ] &&
  grep -q '"tokens"' "$work/from_fifo"; then ok; else fail "2: a FIFO"; fi
ln -s /proc/self/fd/1 "$work/stdout"  # what /dev/stdout is
if "$amflow" problem show pair --output "$work/stdout" >"$work/stdout.json" &&
  grep -q '"tokens"' "$work/stdout.json" && [ -L "$work/stdout" ]; then ok; else fail "2: a link to /proc/self/fd/1"; fi
printf 'keep\n' >"$work/appended"
if "$amflow" problem show pair --output /dev/fd/1 >>"$work/appended" &&
  [ "$(head -n 1 "$work/appended")" = keep ] && grep -q '"tokens"' "$work/appended"; then ok; else
  fail "2: /dev/fd/1 after >>"; fi
chmod 600 "$work/target.json"
"$amflow" problem show pair --output "$work/target.json"
if [ "$(stat -c %a "$work/target.json")" = 600 ]; then ok; else fail "2: permissions kept"; fi

# 3. The output of problem show is a problem file every command reads.
for name in orthogonal pair zipf-orthogonal underparameterized large-memory; do
  if "$amflow" problem show "$name" >"$work/$name.json" &&
    "$amflow" gd "$work/$name.json" --steps 2 --format csv >/dev/null &&
    "$amflow" flow "$work/$name.json" --t-end 1 --format csv >/dev/null &&
    "$amflow" problem check "$work/$name.json" >/dev/null; then ok; else fail "3: problem show $name"; fi
done
if "$amflow" problem show pair --resolved --digits 50 >"$work/resolved.json" &&
  "$amflow" flow "$work/resolved.json" --digits 50 --t-end 1 --format csv >/dev/null; then ok; else
  fail "3: problem show --resolved"; fi

# 4. problem check scales: N = M = d = 120 (the dense N M x N M eigenproblem would need 1.6 GB).
"$py" - "$work/big.json" <<'PY'
import json, sys
n = 120
json.dump({"tokens": n, "classes": n, "dim": n, "inputs": {"kind": "sphere", "seed": 1},
           "outputs": {"kind": "sphere", "seed": 2}, "frequencies": {"kind": "zipf", "exponent": 1},
           "target": {"kind": "identity"}, "init": {"kind": "zero"}}, open(sys.argv[1], "w"))
PY
if timeout 120 "$amflow" problem check "$work/big.json" --output "$work/big_check.json" &&
  grep -q '"sharpness_method": "Lanczos' "$work/big_check.json"; then ok; else fail "4: problem check N = 120"; fi

# 5. Deeply nested JSON: exit 2, no crash.
"$py" -c "print('[' * 100000 + ']' * 100000)" >"$work/nested.json"
expect_bad "5: nested JSON" "nested deeper than 64" -- problem check "$work/nested.json"
expect_bad "5: nested JSON (gd)" "nested deeper than 64" -- gd "$work/nested.json"
printf '{"tokens": 2, "name": [[[[1]]]], "classes": 2}' >"$work/name.json"
expect_bad "5: name must be a string" "name" "must be a string" -- gd "$work/name.json"

# 6. --threads: bad values refused; a thread limit the system imposes is survived.
expect_bad "6: negative threads" "--threads" "-1" -- sweep --problem pair --grid eta=list:1 --threads=-1
expect_bad "6: too many threads" "--threads" "5000" -- sweep --problem pair --grid eta=list:1 --threads 5000
# A process limit (RLIMIT_NPROC: enforced for users other than root, so root runs it as nobody)
# lets almost no thread start: the same bytes as one thread, and one warning line.
sweep_args=(sweep --problem pair --grid eta=logspace:-1:1:40 --steps 50 --format csv)
limited() {
  if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    setpriv --reuid=65534 --regid=65534 --clear-groups bash -c 'ulimit -u 4 && exec "$@"' bash "$@"
  else
    bash -c 'ulimit -u 1 && exec "$@"' bash "$@"
  fi
}
if "$amflow" "${sweep_args[@]}" --threads 1 >"$work/t1.csv" &&
  limited "$amflow" "${sweep_args[@]}" --threads 1000 >"$work/t1000.csv" 2>"$work/threads.err" &&
  cmp -s "$work/t1.csv" "$work/t1000.csv" && grep -q "amflow: warning: the system refused" "$work/threads.err" &&
  [ "$(wc -l <"$work/threads.err")" -eq 1 ]; then ok; else
  fail "6: --threads 1000 under a process limit: $(head -c 300 "$work/threads.err")"; fi

# 7. Rows stream: the first rows of a 10^12-step run come at once; an unwritable output is found
# before any work; progress shows on request.
start=$(date +%s)
lines=$(timeout 60 "$amflow" gd --problem pair --steps 1e12 --format csv 2>/dev/null | head -n 5 | wc -l)
if [ "$lines" -eq 5 ] && [ $(($(date +%s) - start)) -lt 30 ]; then ok; else fail "7: streaming ($lines lines)"; fi
start=$(date +%s)
timeout 60 "$amflow" gd --problem pair --steps 1e12 --output "$work/missing/x.csv" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--output = $work/missing/x.csv" "$work/stderr" &&
  [ $(($(date +%s) - start)) -lt 30 ]; then ok; else fail "7: the output path was checked late (exit $rc)"; fi
AMFLOW_PROGRESS=1 "$amflow" gd --problem pair --steps 2e7 --every 1e7 --format csv --output "$work/p.csv" 2>"$work/progress"
if grep -q "amflow gd: .* steps" "$work/progress"; then ok; else fail "7: progress: $(head -c 200 "$work/progress")"; fi

# 8. Duplicate keys are refused by their path.
printf '{"tokens": 2, "frequencies": {"kind": "uniform", "kind": "zipf"}}' >"$work/dup.json"
expect_bad "8: duplicate key" "frequencies.kind" "duplicate key" -- problem check "$work/dup.json"

# 9. sweep: integer fields, aliases on the same field, an index beyond range.
if "$amflow" sweep --problem large-memory --grid inputs.seed=list:1,2,3 --steps 20 --format csv \
  --output "$work/seeds.csv" && "$py" -c "
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith('#')))
assert [r['inputs.seed'] for r in rows] == ['1', '2', '3'], rows
assert len({r['final_loss'] for r in rows}) == 3, rows  # three different problems
" "$work/seeds.csv"; then ok; else fail "9: integer axis"; fi
expect_bad "9: integer axis takes integers" "--grid inputs.seed" "integers" -- sweep --problem large-memory --grid inputs.seed=list:1.5
expect_bad "9: alias and path" "--grid" "inputs.alpha" "same field" -- sweep --problem pair --grid alpha=list:0.5 --grid inputs.alpha=list:0.9
expect_bad "9: index beyond range" "--grid" "frequencies.p[99999999999999999999]" -- sweep --problem pair --grid 'frequencies.p[99999999999999999999]=list:1'

# 10. No exit 0 with NaN or infinity.
printf '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "explicit", "rows": [["1e200", 0], [0, "1e200"]]}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}' >"$work/huge.json"
expect_bad "10: overflowing embeddings" "inputs" "overflows" -- problem check "$work/huge.json"
# Five tokens in dimension 2: E E^T is not formed (N > 2 d), its overflow is still found.
printf '{"tokens": 5, "classes": 2, "dim": 2, "inputs": {"kind": "explicit", "rows": [[1, 0], [0, 1], [1, 1], ["1e200", 0], [0, 1]]}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "mod", "modulus": 2}, "init": {"kind": "zero"}}' >"$work/huge5.json"
expect_bad "10: overflowing embeddings, Gram matrix not formed" "inputs" "overflows" -- problem check "$work/huge5.json"
expect_bad "10: eta * steps overflows" "--eta" "1e308" -- gd --problem pair --eta 1e308

# 11. resolved reads back; a frequency that rounds to 0 is refused.
printf '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "zipf", "exponent": %s}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}' 1e6 >"$work/zipf6.json"
printf '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "zipf", "exponent": %s}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}' 1e5 >"$work/zipf5.json"
expect_bad "11: frequency underflows in double" "frequencies.exponent" "underflows" -- problem check "$work/zipf6.json"
expect_bad "11: frequency below what reads back" "frequencies.exponent" "below the smallest" -- problem check "$work/zipf6.json" --digits 50
if "$amflow" problem check "$work/zipf5.json" --digits 50 --output "$work/z5.json" && "$py" -c "
import json, sys
json.dump(json.load(open(sys.argv[1]))['resolved'], open(sys.argv[2], 'w'))" "$work/z5.json" "$work/z5r.json" &&
  "$amflow" problem check "$work/z5r.json" --digits 50 --output "$work/z5again.json" && "$py" -c "
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert a['resolved'] == b['resolved'], 'resolved differs'
assert 'e-30103' in a['resolved']['frequencies']['p'][1], a['resolved']['frequencies']['p']
" "$work/z5.json" "$work/z5again.json"; then ok; else fail "11: a 1e-30103 frequency reads back"; fi

# 12. Machine-readable outputs: numbers in number columns, booleans, nulls, escapes.
if "$amflow" verify --claim one-step-exact --claim descent-lemma --claim benign-spikes --claim pair-crossing-time \
  --format json --output "$work/v.json" && "$py" -c "
import json, sys
d = json.load(open(sys.argv[1]))
for r in d['rows']:
    for k in ('predicted', 'measured', 'error', 'tolerance'):
        assert r[k] is None or isinstance(r[k], (int, float)), (k, r[k], r['claim'])
    assert r['comparison'] in ('absolute', 'relative', 'exact', 'at least', 'greater', 'less', 'count'), r
exact = [r for r in d['rows'] if r['comparison'] == 'exact']
assert exact and all('/' in r['measured_exact'] or r['measured_exact'].lstrip('-').isdigit() for r in exact)
" "$work/v.json"; then ok; else fail "12: verify json numbers"; fi
if "$amflow" sweep --problem pair --grid eta=list:1,10 --steps 3 --format json --output "$work/s.json" && "$py" -c "
import json, sys
rows = json.load(open(sys.argv[1]))['rows']
assert all(isinstance(r['ever_perfect'], bool) for r in rows), rows
" "$work/s.json"; then ok; else fail "12: booleans in json"; fi
if "$amflow" verify --claim underparameterized --format md | grep -qF 'by Newton'"'"'s method: \|grad L\| |' &&
  "$amflow" verify --list --format latex | grep -qF 'alpha\textasciicircum{}2'; then ok; else fail "12: md and latex escapes"; fi

# 13. Echoes are bounded and keep NUL visible.
long=$("$py" -c "print('9' * 100000)")
expect_bad "13: a 100 KB value" "--eta" "bytes" -- gd --problem pair --eta "$long"
printf '{"tok\\u0000ens": 2}' >"$work/nul.json"
expect_bad "13: a NUL in a key" 'tok\x00ens' "unknown field" -- gd "$work/nul.json"

# 14. Integers out of range and empty values.
expect_bad "14: negative seed" "--seed" "-1" -- gd --problem pair --seed=-1
expect_bad "14: seed beyond 2^64" "--seed" "18446744073709551616" -- gd --problem pair --seed 18446744073709551616
expect_bad "14: steps beyond range" "--steps" "18446744073709551616" -- gd --problem pair --steps 18446744073709551616
for opt in --t-end --format --tol; do expect_bad "14: empty $opt" "$opt" "empty" -- flow --problem pair "$opt" ""; done

# 15. JSON numbers beyond double's range keep their text: normalised exactly (p = 1/4, 3/4) in
# every type; refused by name where a value itself is out of range.
printf '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "explicit", "p": [1e999, 3e999], "normalize": true}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}' >"$work/huge_p.json"
for digits in 15 50; do
  if "$amflow" gd "$work/huge_p.json" --digits "$digits" --steps 1 --format json --output "$work/huge_p.out" &&
    "$py" -c "
import json, sys
from decimal import Decimal
rows = json.load(open(sys.argv[1]), parse_float=Decimal)['rows']
assert rows[1]['m_0'] == Decimal('0.25'), rows  # one step from 0: m = eta p exactly
" "$work/huge_p.out"; then ok; else fail "15: 1e999 at $digits digits"; fi
done
printf '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"}, "init": {"kind": "explicit", "W": [[1e999, 0], [0, 1]]}}' >"$work/huge_w.json"
expect_bad "15: 1e999 in double" "init.W[0][0]" "out of range for double" -- gd "$work/huge_w.json"

# 16. Unknown commands are named.
expect_bad "16: frobnicate" "frobnicate" "problem, flow, gd" -- frobnicate
# Bare amflow prints the help (exit 0, nothing on standard error).
"$amflow" >"$work/bare.out" 2>"$work/bare"
if [ $? -eq 0 ] && grep -q "^Usage: amflow" "$work/bare.out" && [ ! -s "$work/bare" ]; then ok; else
  fail "16: bare amflow"
fi

# 17. A file name that is not UTF-8.
"$amflow" problem show pair >"$work/p$(printf '\xff').json"
if "$amflow" gd "$work/p$(printf '\xff').json" --steps 2 --format json --output "$work/nonutf.json" &&
  "$py" -c "import json, sys; json.load(open(sys.argv[1]))" "$work/nonutf.json" &&
  "$amflow" problem check "$work/p$(printf '\xff').json" --output "$work/nonutf_check.json"; then ok; else fail "17: a file name that is not UTF-8"; fi

# 18. Sizes that cannot fit, and seeds beyond range: exit 2 naming the field.
expect_bad "18: seeds" "--seeds" "9223372036854775807" -- gd --problem pair --batch 1 --seeds 9223372036854775807
printf '{"tokens": 2, "classes": 2, "dim": 100000, "inputs": {"kind": "orthonormal"}, "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}' >"$work/dim.json"
expect_bad "18: dim 100000" "dim = 100000" "GB of memory" -- gd "$work/dim.json"

# 19. Leaving a zero margin is not an oscillation.
"$amflow" gd --problem orthogonal --steps 10 --format json --output "$work/sign.json"
if "$py" -c "
import json, sys
assert json.load(open(sys.argv[1]))['summary']['transients']['margin_sign_changes'] == [0, 0, 0]
" "$work/sign.json"; then ok; else fail "19: margin sign changes from 0"; fi

# 20. Messages that say what happened.
expect_bad "20: a directory" "is a directory" -- gd "$work"
expect_bad "20: eta underflows" "--eta" "1e-400" "underflows" -- gd --problem pair --eta 1e-400
expect_bad "20: verify --list --claim" "--claim" "nope" -- verify --list --claim nope

# 21. Seeded embeddings: tests/model/random_test.cpp (the fast path gives the definition's doubles)
# and bench/scalar_bench (normals_*: time per sample).

# 22. gd --seeds has the 0-1 loss.
if "$amflow" gd --problem pair --eta 0.5 --steps 4 --batch 2 --seeds 10 --format csv | grep -v '^#' | head -n 1 |
  grep -q 'zero_one_loss,zero_one_loss_sd'; then ok; else fail "22: zero_one_loss over seeds"; fi

# 23. The error estimate is never exactly 0 after tau = 0 (a sample grid that forces the steps).
if "$amflow" flow --problem zipf-orthogonal --t-end 1 --format csv --output "$work/est.csv" && "$py" -c "
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith('#')))
assert all(float(r['margin_error']) > 0 for r in rows[1:]), [r['margin_error'] for r in rows]
" "$work/est.csv"; then ok; else fail "23: the error estimate is 0"; fi

# 24. Nothing may follow the JSON value.
"$amflow" problem show pair >"$work/trail.json"
printf '\0' >>"$work/trail.json"
expect_bad "24: a NUL after the value" "after the JSON value" -- gd "$work/trail.json"

# 25. Consistency: problem list takes --format, --steps 1e3, --help names amflow, tolerances as
# typed.
if "$amflow" problem list --format json | "$py" -c "import json, sys; assert len(json.load(sys.stdin)['rows']) == 6"; then
  ok; else fail "25: problem list --format json"; fi
if [ "$("$amflow" gd --problem pair --steps 1e3 --every 1e3 --format csv | grep -v '^#' | tail -n 1 | cut -d, -f1)" = 1000 ]; then
  ok; else fail "25: --steps 1e3"; fi
if "$amflow" --help | grep -q '^Usage: amflow '; then ok; else fail "25: --help names amflow"; fi
if "$amflow" flow --problem pair --tol 1e-9 --t-end 1 --format csv | grep -q '^# rel_tol: 1e-9$'; then ok; else
  fail "25: the tolerance as typed"; fi

echo "trust: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
