#!/usr/bin/env bash
# GPU benchmark of Kestrel's split-KV decode kernels (and the kv_append
# scatter) against PyTorch, on the device machine.
#
# Staged by bench/gpu/stage_decode.py into .devcarry/decode/ (PTX +
# manifests compiled where kestrelc is, the runtime sources of the same
# commit in .devcarry/decode/src). From the root of the carried checkout:
#
#   run(carry=[".devcarry/decode"], command=
#       "cd .devcarry/decode/src && CASES=$PWD/../cases bash bench/gpu/decode.sh")
#
# Builds lib/Runtime + kestrel-run with CMake, runs bench/gpu/check_decode.py
# (PASS/FAIL per case, numerics vs an f32 PyTorch reference, GB/s of KV read
# beside SDPA in the same run), writes decode.md and the logs into $OUT.
# Exit status 0 only when every case passes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../cases}
[[ -d $CASES ]] || { echo "FAIL: no cases at $CASES (run bench/gpu/stage_decode.py and carry .devcarry/decode)" | tee "$OUT/decode.md" >&2; exit 1; }
[[ -f $ROOT/../REVISION ]] && echo "staged revision $(cat "$ROOT/../REVISION")" | tee "$OUT/revision.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"

BUILD=${BUILD:-$ROOT/build-rt}
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT" \
  || { echo "FAIL: runtime build (see cmake.log / build.log)" | tee "$OUT/decode.md"; exit 1; }
echo "built $BUILD/bin/kestrel-run"

status=0
PYTHONUNBUFFERED=1 python3 bench/gpu/check_decode.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" --work /tmp/kestrel-decode --table "$OUT/decode.md" "$@" 2>&1 \
  | tee "$OUT/check.log" || status=$?
[[ -f $OUT/decode.md ]] || echo "FAIL: check_decode.py wrote no table (see check.log)" >"$OUT/decode.md"
exit "$status"
