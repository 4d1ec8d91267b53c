#!/usr/bin/env bash
# GPU benchmark of Kestrel's GEMM kernels (kestrel-gpu-gemm) against
# torch.matmul. Runs ON the device machine from a tree staged by
# bench/gpu/stage_gemm.sh (PTX + manifests compiled beforehand: kestrelc
# needs LLVM/MLIR, which the device machine lacks). Builds the runtime and
# kestrel-run, checks the SASS of the kernels named in SASS_CASES (HGMMA for
# the wgmma kernel, HMMA for mma.sync: $OUT/sass.txt), then runs
# bench/gpu/check_gemm.py with each case in its own process, and
# compute-sanitizer (memcheck, racecheck) on the cases named in SANITIZE
# ($OUT/sanitize.txt). Writes the table and logs to $OUT (or bench-out/).
#   MMA_PEAK=1 also runs bench/gpu/mma_peak.cu.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=${CASES:-$ROOT/../gemm}
SANITIZE=${SANITIZE:-}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-gemm
mkdir -p /tmp/gemm-logs
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" /tmp/gemm-logs || exit 1
export KESTREL_RUNTIME_LIB=${KESTREL_RUNTIME_LIB:-$(find "$BUILD" -name 'libKestrelRuntimeC.so' | head -1)}
RUN=$BUILD/bin/kestrel-run
# SASS of every staged kernel: tensor-core instruction counts.
{
  echo "case | HGMMA | HMMA | ptxas registers / spills"
  for name in ${SASS_CASES:-bf16_4096 bf16_4096_sync bf16_4096_wg128x128s4 bf16_decode_m16 bf16_wg_ta}; do
    ptx=$CASES/$name.ptx
    info=$(/usr/local/cuda/bin/ptxas -arch=sm_90a -v "$ptx" -o "/tmp/$name.cubin" 2>&1 \
      | grep -E 'registers|spill|warning' | tr '\n' ' ' | sed 's/ptxas info *: //g')
    sass=$(/usr/local/cuda/bin/cuobjdump -sass "/tmp/$name.cubin" 2>/dev/null)
    echo "$name | $(grep -c HGMMA <<<"$sass") | $(grep -c 'HMMA' <<<"$sass") | $info"
  done
} > "$OUT/sass.txt" 2>&1
# SM clock and power while the kernels run (read-only sampling).
nvidia-smi --query-gpu=timestamp,clocks.sm,power.draw --format=csv -lms 200 \
  > "$OUT/clocks.csv" 2>&1 &
SMI=$!
trap 'kill $SMI 2>/dev/null || true' EXIT
# The mma.sync issue-rate ceiling (register operands only).
if [[ -n ${MMA_PEAK:-} ]] && command -v nvcc >/dev/null; then
  nvcc -O3 -gencode=arch=compute_90a,code=sm_90a bench/gpu/mma_peak.cu \
    -o "$BUILD/mma_peak" && "$BUILD/mma_peak" | tee "$OUT/mma_peak.txt"
fi
san_status=0
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for name in $SANITIZE; do
  for tool in memcheck racecheck; do
    timeout 60 "$SAN" --tool "$tool" --error-exitcode 3 --print-limit 10 \
      "$RUN" "$CASES/$name.manifest" --repeat=1 --warmup=0 --no-graph \
      > "/tmp/san-$name-$tool.log" 2>&1
    rc=$?
    echo "$name $tool: rc $rc $(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "/tmp/san-$name-$tool.log" | tail -1)"
    [[ $rc == 0 ]] || tail -30 "/tmp/san-$name-$tool.log"
  done
done 2>&1 | tee "$OUT/sanitize.txt"
grep -q "rc [^0]" "$OUT/sanitize.txt" && san_status=1
PYTHONUNBUFFERED=1 timeout "${CHECK_TIMEOUT:-900}" python3 bench/gpu/check_gemm.py --kestrel-run "$RUN" \
  --cases "$CASES" --table "$OUT/table.md" --isolate "$@" 2>&1 | tee "$OUT/check.log"
status=$(( ${PIPESTATUS[0]} || san_status ))
exit "$status"
