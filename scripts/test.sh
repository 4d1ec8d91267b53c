#!/usr/bin/env bash
# Sets up, builds, and runs every Kestrel test suite: lit + FileCheck (IR
# level, kestrelc behaviour, PTX assembly), C++ unit tests (GoogleTest) and
# pytest (numerics against the NumPy oracle). Prints per-suite counts and a total line.
# With --sanitize (or KESTREL_CI_SANITIZE=1, which .ci/run sets) it then
# runs the ASan + UBSan smoke suite (scripts/sanitize.sh --smoke) and each
# fuzz target for 5000 executions from a fixed seed (scripts/fuzz.sh);
# docs/testing.md has the details and the cost.
set -euo pipefail
SANITIZE=0
[[ ${1:-} == --sanitize || ${KESTREL_CI_SANITIZE:-} == 1 ]] && SANITIZE=1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KESTREL_BUILD_DIR:-$ROOT/build}
cd "$ROOT"

"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh"

REPORTS=$(mktemp -d)
trap 'rm -rf "$REPORTS"' EXIT
export PATH=/usr/lib/llvm-22/bin:$PATH
status=0

echo "== lit: IR, passes, pipelines, kestrelc =="
lit -sv "$BUILD/test" --xunit-xml-output "$REPORTS/lit.xml" || status=1

echo "== C++ unit tests: runtime =="
"$BUILD/bin/KestrelUnitTests" --gtest_brief=1 --gtest_output="xml:$REPORTS/unit.xml" || status=1

echo "== pytest: numerics (NumPy oracle), ONNX node tests and models, model zoo =="
python3 -m pytest -q -p no:cacheprovider -p no:warnings "$ROOT/test/numerics" \
  "$ROOT/test/onnx" "$ROOT/test/models" "$ROOT/python/tests" \
  --junitxml "$REPORTS/pytest.xml" || status=1

python3 "$ROOT/scripts/summarize_tests.py" "$REPORTS"/*.xml || status=1

if ((SANITIZE)); then
  start=$(date +%s)
  echo "== sanitizers: ASan + UBSan smoke run, then the fuzzers (5000 executions each) =="
  "$ROOT/scripts/sanitize.sh" --smoke || status=1
  KESTREL_FUZZ_RUNS=5000 KESTREL_FUZZ_SEED=1 "$ROOT/scripts/fuzz.sh" 0 || status=1
  echo "sanitizers + fuzzers: $(( $(date +%s) - start )) s"
fi
exit $status
