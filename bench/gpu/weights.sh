#!/usr/bin/env bash
# GPU check of constant weights (the manifest's weights sidecar): the Llama
# block of test/onnx/models/llama_block.onnx against onnxruntime CPU, and a
# dense-constant addition against NumPy (bench/gpu/check_weights.py).
#
# Runs ON the device machine from a source tree staged by
# bench/gpu/stage_weights.sh (lib/Runtime, tools/kestrel-run, bench/gpu),
# with the cases prepared off-device in $CASES (default ../cases, as staged):
#
#   run(carry=[".devcarry/weights"], command=
#       "cd .devcarry/weights/src && bash bench/gpu/weights.sh")
#
# Builds the standalone runtime and kestrel-run (CMake), then runs every case.
# Logs go to $OUT (or bench-out/ when OUT is unset).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../cases}
[[ -d $CASES ]] || { echo "no $CASES: run bench/gpu/stage_weights.sh and carry .devcarry/weights" >&2; exit 1; }

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

BUILD=$ROOT/build-rt
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"

python3 bench/gpu/check_weights.py check --kestrel-run "$BUILD/bin/kestrel-run" \
  "$CASES" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
