#!/usr/bin/env bash
# compute-sanitizer memcheck and racecheck over a few small vector-gate
# (GLA) cases, after bench/gpu/bench_recurrence.sh ran in the same call
# (it built kestrel-run into build-rt and left each case's inputs in
# /tmp/kestrel-rec/<case>). From the staged src/:
#   CASES=$PWD/../cases bash bench/gpu/gla_sanitize.sh [CASE...]
# Prints one line per (case, tool); writes $OUT/sanitize-gla.md.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$ROOT/bench-out}
CASES=${CASES:-$ROOT/../cases}
RUN=${RUN:-$ROOT/build-rt/bin/kestrel-run}
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(c_vector_bf16_gqa_t67 c_vector_bf16_chunk128_t200 c_vector_bf16_tile16_t130)
status=0
{
  echo "| case | tool | result |"
  echo "|---|---|---|"
} >"$OUT/sanitize-gla.md"
for name in "${names[@]}"; do
  for tool in memcheck racecheck; do
    log=/tmp/san-$name-$tool.log
    timeout 120 "$SAN" --tool "$tool" --error-exitcode 3 --print-limit 20 "$RUN" \
      "$CASES/$name/case.manifest" --inputs=/tmp/kestrel-rec/$name --repeat=1 --warmup=0 \
      --no-graph >"$log" 2>&1
    rc=$?
    summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1 | sed 's/^=* *//')
    [[ $rc -eq 0 ]] || { status=1; tail -20 "$log"; }
    echo "| $name | $tool | rc $rc: ${summary:-no summary} |" | tee -a "$OUT/sanitize-gla.md"
  done
done
exit $status
