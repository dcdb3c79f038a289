#!/usr/bin/env bash
# The whole test suite: set-up (skips what is installed), build, ctest. Used by .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${GAN_BUILD_DIR:-$here/build}"
t0=$(date +%s)
"$here/scripts/build.sh"
t1=$(date +%s)
cd "$build"
ctest --output-on-failure -j"${GAN_TEST_JOBS:-2}" "$@"
t2=$(date +%s)
echo "[test] setup+build $((t1 - t0)) s, tests $((t2 - t1)) s"
