#!/usr/bin/env bash
# Installs everything Open-AutoGLM needs on a fresh Debian machine, then configures and builds.
#   scripts/setup.sh            -> build/ (Release)
#   BUILD_DIR=build-asan CMAKE_ARGS="-DAUTOGLM_SANITIZE=address,undefined" scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(cmake ninja-build g++ make pkg-config libgtest-dev libgmock-dev python3 python3-venv python3-pip
              libutf8proc-dev nlohmann-json3-dev libcpp-httplib-dev)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Python venv for reference checks (NumPy forward pass, gguf-py as an independent reader).
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c "import numpy, pytest, gguf" 2>/dev/null; then
  /usr/bin/python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -r scripts/requirements-test.txt
fi

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
