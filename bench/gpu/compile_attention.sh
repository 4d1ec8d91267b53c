#!/usr/bin/env bash
# Compiles bench/gpu/cases/*.mlir to PTX + manifest with this checkout's
# kestrelc, into .devcarry/attention/ (ignored by git; name `.devcarry` in the
# device tool's `carry` so that bench/gpu/attention.sh finds it there).
#   bench/gpu/compile_attention.sh [CHIP]     (default sm_90a)
# KESTREL_PTX_DIR overrides the output folder, CASES_DIR the cases
# (bench/gpu/cases: f32 naive kernels; bench/gpu/cases-flash: f16/bf16
# tensor-core kernels).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHIP=${1:-sm_90a}
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
OUT=${KESTREL_PTX_DIR:-$ROOT/.devcarry/attention}
rm -rf "$OUT" && mkdir -p "$OUT"
for f in "${CASES_DIR:-$ROOT/bench/gpu/cases}"/*.mlir; do
  name=$(basename "$f" .mlir)
  "$KESTRELC" "$f" --target=cuda:$CHIP --emit=ptx -o "$OUT/$name.ptx"
  cp "$f" "$OUT/$name.mlir"
  echo "compiled $name ($(wc -c <"$OUT/$name.ptx") bytes of PTX)"
done
