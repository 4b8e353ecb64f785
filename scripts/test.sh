#!/usr/bin/env bash
# Sets everything up and runs the whole test suite:
#   1. an ASan/UBSan build runs the C++ tests (hostile-input tests above all),
#   2. the Release build (warnings as errors) runs every test, Python reference checks included.
# The last line is ctest's summary of the Release run.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo \
  CMAKE_ARGS="-DAUTOGLM_WERROR=ON -DAUTOGLM_SANITIZE=address,undefined" scripts/setup.sh
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE py

CMAKE_ARGS="-DAUTOGLM_WERROR=ON" scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$jobs"
