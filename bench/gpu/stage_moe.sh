#!/usr/bin/env bash
# Stages the sparse-MoE benchmark under DEST/.devcarry-moe: the cases of
# bench/gpu/moe_cases.py compiled here to PTX + manifests (sm_90a; expert
# weights are runtime inputs, no sidecar), the exported Mixtral block of
# bench/gpu/stage_models.sh (ONLY=mixtral_d512_t1024, in cases-models/),
# and the runtime, kestrel-run, bench/gpu and python/kestrel sources of this
# checkout's HEAD. The device tool sends the session's checkout plus the
# ignored paths named in `carry`:
#
#   bench/gpu/stage_moe.sh /path/to/session/checkout
#   run(carry=[".devcarry-moe"], command="cd .devcarry-moe/src && bash bench/gpu/bench_moe.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-moe
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/moe"
python3 "$ROOT/bench/gpu/moe_cases.py" "$DEST/moe" >/dev/null
for mlir in "$DEST"/moe/*.mlir; do
  name=$(basename "$mlir" .mlir)
  "$KESTRELC" "$mlir" --target=cuda:${CHIP:-sm_90a} --emit=ptx -o "$DEST/moe/$name.ptx"
  echo "compiled $name"
done
if [[ -z ${NO_MODELS:-} ]]; then
  tmp=$(mktemp -d)
  ONLY=mixtral_d512_t1024 "$ROOT/bench/gpu/stage_models.sh" "$tmp" >/dev/null
  mv "$tmp/.devcarry-models/cases" "$DEST/cases-models"
  rm -rf "$tmp"
fi
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu bench/cpu/models python/kestrel | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
