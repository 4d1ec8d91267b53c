#!/usr/bin/env bash
# Stages the recurrence check + benchmark (bench/gpu/bench_recurrence.sh) into
# DEST (default: this checkout's .devcarry/recurrence):
#
#   cases/<name>/case.{mlir,json,ptx,manifest}   compiled here by kestrelc
#   src/                                         runtime, kestrel-run, bench/gpu
#                                                and the NumPy oracles (HEAD)
#   whl/                                         fla-core + einops wheels when
#                                                WHEELS names a folder of them
#
#   bench/gpu/stage_recurrence.sh /path/to/carry/folder
#   run(carry=["<folder>"], command=
#       "cd <folder>/src && CASES=$PWD/../cases bash bench/gpu/bench_recurrence.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(mkdir -p "${1:-$ROOT/.devcarry/recurrence}" && cd "${1:-$ROOT/.devcarry/recurrence}" && pwd)
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
CHIP=${CHIP:-sm_90a}
rm -rf "$DEST/cases" "$DEST/src" "$DEST/onnx_mamba" "$DEST/mamba" && mkdir -p "$DEST/cases" "$DEST/src"
# CASESET=chunked|delta|vector|states stages only that set of cases (see
# recurrence_cases.py).
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$DEST/cases" "${CASESET:-all}" >/dev/null
for d in "$DEST"/cases/*/; do
  "$KESTRELC" "$d/case.mlir" --target=cuda:$CHIP -o "$d/case.ptx"
done
# The committed exported Mamba block, end to end (vs onnxruntime there).
if [[ ${CASESET:-all} == all ]]; then
  mkdir -p "$DEST/onnx_mamba"
  cp "$ROOT/test/onnx/models/mamba_block.onnx" "$DEST/onnx_mamba/model.onnx"
  "$KESTRELC" "$ROOT/test/onnx/models/mamba_block.onnx" --target=cuda:$CHIP -o "$DEST/onnx_mamba/model.ptx"
fi
# Committed state only: what is staged is what a commit hash names.
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu python/kestrel/reference | tar -x -C "$DEST/src"
# The oracles import nothing else of the package.
touch "$DEST/src/python/kestrel/__init__.py"
git -C "$ROOT" rev-parse --short HEAD >"$DEST/REVISION"
if [[ -n ${WHEELS:-} ]]; then mkdir -p "$DEST/whl" && cp "$WHEELS"/*.whl "$DEST/whl/"; fi
echo "staged $(cat "$DEST/REVISION") into $DEST ($(du -sh "$DEST" | cut -f1))"
