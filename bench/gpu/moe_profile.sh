#!/usr/bin/env bash
# On the device machine, from a tree staged by bench/gpu/stage_moe_profile.sh
# (or stage_moe.sh, through bench_moe.sh): builds the runtime, checks every
# case of MOE_CASES (default ../new) with check_moe.py (float64 reference;
# the timed shapes beside torch eager and a dense torch GEMM), the exported
# blocks of ../cases-models with check_models.py (PRECISIONS, default
# f32,bf16), then per-kernel times of base/, new/ and sweep/ (those staged)
# with profile_moe.py. Each step runs under `timeout` (T_BUILD, T_MOE,
# T_MODELS, T_PROFILE seconds; default 600). Writes moe.md, moe.log,
# models.md, models.log, profile.txt, profile.log to $OUT (or bench-out/).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-moe
if ! timeout "${T_BUILD:-600}" bash -c \
    "source bench/gpu/build_runtime.sh && build_runtime $BUILD $OUT"; then
  echo "runtime build failed"; exit 1
fi
export KESTREL_RUNTIME_LIB=$(find "$BUILD" -name 'libKestrelRuntimeC.so' | head -1)
export PYTHONUNBUFFERED=1
COMMIT=$(cat "$ROOT/../commit" 2>/dev/null || echo unknown)
rc=0
timeout "${T_MOE:-600}" python3 bench/gpu/check_moe.py \
  --cases "${MOE_CASES:-$ROOT/../new}" --commit "$COMMIT" --table "$OUT/moe.md" \
  2>&1 | tee "$OUT/moe.log" || rc=1
# The exported blocks (staged by bench/gpu/stage_models.sh into
# ../cases-models), beside torch eager.
if [[ -d $ROOT/../cases-models ]]; then
  timeout "${T_MODELS:-600}" python3 bench/gpu/check_models.py \
    --kestrel-run "$BUILD/bin/kestrel-run" --cases "$ROOT/../cases-models" \
    --commit "$COMMIT" --no-compile --precisions "${PRECISIONS:-f32,bf16}" \
    --table "$OUT/models.md" 2>&1 | tee "$OUT/models.log" || rc=1
fi
dirs=()
for d in base new sweep; do
  compgen -G "$ROOT/../$d/*.ptx" >/dev/null && dirs+=("$ROOT/../$d")
done
if ((${#dirs[@]})); then
  timeout "${T_PROFILE:-600}" python3 bench/gpu/profile_moe.py "${dirs[@]}" \
    --out "$OUT/profile.txt" 2>&1 | tee "$OUT/profile.log" || rc=1
fi
# NCU=1: Speed-of-light and memory sections of the Mixtral-shape up and
# down GEMMs of new/ (moe_kernel_0 / _1), one launch each.
if [[ -n ${NCU:-} ]] && command -v ncu >/dev/null; then
  KESTREL_CUDA_GRAPHS=0 timeout 80 ncu --kernel-name regex:'moe_kernel_[01]$' \
    --launch-skip 2 --launch-count 2 --section SpeedOfLight \
    --section MemoryWorkloadAnalysis --section Occupancy \
    python3 bench/gpu/ncu_moe_once.py "$ROOT/../new/mixtral_t4096_d4096.json" \
    > "$OUT/ncu.txt" 2>&1 || echo "ncu failed (see ncu.txt)"
  tail -80 "$OUT/ncu.txt"
fi
exit $rc
