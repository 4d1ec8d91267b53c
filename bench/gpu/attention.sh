#!/usr/bin/env bash
# GPU benchmark of Kestrel's attention kernels against PyTorch SDPA.
#
# Runs ON the device machine, from the repository root, after
# bench/gpu/compile_attention.sh made .devcarry/attention/*.{ptx,manifest}
# here (kestrelc needs LLVM/MLIR, which the device machine lacks, so PTX is
# compiled beforehand and carried). It
#   1. builds the standalone runtime and kestrel-run (lib/Runtime, CMake),
#   2. runs bench/gpu/check_attention.py: our kernels through kestrel-run,
#      checked against a float64 reference, and SDPA's flash and cuDNN
#      backends timed in bf16 on the same shapes.
# Writes the table and logs to $OUT (or bench-out/ when OUT is unset).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/.devcarry/attention}
[[ -d $CASES ]] || { echo "no $CASES: run bench/gpu/compile_attention.sh and carry .devcarry" >&2; exit 1; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"

BUILD=$ROOT/build-rt
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
echo "built $BUILD/bin/kestrel-run"

PYTHONUNBUFFERED=1 python3 bench/gpu/check_attention.py \
  --kestrel-run "$BUILD/bin/kestrel-run" --cases "$CASES" --work /tmp/kestrel-attn \
  --table "$OUT/table.md" "$@" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
