#!/usr/bin/env bash
# What a person at a terminal reads: verify's one line per claim (at most 100 characters, or the
# terminal's width), grouped by prediction, with its totals; colour only on a terminal and never
# under NO_COLOR; the full detail one flag away. Usage: terminal_test.sh AMFLOW
set -u
amflow="$1"
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

# longest FILE: the length of the longest line, escape sequences left out.
longest() { sed 's/\x1b\[[0-9;]*m//g' "$1" | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }'; }

# The table format (what a terminal gets) on a few claims of two predictions: one line per claim,
# a heading per prediction, the totals, nothing wider than 100 characters, no escape sequences
# when standard output is a file.
claims=(--claim one-step-exact --claim pair-one-step --claim margin-gaps --claim log-margins)
if "$amflow" verify "${claims[@]}" --format table >"$work/v.txt" 2>"$work/err"; then ok; else
  fail "verify --format table: $(head -c 300 "$work/err")"
fi
[ "$(longest "$work/v.txt")" -le 100 ] && ok || fail "verify table: a line of $(longest "$work/v.txt") characters"
[ "$(grep -c '^  PASS  ' "$work/v.txt")" -eq 4 ] && ok || fail "verify table: not one PASS line per claim: $(cat "$work/v.txt")"
grep -q $'\x1b' "$work/v.txt" && fail "verify table: escape sequences in a file" || ok
# Grouped by prediction, in the order P2, P4, P7 whatever the order given.
[ "$(grep -oE '^P[0-9]+' "$work/v.txt" | tr '\n' ' ')" = "P2 P4 P7 " ] && ok ||
  fail "verify table: headings $(grep -oE '^P[0-9]+' "$work/v.txt" | tr '\n' ' ')"
# The totals: 4 of 4 claims, and as many checks as the csv has rows.
"$amflow" verify "${claims[@]}" --format csv --output "$work/v.csv" || fail "verify csv"
rows=$(grep -vc '^#' "$work/v.csv")
rows=$((rows - 1))
grep -qE "^PASS  4 of 4 claims pass; $rows of $rows checks" "$work/v.txt" && ok ||
  fail "verify table totals (csv has $rows checks): $(tail -2 "$work/v.txt")"
# Each claim's line: its checks passed, and the exact claims say so.
grep -qE '^  PASS  one-step-exact +([0-9]+)/\1  exact +exact  ' "$work/v.txt" && ok ||
  fail "verify table: the exact claim's line: $(grep one-step-exact "$work/v.txt")"
# A narrower terminal (COLUMNS) is respected; the statement is cut with "...".
if COLUMNS=72 "$amflow" verify "${claims[@]}" --format table >"$work/v72.txt" &&
  [ "$(longest "$work/v72.txt")" -le 72 ] && grep -q '\.\.\.$' "$work/v72.txt"; then ok; else
  fail "verify table at COLUMNS=72: longest $(longest "$work/v72.txt")"
fi
# --checks: every check on its own row with setting and note, in the table format too.
if "$amflow" verify "${claims[@]}" --format table --checks >"$work/vc.txt" &&
  grep -q '^claim ' "$work/vc.txt" && grep -q 'setting' "$work/vc.txt" &&
  [ "$(grep -c PASS "$work/vc.txt")" -eq "$rows" ]; then ok; else
  fail "verify --checks: $(head -c 300 "$work/vc.txt")"
fi

# enclose in the table format: value and radius (every _lo would read like its _hi at 10 digits);
# the value lies in the csv's bounds and the radius covers them.
if "$amflow" enclose --problem pair --digits 50 --times 1,10 --format table >"$work/e.txt" &&
  "$amflow" enclose --problem pair --digits 50 --times 1,10 --format csv >"$work/e.csv" &&
  "$amflow" enclose --problem pair --digits 50 --times 1,10 --format json >"$work/e.json" &&
  "$py" - "$work/e.txt" "$work/e.csv" <<'PY'; then ok; else fail "enclose as value +/- radius"; fi
import csv, sys
from decimal import Decimal
table = [l.split() for l in open(sys.argv[1]) if l.strip() and not l.startswith("#")]
assert table[0] == ["tau", "loss", "loss_radius", "m_0", "m_0_radius", "m_1", "m_1_radius"], table[0]
rows = list(csv.DictReader(l for l in open(sys.argv[2]) if not l.startswith("#")))
for shown, row in zip(table[2:], rows):
    for q, k in (("loss", 1), ("m_0", 3), ("m_1", 5)):
        lo, hi = Decimal(row[q + "_lo"]), Decimal(row[q + "_hi"])
        mid, rad = Decimal(shown[k]), Decimal(shown[k + 1])
        assert 0 < rad < Decimal("1e-40"), (q, rad)
        assert abs(mid - (lo + hi) / 2) < Decimal("1e-9") * abs(mid), (q, mid, lo, hi)
        # the bounds are rounded outward to 50 significant digits: one unit there on each side
        assert (hi - lo) / 2 <= rad * (1 + Decimal("1e-2")) + abs(mid) * Decimal("1e-49"), (q, rad, lo, hi)
PY

# On a terminal (a pseudo-terminal from script(1)): colour, unless NO_COLOR is set; still at most
# 100 characters a line whatever the terminal's width.
if command -v script >/dev/null; then
  TERM=xterm script -qec "stty cols 200; '$amflow' verify --claim one-step-exact" /dev/null \
    >"$work/tty.txt" 2>&1
  grep -q $'\x1b\[32mPASS' "$work/tty.txt" && ok || fail "verify on a terminal: no colour: $(head -c 300 "$work/tty.txt")"
  [ "$(tr -d '\r' <"$work/tty.txt" | sed 's/\x1b\[[0-9;]*m//g' | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')" -le 100 ] &&
    ok || fail "verify on a 200-column terminal: a line over 100 characters"
  NO_COLOR=1 TERM=xterm script -qec "'$amflow' verify --claim one-step-exact" /dev/null >"$work/nc.txt" 2>&1
  grep -q $'\x1b\[3' "$work/nc.txt" && fail "verify under NO_COLOR: colour" || ok
  grep -q 'PASS  one-step-exact' "$work/nc.txt" && ok || fail "verify under NO_COLOR: $(head -c 300 "$work/nc.txt")"
fi

echo "terminal: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
