#!/usr/bin/env bash
# The README's main job against a hand-written PyTorch DCGAN given the same training wall time
# (issue 12, item 6), on this machine, one after the other (never at the same time: 2 cores).
#   bench/default_vs_dcgan.sh [OUT_DIR]      default OUT_DIR: /tmp/gan-vs-dcgan
# 1. scripts/main.sh (build, train the default model, evaluate, report) into OUT_DIR/main;
# 2. the training wall time of that run (log.jsonl's last elapsed_s);
# 3. bench/dcgan_fmnist.py for exactly that many seconds of training, evaluated with the same
#    feature network, sample counts, real images and seed;
# 4. both figures side by side, and both sample grids.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-/tmp/gan-vs-dcgan}"
py="${GAN_PYTHON:-$HOME/.cache/gan/venv/bin/python}"
mkdir -p "$out"
run="$out/main"
start=$(date +%s)
GAN_RUN_DIR="$run" "$here/scripts/main.sh"
main_s=$(( $(date +%s) - start ))
train_s=$("$py" -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["elapsed_s"])' "$run/log.jsonl")
echo "[bench] main job: ${main_s} s in all, ${train_s} s of training" >&2
"$py" "$here/bench/dcgan_fmnist.py" --iters 0 --seconds "$train_s" --grid "$out/dcgan_grid.png" \
  --json-out "$out/dcgan.json"
"$py" - "$run/eval.json" "$out/dcgan.json" "$train_s" "$main_s" <<'PY'
import json, sys
g = json.load(open(sys.argv[1])); d = json.load(open(sys.argv[2]))
def metric(name):
    return g["metrics"][name]
print(f"training wall time {float(sys.argv[3]):.0f} s each (main job {sys.argv[4]} s in all)")
print(f"{'':10} {'iterations':>10} {'IS':>8} {'FID':>8} {'KID':>10}")
print(f"{'gan':10} {g.get('iteration', '?'):>10} {metric('is'):>8.3f} {metric('fid'):>8.2f} {metric('kid'):>10.5f}")
print(f"{'DCGAN':10} {d['iterations']:>10} {d['is']:>8.3f} {d['fid']:>8.2f} {d['kid']:>10.5f}")
PY
echo "[bench] grids: $run/samples/final.png and $out/dcgan_grid.png" >&2
