#!/usr/bin/env bash
# GPU benchmark of the sparse MoE path (kestrel-gpu-moe): runs ON the device
# machine from a tree staged by bench/gpu/stage_moe.sh. Builds the runtime
# and kestrel-run, then bench/gpu/check_moe.py (numerics of every case
# against a float64 reference of docs/ops.md; the issue-16 shapes timed
# beside torch eager and a dense torch GEMM of the same active FLOPs), then
# the exported Mixtral block through bench/gpu/check_models.py beside torch
# eager. Writes tables and logs to $OUT (or bench-out/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-moe
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
export KESTREL_RUNTIME_LIB=${KESTREL_RUNTIME_LIB:-$(find "$BUILD" -name 'libKestrelRuntimeC.so' | head -1)}
COMMIT=$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)
rc=0
PYTHONUNBUFFERED=1 python3 bench/gpu/check_moe.py --cases "$ROOT/../moe" \
  --commit "$COMMIT" --table "$OUT/moe.md" 2>&1 | tee "$OUT/moe.log" || rc=1
if [[ -d $ROOT/../cases-models ]]; then
  PYTHONUNBUFFERED=1 python3 bench/gpu/check_models.py --kestrel-run "$BUILD/bin/kestrel-run" \
    --cases "$ROOT/../cases-models" --commit "$COMMIT" --no-compile \
    --table "$OUT/models.md" 2>&1 | tee "$OUT/models.log" || rc=1
fi
exit $rc
