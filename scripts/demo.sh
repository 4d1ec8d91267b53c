#!/usr/bin/env bash
# The main job on the bundled example: set up, build, compile
# examples/attention.mlir for the CPU (shared library) and for cuda:sm_90a
# (PTX + manifest, assembled by ptxas when present), run the CPU library and
# check it against the NumPy reference.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KESTREL_BUILD_DIR:-$ROOT/build}
OUT=$BUILD/demo
cd "$ROOT"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"
mkdir -p "$OUT"

echo "== kestrelc: CPU shared library =="
"$BUILD/bin/kestrelc" examples/attention.mlir --target=cpu --emit=so -o "$OUT/attention.so"
echo "$OUT/attention.so"

echo "== kestrelc: PTX for cuda:sm_90a =="
"$BUILD/bin/kestrelc" examples/attention.mlir --target=cuda:sm_90a --emit=ptx -o "$OUT/attention.ptx"
echo "$OUT/attention.ptx ($(grep -c '^\.visible \.entry' "$OUT/attention.ptx") kernels), $OUT/attention.manifest"
PTXAS=$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)
if [[ -x $PTXAS ]]; then
  "$PTXAS" -arch=sm_90a "$OUT/attention.ptx" -o "$OUT/attention.cubin"
  echo "ptxas -arch=sm_90a: OK"
else
  echo "ptxas not installed: PTX not assembled"
fi

echo "== kestrel-run: time the CPU library =="
"$BUILD/bin/kestrel-run" "$OUT/attention.so" --repeat=5

echo "== check against the NumPy reference =="
python3 examples/check_attention.py "$OUT/attention.so"
