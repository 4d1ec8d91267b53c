#!/usr/bin/env bash
# Stages the device check of the GEMMs with epilogue hooks on the sm_90a
# wgmma kernel (fused Q/K/V, gate/up and residual GEMMs of kestrel-gpu-gemm;
# the grouped expert GEMMs of kestrel-gpu-moe) under DEST/.devcarry-NAME:
#   new/, sweep/, src/   bench/gpu/stage_moe_profile.sh with PLANS: the
#                        first entry the old mma.sync defaults (the "before"
#                        column, same run), then wgmma plan pairs;
#   cases-models/        bench/gpu/stage_models.sh, bf16 only: the Llama
#                        blocks (fused GEMMs) and the Mixtral block (MoE);
#   run.sh               runs bench/gpu/wgmma_hooks.sh on the device.
#
#   bench/gpu/stage_wgmma_hooks.sh /path/to/session/checkout [NAME]
#   run(carry=[".devcarry-NAME"], command="bash .devcarry-NAME/run.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NAME=${2:-gpugemm}
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-$NAME
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export PLANS=${PLANS:-"256,128,32,4,2,4/128,256,64,2,4,3
128,128,64,8,1,3/128,256,64,8,1,4 256,128,64,16,1,4/128,256,64,8,1,4"}
bash "$ROOT/bench/gpu/stage_moe_profile.sh" "$TMP"
ONLY="llama_d512_t2048 mixtral_d512_t1024 llama_d2048_t4096" PRECS=bf16 \
  "$ROOT/bench/gpu/stage_models.sh" "$TMP" >/dev/null
rm -rf "$DEST"
mv "$TMP/.devcarry-moeperf" "$DEST"
mv "$TMP/.devcarry-models/cases" "$DEST/cases-models"
cat >"$DEST/run.sh" <<RUN
#!/usr/bin/env bash
# Device side (from the repository root): bench/gpu/wgmma_hooks.sh NAME.
cd "\$(dirname "\$0")/src" && exec bash bench/gpu/wgmma_hooks.sh $NAME
RUN
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
