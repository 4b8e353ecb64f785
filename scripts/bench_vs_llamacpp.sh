#!/usr/bin/env bash
# Side-by-side CPU benchmark: our `autoglm bench` vs llama.cpp's llama-bench on the same
# random-weight GGUF files, same threads. llama.cpp is built from the source distribution of the
# `llama-cpp-python` package on PyPI (its vendor/llama.cpp) into a cache directory outside the
# repository; none of its code is committed here.
#
#   scripts/bench_vs_llamacpp.sh [build|models|run|all]   (default: all)
#
# Environment: CACHE (default ~/.cache/autoglm-bench), AUTOGLM (path of our binary, default
# build-perf-rel/bin/autoglm), PYTHON (a python with pip), THREADS (2), REPS (5),
# SHAPES ("smollm2-135m"), TYPES ("q8_0 q4_0"), P (512), N (128), BATCH (e.g. "4,16": our
# batched-decode rows too; llama-bench has no equivalent, so those rows have no peer figure).
# TYPES may also name llama.cpp's quantization mixes (q4_k_m, q5_k_m, q6_k, iq4_xs, iq4_nl, ...):
# those files are an f16 gen-random file quantized by the same build's llama-quantize, so they
# hold the types real downloads do (Q5_0 / Q5_1 where a row is not a multiple of 256, Q6_K
# heads, IQ4_NL where IQ4_XS rows are not).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CACHE:-$HOME/.cache/autoglm-bench}"
AUTOGLM="${AUTOGLM:-$ROOT/build-perf-rel/bin/autoglm}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
THREADS="${THREADS:-2}"
REPS="${REPS:-5}"
SHAPES="${SHAPES:-smollm2-135m}"
TYPES="${TYPES:-q8_0 q4_0}"
P="${P:-512}"
N="${N:-128}"
BATCH="${BATCH:-}"
LLAMA_BENCH="$CACHE/llama-build/bin/llama-bench"
LLAMA_QUANTIZE="$CACHE/llama-build/bin/llama-quantize"

build_llamacpp() {
  mkdir -p "$CACHE"
  if [[ ! -x "$LLAMA_BENCH" ]]; then
    if ! ls "$CACHE"/llama_cpp_python-*.tar.gz >/dev/null 2>&1; then
      "$PYTHON" -m pip download --no-deps --no-binary :all: llama-cpp-python -d "$CACHE"
    fi
    local tarball
    tarball="$(ls "$CACHE"/llama_cpp_python-*.tar.gz | head -1)"
    rm -rf "$CACHE/src" && mkdir -p "$CACHE/src"
    tar -xzf "$tarball" -C "$CACHE/src" --strip-components=1
    cmake -S "$CACHE/src/vendor/llama.cpp" -B "$CACHE/llama-build" -DCMAKE_BUILD_TYPE=Release \
      -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF
    cmake --build "$CACHE/llama-build" --target llama-bench -j2
  fi
  [[ -x "$LLAMA_QUANTIZE" ]] || cmake --build "$CACHE/llama-build" --target llama-quantize -j2
  "$LLAMA_BENCH" --help >/dev/null
}

make_models() {
  mkdir -p "$CACHE/models"
  for s in $SHAPES; do
    for t in $TYPES; do
      local f="$CACHE/models/$s-$t.gguf"
      [[ -f "$f" ]] && continue
      case "$t" in
        f32 | f16 | q8_0 | q4_0 | q4_k) "$AUTOGLM" gen-random --arch llama --shape "$s" --type "$t" --output "$f" --seed 1 ;;
        *)  # a llama.cpp mix: quantize the f16 file
          local src="$CACHE/models/$s-f16.gguf"
          [[ -f "$src" ]] || "$AUTOGLM" gen-random --arch llama --shape "$s" --type f16 --output "$src" --seed 1
          "$LLAMA_QUANTIZE" "$src" "$f" "${t^^}" >/dev/null ;;
      esac
    done
  done
}

run_bench() {
  for s in $SHAPES; do
    for t in $TYPES; do
      local f="$CACHE/models/$s-$t.gguf"
      echo "=== $s $t  (threads $THREADS, reps $REPS)"
      echo "--- llama.cpp: $LLAMA_BENCH -m $f -p $P -n $N -t $THREADS -r $REPS"
      "$LLAMA_BENCH" -m "$f" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" -o md
      local batch=()
      [[ -n "$BATCH" ]] && batch=(--batch "$BATCH")
      echo "--- autoglm: $AUTOGLM bench --model $f -p $P -n $N --threads $THREADS --reps $REPS ${batch[*]}"
      "$AUTOGLM" bench --model "$f" -p "$P" -n "$N" --threads "$THREADS" --reps "$REPS" "${batch[@]}"
    done
  done
}

case "${1:-all}" in
  build) build_llamacpp ;;
  models) make_models ;;
  run) run_bench ;;
  all) build_llamacpp; make_models; run_bench ;;
  *) echo "usage: $0 [build|models|run|all]" >&2; exit 2 ;;
esac
