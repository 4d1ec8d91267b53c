#!/usr/bin/env bash
# On the device machine, from a tree staged by bench/gpu/stage_zoo.sh: builds
# the runtime and kestrel-run, then bench/gpu/check_zoo.py (every staged zoo
# model on the GPU against onnxruntime on the CPU). Writes $OUT/zoo.md and
# the logs; exit status 0 only when every model matches.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
BUILD=/tmp/kestrel-build-zoo
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
PYTHONUNBUFFERED=1 python3 bench/gpu/check_zoo.py --kestrel-run "$BUILD/bin/kestrel-run" \
  --cases "$ROOT/../cases" --commit "$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)" \
  --table "$OUT/zoo.md" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
