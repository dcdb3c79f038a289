#!/usr/bin/env bash
# Set-up (skips what is installed) + CMake configure + build into build/ (or $GAN_BUILD_DIR).
# Extra arguments go to the CMake configure step.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
GAN_CACHE="${GAN_CACHE:-$HOME/.cache/gan}"
build="${GAN_BUILD_DIR:-$here/build}"
jobs="${GAN_JOBS:-2}"

"$here/scripts/setup.sh"
export GAN_TORCH_CMAKE_PREFIX="$(cat "$GAN_CACHE/torch_cmake_prefix")"
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >"$GAN_CACHE/cmake-configure.log" 2>&1 \
    || { cat "$GAN_CACHE/cmake-configure.log"; exit 1; }
elif [ $# -gt 0 ]; then
  cmake "$build" "$@" >/dev/null
fi
echo "[build] building in $build with -j$jobs" >&2
if ! cmake --build "$build" -j"$jobs" >"$GAN_CACHE/build.log" 2>&1; then
  grep -E "error|Error" "$GAN_CACHE/build.log" | head -40 >&2
  echo "[build] failed; full log: $GAN_CACHE/build.log" >&2
  exit 1
fi
echo "[build] done in $(( $(date +%s) - start )) s" >&2
