#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz; the instrumented build of
# scripts/sanitize.sh, build-asan/) and runs each for a bounded time:
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default 60 s each; targets:
#                                            runtime mlir onnx)
#   KESTREL_FUZZ_RUNS=N scripts/fuzz.sh 0 [TARGET...]
#                                           (N executions each instead, no
#                                            time limit: the long runs)
# KESTREL_FUZZ_SEED=S fixes libFuzzer's random seed: with RUNS and the
# seed corpus of a fresh checkout CI runs nearly the same inputs each time.
#
# Seeds come from scripts/fuzz_corpus.py (committed models and lit tests);
# what the fuzzers find stays in build-asan/fuzz/corpus/<target> for the next
# run. A crash, sanitizer report, per-input timeout or out-of-memory fails
# the script; its reproducer is written to fuzz-artifacts/ (git-ignored) and
# replays with `build-asan/bin/kestrel-fuzz-<target> FILE`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KESTREL_SAN_BUILD_DIR:-$ROOT/build-asan}
SECONDS_EACH=${1:-60}
shift || true
TARGETS=("$@")
((${#TARGETS[@]})) || TARGETS=(runtime mlir onnx)
ARTIFACTS=${KESTREL_FUZZ_ARTIFACTS:-$ROOT/fuzz-artifacts}

"$ROOT/scripts/sanitize.sh" --build-only

# KESTREL_FUZZ_DIR: another place for seeds, corpora and logs (a fresh run).
FUZZ=${KESTREL_FUZZ_DIR:-$BUILD/fuzz}
# The ELF seed: a library made by kestrelc (an instrumented one is fine).
mkdir -p "$FUZZ" "$ARTIFACTS"
"$BUILD/bin/kestrelc" "$ROOT/examples/attention.mlir" -o "$FUZZ/seed.so" \
  2>/dev/null || true
python3 "$ROOT/scripts/fuzz_corpus.py" "$FUZZ/seeds" --library "$FUZZ/seed.so"

# Leaks are not checked (LLVM's static registries look like leaks to LSan);
# every other sanitizer report is a failure.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allow_user_poisoning=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${TARGETS[@]}"; do
  bin=$BUILD/bin/kestrel-fuzz-$t
  if [[ ! -x $bin ]]; then
    echo "fuzz: $t: not built (kestrel-fuzz-$t needs its dependencies), skipped"
    continue
  fi
  flags=(-max_total_time="$SECONDS_EACH" -print_final_stats=1
         ${KESTREL_FUZZ_RUNS:+-runs=$KESTREL_FUZZ_RUNS}
         ${KESTREL_FUZZ_SEED:+-seed=$KESTREL_FUZZ_SEED}
         -detect_leaks=0 -artifact_prefix="$ARTIFACTS/$t-")
  case $t in
    # The pipeline is slow on big modules: bounded input, generous timeout.
    mlir) flags+=(-max_len=16384 -timeout=30 -dict="$FUZZ/seeds/mlir.dict") ;;
    onnx) flags+=(-max_len=65536 -timeout=30) ;;
    runtime) flags+=(-max_len=32768 -timeout=10) ;;
  esac
  mkdir -p "$FUZZ/corpus/$t"
  log=$FUZZ/$t.log
  rc=0
  "$bin" "${flags[@]}" "$FUZZ/corpus/$t" "$FUZZ/seeds/$t" >"$log" 2>&1 || rc=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  if ((rc)); then
    status=1
    echo "fuzz: $t: FAILED after $execs executions (exit $rc); reproducer:"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*Test unit written to)' "$log" | head -5 | sed 's/^/  /'
    echo "  log: $log"
  else
    secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+ second' | grep -oE '[0-9]+' || echo "$SECONDS_EACH")
    echo "fuzz: $t: $execs executions in ${secs} s, no crash" \
         "(corpus $(ls "$FUZZ/corpus/$t" | wc -l) inputs)"
  fi
done
exit $status
