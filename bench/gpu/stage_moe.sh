#!/usr/bin/env bash
# Stages the sparse-MoE benchmark under DEST/.devcarry-moe: the cases of
# bench/gpu/moe_cases.py compiled here to PTX + manifests (sm_90a; expert
# weights are runtime inputs, no sidecar) in moe/, the exported Mixtral
# block of bench/gpu/stage_models.sh (ONLY=mixtral_d512_t1024, in
# cases-models/; NO_MODELS=1 leaves it out), and the runtime, kestrel-run,
# bench/gpu and python/kestrel sources of this checkout's HEAD: the layout
# of bench/gpu/stage_moe_profile.sh without plan variants. The device tool
# sends the session's checkout plus the ignored paths named in `carry`:
#
#   bench/gpu/stage_moe.sh /path/to/session/checkout
#   run(carry=[".devcarry-moe"], command="cd .devcarry-moe/src && bash bench/gpu/bench_moe.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-moe
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
PLANS="" bash "$ROOT/bench/gpu/stage_moe_profile.sh" "$TMP" >/dev/null
rm -rf "$DEST"
mv "$TMP/.devcarry-moeperf" "$DEST"
mv "$DEST/new" "$DEST/moe"
rmdir "$DEST/sweep" "$DEST/base" 2>/dev/null || true
if [[ -z ${NO_MODELS:-} ]]; then
  ONLY=mixtral_d512_t1024 "$ROOT/bench/gpu/stage_models.sh" "$TMP" >/dev/null
  mv "$TMP/.devcarry-models/cases" "$DEST/cases-models"
fi
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
