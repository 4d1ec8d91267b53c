#!/usr/bin/env bash
# GPU check of kestrel.causal_conv1d against the NumPy oracle.
#
# Runs ON the device machine, from the repository root, after
# `python3 bench/gpu/check_conv.py prepare` made .devcarry/conv/ here (name
# `.devcarry` in the device tool's `carry`). Builds the standalone runtime
# and kestrel-run (lib/Runtime), then runs every case and compares.
# Logs go to $OUT (or bench-out/ when OUT is unset).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/.devcarry/conv}
[[ -d $CASES ]] || { echo "no $CASES: run bench/gpu/check_conv.py prepare and carry .devcarry" >&2; exit 1; }

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

BUILD=$ROOT/build-rt
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"

python3 bench/gpu/check_conv.py check --kestrel-run "$BUILD/bin/kestrel-run" \
  "$CASES" 2>&1 | tee "$OUT/check.log"
exit "${PIPESTATUS[0]}"
