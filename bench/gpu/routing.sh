#!/usr/bin/env bash
# GPU numeric check of kestrel.route / kestrel.moe. Runs ON the device
# machine from .devcarry/routing/src (see bench/gpu/stage_routing.sh):
# builds the standalone runtime and kestrel-run, then runs every staged case
# and compares with the oracle's outputs (bench/gpu/check_routing.py).
# Logs go to $OUT (or routing-out/ when OUT is unset).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/routing-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../cases}
[[ -d $CASES ]] || { echo "no $CASES: run bench/gpu/stage_routing.sh and carry .devcarry/routing" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
BUILD=${BUILD:-$ROOT/build-rt}
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
python3 bench/gpu/check_routing.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
