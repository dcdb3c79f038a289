#!/usr/bin/env bash
# Data-parallel training on this machine: one process with T threads against T ranks with one
# thread each (`gan train --nproc T`), same model, same global batch, in one sitting and
# interleaved (1 process, T ranks, 1 process, T ranks). Reads each run's log.jsonl: it/s over the
# iterations after the first log interval (start-up excluded), and for the ranks rank 0's share of
# wall time spent in collectives (comm_share: gradient all-reduces and the per-iteration loss and
# stop-flag reductions, waiting for the slower rank included).
#
#   bench/distributed.sh [--iters N] [--threads T] [--out FILE.jsonl] MODEL.toml...
#   (default models: models/fmnist/baseline.toml models/fmnist/adagan-3x3.toml;
#    default out: bench/results-distributed.jsonl)
#
# Each output line: {"model", "iters", "threads", "one_process_its", "ranks_its", "ratio", "comm_share"},
# the better of the two rounds of each.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GAN=${GAN:-$ROOT/build/bin/gan}
PY=${PYTHON:-python3}
ITERS=120 THREADS=2 OUT=$ROOT/bench/results-distributed.jsonl
MODELS=()
while (($#)); do
  case $1 in
    --iters) ITERS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) MODELS+=("$1"); shift ;;
  esac
done
((${#MODELS[@]})) || MODELS=("$ROOT/models/fmnist/baseline.toml" "$ROOT/models/fmnist/adagan-3x3.toml")
[[ -x $GAN ]] || { echo "no $GAN: build first (scripts/build.sh)" >&2; exit 1; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
: > "$TMP/all.jsonl"
for m in "${MODELS[@]}"; do
  echo "== $m" >&2
  rm -rf "$TMP"/one? "$TMP"/ranks?
  cat > "$TMP/m.toml" <<TOML
extends = "$m"
[train]
iterations = $ITERS
log_every = $((ITERS / 6 > 0 ? ITERS / 6 : 1))
sample_every = 0
checkpoint_every = 0
eval_every = 0
keep_best = ""
device = "cpu"
TOML
  for round in 1 2; do
    OMP_NUM_THREADS=$THREADS "$GAN" -q train "$TMP/m.toml" --out "$TMP/one$round"
    OMP_NUM_THREADS=1 "$GAN" -q train "$TMP/m.toml" --out "$TMP/ranks$round" --nproc "$THREADS"
  done
  "$PY" - "$m" "$TMP" "$ITERS" "$THREADS" >> "$TMP/all.jsonl" <<'PYEOF'
import json, sys
model, tmp, iters, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def rate(run):
    recs = [json.loads(l) for l in open(f"{tmp}/{run}/log.jsonl") if l.strip()]
    recs = [r for r in recs if "it_per_s" in r]
    a, b = recs[0], recs[-1]
    its = (b["iteration"] - a["iteration"]) / (b["elapsed_s"] - a["elapsed_s"])
    comm = [r["comm_share"] for r in recs[1:] if "comm_share" in r]
    return its, (sum(comm) / len(comm) if comm else None)
one = max(rate(f"one{r}")[0] for r in (1, 2))
ranks = max((rate(f"ranks{r}") for r in (1, 2)), key=lambda x: x[0])
print(json.dumps({"model": model, "iters": iters, "threads": threads, "one_process_its": round(one, 3),
                  "ranks_its": round(ranks[0], 3), "ratio": round(ranks[0] / one, 3),
                  "comm_share": round(ranks[1], 3)}))
PYEOF
  tail -1 "$TMP/all.jsonl" >&2
done
cp "$TMP/all.jsonl" "$OUT"
echo "wrote $OUT" >&2
