#!/usr/bin/env bash
# End-to-end checks of the amflow command: exit codes, one-line errors naming field and value, no
# output file left behind on failure, and a resolved problem that reads back. Usage: cli_test.sh AMFLOW
set -u
amflow="$1"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

problem() {  # problem FILE JSON
  printf '%s\n' "$2" >"$work/$1"
}

good='{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "pair", "alpha": 0.95},
 "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "explicit", "p": [0.75, 0.25]},
 "target": {"kind": "identity"}, "init": {"kind": "zero"}}'
problem good.json "$good"
problem malformed.json '{"tokens": 2, "classes": 2,, }'
problem kind.json "${good/\"pair\"/\"pear\"}"
problem row.json '{"tokens": 2, "classes": 2, "dim": 2, "inputs": {"kind": "explicit", "rows": [[1, 0], [0.5]]},
 "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}'
problem sum.json "${good/0.25]/0.2]}"
problem negative.json "${good/"[0.75, 0.25]"/"[1.25, -0.25]"}"
problem nan.json "${good/"[0.75, 0.25]"/"[\"NaN\", 0.25]"}"
problem target.json "${good/{\"kind\": \"identity\"\}/{\"kind\": \"explicit\", \"map\": [0, 2]\}}"

expect_bad "malformed JSON" "malformed.json" "line 1" -- problem check "$work/malformed.json"
expect_bad "unknown kind" "inputs.kind" "pear" -- problem check "$work/kind.json"
expect_bad "wrong row length" "inputs.rows[1]" "1 entries" -- problem check "$work/row.json"
expect_bad "p does not sum to 1" "frequencies.p" "sum to 1" -- problem check "$work/sum.json"
expect_bad "negative frequency" "frequencies.p[1]" "-0.25" -- problem check "$work/negative.json"
expect_bad "NaN frequency" "frequencies.p[0]" "NaN" -- problem check "$work/nan.json"
expect_bad "target out of range" "target.map[1]" "2" -- problem check "$work/target.json"
expect_bad "digits too small" "--digits" "9" -- problem check "$work/good.json" --digits 9
expect_bad "digits too large" "--digits" "10001" -- problem check "$work/good.json" --digits 10001
expect_bad "missing file" "problem file" "$work/none.json" -- problem check "$work/none.json"
expect_bad "unknown problem" "--problem" "nope" -- problem show nope
expect_bad "bad eta" "--eta" "-1" -- problem show pair --eta=-1
expect_bad "digits not a number" "--digits" "abc" -- problem show pair --digits abc

# Success: output written, exit 0, at 50 digits, and the resolved problem reads back.
if "$amflow" problem check "$work/good.json" --digits 50 --output "$work/out.json" 2>"$work/stderr" &&
  [ -s "$work/out.json" ] && [ ! -s "$work/stderr" ] && grep -q '"scalar": "mpfr50"' "$work/out.json"; then
  ok
else
  fail "problem check good.json: $(cat "$work/stderr")"
fi
/usr/bin/env python3 - "$work/out.json" "$work/resolved.json" <<'PY' || fail "extracting the resolved problem"
import json, sys
json.dump(json.load(open(sys.argv[1]))["resolved"], open(sys.argv[2], "w"))
PY
if "$amflow" problem check "$work/resolved.json" --digits 50 --output "$work/again.json" &&
  /usr/bin/env python3 -c "import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if a['resolved']==b['resolved'] and a['one_step']==b['one_step'] else 1)" "$work/out.json" "$work/again.json"; then
  ok
else
  fail "the resolved problem does not read back to the same problem"
fi
# One-step margins of the pair problem at 50 digits: eta (p0 - alpha p1, p1 - alpha p0) = (0.5125, -0.4625).
if /usr/bin/env python3 -c "
import json, sys
from decimal import Decimal, getcontext
getcontext().prec = 60
m = [Decimal(v) for v in json.load(open(sys.argv[1]))['one_step']['margins']]
sys.exit(0 if abs(m[0] - Decimal('0.5125')) < Decimal('1e-48') and abs(m[1] + Decimal('0.4625')) < Decimal('1e-48') else 1)
" "$work/out.json"; then ok; else fail "pair one-step margins at 50 digits"; fi

# flow: refusals (exit 2, one line naming the option and the value, no file) ...
expect_bad "flow tol below precision" "--tol" "1e-20" "15 digits" -- flow --problem orthogonal --tol 1e-20
expect_bad "flow t-end infinite" "--t-end" "inf" -- flow --problem orthogonal --t-end inf
expect_bad "flow t-end negative" "--t-end" "-5" -- flow --problem orthogonal --t-end=-5
if "$amflow" flow --problem orthogonal --digits 50 --t-end 1e12 --format json --output "$work/t.json" &&
  grep -q '"stepper":"auto"' "$work/t.json" && grep -q '"taylor_order":51' "$work/t.json" &&
  grep -q '"series_coefficients"' "$work/t.json" && ! grep -q 'rhs_evaluations' "$work/t.json" &&
  grep -q '"radau_steps":0' "$work/t.json" &&
  "$amflow" flow --problem orthogonal --t-end 1e3 --format json --output "$work/b.json" &&
  grep -q '"stepper":"auto"' "$work/b.json" &&
  "$amflow" flow --problem orthogonal --t-end 1e3 --stepper bulirsch-stoer --format json --output "$work/b.json" &&
  grep -q '"stepper":"bulirsch-stoer"' "$work/b.json"; then ok; else fail "flow auto stepper"; fi
# The error estimate's rerun (at a higher precision) leaves the reported digits alone: the rows
# without it are the same, for the Taylor stepper and for odeint's (whose function-static
# constants keep the MPFR precision of their first use), in double and in MPFR; and its rerun is
# named in the meta.
same_rows=1
for args in "--digits 25 --stepper bulirsch-stoer" "--digits 25 --stepper taylor" \
  "--digits 15 --stepper dopri5" "--digits 30 --stepper rk4 --step 0.01"; do
  # shellcheck disable=SC2086
  "$amflow" flow --problem pair --t-end 5 $args --format csv | grep -v '^#' | cut -d, -f1-5 >"$work/with.csv" &&
    "$amflow" flow --problem pair --t-end 5 $args --error-estimate none --format csv | grep -v '^#' >"$work/without.csv" &&
    [ "$(wc -l <"$work/with.csv")" -eq 12 ] && cmp -s "$work/with.csv" "$work/without.csv" || {
    same_rows=0
    echo "rows differ with the estimate: $args"
  }
done
if [ $same_rows = 1 ] && "$amflow" flow --problem pair --digits 25 --t-end 5 --format csv |
  grep -qF '# error_estimate: |this run - a rerun by the same stepper (auto) in MPFR at 35 digits' &&
  "$amflow" flow --problem pair --digits 25 --t-end 5 --stepper taylor --format csv |
  grep -qF '# error_estimate: |this run - a rerun by the Taylor stepper in MPFR at 35 digits'; then
  ok
else
  fail "flow error estimate leaves the rows alone"
fi
# gd --rule: the meta names the rule with its parameters as typed and the space it ran in; Adam
# with betas (0, 0) and epsilon 0 prints the rows of sign descent.
if "$amflow" gd --problem pair --rule adam --beta1 0 --beta2 0 --epsilon 0 --steps 20 --format csv >"$work/adam.csv" &&
  "$amflow" gd --problem pair --rule sign --steps 20 --format csv >"$work/sign.csv" &&
  grep -qF '# rule: adam (beta1 = 0, beta2 = 0, epsilon = 0, bias correction on)' "$work/adam.csv" &&
  grep -qF '# space: weights (auto: the rule adam is not linear and runs on W, d x d)' "$work/adam.csv" &&
  cmp -s <(grep -v '^#' "$work/adam.csv") <(grep -v '^#' "$work/sign.csv") &&
  [ "$(grep -vc '^#' "$work/sign.csv")" -eq 22 ] &&
  "$amflow" gd --problem pair --steps 2 --format csv | grep -qF '# space: particle (auto: N x M logits; 8 multiplications per step in particle coordinates, 32 in W)' &&
  "$amflow" gd --problem pair --rule nesterov --momentum 1/2 --steps 2 --format csv | grep -qF '# rule: nesterov (mu = 1/2)'; then
  ok
else
  fail "gd rules: meta and adam(0, 0) = sign"
fi
# Momentum runs in particle coordinates by default, and on W to the same rows up to rounding;
# flow --rule momentum is the gradient flow at speed 1 / (1 - mu): its margins at tau are those
# of the plain flow at 4 tau for mu = 3/4; compare --rule momentum measures order 1.
if "$amflow" gd --problem pair --rule momentum --steps 2 --format csv | grep -qF '# space: particle (auto: N x M logits; 8 multiplications per step in particle coordinates, 32 in W)' &&
  "$amflow" flow --problem orthogonal --rule momentum --momentum 3/4 --times 0,1,2 --format csv >"$work/mflow.csv" &&
  "$amflow" flow --problem orthogonal --times 0,4,8 --format csv >"$work/pflow.csv" &&
  grep -qF '# system: the limit of momentum with mu = 3/4' "$work/mflow.csv" &&
  cmp -s <(grep -v '^#' "$work/mflow.csv" | cut -d, -f2-6) <(grep -v '^#' "$work/pflow.csv" | cut -d, -f2-6) &&
  [ "$(grep -v '^#' "$work/mflow.csv" | sed -n 3p | cut -d, -f1)" = "1.0000000000000000e+00" ] &&
  "$amflow" compare --problem pair --rule momentum --momentum 1/2 --etas list:1/128,1/256 --format csv >"$work/mcmp.csv" &&
  /usr/bin/python3 - "$work/mcmp.csv" <<'PY'
import csv, math, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith('#'))]
a, b = (float(r['final_margin_error']) for r in rows)
assert abs(math.log2(a / b) - 1) < 0.05, (a, b)
assert 'modified_max_margin_error' not in rows[0]
PY
then
  ok
else
  fail "momentum: particle space, flow --rule momentum, compare --rule momentum"
fi
# gd --layer-norm: the meta says the head and the space; margins of the orthogonal problem rise
# to sqrt(3/2) and no further.
if "$amflow" gd --problem orthogonal --layer-norm --eta 100 --steps 1000 --every 1000 --format csv >"$work/ln.csv" &&
  grep -qF '# head: layer norm: logits u_y . W e_x / sqrt(|W e_x|^2 + 1e-5)' "$work/ln.csv" &&
  grep -qF '# space: weights (auto: with layer norm the logits are not linear in W)' "$work/ln.csv" &&
  /usr/bin/python3 - "$work/ln.csv" <<'PY'
import csv, math, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith('#'))]
for x in range(3):
    m = float(rows[-1]['m_%d' % x])
    assert 0 < math.sqrt(1.5) - m < 1e-9, m
PY
then
  ok
else
  fail "gd --layer-norm"
fi
# amflow scaling: sign descent's counts in closed form (the first k with log(1 + (N - 1)
# e^{-2 eta k}) <= target), GD's from the reduced run, a fitted exponent per rule in the summary.
if "$amflow" scaling --rules gd,sign --sizes list:10,100 --eta 0.1 --target 0.1 --format csv >"$work/scaling.csv" &&
  /usr/bin/python3 - "$work/scaling.csv" <<'PY'
import csv, math, sys
lines = open(sys.argv[1]).read().splitlines()
rows = list(csv.DictReader(l for l in lines if not l.startswith('#')))
assert [(r['rule'], r['N']) for r in rows] == [('gd', '10'), ('gd', '100'), ('sign', '10'), ('sign', '100')], rows
for r in rows:
    if r['rule'] == 'sign':
        n = int(r['N'])
        k = math.ceil(math.log((n - 1) / math.expm1(0.1)) / 0.2)
        assert int(r['steps_all_classes']) == k, (r, k)
summary = {l.split(': ')[0][2:]: l.split(': ')[1] for l in lines if l.startswith('# exponent_')}
assert 1.1 < float(summary['exponent_gd_all_classes']) < 1.5, summary
assert float(summary['exponent_sign_all_classes']) < 0.3, summary
PY
then
  ok
else
  fail "amflow scaling"
fi
# flow --rule sign: the sign flow; margins 2 tau on axis-aligned embeddings, and on the pair
# problem exit 1 at the time it stops being defined (0.63521735637164...).
if "$amflow" flow --problem orthogonal --rule sign --times list:0,1,5 --format csv >"$work/sf.csv" &&
  [ "$(grep -v '^#' "$work/sf.csv" | tail -1 | cut -d, -f4-6)" = "1.0000000000000000e+01,1.0000000000000000e+01,1.0000000000000000e+01" ] &&
  grep -qF '# events: 0' "$work/sf.csv"; then
  "$amflow" flow --problem pair --rule sign --times list:0,1 --format csv >/dev/null 2>"$work/sf.err"
  if [ $? -eq 1 ] && grep -qF 'not defined past tau = 6.352173563716' "$work/sf.err"; then ok; else fail "flow --rule sign on the pair"; fi
else
  fail "flow --rule sign on orthogonal"
fi
# sweep --rule with the rule's parameters as axes: the meta names them "grid", and a cell is the
# gd run with those parameters.
if "$amflow" sweep --problem pair --rule adam --grid beta1=list:0,0.9 --steps 30 --format csv >"$work/sr.csv" &&
  grep -qF '# rule: adam (beta1 = grid, beta2 = 0.999, epsilon = 1e-8, bias correction on)' "$work/sr.csv" &&
  [ "$(grep -v '^#' "$work/sr.csv" | sed -n 3p | cut -d, -f9)" = \
    "$("$amflow" gd --problem pair --rule adam --beta1 0.9 --steps 30 --every 30 --format csv | grep -v '^#' | tail -1 | cut -d, -f3)" ]; then
  ok
else
  fail "sweep over a rule parameter"
fi
# gd --param factorised:R: the meta says so, the summary has the balancedness drift, which halves
# with eta at a fixed time tau (O(eta^2) per step), and a problem with W0 != 0 is refused before
# any output.
d1=$("$amflow" gd --problem large-memory --param factorised:3 --eta 0.1 --steps 100 --format csv | sed -n 's/^# balancedness_drift: //p')
d2=$("$amflow" gd --problem large-memory --param factorised:3 --eta 0.05 --steps 200 --format csv | sed -n 's/^# balancedness_drift: //p')
"$amflow" problem show large-memory | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
d["init"] = {"kind": "gaussian", "scale": "0.1", "seed": 3}
json.dump(d, sys.stdout)' >"$work/lm.json"
if [ -n "$d1" ] && [ -n "$d2" ] && /usr/bin/python3 -c "import sys; r = float('$d1') / float('$d2'); sys.exit(0 if 1.9 < r < 2.1 else 1)" &&
  "$amflow" gd --problem large-memory --param factorised:3 --steps 1 --format csv | grep -qF '# param: factorised: W = A B, A d x 3' &&
  ! "$amflow" gd "$work/lm.json" --param factorised:2 --format csv >"$work/lm.out" 2>/dev/null && [ ! -s "$work/lm.out" ]; then
  ok
else
  fail "gd factorised: meta, balancedness drift $d1 / $d2, W0 refused"
fi
if "$amflow" flow --problem pair --digits 30 --modified-eta 0.5 --t-end 2 --format json --output "$work/m.json" &&
  grep -q '"stepper":"auto"' "$work/m.json" && grep -q '"radau_steps":0' "$work/m.json" &&
  ! "$amflow" flow --problem pair --modified-eta 0.5 --stepper radau --t-end 2 2>/dev/null; then
  ok
else
  fail "flow modified flow by taylor (auto), refused by radau"
fi
# limits: the pair's hard margin (|W_hat|^2 = 1 / (1 - 0.95) = 20) and angle constant (log 3 / 2
# sqrt(0.05 / 1.95) = 0.08795937876600292658890292644805..., mpmath), the under-parameterised
# minimiser with eta_c, the mixed problem's split (m* = log 2 = 0.693147180559945309417232, L_J* =
# log(3/2) / 2 + log(3) / 4 = 0.477385626221109..., |W_hat_S|^2 = 2/3), a bad name exit 2.
"$amflow" limits --problem pair --digits 30 --format csv > "$work/pair-limits.csv"
"$amflow" limits --problem mixed --digits 30 --format csv > "$work/mixed-limits.csv"
if grep -q '^norm2,,,1.99999999999999999999999999999' "$work/pair-limits.csv" &&
  grep -q '^angle_constant,,,8.795937876600292658890292644' "$work/pair-limits.csv" &&
  "$amflow" limits --problem underparameterized --format csv | grep -q '^eta_c,,,6.25106335' &&
  grep -q '^converging_margin,0,1,6.9314718055994530941723212' "$work/mixed-limits.csv" &&
  grep -q '^loss_limit,,,4.773856262211' "$work/mixed-limits.csv" &&
  grep -q '^norm2,,,6.666666666666666666666666666' "$work/mixed-limits.csv"; then
  ok
else
  fail "limits: hard margin, minimiser, split"
fi
expect_bad "limits unknown problem" "--problem" "nope" -- limits --problem nope
# Far time on a converging problem: auto hands over to Radau IIA and reaches 1e15 in well under a
# second's worth of steps, its estimate within the tolerance.
if "$amflow" flow --problem underparameterized --digits 50 --t-end 1e15 --format json --output "$work/u.json" &&
  /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
ok = s["radau_steps"] > 0 and s["steps"] < 200 and float(s["max_margin_error"]) < 1e-43
ok = ok and abs(d["rows"][-1]["tau"] - 1e15) < 1 and d["meta"]["stepper"] == "auto"
sys.exit(0 if ok else 1)' "$work/u.json"; then ok; else fail "flow far time on a converging problem"; fi
expect_bad "flow unknown stepper" "--stepper" "euler" -- flow --problem orthogonal --stepper euler
expect_bad "flow times not increasing" "--times" "0.5" -- flow --problem orthogonal --times 1,0.5
expect_bad "flow times spec" "--times" "logspace:0:1" -- flow --problem orthogonal --times logspace:0:1
expect_bad "flow time variable" "--time" "cubic" -- flow --problem orthogonal --time cubic
expect_bad "flow modified eta" "--modified-eta" "-1" -- flow --problem pair --modified-eta=-1
expect_bad "flow bad problem" "inputs.kind" "pear" -- flow "$work/kind.json"
# ... a run that cannot finish (exit 1, says why and where, no file) ...
rm -f "$work/out.csv"
"$amflow" flow --problem orthogonal --t-end 1e12 --max-steps 5 --output "$work/out.csv" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "step limit (5)" "$work/stderr" && grep -q "tau = " "$work/stderr" &&
  [ ! -e "$work/out.csv" ]; then ok; else fail "flow step limit: exit $rc, $(cat "$work/stderr")"; fi
# ... and a run whose margins match the closed form e^m + 2 m = 3 p tau + 1 (P1) at 40 digits.
if "$amflow" flow --problem orthogonal --digits 40 --times 1,1e6 --tol 1e-35 --format csv \
  --output "$work/flow.csv" 2>"$work/stderr" && /usr/bin/env python3 - "$work/flow.csv" <<'PY'; then ok; else fail "flow closed form: $(cat "$work/stderr")"; fi
import csv, sys
from decimal import Decimal, getcontext
getcontext().prec = 60
rows = list(csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#")))
head, rows = rows[0], rows[1:]
assert head[:6] == ["tau", "loss", "zero_one_loss", "m_0", "m_1", "m_2"], head
assert head[-2:] == ["margin_error", "loss_error"], head
assert len(rows) == 2, rows
for row in rows:
    tau = Decimal(row[0])
    for x, p in enumerate([Decimal(1) / 2, Decimal(3) / 10, Decimal(1) / 5]):
        m = Decimal(row[3 + x])
        residual = (m.exp() + 2 * m - 3 * p * tau - 1) / (3 * p * tau + 1)
        assert abs(residual) < Decimal("1e-33"), (row[0], x, residual)
    assert Decimal(row[-2]) < Decimal("1e-33"), row[-2]
PY

# gd, compare, sweep: refusals ...
expect_bad "gd eta zero" "--eta" "0" -- gd --problem pair --eta 0
expect_bad "gd eta NaN" "--eta" "nan" -- gd --problem pair --eta nan
expect_bad "gd steps" "--steps" "0" -- gd --problem pair --steps 0
expect_bad "gd space" "--space" "dual" -- gd --problem pair --space dual
expect_bad "gd rule" "--rule" "lion" -- gd --problem pair --rule lion
expect_bad "gd rule in particle space" "--space" "particle" "sign" -- gd --problem pair --rule sign --space particle
expect_bad "flow rule without a flow limit" "--rule" "adam" "no flow limit" -- flow --problem pair --rule adam
expect_bad "flow sign with a tolerance" "--tol" "1e-8" "piecewise linear" -- flow --problem pair --rule sign --tol 1e-8
expect_bad "flow modified eta of momentum" "--modified-eta" "0.1" -- flow --problem pair --rule momentum --modified-eta 0.1
expect_bad "compare rule without a flow limit" "--rule" "adam" -- compare --problem pair --rule adam
expect_bad "compare momentum against modified" "--against" "both" -- compare --problem pair --rule momentum --against both
expect_bad "compare momentum range" "--momentum" "1.5" -- compare --problem pair --rule momentum --momentum 1.5
expect_bad "gd layer norm epsilon without layer norm" "--layer-norm-epsilon" "0.1" -- gd --problem pair --layer-norm-epsilon 0.1
expect_bad "gd layer norm epsilon" "--layer-norm-epsilon" "0" "positive" -- gd --problem pair --layer-norm --layer-norm-epsilon 0
expect_bad "gd layer norm in particle space" "--space" "particle" "layer norm" -- gd --problem pair --layer-norm --space particle
expect_bad "gd layer norm sharpness" "--sharpness" "layer norm" -- gd --problem pair --layer-norm --sharpness
expect_bad "gd layer norm certify" "--layer-norm" "--certify" -- gd --problem pair --layer-norm --certify
expect_bad "scaling rule with a global norm" "--rules" "normalized" -- scaling --rules normalized
expect_bad "scaling sizes" "--sizes" "list:2.5" -- scaling --sizes list:2.5
expect_bad "scaling sizes order" "--sizes" "list:20,10" -- scaling --sizes list:20,10
expect_bad "scaling parameter of no rule" "--beta1" "0.5" -- scaling --rules gd,sign --beta1 0.5
expect_bad "scaling digits" "--digits" "30" "double" -- scaling --digits 30
expect_bad "scaling target" "--target" "-1" -- scaling --target=-1
printf '{"A": [["0.1", "0"], ["0", "0.2"]], "B": [["1", "0"], ["0", "1"]]}' >"$work/factors.json"
printf '{"A": [["0.1"], ["0"]], "B": [["1", "0"]], "C": 1}' >"$work/factors_extra.json"
expect_bad "gd factor init shape" "--factor-init" "A[0]" "row length must be 1" -- gd --problem pair --param factorised:1 --factor-init "$work/factors.json"
expect_bad "gd factor init key" "--factor-init" "C" -- gd --problem pair --param factorised:1 --factor-init "$work/factors_extra.json"
expect_bad "gd factor init without factors" "--factor-init" "factorised" -- gd --problem pair --factor-init "$work/factors.json"
expect_bad "gd factor init with a seed" "--factor-init" "--factor-seed" -- gd --problem pair --param factorised:2 --factor-init "$work/factors.json" --factor-seed 3
expect_bad "gd parameter of another rule" "--beta1" "0.5" "--rule gd" -- gd --problem pair --beta1 0.5
expect_bad "gd momentum range" "--momentum" "1" "[0, 1)" -- gd --problem pair --rule momentum --momentum 1
expect_bad "gd adam epsilon" "--epsilon" "-1" -- gd --problem pair --rule adam --epsilon -1
expect_bad "gd bias correction" "--bias-correction" "yes" -- gd --problem pair --rule adam --bias-correction yes
expect_bad "gd certify rule" "--rule" "adam" -- gd --problem pair --certify --rule adam
expect_bad "gd param" "--param" "lowrank" -- gd --problem pair --param lowrank
expect_bad "gd param rank" "--param" "0" -- gd --problem pair --param factorised:0
expect_bad "gd factor flag without factors" "--balanced" -- gd --problem pair --balanced
expect_bad "gd factors in particle space" "--space" "particle" -- gd --problem pair --param factorised:2 --space particle
expect_bad "gd factor scale" "--factor-scale" "-1" -- gd --problem pair --param factorised:2 --factor-scale -1
expect_bad "gd factors sharpness" "--sharpness" "A and B" -- gd --problem pair --param factorised:2 --sharpness
expect_bad "sweep axis of another rule" "--grid" "beta1" "no such parameter" -- sweep --problem pair --grid beta1=list:0.5
expect_bad "sweep rule axis range" "--grid momentum" "[0, 1)" -- sweep --problem pair --rule momentum --grid momentum=list:0.5,1
expect_bad "sweep certify rule" "--certify" "rule gd" -- sweep --problem pair --rule sign --grid eta=list:1 --certify
expect_bad "gd seeds without batch" "--seeds" "4" -- gd --problem pair --seeds 4
expect_bad "gd bad problem" "frequencies.p" "sum to 1" -- gd "$work/sum.json"
expect_bad "compare eta above t-end" "--etas" "8" -- compare --problem pair --etas 8,4 --t-end 2
expect_bad "compare against" "--against" "euler" -- compare --problem pair --against euler
expect_bad "compare tol below precision" "--tol" "1e-30" "15 digits" -- compare --problem pair --tol 1e-30
expect_bad "compare tol zero" "--tol" "0" "positive" -- compare --problem pair --tol 0
expect_bad "compare rk4" "--stepper" "rk4" -- compare --problem pair --stepper rk4
expect_bad "sweep unknown field" "--grid" "inputs.alfa" -- sweep --problem pair --grid inputs.alfa=list:0.5
expect_bad "sweep spec" "--grid eta" "logspace:0:1" -- sweep --problem pair --grid eta=logspace:0:1
expect_bad "sweep no value" "--grid" "eta" -- sweep --problem pair --grid eta
expect_bad "sweep alpha out of range" "inputs.alpha" "1.5" -- sweep --problem pair --grid alpha=list:0.5,1.5

# ... gd: the one-step margins of the pair problem, eta (p0 - alpha p1, p1 - alpha p0) (P7), and
# the spike experiment's transients in the JSON meta (P8) ...
if "$amflow" gd --problem pair --eta 10 --steps 34 --format json --output "$work/gd.json" 2>"$work/stderr" &&
  /usr/bin/env python3 - "$work/gd.json" <<'PY'; then ok; else fail "gd pair: $(cat "$work/stderr")"; fi
import json, sys
from decimal import Decimal
d = json.load(open(sys.argv[1]), parse_float=Decimal)
rows = d["rows"]
assert len(rows) == 35, len(rows)
one = rows[1]
assert abs(one["m_0"] - Decimal("10") * (Decimal("0.75") - Decimal("0.95") * Decimal("0.25"))) < Decimal("1e-14"), one
assert abs(one["m_1"] - Decimal("10") * (Decimal("0.25") - Decimal("0.95") * Decimal("0.75"))) < Decimal("1e-14"), one
t = d["summary"]["transients"]
assert Decimal(t["max_loss"]) > Decimal("0.6932") and t["loss_increases"] > 0 and len(t["spikes"]) > 3, t
assert rows[-1]["zero_one_loss"] == 0, rows[-1]
PY

# ... gd --sharpness: at W0 = 0 the pair problem's sharpness is (1 + sqrt(1 - 4 p0 p1 (1 - alpha^2))) / 4 (P7).
if "$amflow" gd --problem pair --digits 30 --eta 1 --steps 1 --sharpness --format csv --output "$work/sharp.csv" &&
  /usr/bin/env python3 - "$work/sharp.csv" <<'PY'; then ok; else fail "gd sharpness"; fi
import csv, sys
from decimal import Decimal, getcontext
getcontext().prec = 40
rows = list(csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#")))
head, first = rows[0], rows[1]
assert head[-3:] == ["sharpness", "sharpness_error", "eta_sharpness_half"], head
p0, p1, a = Decimal("0.75"), Decimal("0.25"), Decimal("0.95")
exact = (1 + (1 - 4 * p0 * p1 * (1 - a * a)).sqrt()) / 4
assert abs(Decimal(first[head.index("sharpness")]) - exact) < Decimal("1e-27"), (first, exact)
assert Decimal(first[head.index("sharpness_error")]) < Decimal("1e-27"), first
PY

# ... compare: first order against the flow, second against the modified flow ...
if "$amflow" compare --problem pair --etas list:1/8,1/16,1/32 --t-end 2 --format csv --output "$work/cmp.csv" &&
  /usr/bin/env python3 - "$work/cmp.csv" <<'PY'; then ok; else fail "compare orders"; fi
import csv, sys
rows = list(csv.DictReader(l for l in open(sys.argv[1]) if not l.startswith("#")))
assert [r["steps"] for r in rows] == ["16", "32", "64"], rows
for r in rows[1:]:
    assert 0.9 < float(r["observed_order"]) < 1.1, r
    assert 1.9 < float(r["modified_observed_order"]) < 2.1, r
PY

# ... sweep: the same bytes with 1 and 2 threads, one row per cell in grid order ...
sweep_args=(sweep --problem pair --grid alpha=linspace:0.5:1:5 --grid eta=logspace:-1:1:4 --steps 200 --format csv)
if "$amflow" "${sweep_args[@]}" --threads 1 --output "$work/s1.csv" &&
  "$amflow" "${sweep_args[@]}" --threads 2 --output "$work/s2.csv" && cmp -s "$work/s1.csv" "$work/s2.csv" &&
  [ "$(grep -vc '^#' "$work/s1.csv")" -eq 21 ]; then ok; else fail "sweep threads"; fi

# ... gd --seeds: the SGD mean is the same whatever the thread count.
if "$amflow" gd --problem pair --eta 0.5 --steps 20 --batch 4 --seeds 8 --threads 1 --format csv --output "$work/m1.csv" &&
  "$amflow" gd --problem pair --eta 0.5 --steps 20 --batch 4 --seeds 8 --threads 2 --format csv --output "$work/m2.csv" &&
  cmp -s "$work/m1.csv" "$work/m2.csv"; then ok; else fail "sgd mean threads"; fi

# verify: refusals, and two exact claims that pass (csv with the contract's columns).
expect_bad "verify unknown claim" "--claim" "no-such-claim" -- verify --claim no-such-claim
expect_bad "verify too few digits" "--digits" "30" "50 digits" -- verify --digits 30
if "$amflow" verify --claim one-step-exact --claim pair-one-step --format csv --output "$work/v.csv" &&
  /usr/bin/env python3 - "$work/v.csv" <<'PY'; then ok; else fail "verify exact claims"; fi
import csv, sys
rows = list(csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#")))
head = rows[0]
assert head[:7] == ["claim", "setting", "comparison", "predicted", "measured", "error", "tolerance"], head
assert len(rows) == 1 + 6 + 3, len(rows)
status, error, how = head.index("status"), head.index("error"), head.index("comparison")
assert all(r[status] == "PASS" and float(r[error]) == 0 and r[how] == "exact" for r in rows[1:]), rows
PY

# enclose: bounds that bracket the flow's values, the crossing in the meta, refusals, and no
# output (exit 1) when the problem cannot be certified.
expect_bad "enclose irrational time" "--times" "irrational" -- enclose --problem pair --times logspace:0:1:3
expect_bad "enclose times order" "--times" "increase" -- enclose --problem pair --times 2,1
expect_bad "enclose t-end" "--t-end" "positive" -- enclose --problem pair --t-end 0
problem big.json '{"tokens": 21, "classes": 21, "dim": 21, "inputs": {"kind": "orthonormal"},
 "outputs": {"kind": "orthonormal"}, "frequencies": {"kind": "uniform"}, "target": {"kind": "identity"}, "init": {"kind": "zero"}}'
expect_bad "enclose too large" "tokens" "21 x 21" -- enclose "$work/big.json" --digits 20
rm -f "$work/enc.json"
if "$amflow" enclose --problem underparameterized --digits 20 --output "$work/enc.json" 2>"$work/stderr"; then
  fail "enclose underparameterized: exit 0"
else
  rc=$?
  if [ "$rc" -eq 1 ] && grep -q "cannot certify" "$work/stderr" && [ ! -e "$work/enc.json" ]; then ok; else
    fail "enclose underparameterized: rc $rc, $(head -c 300 "$work/stderr")"; fi
fi
if "$amflow" enclose --problem pair --digits 30 --times 0,1/3,10,1e15 --crossings --format json --output "$work/enc.json" &&
  "$amflow" flow --problem pair --digits 40 --times 0,1/3,10,1e15 --format json --output "$work/flow.json" &&
  "$py" - "$work/enc.json" "$work/flow.json" <<'PY'; then ok; else fail "enclose pair"; fi
import json, sys
from decimal import Decimal, getcontext
getcontext().prec = 60
enc, flow = (json.load(open(f), parse_float=Decimal) for f in sys.argv[1:])
assert enc["meta"]["certified"] is True
assert len(enc["rows"]) == 4
for e, f in zip(enc["rows"], flow["rows"]):
    for name in ["loss", "m_0", "m_1"]:
        lo, hi, v = Decimal(e[name + "_lo"]), Decimal(e[name + "_hi"]), Decimal(f[name])
        err = Decimal(f["margin_error" if name != "loss" else "loss_error"]) + Decimal("1e-39")
        assert lo <= hi and hi - lo < Decimal("1e-25"), (name, lo, hi)
        assert lo - err <= v <= hi + err, (name, lo, v, hi)
(c,) = enc["meta"]["crossings"]
assert c["token"] == 1 and c["direction"] == "up" and c["unique"], c
assert Decimal("52.1166") < Decimal(c["lo"]) <= Decimal(c["hi"]) < Decimal("52.1167"), c
(t,) = enc["meta"]["turns"]
assert t["kind"] == "minimum" and Decimal("6.98") < Decimal(t["lo"]) < Decimal("7"), t
assert enc["meta"]["events_complete"] is True
PY

# gd --certify: bounds around the 50-digit run, the same transients, refusals of what it does not do.
expect_bad "certify batch" "--batch" "full-batch" -- gd --problem pair --certify --batch 4
if "$amflow" gd --problem pair --eta 10 --steps 34 --certify --sharpness --digits 40 --format json --output "$work/cs1.json" &&
  "$amflow" gd --problem pair --eta 10 --steps 34 --sharpness --digits 60 --format json --output "$work/cs2.json" &&
  "$py" - "$work/cs1.json" "$work/cs2.json" <<'PY'; then ok; else fail "gd --certify --sharpness"; fi
import json, sys
from decimal import Decimal
cert, plain = (json.load(open(f), parse_float=Decimal) for f in sys.argv[1:])
for c, p in zip(cert["rows"], plain["rows"]):
    assert Decimal(c["sharpness_lo"]) <= Decimal(p["sharpness"]) <= Decimal(c["sharpness_hi"]), c["step"]
    assert Decimal(c["sharpness_hi"]) - Decimal(c["sharpness_lo"]) < Decimal("1e-20"), c["step"]
PY
expect_bad "certify space" "--space" "particle" -- gd --problem pair --certify --space weights
expect_bad "certify eta" "--eta" "positive" -- gd --problem pair --certify --eta 0
if "$amflow" gd --problem large-memory --eta 3 --steps 40 --certify --digits 40 --format json --output "$work/cg.json" &&
  "$amflow" gd --problem large-memory --eta 3 --steps 40 --digits 60 --format json --output "$work/g.json" &&
  "$py" - "$work/cg.json" "$work/g.json" <<'PY'; then ok; else fail "gd --certify"; fi
import json, sys
from decimal import Decimal
cert, plain = (json.load(open(f), parse_float=Decimal) for f in sys.argv[1:])
assert cert["meta"]["certified"] is True and len(cert["rows"]) == 41
for c, p in zip(cert["rows"], plain["rows"]):
    assert c["step"] == p["step"] and Decimal(c["tau"]) == Decimal(p["tau"])
    for name in ["loss"] + ["m_%d" % x for x in range(5)]:
        assert Decimal(c[name + "_lo"]) <= Decimal(p[name]) <= Decimal(c[name + "_hi"]), (c["step"], name)
    if c["zero_one_loss_lo"] is not None:
        assert Decimal(c["zero_one_loss_lo"]) <= Decimal(p["zero_one_loss"]) <= Decimal(c["zero_one_loss_hi"])
    assert c["perfect"] in ("yes", "no", "undecided")
t, u = cert["summary"]["transients"], plain["summary"]["transients"]
assert len(t["loss_increases"]) + len(t["undecided_increases"]) >= u["loss_increases"] >= len(t["loss_increases"])
if t["first_perfect_decided"] == "yes":
    assert t["first_perfect_step"] == u["first_perfect_step"]
PY

# sweep --certify: a certified column on every cell (the authors' grid corner: all decided, equal).
expect_bad "certify sgd sweep" "--certify" "full-batch" -- sweep --problem pair --grid eta=list:1 --batch 4 --certify
if "$amflow" sweep --problem pair --grid p0_logit=logspace:-0.5:0.5:3 --grid alpha=linspace:0.5:1:3 \
  --grid eta=logspace:-1:1:3 --steps 1000 --certify --format csv --output "$work/cs.csv" &&
  "$py" - "$work/cs.csv" <<'PY'; then ok; else fail "sweep --certify"; fi
import csv, sys
rows = list(csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#")))
head = rows[0]
c, b = head.index("certified"), head.index("certified_bits")
assert len(rows) == 28 and all(r[c] == "yes" and int(r[b]) >= 192 for r in rows[1:]), rows
assert "# certified_yes: 27" in open(sys.argv[1]).read()
PY

# flow --timing: the integration's own time in the summary, only when asked (outputs stay the same
# bytes from run to run otherwise).
if "$amflow" flow --problem pair --times list:10 --timing --format json --output "$work/t.json" &&
  "$amflow" flow --problem pair --times list:10 --format json --output "$work/u.json" &&
  "$py" - "$work/t.json" "$work/u.json" <<'PY'; then ok; else fail "flow --timing"; fi
import json, sys
t, u = (json.load(open(f)) for f in sys.argv[1:])
assert isinstance(t["summary"]["seconds"], float) and 0 <= t["summary"]["seconds"] < 60, t["summary"]
assert "seconds" not in u["summary"] and t["rows"] == u["rows"]
PY

for cmd in "--help" "--version" "problem --help" "problem show --help" "problem list" "flow --help" \
  "gd --help" "compare --help" "sweep --help" "verify --help" "verify --list" "enclose --help" \
  "landscape --help" "figures --help" "merge --help"; do
  # shellcheck disable=SC2086
  if "$amflow" $cmd >"$work/stdout" 2>&1 && [ -s "$work/stdout" ]; then ok; else fail "amflow $cmd"; fi
done

# A newcomer's mistakes: suggestions for near misses, the help wherever it is asked for.
expect_bad "misspelt command" "flwo" "did you mean flow?" -- flwo --problem pair
expect_bad "misspelt option" "--probelm" "did you mean --problem?" -- gd --probelm pair
expect_bad "misspelt problem" "--problem" "piar" "did you mean pair?" -- gd --problem piar
problem keyed.json "${good/frequencies/frequences}"
expect_bad "misspelt key" "frequences" "did you mean frequencies?" -- problem check "$work/keyed.json"
expect_bad "a problem's name given as a file" "pair" "built-in problem" "--problem pair" -- gd pair
expect_bad "verify a claim's prefix" "--claim" "pair-one-step" "pair-crossing-time" -- verify --claim pair
expect_bad "scaling refuses normalized" "--rules" "normalized" "gd, momentum, nesterov, sign or adam" -- scaling --rules gd,normalized
"$amflow" figures --quick >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- '--output = (missing): give the directory' "$work/stderr"; then ok; else
  fail "figures without --output: exit $rc: $(head -c 200 "$work/stderr")"
fi
for words in "" "help" "help gd" "gd --help --eta" "gd --eta --help" "help problem show"; do
  # shellcheck disable=SC2086
  if "$amflow" $words >"$work/stdout" 2>"$work/stderr" && grep -q "^Usage: amflow" "$work/stdout" &&
    [ ! -s "$work/stderr" ]; then ok; else fail "amflow $words: not the help: $(head -c 200 "$work/stderr")"; fi
done
"$amflow" help gd | grep -q "^Usage: amflow gd" && ok || fail "amflow help gd: not gd's help"
# Help lines fit 100 columns (COLUMNS=60: 60), whatever the option's text.
if COLUMNS=60 "$amflow" gd --help >"$work/help60" && "$amflow" sweep --help >"$work/help100" &&
  [ "$(awk '{ if (length($0) > n) n = length($0) } END { print n }' "$work/help60")" -le 60 ] &&
  [ "$(awk '{ if (length($0) > n) n = length($0) } END { print n }' "$work/help100")" -le 100 ]; then
  ok
else
  fail "help wider than the terminal"
fi
# figures --help names every figure of the registry (the list --only prints), in its order.
"$amflow" figures --only bogus --output "$work/figs" 2>"$work/stderr"
listed=$(sed -n 's/.*(figures: \(.*\))$/\1/p' "$work/stderr")
help=$("$amflow" figures --help | tr -s ' \n' ' ' | sed -n 's/.*comma-separated (\([^)]*\)).*/\1/p')
[ -n "$listed" ] && [ "$listed" = "$help" ] && ok || fail "figures --help lists ($help), the registry ($listed)"
# problem show offers only the format it writes.
"$amflow" problem show --help | grep -A1 -- "--format" | grep -q "csv" && fail "problem show --help offers csv" || ok
expect_bad "problem show in csv" "--format" "csv" "only json" -- problem show pair --format csv
# MPFR below 34 digits says what it costs, in the help and the meta.
"$amflow" gd --help | tr -s ' \n' ' ' | grep -q "75 times slower" && ok || fail "--digits help: no cost"
"$amflow" gd --problem pair --steps 1 --digits 16 --format json | grep -q '"scalar_note":"MPFR' &&
  ok || fail "--digits 16: no scalar_note"
"$amflow" gd --problem pair --steps 1 --digits 15 --format json | grep -q scalar_note &&
  fail "--digits 15: a scalar_note" || ok
# A shard defaults to JSON Lines (what merge reads); merge refuses to write over a shard.
if "$amflow" sweep --problem pair --grid eta=list:1,2 --steps 5 --shard 1/2 --output "$work/s1" &&
  "$amflow" sweep --problem pair --grid eta=list:1,2 --steps 5 --shard 2/2 --output "$work/s2" &&
  head -1 "$work/s1" | grep -q '^{"meta"' && "$amflow" merge "$work/m.csv" "$work/s1" "$work/s2"; then
  ok
else
  fail "a shard's default format"
fi
cp "$work/s1" "$work/s1.keep"
"$amflow" merge "$work/s1" "$work/s2" 2>"$work/stderr"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "OUT = $work/s1: is a shard" "$work/stderr" && cmp -s "$work/s1" "$work/s1.keep"; then
  ok
else
  fail "merge over a shard: exit $rc: $(head -c 200 "$work/stderr")"
fi
# amflow transformer: refusals, the authors' JSON Lines fields, and the same rows whatever the
# thread count.
tiny=(transformer --dim 8 --length 32 --batch 6 --steps 2)
printf 'U 0 3\nU 1 2\nB 0 1 1\n' >"$work/counts.tsv"
expect_bad "transformer dim" "--dim" "0" -- transformer --dim 0 --steps 1
expect_bad "transformer eta" "--eta" "must be positive" -- "${tiny[@]}" --eta 0
expect_bad "transformer train" "--train" "wo3" "did you mean wo2" -- "${tiny[@]}" --train wo3
expect_bad "transformer loss" "--loss" "heads" -- "${tiny[@]}" --loss heads
expect_bad "transformer triggers" "--triggers" "65" -- "${tiny[@]}" --triggers 65
expect_bad "transformer counts missing" "--counts" "$work/none.tsv" -- "${tiny[@]}" --counts "$work/none.tsv"
expect_bad "transformer counts not stochastic" "--counts" "token 1 has no bigram row" -- "${tiny[@]}" --counts "$work/counts.tsv"
expect_bad "transformer no loss position" "--length" "no loss position" -- transformer --dim 4 --length 2 --batch 1 --steps 1
expect_bad "transformer momentum" "--momentum" "[0, 1)" -- "${tiny[@]}" --rule momentum --momentum 1
expect_bad "transformer momentum without a rule" "--momentum" "does not apply to --rule gd" -- "${tiny[@]}" --momentum 0.9
expect_bad "transformer digits" "--digits" "must be 7 (float32), 15 (double)" -- "${tiny[@]}" --digits 5
"$amflow" "${tiny[@]}" --format jsonl --output "$work/t.jsonl" 2>/dev/null
if "$py" - "$work/t.jsonl" <<'PY'; then ok; else fail "transformer jsonl fields"; fi
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
rows = [l for l in lines if "epoch" in l]
assert [r["epoch"] for r in rows] == [0, 1, 2], rows
assert all(len(r["wo1_margins"]) == 65 and len(r["wk1_margins"]) == 5 for r in rows)
assert all(isinstance(r["loss"], float) and r["loss"] > 0 for r in rows)
assert lines[0]["meta"]["scalar"] == "float32" and "summary" in lines[-1]
PY
# Beyond float32's range the run stops with a note instead of printing infinities.
if "$amflow" transformer --eta 3e38 --rule momentum --momentum 0.99 --steps 30 --dim 8 --length 32 --batch 4 \
  --format csv 2>/dev/null | grep -q "^# stopped: the loss or a margin is not finite at step"; then
  ok
else
  fail "transformer overflow: no stop note"
fi
for t in 1 2; do "$amflow" "${tiny[@]}" --train all --format csv --threads $t 2>/dev/null |
  grep -v "^# seconds" >"$work/t$t.csv"; done
if cmp -s "$work/t1.csv" "$work/t2.csv"; then ok; else fail "transformer rows depend on --threads"; fi

# transformer --export: the W_O^2 block of the last batch as a problem file that amflow reads, its
# loss the run's last (to the rounding of two summation orders); refusals leave nothing behind.
"$amflow" "${tiny[@]}" --digits 15 --format csv --export "$work/block.json" >"$work/tx.csv" 2>/dev/null
if "$amflow" gd "$work/block.json" --steps 1 --format json --output "$work/bx.json" 2>/dev/null &&
  "$py" - "$work/tx.csv" "$work/bx.json" <<'PY'; then ok; else fail "transformer --export: its loss"; fi
import csv, json, sys
rows = [r for r in csv.reader(l for l in open(sys.argv[1]) if not l.startswith("#"))]
last = float(rows[-1][rows[0].index("loss")])
block = json.load(open(sys.argv[2]))["rows"][0]
assert abs(float(block["loss"]) - last) <= 1e-13 * last, (block["loss"], last)
PY
expect_bad "transformer export stdout" "--export" "needs a file path" -- "${tiny[@]}" --export -
expect_bad "transformer export folder" "--export" "$work/nowhere/b.json" -- "${tiny[@]}" --export "$work/nowhere/b.json"
if "$amflow" transformer --eta 3e38 --rule momentum --momentum 0.99 --steps 30 --dim 8 --length 32 --batch 4 \
  --export "$work/b2.json" --format csv 2>/dev/null | grep -q "^# export: not written" &&
  [ ! -e "$work/b2.json" ]; then ok; else fail "transformer --export after a stop"; fi

# transformer --resume: a run stopped (by a signal, by fewer --steps, with a last line cut short)
# and resumed writes the rows of an uninterrupted one, byte for byte; in float32 with Adam (its m,
# v and step count are in the state), the sharpness's warm start too.
long=(transformer --dim 16 --length 64 --batch 16 --train all --rule adam --eta 0.05 --sharpness-every 3)
"$amflow" "${long[@]}" --steps 40 --format jsonl --output "$work/ref.jsonl" 2>/dev/null
same_rows() { # FILE REF: the same row lines and the same summary but for the run's own timing
  "$py" - "$1" "$2" <<'PY'
import json, sys
a, b = (open(p).read().splitlines() for p in sys.argv[1:3])
assert a[:-1] == b[:-1], "rows differ"
sa, sb = (json.loads(x[-1])["summary"] for x in (a, b))
for k in ("seconds", "seconds_per_step", "resumed_at", "note_resumed"):
    sa.pop(k, None); sb.pop(k, None)
assert sa == sb, (sa, sb)
PY
}
"$amflow" "${long[@]}" --steps 40 --resume "$work/r.jsonl" 2>/dev/null &
pid=$!
wait_lines "$work/r.jsonl" 6
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
kept=$(($(wc -l <"$work/r.jsonl") - 1))
if [ "$kept" -ge 5 ] && [ "$kept" -lt 41 ] && ! grep -q summary "$work/r.jsonl" &&
  [ -e "$work/r.jsonl.state" ]; then ok; else fail "a stopped transformer keeps its rows ($kept)"; fi
printf '{"epoch": 99, "loss": 1.0' >>"$work/r.jsonl"  # a last line cut short
if "$amflow" "${long[@]}" --steps 40 --resume "$work/r.jsonl" >/dev/null 2>&1 &&
  same_rows "$work/r.jsonl" "$work/ref.jsonl"; then ok; else fail "transformer resumed after a signal"; fi
"$amflow" "${long[@]}" --steps 17 --resume "$work/r2.jsonl" 2>/dev/null
if "$amflow" "${long[@]}" --steps 40 --resume "$work/r2.jsonl" 2>/dev/null &&
  grep -q '"resumed_at":17' "$work/r2.jsonl" && same_rows "$work/r2.jsonl" "$work/ref.jsonl"; then
  ok
else
  fail "transformer run extended by --resume"
fi
cp "$work/r2.jsonl" "$work/r2.keep"
if "$amflow" "${long[@]}" --steps 40 --resume "$work/r2.jsonl" 2>"$work/stderr" &&
  grep -q "is finished (40 steps): left as it is" "$work/stderr" && cmp -s "$work/r2.jsonl" "$work/r2.keep"; then
  ok
else
  fail "transformer resume of a finished run: $(cat "$work/stderr")"
fi
bad_resume() { # NAME NEEDLE -- ARGS: exit 2 with one line holding NEEDLE (no --output added)
  local name="$1" needle="$2"; shift 3
  "$amflow" "$@" >/dev/null 2>"$work/stderr"
  local rc=$?
  if [ "$rc" -eq 2 ] && [ "$(wc -l <"$work/stderr")" -eq 1 ] && grep -qF -- "$needle" "$work/stderr"; then
    ok
  else
    fail "$name: exit $rc: $(head -c 300 "$work/stderr")"
  fi
}
bad_resume "transformer resume other decay" "meta differs at optimizer" -- "${long[@]}" --steps 40 --weight-decay 0.1 --resume "$work/r2.jsonl"
bad_resume "transformer resume fewer steps" "goes on from row 40" -- "${long[@]}" --steps 30 --resume "$work/r2.jsonl"
bad_resume "transformer resume csv" "--format = csv" -- "${long[@]}" --resume "$work/r2.jsonl" --format csv
bad_resume "transformer resume other output" "its own file" -- "${long[@]}" --resume "$work/r2.jsonl" --output "$work/o.jsonl"
cp "$work/ref.jsonl" "$work/ref.keep"
bad_resume "transformer resume no state" "not written by transformer --resume" -- "${long[@]}" --resume "$work/ref.jsonl"
if cmp -s "$work/ref.jsonl" "$work/ref.keep"; then ok; else fail "a refused resume changed a run's file"; fi
if cmp -s "$work/r2.jsonl" "$work/r2.keep"; then ok; else fail "a refused transformer resume changed its file"; fi

# Stopped (SIGTERM; a background job of a script ignores SIGINT): one line says what was kept.
"$amflow" gd --problem pair --steps 1e12 --every 1e11 --output "$work/int.csv" 2>"$work/int.err" &
pid=$!
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
if [ "$rc" -eq 143 ] && grep -q "interrupted: nothing was written to $work/int.csv" "$work/int.err" &&
  [ ! -e "$work/int.csv" ]; then ok; else fail "interrupted gd: exit $rc: $(head -c 300 "$work/int.err")"; fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
