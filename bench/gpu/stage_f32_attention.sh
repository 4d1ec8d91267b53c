#!/usr/bin/env bash
# Stages the f32 attention check under DEST/.devcarry-attn: the runtime and
# kestrel-run sources and bench/gpu of this checkout's HEAD (src/), and
# bench/gpu/cases-f32 compiled here to PTX + manifests (attention/):
#
#   bench/gpu/stage_f32_attention.sh /path/to/session/checkout
#   run(carry=[".devcarry-attn"], command="bash .devcarry-attn/src/bench/gpu/f32_attention.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-attn
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/attention"
for f in "$ROOT"/bench/gpu/cases-f32/*.mlir; do
  name=$(basename "$f" .mlir)
  "$KESTRELC" "$f" --target=cuda:${CHIP:-sm_90a} --emit=ptx \
    -o "$DEST/attention/$name.ptx"
  cp "$f" "$DEST/attention/$name.mlir"
  echo "compiled $name"
done
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
