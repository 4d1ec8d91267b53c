#!/usr/bin/env bash
# Stages the denoise_step benchmark under DEST/.devcarry-denoise: the cases
# of bench/gpu/denoise_cases.py compiled here to PTX + manifests (sm_90a),
# plus the runtime, kestrel-run, bench/gpu and python/kestrel of HEAD:
#
#   bench/gpu/stage_denoise.sh /path/to/session/checkout
#   run(carry=[".devcarry-denoise"],
#       command="cd .devcarry-denoise/src && bash bench/gpu/denoise.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-denoise
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/cases"
python3 "$ROOT/bench/gpu/denoise_cases.py" "$DEST/cases" >/dev/null
for f in "$DEST"/cases/*.mlir; do
  "$KESTRELC" "$f" --target=cuda:${CHIP:-sm_90a} --emit=ptx -o "${f%.mlir}.ptx"
  echo "compiled $(basename "$f" .mlir)"
done
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu python/kestrel | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
