#!/usr/bin/env bash
# GPU check and benchmark of kestrel-gpu-recurrence on the device machine:
# numerics of every gate kind, the Mamba mixer and the conv against the
# NumPy oracles; prefill beside fla 0.6's chunked kernels; decode-step
# bandwidth beside a copy measured in the same run.
#
# Staged by bench/gpu/stage_recurrence.sh. From the staged src/:
#   CASES=$PWD/../cases ONNX_BLOCK=$PWD/../onnx_mamba bash bench/gpu/bench_recurrence.sh
# (with ../whl holding fla-core and einops wheels, installed to /tmp/site).
# Writes recurrence.md and the logs into $OUT; exit status 0 only when every
# numerics case passes.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../cases}
[[ -f $ROOT/../REVISION ]] && echo "staged revision $(cat "$ROOT/../REVISION")" | tee "$OUT/revision.txt"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
if ls "$ROOT"/../whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$ROOT"/../whl/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
BUILD=${BUILD:-$ROOT/build-rt}
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT" || { echo "FAIL: runtime build" | tee "$OUT/recurrence.md"; exit 1; }
status=0
PYTHONUNBUFFERED=1 python3 bench/gpu/check_recurrence.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$CASES" ${ONNX_BLOCK:+--onnx-block "$ONNX_BLOCK"} --table "$OUT/recurrence.md" "$@" 2>&1 | tee "$OUT/check.log" || status=$?
exit "$status"
