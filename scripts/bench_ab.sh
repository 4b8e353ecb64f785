#!/usr/bin/env bash
# A/B of engine settings on a noisy host: runs `autoglm bench` once per setting per round, the
# settings alternating within each round, and prints each setting's median of one result row
# with every value beside it. The settings are environment assignments (AUTOGLM_AMX=0, ...).
#
#   scripts/bench_ab.sh ROUNDS ROW SETTING... -- BENCH_ARGS...
#   e.g. scripts/bench_ab.sh 3 "tg64 x16" AUTOGLM_AMX=1 AUTOGLM_AMX=0 -- \
#          --model llama3.2-1b-q4_k.gguf -p 16 -n 64 --batch 16 --reps 1 --threads 2
#
# ROW is the first column of the bench table ("pp512", "tg64 x16"); the figure is its tokens/s.
# A setting may hold several assignments separated by spaces ("A=1 B=2"); AUTOGLM=PATH in a
# setting runs that binary (an old build against the new). Environment: AUTOGLM (default
# build/bin/autoglm).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
AUTOGLM="${AUTOGLM:-$ROOT/build/bin/autoglm}"
if [[ $# -lt 4 ]]; then
  sed -n '2,12p' "$0" >&2
  exit 2
fi
ROUNDS="$1"
ROW="$2"
shift 2
settings=()
while [[ $# -gt 0 && "$1" != "--" ]]; do
  settings+=("$1")
  shift
done
[[ $# -gt 0 ]] && shift  # the --
declare -A values
for ((r = 0; r < ROUNDS; ++r)); do
  for s in "${settings[@]}"; do
    bin=$(sed -n 's/.*AUTOGLM=\([^ ]*\).*/\1/p' <<<"$s")
    # shellcheck disable=SC2086  # a setting is several words on purpose
    v=$(env $s "${bin:-$AUTOGLM}" bench "$@" 2>&1 | awk -F'|' -v row="$ROW" '{ k = $2; gsub(/^ +| +$/, "", k) } k == row { gsub(/ /, "", $3); print $3; exit }')
    values[$s]+="${v:-?} "
  done
done
for s in "${settings[@]}"; do
  median=$(tr ' ' '\n' <<<"${values[$s]}" | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
  echo "$s: median $median [ ${values[$s]}]"
done
