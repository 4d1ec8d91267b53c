#!/usr/bin/env bash
# Stages a profile of the sparse-MoE kernels under DEST/.devcarry-moeperf:
#   new/    every case of bench/gpu/moe_cases.py compiled by this build
#           (numerics + timing by check_moe.py, per kernel by profile_moe.py);
#   base/   the timed cases compiled by another build (BASE=DIR of .ptx,
#           .manifest and .json files; optional), the "before" column;
#   sweep/  the timed cases with tile plans forced through
#           kestrel-gpu-moe{chip=CHIP tile-up=..,tile-down=..} (kestrel-opt,
#           then kestrelc), one variant per entry of PLANS: wgmma plans
#           (tile_k 64, warps tile_m / 16 x 1) run on the wgmma kernel,
#           others on mma.sync;
#   src/    the runtime, kestrel-run, bench/gpu, bench/cpu/models and
#           python/kestrel of this checkout's HEAD (what the commit names).
# The exported Mixtral block is staged beside it by hand when wanted:
#   ONLY=mixtral_d512_t1024 bench/gpu/stage_models.sh TMP, then
#   mv TMP/.devcarry-models/cases DEST/.devcarry-moeperf/cases-models
#
#   bench/gpu/stage_moe_profile.sh /path/to/session/checkout
#   run(carry=[".devcarry-moeperf"],
#       command="cd .devcarry-moeperf/src && bash bench/gpu/moe_profile.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-moeperf
BIN=${BIN:-$ROOT/build/bin}
CHIP=${CHIP:-sm_90a}
# tm,tn,tk,wm,wn,stages for both GEMMs, or UP/DOWN with one plan each
# (the per-kernel times separate the two GEMMs).
PLANS=${PLANS-"128,256,64,2,4,3 256,128,32,4,2,4 256,128,64,4,2,3
128,128,32,2,4,4 128,128,64,2,2,3 64,128,32,2,2,4 64,256,32,1,4,4"}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/new" "$DEST/sweep" "$DEST/base"
python3 "$ROOT/bench/gpu/moe_cases.py" "$DEST/new" >/dev/null
for mlir in "$DEST"/new/*.mlir; do
  name=$(basename "$mlir" .mlir)
  "$BIN/kestrelc" "$mlir" --target=cuda:$CHIP --emit=ptx -o "$DEST/new/$name.ptx"
done
for case in mixtral_t4096_d4096 fine_t4096_d2048_e64; do
  for plan in $PLANS; do
    up=${plan%/*} down=${plan#*/}
    tag=${up//,/x}
    [[ $down != "$up" ]] && tag+=_${down//,/x}
    v="$DEST/sweep/${case}__$tag"
    if "$BIN/kestrel-opt" "$DEST/new/$case.mlir" \
        --pass-pipeline="builtin.module(func.func(kestrel-gpu-moe{chip=$CHIP tile-up=$up tile-down=$down}))" \
        -o "$v.mlir" 2>/dev/null &&
       "$BIN/kestrelc" "$v.mlir" --target=cuda:$CHIP --emit=ptx -o "$v.ptx" 2>/dev/null &&
       /usr/local/cuda/bin/ptxas -arch=$CHIP "$v.ptx" -o /dev/null 2>/dev/null; then
      python3 - "$DEST/new/$case.json" "$v.json" "$case" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); m["case"] = sys.argv[3]
json.dump(m, open(sys.argv[2], "w"))
EOF
      echo "variant $case $plan"
    else
      echo "variant $case $plan: does not compile" && rm -f "$v".*
    fi
  done
done
if [[ -n ${BASE:-} ]]; then
  for case in mixtral_t4096_d4096 fine_t4096_d2048_e64; do
    cp "$BASE/$case".{ptx,manifest,json} "$DEST/base/"
  done
fi
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu bench/cpu/models python/kestrel | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged into $DEST ($(du -sh "$DEST" | cut -f1))"
