#!/usr/bin/env bash
# Builds the libFuzzer target over the model-file front end (tests/fuzz/fuzz_model.cpp) with clang
# and ASan+UBSan into build-fuzz/ (or $GAN_FUZZ_BUILD_DIR), then fuzzes it.
#
#   tests/fuzz/run.sh [SECONDS] [libFuzzer flags...]     # default 600 s
#   GAN_FUZZ_JOBS=2 tests/fuzz/run.sh 1200               # parallel workers (-jobs/-workers)
#
# - The framework, the shipped plugins and the target are compiled with
#   -fsanitize=fuzzer-no-link,address,undefined (coverage + sanitizers on all project code); only
#   the target links libFuzzer (-fsanitize=fuzzer). LibTorch (gcc-built, libstdc++) is linked
#   uninstrumented: the front end never calls into it, the plugins are loaded for their
#   factories (types, parameter specs, shape inference) only. CUDA kernels off.
# - Seed corpus: every models/**/*.toml, with relative `extends` rewritten to "../<dir>/..." since
#   the target places each input in <copy of models/>/fuzz/ (see fuzz_model.cpp).
# - The growing corpus lives in tests/fuzz/corpus-work/ (not committed); crashes go to
#   build-fuzz/fuzz/artifacts/. Keep each fixed crash as tests/fuzz/regressions/<name>.toml: the
#   regular suite replays those (tests/fuzz.cmake).
# - Before fuzzing, every existing regression input is replayed; a failure stops the script.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
GAN_CACHE="${GAN_CACHE:-$HOME/.cache/gan}"
build="${GAN_FUZZ_BUILD_DIR:-$here/build-fuzz}"
jobs="${GAN_JOBS:-2}"
seconds="${1:-600}"
shift || true

if [ ! -f "$GAN_CACHE/torch_cmake_prefix" ]; then "$here/scripts/setup.sh"; fi
export GAN_TORCH_CMAKE_PREFIX="${GAN_TORCH_CMAKE_PREFIX:-$(cat "$GAN_CACHE/torch_cmake_prefix")}"

san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# Only the fuzz area of tests/ (the other areas are not needed here); recomputed on every run
# since other areas may be added.
skip=""
for f in "$here"/tests/*.cmake; do
  a=$(basename "$f" .cmake)
  [ "$a" = fuzz ] || skip="$skip${skip:+;}$a"
done
mkdir -p "$build"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DGAN_FUZZ=ON -DGAN_WITH_CUDA=OFF -DGAN_BUILD_BENCH=OFF \
    -DGAN_SKIP_TEST_AREAS="$skip" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
else
  cmake "$build" -DGAN_SKIP_TEST_AREAS="$skip" >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi
echo "[fuzz] building fuzz_model + plugins in $build with -j$jobs" >&2
cmake --build "$build" --target fuzz_model gan_all_plugins -j"$jobs" >"$build/build.log" 2>&1 || {
  grep -E "error|Error" "$build/build.log" | head -40 >&2
  echo "[fuzz] build failed; full log: $build/build.log" >&2
  exit 1
}

fz="$build/fuzz"
seeds="$fz/seeds" corpus="$here/tests/fuzz/corpus-work" artifacts="$fz/artifacts"
mkdir -p "$seeds" "$corpus" "$artifacts"
rm -f "$seeds"/*
for f in "$here"/models/*/*.toml; do
  d=$(basename "$(dirname "$f")")
  sed -E 's#^(extends *= *")([^./"][^"]*")#\1../'"$d"'/\2#' "$f" > "$seeds/$d-$(basename "$f")"
done

export GAN_PLUGIN_PATH="${GAN_FUZZ_PLUGIN_PATH:-$build/lib/gan/plugins}"
export GAN_FUZZ_MODELS="$here/models"
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"
export OMP_NUM_THREADS=1
export TMPDIR="$fz/tmp"  # the target's private copy of models/ (left behind if it crashes)
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"

regs=("$here"/tests/fuzz/regressions/*)
if [ -e "${regs[0]}" ]; then
  echo "[fuzz] replaying ${#regs[@]} regression inputs" >&2
  "$build/bin/fuzz_model" "${regs[@]}" >"$fz/replay.log" 2>&1 || {
    tail -40 "$fz/replay.log" >&2; echo "[fuzz] a regression input fails again" >&2; exit 1; }
fi

# -max_len: the shipped models are 1-4 kB; 16 kB leaves room for growth without slow inputs.
# -timeout 10 s per input (a check takes ~1 ms); RSS 3 GB (LibTorch's libraries are mapped).
par=()
if [ -n "${GAN_FUZZ_JOBS:-}" ]; then par=(-jobs="$GAN_FUZZ_JOBS" -workers="$GAN_FUZZ_JOBS"); fi
echo "[fuzz] fuzzing for $seconds s; corpus $corpus (+ seeds $seeds); artifacts $artifacts" >&2
"$build/bin/fuzz_model" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=3072 \
  -dict="$here/tests/fuzz/toml.dict" -artifact_prefix="$artifacts/" -print_final_stats=1 \
  "${par[@]}" "$@" "$corpus" "$seeds"
