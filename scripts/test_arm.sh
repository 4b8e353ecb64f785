#!/usr/bin/env bash
# Arm NEON kernels without an Arm machine: cross-builds the layers core..backends with their
# quant and ops tests for AArch64 (cmake/aarch64-linux-gnu.cmake, AUTOGLM_KERNELS_ONLY) and runs
# test_quant and test_ops under qemu-user twice: on a CPU with SDOT (-cpu max: the dotprod
# kernels) and on a Cortex-A53 (no dotprod: the plain NEON fallback). The ops tests compare every
# available ISA's kernels, NEON included, with the scalar reference.
# Usage: scripts/test_arm.sh [build dir, default build-arm]; JOBS=n limits the build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-arm}
jobs=${JOBS:-$(nproc)}
sysroot=/usr/aarch64-linux-gnu

# Install only what is missing (idempotent); apt-get needs root.
need=()
command -v aarch64-linux-gnu-g++ >/dev/null || need+=(g++-aarch64-linux-gnu)
[ -e "$sysroot/lib/libc.so.6" ] || need+=(libc6-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -e /usr/src/googletest/CMakeLists.txt ] || need+=(googletest)
if ((${#need[@]})); then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y --no-install-recommends "${need[@]}"
fi

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAUTOGLM_WERROR=ON -DAUTOGLM_KERNELS_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
cmake --build "$dir" -j"$jobs" --target test_quant test_ops

# AUTOGLM_EXPECT_NEON_DOTPROD makes test_ops check which integer dots the dispatch picked.
for cpu in max cortex-a53; do
  dotprod=1
  [ "$cpu" = max ] || dotprod=0
  for t in test_quant test_ops; do
    echo "== $t, qemu-aarch64 -cpu $cpu (dotprod=$dotprod)"
    AUTOGLM_EXPECT_NEON_DOTPROD=$dotprod qemu-aarch64 -L "$sysroot" -cpu "$cpu" "$dir/bin/$t" --gtest_brief=1
  done
done
echo "test_arm: all passed"
