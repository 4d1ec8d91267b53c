#!/usr/bin/env bash
# Stages the compute-sanitizer sweep under DEST/.devcarry-sanitize: every
# kernel variant the device benchmarks run, at shapes small enough for
# memcheck and racecheck (they slow a kernel down 10-1000x), compiled here
# to PTX + manifests with this checkout's kestrelc:
#   - the attention / decode / flash / f32-flash cases of bench/gpu/cases*/
#     and any other bench/gpu/cases-*/ folder (cases whose names carry a
#     query length of 2048 or more are left out: same kernels, bigger grids);
#   - the numerics cases of bench/gpu/gemm_cases.py (ragged edges, batch,
#     transposed B, f16, f32 through bf16);
#   - the committed ONNX blocks (test/onnx/models), f32 and --precision=bf16.
# plus the runtime and kestrel-run sources. Then on the device:
#
#   bench/gpu/stage_sanitize.sh /path/to/session/checkout
#   run(carry=[".devcarry-sanitize"],
#       command="cd .devcarry-sanitize/src && bash bench/gpu/sanitize.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/.devcarry-sanitize
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
CHIP=${CHIP:-sm_90a}
BIG='_t(2048|4096|8192|16384)'
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/cases" "$DEST/gemm"

compile() { # SRC NAME [FLAGS...]
  local src=$1 name=$2; shift 2
  "$KESTRELC" "$src" --target=cuda:$CHIP --emit=ptx -o "$DEST/cases/$name.ptx" "$@"
  echo "compiled $name"
}

for dir in "$ROOT"/bench/gpu/cases*/; do
  for f in "$dir"*.mlir; do
    [[ -e $f ]] || continue
    name=$(basename "$f" .mlir)
    [[ $name =~ $BIG ]] && continue
    compile "$f" "$(basename "$dir")-$name"
  done
done

python3 "$ROOT/bench/gpu/gemm_cases.py" "$DEST/gemm" >/dev/null
for js in "$DEST"/gemm/*.json; do
  name=$(basename "$js" .json)
  # Only the numerics cases: the timed ones are the same kernels at 4096+.
  python3 -c 'import json,sys; sys.exit(0 if not json.load(open(sys.argv[1]))["timed"] or sys.argv[2] == "f32_as_bf16" else 1)' \
    "$js" "$name" || continue
  flags=()
  while IFS= read -r f; do [[ -n $f ]] && flags+=("$f"); done < <(
    python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["flags"]))' "$js")
  compile "$DEST/gemm/$name.mlir" "gemm-$name" "${flags[@]}"
done
rm -rf "$DEST/gemm"

for f in "$ROOT"/test/onnx/models/*.onnx; do
  name=$(basename "$f" .onnx)
  compile "$f" "onnx-$name-f32"
  compile "$f" "onnx-$name-bf16" --precision=bf16
done

git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(ls "$DEST"/cases/*.manifest | wc -l) variants of $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
