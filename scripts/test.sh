#!/usr/bin/env bash
# Sets up, builds, and runs every Kestrel test suite: lit + FileCheck (IR
# level, kestrelc behaviour, PTX assembly), C++ unit tests (GoogleTest) and
# pytest (numerics against the NumPy oracle). Prints per-suite counts and a total line.
set -euo pipefail
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

echo "== pytest: numerics (NumPy oracle), ONNX node tests and models =="
python3 -m pytest -q -p no:cacheprovider -p no:warnings "$ROOT/test/numerics" \
  "$ROOT/test/onnx" "$ROOT/python/tests" \
  --junitxml "$REPORTS/pytest.xml" || status=1

python3 "$ROOT/scripts/summarize_tests.py" "$REPORTS"/*.xml || status=1
exit $status
