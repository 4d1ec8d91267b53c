#!/usr/bin/env bash
# compute-sanitizer sweep: runs ON the device machine from a tree staged by
# bench/gpu/stage_sanitize.sh. Builds the runtime and kestrel-run, then runs
# every staged manifest once (no graph replay, so each kernel launch is
# seen) under memcheck and racecheck. Writes $OUT/sanitize.md (one row per
# variant: kernels, memcheck errors, racecheck hazards) and the raw logs;
# exits non-zero if any tool reported an error or a run failed.
#   TOOLS="memcheck racecheck" (default) picks the tools; TIMEOUT per run (s);
#   JOBS runs at once (default 8: the variants are small, the GPU is shared).
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

# One (variant, tool) run: its log, and its table cell in a .cell file.
run_one() { # MANIFEST TOOL
  local manifest=$1 tool=$2 name rc summary cell inputs=()
  name=$(basename "$manifest" .manifest)
  local log="$OUT/logs/$name.$tool.log"
  # Inputs staged beside the manifest (model zoo: real token ids; routing:
  # indices in range) or kestrel-run's deterministic ones.
  [[ -d ${manifest%.manifest}.inputs ]] && inputs=(--inputs="${manifest%.manifest}.inputs")
  timeout "$TIMEOUT" "$SAN" --tool "$tool" --error-exitcode 3 --print-limit 20 \
    "$RUN" "$manifest" --repeat=1 --warmup=0 --no-graph "${inputs[@]}" >"$log" 2>&1
  rc=$?
  summary=$(grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' "$log" | tail -1 | sed 's/^=* *//')
  case $rc in
    0) cell="${summary:-ok}" ;;
    124) cell="timeout after ${TIMEOUT} s" ;;
    *) cell="FAILED (rc $rc) ${summary}" ;;
  esac
  echo "$cell" >"$OUT/logs/$name.$tool.cell"
  echo "$name $tool: $cell"
}
export -f run_one
export OUT TIMEOUT SAN RUN

# Several processes share the GPU (the variants are small): JOBS at once.
for manifest in "$CASES"/*.manifest; do
  for tool in $TOOLS; do printf '%s\0%s\0' "$manifest" "$tool"; done
done | xargs -0 -n 2 -P "${JOBS:-8}" bash -c 'run_one "$0" "$1"'

for manifest in "$CASES"/*.manifest; do
  name=$(basename "$manifest" .manifest)
  launches=$(grep -c '^launch ' "$manifest" 2>/dev/null || echo "?")
  row="| $name | $launches |"
  for tool in $TOOLS; do
    cell=$(cat "$OUT/logs/$name.$tool.cell" 2>/dev/null || echo "not run")
    [[ $cell == *"ERROR SUMMARY: 0 errors"* || $cell == *"0 hazards displayed (0 errors, 0 warnings)"* ]] || status=1
    row="$row $cell |"
  done
  echo "$row" >>"$OUT/sanitize.md"
done
rm -f "$OUT"/logs/*.cell
exit $status
