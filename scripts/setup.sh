#!/usr/bin/env bash
# Installs what gan needs and skips what is already there:
#   - Debian packages (toml++, CLI11, spdlog, Catch2, Boost, stb, zlib, Google Benchmark,
#     Fashion-MNIST, Chromium for the report test, Gloo's headers for data-parallel training,
#     nlohmann-json),
#   - LibTorch from the PyPI torch wheel, in a virtual environment under $GAN_CACHE
#     (default ~/.cache/gan), outside the checkout; if the wheel cannot be installed, Debian's
#     libtorch-dev (CPU only) instead.
# Prints nothing but progress; writes $GAN_CACHE/torch_cmake_prefix for scripts/build.sh.
set -euo pipefail

GAN_CACHE="${GAN_CACHE:-$HOME/.cache/gan}"
TORCH_SPEC="${GAN_TORCH_SPEC:-torch==2.15.0}"
mkdir -p "$GAN_CACHE"
say() { echo "[setup] $*" >&2; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

apt_packages=(cmake g++ make python3 python3-venv libtomlplusplus-dev libcli11-dev libspdlog-dev catch2
  libboost-dev libstb-dev zlib1g-dev libbenchmark-dev dataset-fashion-mnist libgloo-dev nlohmann-json3-dev
  libprotobuf-dev protobuf-compiler)
if [ "${GAN_SKIP_CHROMIUM:-0}" != 1 ]; then apt_packages+=(chromium); fi

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  say "Debian packages: all present"
fi

venv="$GAN_CACHE/venv"
prefix_file="$GAN_CACHE/torch_cmake_prefix"
torch_prefix() { "$venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null; }

if [ -x "$venv/bin/python" ] && p=$(torch_prefix) && [ -n "$p" ]; then
  say "LibTorch: present ($("$venv/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null)) in $venv"
  echo "$p" > "$prefix_file"
else
  say "LibTorch: installing $TORCH_SPEC from PyPI into $venv (a few GB, once)"
  ok=1
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q --upgrade pip \
      && "$venv/bin/pip" install -q "$TORCH_SPEC"; } || ok=0
  if [ $ok = 1 ] && p=$(torch_prefix) && [ -n "$p" ]; then
    echo "$p" > "$prefix_file"
  else
    say "the torch wheel could not be installed; falling back to Debian's libtorch-dev (CPU only)"
    dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed" || {
      $SUDO apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libtorch-dev >/dev/null
    }
    echo "/usr" > "$prefix_file"
  fi
fi
say "LibTorch CMake prefix: $(cat "$prefix_file")"

# TensorBoard's reader, for the test that reads gan's event files back (tests/test_tracking.cpp);
# gan itself writes them with protobuf and needs no Python
if [ -x "$venv/bin/python" ]; then
  if "$venv/bin/python" -c 'import tensorboard' 2>/dev/null; then
    say "tensorboard: present in $venv"
  else
    say "tensorboard: installing from PyPI into $venv (for the event-file test)"
    "$venv/bin/pip" install -q tensorboard || say "tensorboard could not be installed: its test will be skipped"
  fi
fi
