#!/usr/bin/env bash
# GPU benchmark of whole blocks: runs ON the device machine from a tree staged
# by bench/gpu/stage_models.sh (PTX, manifests and xz'd weights compiled
# beforehand: kestrelc needs LLVM/MLIR, which the device machine lacks).
# Builds the runtime and kestrel-run, then bench/gpu/check_models.py: Kestrel
# (f32, bf16; graph replay and kernel by kernel) beside the same PyTorch
# modules (eager f32 and bf16, torch.compile), outputs checked against the
# module in f64 on the GPU. Writes the table and logs to $OUT (or bench-out/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../cases}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-models
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
PYTHONUNBUFFERED=1 python3 bench/gpu/check_models.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" --commit "$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)" \
  --table "$OUT/table.md" "$@" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
