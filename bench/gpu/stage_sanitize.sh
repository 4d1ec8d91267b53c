#!/usr/bin/env bash
# Stages the compute-sanitizer sweep under DEST/.devcarry-sanitize: every
# kernel variant the device benchmarks run, at shapes small enough for
# memcheck and racecheck (they slow a kernel down 10-1000x), compiled here
# to PTX + manifests with this checkout's kestrelc:
#   - the attention / decode / flash / f32-flash cases of bench/gpu/cases*/
#     and any other bench/gpu/cases-*/ folder (cases whose names carry a
#     query length of 2048 or more are left out: same kernels, bigger grids);
#   - the numerics cases of bench/gpu/gemm_cases.py (ragged edges, batch,
#     transposed B, f16, f32 through bf16, tf32, wgmma plans; racecheck
#     needs more than 240 s on one 4096^3 GEMM);
#   - the committed ONNX blocks (test/onnx/models), f32, --precision=tf32
#     and --precision=bf16 (Llama: GEMM/fusion/flash; MoE: routing and the
#     grouped expert GEMMs; Mamba: scan and conv);
#   - the numerics cases of recurrence_cases.py (every gate kind through the
#     recurrent kernel, the chunked kernels, selective scan with N <= 64 and
#     N > 64, causal conv, decode steps), denoise_cases.py and
#     routing_cases.py;
#   - the model zoo (test/models, as bench/gpu/zoo.sh runs it: DeepSeek-V3's
#     scatter kernel, Jamba, Qwen3, ...) with its real input ids
#     (cases/NAME.inputs/in0.npy, which sanitize.sh passes to kestrel-run).
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

# ONLY=REGEX stages only the variants whose names match (a re-run).
compile() { # SRC NAME [FLAGS...]
  local src=$1 name=$2; shift 2
  [[ -z ${ONLY:-} || $name =~ $ONLY ]] || return 0
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
  compile "$f" "onnx-$name-tf32" --precision=tf32
  compile "$f" "onnx-$name-bf16" --precision=bf16
done

# Case generators whose JSON says whether a case is a timed (large) one.
untimed() { # JSON: succeeds for numerics cases
  python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); sys.exit(1 if m.get("timed") or m.get("bench") else 0)' "$1"
}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$TMP/rec" all >/dev/null
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$TMP/rec" chunked >/dev/null
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$TMP/rec" delta >/dev/null
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$TMP/rec" vector >/dev/null
python3 "$ROOT/bench/gpu/recurrence_cases.py" "$TMP/rec" states >/dev/null
for d in "$TMP"/rec/*/; do
  untimed "$d/case.json" && compile "$d/case.mlir" "rec-$(basename "$d")"
done
python3 "$ROOT/bench/gpu/denoise_cases.py" "$TMP/denoise" >/dev/null
for f in "$TMP"/denoise/*.mlir; do
  untimed "${f%.mlir}.json" && compile "$f" "denoise-$(basename "$f" .mlir)"
done
# Routing cases carry their inputs (indices in range) in NAME/in<i>.npy.
python3 "$ROOT/bench/gpu/routing_cases.py" --dest "$TMP/routing" --target=cuda:$CHIP >/dev/null
for f in "$TMP"/routing/*.mlir; do
  name=$(basename "$f" .mlir)
  compile "$f" "routing-$name"
  [[ -e $DEST/cases/routing-$name.ptx ]] || continue
  mkdir -p "$DEST/cases/routing-$name.inputs"
  cp "$TMP/routing/$name"/in*.npy "$DEST/cases/routing-$name.inputs/"
done

for name in $(python3 -c "import sys; sys.path.insert(0, '$ROOT/test/models'); import zoo; print(*zoo.NAMES)"); do
  # Models kestrelc refuses on cuda are the zoo run's business, not this one.
  [[ -z ${ONLY:-} || zoo-$name =~ $ONLY ]] || continue
  "$KESTRELC" "$ROOT/test/models/$name.onnx" --target=cuda:$CHIP --emit=ptx \
    -o "$DEST/cases/zoo-$name.ptx" 2>/dev/null || { echo "zoo $name: refused, skipped"; continue; }
  mkdir -p "$DEST/cases/zoo-$name.inputs"
  python3 -c "
import sys, numpy as np
sys.path.insert(0, '$ROOT/test/models')
import zoo
np.save('$DEST/cases/zoo-$name.inputs/in0.npy', zoo.input_ids('$name'))"
  echo "compiled zoo-$name"
done

git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(ls "$DEST"/cases/*.manifest | wc -l) variants of $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
