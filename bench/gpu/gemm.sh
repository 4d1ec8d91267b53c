#!/usr/bin/env bash
# GPU benchmark of Kestrel's GEMM kernels (kestrel-gpu-gemm) against
# torch.matmul. Runs ON the device machine from a tree staged by
# bench/gpu/stage_gemm.sh (PTX + manifests compiled beforehand: kestrelc
# needs LLVM/MLIR, which the device machine lacks). Builds the runtime and
# kestrel-run, then runs bench/gpu/check_gemm.py. Writes the table and logs
# to $OUT (or bench-out/).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../gemm}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-gemm
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
export KESTREL_RUNTIME_LIB=${KESTREL_RUNTIME_LIB:-$(find "$BUILD" -name 'libKestrelRuntimeC.so' | head -1)}
# SM clock and power while the kernels run (read-only sampling).
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw --format=csv -lms 200 \
  > "$OUT/clocks.csv" 2>&1 &
SMI=$!
trap 'kill $SMI 2>/dev/null || true' EXIT
# The mma.sync issue-rate ceiling (register operands only).
if command -v nvcc >/dev/null; then
  nvcc -O3 -gencode=arch=compute_90a,code=sm_90a bench/gpu/mma_peak.cu \
    -o "$BUILD/mma_peak" && "$BUILD/mma_peak" | tee "$OUT/mma_peak.txt"
fi
PYTHONUNBUFFERED=1 python3 bench/gpu/check_gemm.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" --table "$OUT/table.md" "$@" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
