#!/usr/bin/env bash
# On the device machine, from a tree staged by bench/gpu/stage_wgmma_hooks.sh:
# builds the runtime, then (each step under `timeout`)
#   1. check_moe.py on new/: every kestrel.moe case against float64 (the
#      wgmma cases: empty expert, dropped pairs, K/N edges, shared experts),
#      the two issue-16 shapes timed beside torch eager and a dense bf16
#      torch GEMM of the same active FLOPs;
#   2. check_models.py --precisions=bf16 on cases-models/: the Llama blocks
#      (fused Q/K/V, gate/up, residual GEMMs) and the Mixtral block against
#      the module in f64, timed beside torch eager bf16;
#   3. profile_moe.py on new/ and sweep/: per-kernel times of the default
#      plans and the plan variants (the first the old mma.sync defaults).
# Writes $OUT/NAME.md (the tables) and $OUT/NAME.log (everything else).
set -uo pipefail
NAME=${1:-gpugemm}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
FINAL=${OUT:-$ROOT/bench-out}
mkdir -p "$FINAL"
W=/tmp/wgmma-hooks-out
rm -rf "$W" && mkdir -p "$W"
LOG=$FINAL/$NAME.log MD=$FINAL/$NAME.md
COMMIT=$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)
start=$(date +%s)
step() { echo "== $1 ($(($(date +%s) - start)) s)" | tee -a "$LOG"; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee -a "$LOG"
step "build runtime"
BUILD=/tmp/kestrel-build-hooks
if ! timeout 70 bash -c "source bench/gpu/build_runtime.sh && build_runtime $BUILD $W" >>"$LOG" 2>&1; then
  echo "runtime build failed" | tee -a "$LOG"; exit 1
fi
export KESTREL_RUNTIME_LIB=$(find "$BUILD" -name 'libKestrelRuntimeC.so' | head -1)
export PYTHONUNBUFFERED=1
rc=0
step "check_moe"
timeout 70 python3 bench/gpu/check_moe.py --cases "$ROOT/../new" \
  --commit "$COMMIT" --table "$W/moe.md" >>"$LOG" 2>&1 || rc=1
step "check_models bf16"
timeout 60 python3 bench/gpu/check_models.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$ROOT/../cases-models" --commit "$COMMIT" --no-compile \
  --precisions=bf16 --table "$W/models.md" >>"$LOG" 2>&1 || rc=1
step "profile_moe"
timeout 35 python3 bench/gpu/profile_moe.py "$ROOT/../new" "$ROOT/../sweep" \
  --out "$W/profile.txt" >>"$LOG" 2>&1 || rc=1
step "done rc=$rc"
{
  echo "# wgmma with epilogue hooks, commit $COMMIT"
  for f in moe.md models.md profile.txt; do
    echo; echo "## $f"; echo; cat "$W/$f" 2>/dev/null || echo "(missing)"
  done
} >"$MD"
exit $rc
