#!/usr/bin/env bash
# ASan + UBSan build of Kestrel's tools and tests, then the lit suite, the
# runtime unit tests and a pytest subset against it (docs/testing.md).
#
#   scripts/sanitize.sh               full: lit (all but test/Plugin), unit,
#                                     pytest subset
#   scripts/sanitize.sh --smoke       CI: lit test/Runtime + test/kestrelc,
#                                     unit, python/tests/test_robustness.py
#   scripts/sanitize.sh --build-only  just the build (scripts/fuzz.sh uses it)
#
# The build (build-asan/, or $KESTREL_SAN_BUILD_DIR) is the one scripts/fuzz.sh
# uses: everything carries -fsanitize=address,undefined plus libFuzzer's
# -fsanitize=fuzzer-no-link coverage, so one build serves both. It uses
# scripts/build.sh (same configuration, same ccache) and builds only the
# targets the tests and fuzzers need. LLVM/MLIR (libMLIR.so) is not
# instrumented. Leak checking is off: the tools, like LLVM's, leave memory
# to the OS at exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KESTREL_SAN_BUILD_DIR:-$ROOT/build-asan}
MODE=${1:-full}
cd "$ROOT"

# kestrel-instrumented (CMakeLists.txt): the tools, the C API, the unit
# tests, the mock CUDA driver and the fuzzers, where their dependencies exist.
KESTREL_BUILD_DIR=$BUILD KESTREL_JOBS=${KESTREL_JOBS:-2} \
  KESTREL_CMAKE_ARGS="-DKESTREL_SANITIZE=ON -DKESTREL_BUILD_FUZZERS=ON" \
  "$ROOT/scripts/build.sh" kestrel-instrumented
[[ $MODE == --build-only ]] && exit 0

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:allow_user_poisoning=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export PATH=/usr/lib/llvm-22/bin:$PATH
status=0
start=$(date +%s)

echo "== sanitize: lit =="
if [[ $MODE == --smoke ]]; then
  lit -q "$BUILD/test/Runtime" "$BUILD/test/kestrelc" || status=1
else
  # test/Plugin installs the build and compiles a plugin against it: it
  # needs every target, not the instrumented subset.
  lit -q --filter-out 'Plugin/' "$BUILD/test" || status=1
fi

echo "== sanitize: unit =="
"$BUILD/bin/KestrelUnitTests" --gtest_brief=1 || status=1

echo "== sanitize: pytest =="
# The Python package loads the instrumented libKestrelCAPI.so into an
# uninstrumented python3, so the ASan runtime is preloaded; kestrelc runs as
# an instrumented subprocess.
ASAN_RT=$(clang-22 -print-file-name=libclang_rt.asan-x86_64.so)
# The tools link ASan statically: started by the tests with the shared
# runtime still preloaded they abort ("incompatible ASan runtimes"), so the
# tests run kestrelc through a wrapper that drops the preload.
WRAP=$BUILD/bin/kestrelc-unpreloaded
printf '#!/bin/sh\nexec env -u LD_PRELOAD "%s" "$@"\n' "$BUILD/bin/kestrelc" >"$WRAP"
chmod +x "$WRAP"
PYTESTS=("$ROOT/python/tests/test_robustness.py")
if [[ $MODE != --smoke ]]; then
  PYTESTS+=("$ROOT/python/tests/test_api.py"
            "$ROOT/test/numerics/test_support_ops.py"
            "$ROOT/test/onnx/test_onnx_models.py")
fi
env LD_PRELOAD="$ASAN_RT" KESTREL_CAPI_LIB="$BUILD/lib/libKestrelCAPI.so" \
  KESTRELC="$WRAP" \
  python3 -m pytest -q -p no:cacheprovider -p no:warnings "${PYTESTS[@]}" \
  || status=1

echo "sanitize: ${MODE#--} run $( ((status)) && echo FAILED || echo passed ) in $(( $(date +%s) - start )) s"
exit $status
