#!/usr/bin/env bash
# Stages the GPU model benchmark under DEST/.devcarry-models: each block of
# bench/gpu/models_common.py exported to ONNX here (pattern weights), then
# compiled by this checkout's kestrelc for cuda:sm_90a in f32 and with
# --precision=bf16 (PRECS, default "f32 bf16") (PTX + manifest + weights sidecar, the sidecar
# xz-compressed); plus the committed runtime, kestrel-run and bench/gpu
# sources (git archive HEAD) and bench/cpu/models. The device tool sends the
# session's checkout plus the ignored paths named in `carry`:
#
#   bench/gpu/stage_models.sh /path/to/session/checkout
#   run(carry=[".devcarry-models"],
#       command="cd .devcarry-models/src && bash bench/gpu/bench_models.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-models
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
ONLY=${ONLY:-llama_d512_t2048 mixtral_d512_t1024 llama_d2048_t4096}
PRECS=${PRECS:-f32 bf16}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/cases"
for name in $ONLY; do
  ROOT="$ROOT" python3 -c '
import os, sys
sys.path.insert(0, os.path.join(os.environ["ROOT"], "bench/gpu"))
import models_common as mc
from common import export
m, x = mc.build(sys.argv[1])
export(m, x, __import__("pathlib").Path(sys.argv[2]))
' "$name" "$DEST/cases/$name.onnx"
  for prec in $PRECS; do
    start=$(date +%s.%N)
    "$KESTRELC" "$DEST/cases/$name.onnx" --target=cuda:${CHIP:-sm_90a} --emit=ptx \
      --precision=$prec -o "$DEST/cases/${name}_$prec.ptx"
    echo "compiled ${name} $prec in $(python3 -c "print(f'{$(date +%s.%N)-$start:.1f}')") s"
    if [[ -f "$DEST/cases/${name}_$prec.weights" ]]; then
      xz -T2 -6 -f "$DEST/cases/${name}_$prec.weights"
    fi
  done
  rm -f "$DEST/cases/$name.onnx"
done
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu bench/cpu/models | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
