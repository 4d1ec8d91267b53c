#!/usr/bin/env bash
# On the device machine, from a tree staged by bench/gpu/stage_wgmma_hooks.sh:
# bench/gpu/moe_profile.sh with step timeouts that fit 240 s, bf16 blocks only:
#   1. check_moe.py on new/: every kestrel.moe case against float64 (the
#      wgmma cases: empty expert, dropped pairs, K/N edges, shared experts),
#      the two issue-16 shapes timed beside torch eager and a dense bf16
#      torch GEMM of the same active FLOPs;
#   2. check_models.py --precisions=bf16 on cases-models/: the Llama blocks
#      (fused Q/K/V, gate/up, residual GEMMs) and the Mixtral block against
#      the module in f64, timed beside torch eager bf16;
#   3. profile_moe.py on new/ and sweep/: per-kernel times of the default
#      plans and the plan variants (the first the old mma.sync defaults).
# Writes $OUT/NAME.md (the tables) and $OUT/NAME.log (everything else).
set -uo pipefail
NAME=${1:-gpugemm}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FINAL=${OUT:-$ROOT/bench-out}
W=/tmp/wgmma-hooks-out
rm -rf "$W" && mkdir -p "$W" "$FINAL"
start=$(date +%s)
OUT=$W T_BUILD=70 T_MOE=70 T_MODELS=60 T_PROFILE=35 PRECISIONS=bf16 \
  bash "$ROOT/bench/gpu/moe_profile.sh" >"$FINAL/$NAME.log" 2>&1
rc=$?
echo "== rc=$rc after $(($(date +%s) - start)) s" >>"$FINAL/$NAME.log"
{
  echo "# wgmma with epilogue hooks, commit $(cat "$ROOT/../commit" 2>/dev/null)"
  cat "$W/gpu.txt" 2>/dev/null
  for f in moe.md models.md profile.txt; do
    echo; echo "## $f"; echo; cat "$W/$f" 2>/dev/null || echo "(missing)"
  done
} >"$FINAL/$NAME.md"
exit $rc
