#!/usr/bin/env bash
# Stages the GPU numeric check of kestrel.route / kestrel.moe under
# CHECKOUT/.devcarry/routing (ignored by git): cases compiled here for
# ${CHIP:-sm_90a} with their oracle outputs (bench/gpu/routing_cases.py),
# and the runtime + kestrel-run sources. Then, with the device tool:
#
#   run(carry=[".devcarry/routing"], command=
#       "cd .devcarry/routing/src && bash bench/gpu/routing.sh")
#
# With no argument it stages into this checkout.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry/routing
rm -rf "$DEST" && mkdir -p "$DEST/src"
python3 "$ROOT/bench/gpu/routing_cases.py" --dest "$DEST/cases" \
  --target="cuda:${CHIP:-sm_90a}"
# Committed state only: what is staged is what a commit hash names.
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c tools/kestrel-run \
  bench/gpu | tar -x -C "$DEST/src"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
