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
BUILD=${BUILD:-/tmp/kestrel-build-rt}
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cuda=(); [[ -d /usr/local/cuda ]] && cuda=(-DCUDAToolkit_ROOT=/usr/local/cuda)
cmake -S lib/Runtime -B "$BUILD" "${gen[@]}" "${cuda[@]}" \
  -DCMAKE_BUILD_TYPE=Release >"$OUT/cmake.log" 2>&1 \
  || { cat "$OUT/cmake.log"; exit 1; }
grep -q "Kestrel CUDA runtime: CUDA" "$OUT/cmake.log" \
  || { cat "$OUT/cmake.log"; echo "CUDA toolkit not found" >&2; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" >"$OUT/build.log" 2>&1 \
  || { cat "$OUT/build.log"; exit 1; }
python3 bench/gpu/check_routing.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
