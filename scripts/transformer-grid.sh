#!/usr/bin/env bash
# The authors' Transformer grid (docs/transformer.md): W_O^2 only at d = 64, eta in {20, 50, 100,
# 200}, 50 steps (rows 0..50) with B = 512; all parameters (W_K^1, W_K^2, W_O^2) at d = 64 and 128,
# eta in {2, 5, 10, 20}, 150 steps with B = 256 (the spec's measured runs). float32, weight decay 0,
# plain SGD, seeds 0. Each run writes OUT/<authors' run name>/res.jsonl, the layout their notebook
# reads (nomo_wo2only_64_<lr>, nomo_all_params_<d>_<lr>). Usage: scripts/transformer-grid.sh OUT
# [AMFLOW]. About 11 minutes on 2 cores; prints the table of docs/transformer.md at the end.
set -euo pipefail
out="${1:?usage: scripts/transformer-grid.sh OUT [AMFLOW]}"
amflow="${2:-$(dirname "$0")/../build/amflow}"
run() {  # run NAME ARGS...
  local name="$1"; shift
  mkdir -p "$out/$name"
  local start=$SECONDS
  "$amflow" transformer "$@" --format jsonl --output "$out/$name/res.jsonl"
  echo "$name: $((SECONDS - start)) s" >&2
}
start=$SECONDS
for lr in 20 50 100 200; do
  run "nomo_wo2only_64_$lr" --train wo2 --dim 64 --eta "$lr" --steps 50 --batch 512
done
for d in 64 128; do
  for lr in 2 5 10 20; do
    run "nomo_all_params_${d}_$lr" --train all --dim "$d" --eta "$lr" --steps 150 --batch 256 \
      --sharpness-every 25
  done
done
echo "grid: $((SECONDS - start)) s" >&2
# The table of docs/transformer.md: the loss along each run, its maximum, the mean of the last 10
# steps and the first step from which every wk1 margin stays positive (the induction head).
/usr/bin/python3 - "$out" <<'PY'
import json, sys
runs = [("wo2only_64", lr) for lr in (20, 50, 100, 200)]
runs += [(f"all_params_{d}", lr) for d in (64, 128) for lr in (2, 5, 10, 20)]
print("| run | loss at steps 0 / 5 / 25 / 50 (/ 100 / 150) | max | mean of the last 10 | induction head |")
print("|---|---|---|---|---|")
for name, lr in runs:
    rows = [json.loads(line) for line in open(f"{sys.argv[1]}/nomo_{name}_{lr}/res.jsonl")]
    rows = [r for r in rows if "epoch" in r]
    loss = [r["loss"] for r in rows]
    at = (0, 5, 25, 50, 100, 150) if len(loss) > 51 else (0, 5, 25, 50)
    head = next((t for t in range(len(rows))
                 if all(min(r["wk1_margins"]) > 0 for r in rows[t:])), None)
    label = ("wo2, d 64" if "wo2" in name else "all, d " + name.split("_")[-1]) + f", eta {lr}"
    print(f"| {label} | {' / '.join(f'{loss[i]:.2f}' for i in at)} | {max(loss):.2f} | "
          f"{sum(loss[-10:]) / 10:.2f} | {'-' if head is None else head} |")
PY
