#!/usr/bin/env bash
# The main job: set up (skips what is installed), build, train the default Fashion-MNIST model
# on this machine, write its samples, log and checkpoint under runs/, evaluate it (IS, FID, KID
# with the shipped Fashion-MNIST classifier) and write an HTML report of the run.
# The default model is models/fmnist/dcgan-convt.toml: the standard DCGAN as a model file, chosen by
# measurement against a hand-written PyTorch DCGAN given the same wall time (bench/default_vs_dcgan.sh;
# the figures are in the README). Its AdaGAN variant: GAN_MODEL=models/fmnist/adagan-dcgan.toml.
#   GAN_MODEL=models/fmnist/resnet.toml GAN_ITERS=3000 ./scripts/main.sh   to choose
# (GAN_ITERS unset: the model's [train] iterations)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${GAN_BUILD_DIR:-$here/build}"
model="${GAN_MODEL:-$here/models/fmnist/dcgan-convt.toml}"
iters="${GAN_ITERS:-}"
name="$(basename "$model" .toml)"
run="${GAN_RUN_DIR:-$here/runs/main-$name}"

"$here/scripts/build.sh"
gan="$build/bin/gan"
"$gan" check "$model"
iters_arg=()
[ -n "$iters" ] && iters_arg=(--iters "$iters")
if [ -f "$run/run.json" ]; then
  echo "[main] $run exists: resuming it${iters:+ up to $iters iterations}" >&2
  "$gan" train --resume "$run" "${iters_arg[@]}"
else
  "$gan" train "$model" --out "$run" "${iters_arg[@]}"
fi
"$gan" sample "$run" --n 64 --out "$run/samples/final.png"
"$gan" evaluate "$run"                       # [eval] metrics -> $run/eval.json, $run/evals.jsonl
"$gan" compare "$run" --out "$run/report"    # reuses eval.json; table + report.html/json/csv
echo "[main] done: samples $run/samples/final.png, log $run/log.jsonl, checkpoint $run/checkpoints/latest.pt," \
  "metrics $run/eval.json" >&2
echo "[main] report: $run/report/report.html" >&2
