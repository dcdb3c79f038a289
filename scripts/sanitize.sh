#!/usr/bin/env bash
# Builds everything with AddressSanitizer + UndefinedBehaviorSanitizer (-DGAN_SANITIZE=ON) into
# build-asan/ (or $GAN_ASAN_BUILD_DIR) and runs the whole ctest suite under them.
#
#   scripts/sanitize.sh                 # configure (once) + build + ctest
#   scripts/sanitize.sh -R test_core    # extra arguments go to ctest
#
# Notes
# - CUDA kernels are off (-DGAN_WITH_CUDA=OFF): nvcc does not take -fsanitize, and with no GPU the
#   kernels never run anyway. The benchmarks are not part of the suite and are not built.
# - LibTorch is not instrumented. The suppression files next to this script
#   (scripts/sanitize/{lsan,ubsan}.supp) name only LibTorch's and its dependencies' libraries,
#   never gan code; each entry says why.
# - Any ASan/UBSan report aborts the process (halt_on_error), so a finding fails its test.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
GAN_CACHE="${GAN_CACHE:-$HOME/.cache/gan}"
build="${GAN_ASAN_BUILD_DIR:-$here/build-asan}"
jobs="${GAN_JOBS:-2}"
supp="$here/scripts/sanitize"

"$here/scripts/setup.sh"   # same prerequisites as scripts/build.sh; writes the torch prefix
export GAN_TORCH_CMAKE_PREFIX="${GAN_TORCH_CMAKE_PREFIX:-$(cat "$GAN_CACHE/torch_cmake_prefix")}"
mkdir -p "$build"
start=$(date +%s)
if [ ! -f "$build/CMakeCache.txt" ]; then
  # -O1 -g1: quicker to compile than -O2 -g on LibTorch's headers, still fast enough to run, and
  # line tables give file:line in sanitizer reports.
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
    -DGAN_SANITIZE=ON -DGAN_WITH_CUDA=OFF \
    -DGAN_BUILD_BENCH=OFF >"$build/configure.log" 2>&1 || { cat "$build/configure.log"; exit 1; }
fi
echo "[sanitize] building in $build with -j$jobs" >&2
if ! cmake --build "$build" -j"$jobs" >"$build/build.log" 2>&1; then
  grep -E "error|Error" "$build/build.log" | head -40 >&2
  echo "[sanitize] build failed; full log: $build/build.log" >&2
  exit 1
fi
built=$(date +%s)
echo "[sanitize] built in $(( built - start )) s" >&2

# halt_on_error + abort_on_error: the first report fails the test with a stack trace.
# detect_leaks stays on; LSan's suppressions cover LibTorch's process-lifetime allocations only.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:detect_odr_violation=2${GAN_ASAN_EXTRA:+:$GAN_ASAN_EXTRA}"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=$supp/ubsan.supp"
status=0
( cd "$build" && ctest --output-on-failure "$@" ) || status=$?
echo "[sanitize] ctest exit $status; tests took $(( $(date +%s) - built )) s, total $(( $(date +%s) - start )) s" >&2
exit $status
