#!/usr/bin/env bash
# GPU check of the f32 flash attention kernel (SIMT) against PyTorch SDPA
# f32. Runs ON the device machine from the staged tree (.devcarry-attn/src,
# made by bench/gpu/stage_f32_attention.sh): builds the standalone runtime
# and kestrel-run, then bench/gpu/check_f32_attention.py over the carried
# PTX + manifests. Writes the table and logs to $OUT (or bench-out/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../attention}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/build-rt
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
echo "built $BUILD/bin/kestrel-run"
PYTHONUNBUFFERED=1 python3 bench/gpu/check_f32_attention.py \
  --kestrel-run "$BUILD/bin/kestrel-run" --cases "$CASES" \
  --table "$OUT/table.md" "$@" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
