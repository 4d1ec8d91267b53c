#!/usr/bin/env bash
# Per-kernel times (and warp stall reasons with STALLS=1) of staged
# recurrence cases under Nsight Compute, after bench/gpu/bench_recurrence.sh
# has run them (their inputs stay in /tmp/kestrel-rec/<case>). From the
# staged src/:
#   CASES=$PWD/../cases bash bench/gpu/profile_recurrence.sh CASE...
# Writes $OUT/ncu-<case>.txt; prints the per-kernel durations.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/bench-out}
CASES=${CASES:-$ROOT/../cases}
RUN=${BUILD:-$ROOT/build-rt}/bin/kestrel-run
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
[[ -x $NCU ]] || { echo "no ncu"; exit 0; }
for c in "$@"; do
  work=/tmp/kestrel-rec/$c
  mkdir -p "$work/ncu-out"
  args=("$RUN" "$CASES/$c/case.manifest" "--inputs=$work" "--outputs=$work/ncu-out"
        --warmup=0 --repeat=1)
  KESTREL_CUDA_GRAPHS=0 "$NCU" --clock-control none --metrics gpu__time_duration.sum \
    "${args[@]}" >"$OUT/ncu-$c.txt" 2>&1
  echo "== $c"; grep -E "main_kernel|gpu__time_duration" "$OUT/ncu-$c.txt" | head -12
  if [[ -n ${STALLS:-} ]]; then
    KESTREL_CUDA_GRAPHS=0 "$NCU" --clock-control none --section WarpStateStats \
      --section SchedulerStats --section Occupancy --launch-count 2 "${args[@]}" \
      >>"$OUT/ncu-$c.txt" 2>&1
    grep -E "main_kernel|Stall|Warp Cycles|Active Warps|Issued|Theoretical Occ" \
      "$OUT/ncu-$c.txt" | tail -30
  fi
done
