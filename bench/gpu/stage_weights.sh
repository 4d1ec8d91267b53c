#!/usr/bin/env bash
# Stages the GPU check of constant weights (bench/gpu/weights.sh) under
# CHECKOUT/.devcarry/weights: src/ holds the committed runtime, kestrel-run
# and bench/gpu sources (git archive HEAD: what is staged is what a commit
# hash names), cases/ the PTX, manifests, weights sidecars, inputs and
# expected outputs made here by `check_weights.py prepare` (it needs
# build/bin/kestrelc and onnxruntime). The device tool sends the checkout the
# session started in plus the carried paths, so pass that checkout:
#
#   bench/gpu/stage_weights.sh /path/to/session/checkout
#   run(carry=[".devcarry/weights"], command=
#       "cd .devcarry/weights/src && bash bench/gpu/weights.sh")
#
# With no argument it stages into this checkout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry/weights
rm -rf "$DEST" && mkdir -p "$DEST/src"
python3 "$ROOT/bench/gpu/check_weights.py" prepare "$DEST/cases"
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c tools/kestrel-run \
  bench/gpu | tar -x -C "$DEST/src"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
