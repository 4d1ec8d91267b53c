#!/usr/bin/env bash
# Stages the model zoo (test/models: tiny Hugging Face models exported with
# the dynamo exporter) for the GPU under DEST/.devcarry-zoo:
#   cases/NAME.{ptx,manifest[,weights]}  compiled here for cuda:sm_90a (the
#                                        models kestrelc refuses on cuda are
#                                        listed in cases/refused.txt);
#   cases/NAME.ids.npy                   the input ids test/models/zoo.py draws;
#   cases/NAME.onnx                      the ONNX model onnxruntime runs there;
#   src/                                 runtime, kestrel-run, bench/gpu (HEAD).
#
#   bench/gpu/stage_zoo.sh /path/to/session/checkout
#   run(carry=[".devcarry-zoo"], command="cd .devcarry-zoo/src && bash bench/gpu/zoo.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-zoo
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/cases"
: >"$DEST/cases/refused.txt"
for name in $(python3 -c "import sys; sys.path.insert(0, '$ROOT/test/models'); import zoo; print(*zoo.NAMES)"); do
  if "$KESTRELC" "$ROOT/test/models/$name.onnx" --target=cuda:sm_90a --emit=ptx \
       -o "$DEST/cases/$name.ptx" 2>"$DEST/cases/$name.err"; then
    rm -f "$DEST/cases/$name.err"
  else
    echo "$name: $(head -c 300 "$DEST/cases/$name.err" | tr '\n' ' ')" >>"$DEST/cases/refused.txt"
    rm -f "$DEST/cases/$name".*
    continue
  fi
  ref=$(python3 -c "import sys; sys.path.insert(0, '$ROOT/test/models'); import zoo; print(zoo.ORT_MODEL.get('$name', '$name'))")
  cp "$ROOT/test/models/$ref.onnx" "$DEST/cases/$name.onnx"
  python3 -c "
import sys, numpy as np
sys.path.insert(0, '$ROOT/test/models')
import zoo
np.save('$DEST/cases/$name.ids.npy', zoo.input_ids('$name'))"
done
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD >"$DEST/commit"
echo "staged $(cut -c1-7 "$DEST/commit") into $DEST ($(du -sh "$DEST" | cut -f1)); refused on cuda:"
cat "$DEST/cases/refused.txt"
