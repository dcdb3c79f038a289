#!/usr/bin/env bash
# One training iteration of each model file, gan against the eager-PyTorch script of the same
# model and step (bench/eager_step.py, built from the model file), in one sitting and interleaved
# (gan, eager, gan, eager), same thread count. gan's figures include the step's floor (the model's
# necessary multiply-adds at the FMA peak measured in the same run) and its ratio to it.
#
#   bench/train_step.sh [--iters N] [--warmup N] [--threads T] [--out FILE.jsonl] MODEL.toml...
#   (default models: every models/fmnist/*.toml; default out: bench/results-train-step.jsonl)
#
# Each line of the output file: {"model", "gan": <gan bench --json>, "eager": <eager_step.py --json>,
# "speedup": gan it/s / eager it/s} with the better (faster) of the two rounds of each.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GAN=${GAN:-$ROOT/build/bin/gan}
PY=${PYTHON:-$HOME/.cache/gan/venv/bin/python}
ITERS=8 WARMUP=2 THREADS=2 OUT=$ROOT/bench/results-train-step.jsonl
MODELS=()
while (($#)); do
  case $1 in
    --iters) ITERS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) MODELS+=("$1"); shift ;;
  esac
done
((${#MODELS[@]})) || MODELS=("$ROOT"/models/fmnist/*.toml)
[[ -x $GAN ]] || { echo "no $GAN: build first (scripts/build.sh)" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
: > "$TMP/all.jsonl"
for m in "${MODELS[@]}"; do
  echo "== $m" >&2
  for round in 1 2; do
    OMP_NUM_THREADS=$THREADS "$GAN" -q bench "$m" --iters "$ITERS" --warmup "$WARMUP" --json > "$TMP/gan$round.json"
    "$PY" "$ROOT/bench/eager_step.py" "$m" --gan "$GAN" --iters "$ITERS" --warmup "$WARMUP" --threads "$THREADS" \
      --json > "$TMP/eager$round.json"
  done
  "$PY" - "$m" "$TMP" >> "$TMP/all.jsonl" <<'PYEOF'
import json, sys
m, tmp = sys.argv[1], sys.argv[2]
g = [json.load(open(f"{tmp}/gan{r}.json")) for r in (1, 2)]
e = [json.load(open(f"{tmp}/eager{r}.json")) for r in (1, 2)]
g = max(g, key=lambda x: x["it_per_s"]); e = max(e, key=lambda x: x["it_per_s"])
rec = {"model": m, "gan": g, "eager": e, "speedup": g["it_per_s"] / e["it_per_s"]}
print(json.dumps(rec))
print(f"  gan {g['it_per_s']:.3f} it/s ({g['ratio_to_floor']:.2f}x its floor, {100 / g['ratio_to_floor']:.0f}% of "
      f"{g['fma_peak_gmacs']:.1f} GMAC/s), eager PyTorch {e['it_per_s']:.3f} it/s: {rec['speedup']:.2f}x", file=sys.stderr)
PYEOF
done
mv "$TMP/all.jsonl" "$OUT"
echo "wrote $OUT" >&2
