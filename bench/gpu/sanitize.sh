#!/usr/bin/env bash
# compute-sanitizer sweep: runs ON the device machine from a tree staged by
# bench/gpu/stage_sanitize.sh. Builds the runtime and kestrel-run, then runs
# every staged manifest once (no graph replay, so each kernel launch is
# seen) under memcheck and racecheck. Writes $OUT/sanitize.md (one row per
# variant: kernels, memcheck errors, racecheck hazards) and the raw logs;
# exits non-zero if any tool reported an error or a run failed.
#   TOOLS="memcheck racecheck" (default) picks the tools; TIMEOUT per run (s).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/sanitize-out}
CASES=${CASES:-$ROOT/../cases}
TOOLS=${TOOLS:-memcheck racecheck}
TIMEOUT=${TIMEOUT:-120}
mkdir -p "$OUT/logs"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
BUILD=/tmp/kestrel-build-sanitize
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT" || exit 1
RUN=$BUILD/bin/kestrel-run
SAN=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

status=0
{
  echo "# compute-sanitizer over the staged kernel variants"
  echo
  echo "Commit $(cat "$ROOT/../commit" 2>/dev/null || echo unknown); $(cat "$OUT/gpu.txt"); $("$SAN" --version | tail -1)."
  echo "Each variant run once with \`kestrel-run --repeat=1 --warmup=0 --no-graph\`."
  echo
  printf '| variant | launches |'; for t in $TOOLS; do printf ' %s |' "$t"; done; echo
  printf '|---|---|'; for t in $TOOLS; do printf -- '---|'; done; echo
} >"$OUT/sanitize.md"

for manifest in "$CASES"/*.manifest; do
  name=$(basename "$manifest" .manifest)
  launches=$(grep -c '^launch ' "$manifest" 2>/dev/null || echo "?")
  row="| $name | $launches |"
  for tool in $TOOLS; do
    log="$OUT/logs/$name.$tool.log"
    timeout "$TIMEOUT" "$SAN" --tool "$tool" --error-exitcode 3 --print-limit 20 \
      "$RUN" "$manifest" --repeat=1 --warmup=0 --no-graph >"$log" 2>&1
    rc=$?
    summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1 | sed 's/^=* *//')
    case $rc in
      0) cell="${summary:-ok}" ;;
      124) cell="timeout after ${TIMEOUT} s"; status=1 ;;
      *) cell="FAILED (rc $rc) ${summary}"; status=1 ;;
    esac
    row="$row $cell |"
    echo "$name $tool: $cell"
  done
  echo "$row" >>"$OUT/sanitize.md"
done
exit $status
