#!/usr/bin/env bash
# Configures (once) and builds Kestrel into build/ with Ninja and ccache.
#   scripts/build.sh [TARGET...]   (default: everything)
# KESTREL_BUILD_DIR picks another build directory, KESTREL_CMAKE_ARGS adds
# configure options (scripts/sanitize.sh: the instrumented build).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${KESTREL_BUILD_DIR:-$ROOT/build}
JOBS=${KESTREL_JOBS:-$(nproc)}
# Paths under the checkout are hashed relative to it, so separate checkouts
# (git worktrees, CI clones) share one ccache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}
# The instrumented build has line tables (-gline-tables-only), and ccache
# hashes the build directory into objects with debug info unless told not
# to: every fresh checkout (CI's clone) then rebuilt build-asan/ from
# scratch (12-16 minutes here). Only the debug info's compilation
# directory differs, which the relative source paths do not need.
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
if [[ ! -f $BUILD/build.ninja ]]; then
  cmake -G Ninja -S "$ROOT" -B "$BUILD" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit ${KESTREL_CMAKE_ARGS:-} >/dev/null
fi
start=$(date +%s)
ninja -C "$BUILD" -j "$JOBS" --quiet "$@"
echo "build: done in $(( $(date +%s) - start )) s ($BUILD)"
