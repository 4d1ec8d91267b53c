#!/usr/bin/env bash
# Stages a self-contained GPU attention benchmark under REPO/.devcarry/cudart:
# the runtime and kestrel-run sources, bench/gpu, and PTX + manifests
# compiled here. The device tool sends the checkout the session started in
# (not necessarily this worktree) plus the ignored paths named in `carry`, so
# staging into that checkout's .devcarry lets the benchmark run from any
# branch:
#
#   bench/gpu/stage_devcarry.sh /path/to/session/checkout
#   run(carry=[".devcarry/cudart"], command=
#       "cd .devcarry/cudart/src && CASES=$PWD/../attention bash bench/gpu/attention.sh")
#
# With no argument it stages into this checkout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry/cudart
rm -rf "$DEST" && mkdir -p "$DEST/src"
KESTREL_PTX_DIR=$DEST/attention "$ROOT/bench/gpu/compile_attention.sh" "${CHIP:-sm_90a}"
# Committed state only: what is staged is what a commit hash names.
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c tools/kestrel-run \
  bench/gpu | tar -x -C "$DEST/src"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
