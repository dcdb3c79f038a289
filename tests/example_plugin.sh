#!/usr/bin/env bash
# The out-of-tree plugin example (examples/plugin) against an INSTALLED gan, with no rebuild of gan:
#   1. cmake --install the framework build into a temporary prefix
#   2. configure + build examples/plugin with CMAKE_PREFIX_PATH=<prefix> (find_package(gan))
#   3. GAN_PLUGIN_PATH=<example build>/plugins: the unmodified gan binary (the build tree's and the
#      installed one) lists the new type and checks examples/plugin/model.toml.
# Usage (ctest passes these): example_plugin.sh <cmake> <gan build dir> <gan source dir> <gan exe> <c++ compiler>
set -euo pipefail
CMAKE=$1 BUILD=$2 SRC=$3 GAN=$4 CXX_COMPILER=$5
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gan-example-plugin.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX=$WORK/prefix EXB=$WORK/build
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $* ($(date +%T))"; }

step "install $BUILD into $PREFIX"
"$CMAKE" --install "$BUILD" --prefix "$PREFIX" > "$WORK/install.log" || { cat "$WORK/install.log"; fail "cmake --install"; }
for f in bin/gan lib/libgan.so include/gan/plugin.hpp include/gan/version.hpp lib/cmake/gan/ganConfig.cmake \
         lib/cmake/gan/ganTargets.cmake lib/gan/plugins/libgan_layers.so; do
  [[ -e $PREFIX/$f ]] || fail "the install has no $f"
done
# gan's CUDA modules (built where LibTorch has CUDA) go beside libgan, where gan and the adaconv
# plugin look for them
for m in libgan_nccl.so libgan_adaconv_cuda.so; do
  if [[ -e $BUILD/lib/$m && ! -e $PREFIX/lib/$m ]]; then fail "the install has no lib/$m"; fi
done

step "configure examples/plugin against the installed gan"
# Only the install prefix: the example must not see gan's source or build tree.
"$CMAKE" -S "$SRC/examples/plugin" -B "$EXB" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_CXX_COMPILER="$CXX_COMPILER" > "$WORK/configure.log" 2>&1 || { cat "$WORK/configure.log"; fail "configure"; }
grep -q "gan 0.1.0 from $PREFIX/lib/cmake/gan" "$WORK/configure.log" || { cat "$WORK/configure.log"; fail "gan was not found in the install prefix"; }

step "build examples/plugin"
"$CMAKE" --build "$EXB" -j2 > "$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; fail "build"; }
LIB=$EXB/plugins/libgan_example_layers.so
[[ -f $LIB ]] || fail "no $LIB"
if grep -q -- "$SRC/framework" "$EXB/CMakeFiles/"*/flags.make "$EXB"/CMakeFiles/*/DependInfo.cmake 2>/dev/null; then
  fail "the example was compiled against gan's source tree, not the install"
fi

export GAN_PLUGIN_PATH=$EXB/plugins
for exe in "$GAN" "$PREFIX/bin/gan"; do
  step "$exe plugins --json"
  out=$("$exe" -v plugins --json 2> "$WORK/plugins.err") || { cat "$WORK/plugins.err"; fail "$exe plugins --json exited $?"; }
  # on failure, show what gan said while loading (the -v lines name every library it opened)
  # here-strings, not `echo | grep -q`: under pipefail, grep -q exiting at its first match makes
  # echo's next write die of SIGPIPE (status 141), a failure that came and went with timing
  grep -q '"type": "pixel_norm"' <<< "$out" ||
    { ls -la "$EXB/plugins"; cat "$WORK/plugins.err"; grep '"library"' <<< "$out" | sort -u; fail "$exe plugins --json does not list pixel_norm"; }
  grep -q "\"library\": \"$LIB\"" <<< "$out" || fail "$exe plugins --json does not name $LIB"
  grep -q '"type": "conv2d"' <<< "$out" || fail "$exe lost the shipped types"

  step "$exe check examples/plugin/model.toml"
  "$exe" check "$SRC/examples/plugin/model.toml" > "$WORK/check.txt" 2> "$WORK/check.err" ||
    { cat "$WORK/check.txt" "$WORK/check.err"; fail "$exe check exited non-zero"; }
  cat "$WORK/check.txt"
  [[ $(grep -c "pixel_norm" "$WORK/check.txt") -eq 3 ]] || fail "expected 3 pixel_norm layers in the report"

  "$exe" check --json "$SRC/examples/plugin/model.toml" > "$WORK/check.json" || fail "check --json"
  grep -q '"type": "pixel_norm"' "$WORK/check.json" || fail "check --json has no pixel_norm layer"
done

step "without GAN_PLUGIN_PATH the model is rejected, naming the unknown type"
unset GAN_PLUGIN_PATH
if "$GAN" check "$SRC/examples/plugin/model.toml" > /dev/null 2> "$WORK/err.txt"; then
  fail "check passed without the plugin"
fi
grep -q "model.toml:[0-9]*: unknown layer type 'pixel_norm'" "$WORK/err.txt" || { cat "$WORK/err.txt"; fail "unexpected message"; }
step "ok"
