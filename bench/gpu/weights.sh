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
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cuda=(); [[ -d /usr/local/cuda ]] && cuda=(-DCUDAToolkit_ROOT=/usr/local/cuda)
cmake -S lib/Runtime -B "$BUILD" "${gen[@]}" "${cuda[@]}" \
  -DCMAKE_BUILD_TYPE=Release >"$OUT/cmake.log" 2>&1 \
  || { cat "$OUT/cmake.log"; exit 1; }
grep -q "Kestrel CUDA runtime: CUDA" "$OUT/cmake.log" \
  || { cat "$OUT/cmake.log"; echo "CUDA toolkit not found" >&2; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" >"$OUT/build.log" 2>&1 \
  || { cat "$OUT/build.log"; exit 1; }

python3 bench/gpu/check_weights.py check --kestrel-run "$BUILD/bin/kestrel-run" \
  "$CASES" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
