#!/usr/bin/env bash
# Stages the GEMM benchmark under DEST/.devcarry-gemm: the runtime and
# kestrel-run sources, bench/gpu and python/kestrel of this checkout's HEAD,
# and the cases of bench/gpu/gemm_cases.py compiled here to PTX + manifests
# (sm_90a). The device tool sends the session's checkout plus the ignored
# paths named in `carry` (CARRY=NAME stages under DEST/NAME instead; ONLY=REGEX
# stages the cases whose names match):
#
#   bench/gpu/stage_gemm.sh /path/to/session/checkout
#   run(carry=[".devcarry-gemm"], command="cd .devcarry-gemm/src && bash bench/gpu/gemm.sh")
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEST=$(cd "${1:-$ROOT}" && pwd)/${CARRY:-.devcarry-gemm}
KESTRELC=${KESTRELC:-$ROOT/build/bin/kestrelc}
rm -rf "$DEST" && mkdir -p "$DEST/src" "$DEST/gemm"
python3 "$ROOT/bench/gpu/gemm_cases.py" "$DEST/gemm" >/dev/null
# ONLY (an extended regex over case names) keeps a subset of the cases.
if [[ -n ${ONLY:-} ]]; then
  for js in "$DEST"/gemm/*.json; do
    name=$(basename "$js" .json)
    [[ $name =~ ^($ONLY)$ ]] || rm -f "$DEST/gemm/$name".*
  done
fi
for js in "$DEST"/gemm/*.json; do
  name=$(basename "$js" .json)
  flags=()
  while IFS= read -r f; do [[ -n $f ]] && flags+=("$f"); done < <(
    python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["flags"]))' "$js")
  "$KESTRELC" "$DEST/gemm/$name.mlir" --target=cuda:${CHIP:-sm_90a} --emit=ptx \
    -o "$DEST/gemm/$name.ptx" "${flags[@]}"
  echo "compiled $name"
done
git -C "$ROOT" archive HEAD lib/Runtime include/kestrel/Runtime include/kestrel-c \
  tools/kestrel-run bench/gpu python/kestrel | tar -x -C "$DEST/src"
git -C "$ROOT" rev-parse HEAD > "$DEST/commit"
echo "staged $(git -C "$ROOT" rev-parse --short HEAD) into $DEST ($(du -sh "$DEST" | cut -f1))"
