#!/usr/bin/env bash
# denoise_step on the GPU: runs ON the device machine from a tree staged by
# bench/gpu/stage_denoise.sh. Builds the runtime and kestrel-run, then
# bench/gpu/check_denoise.py (numerics against the NumPy oracle and a
# PyTorch f64 step, timing beside PyTorch eager). Writes $OUT/denoise.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
BUILD=/tmp/kestrel-build-denoise
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
PYTHONUNBUFFERED=1 python3 bench/gpu/check_denoise.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$ROOT/../cases" --commit "$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)" \
  --table "$OUT/denoise.md" 2>&1 | tee "$OUT/denoise.log"
exit "${PIPESTATUS[0]}"
