#!/usr/bin/env bash
# GPU numerics of the KV cache ops (decode_attention, select_kv_pages) on the
# device machine, against the NumPy oracle's outputs staged with the inputs by
# bench/gpu/stage_kvcache.py (carry .devcarry/kvcache). Builds the standalone
# runtime and kestrel-run (lib/Runtime), runs every case, compares:
# decode outputs and lse within 2e-5 (absolute), page indices exactly.
# Run on an H100 on 2026-11-23: every case within tolerance
# (bench/results/2026-11-23-H100-conv-routing-kvcache.md).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
OUT=${OUT:-$ROOT/bench-out}
mkdir -p "$OUT"
CASES=$ROOT/.devcarry/kvcache
[[ -d $CASES ]] || { echo "no $CASES: run bench/gpu/stage_kvcache.py and carry .devcarry/kvcache" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
BUILD=$ROOT/build-rt
source "$ROOT/bench/gpu/build_runtime.sh"
build_runtime "$BUILD" "$OUT"
status=0
for case in "$CASES"/*/; do
  name=$(basename "$case")
  "$BUILD/bin/kestrel-run" "$case/case.manifest" --inputs="$case" --outputs="$case" \
    --warmup=0 --repeat=1 >"$OUT/$name.log" 2>&1 || { echo "$name: kestrel-run failed"; cat "$OUT/$name.log"; status=1; continue; }
  python3 - "$case" "$name" <<'PY' || status=1
import sys
from pathlib import Path
import numpy as np
case, name = Path(sys.argv[1]), sys.argv[2]
ok = True
for want in sorted(case.glob("want*.npy")):
    i = want.stem[4:]
    got, exp = np.load(case / f"out{i}.npy"), np.load(want)
    if got.dtype.kind == "i":
        good = np.array_equal(got, exp)
        msg = "exact" if good else "MISMATCH"
    else:
        fin = np.isfinite(exp)
        good = bool((np.isfinite(got) == fin).all()) and \
            (not fin.any() or float(np.abs(got[fin] - exp[fin]).max()) <= 2e-5)
        err = float(np.abs(got[fin] - exp[fin]).max()) if fin.any() else 0.0
        msg = f"max abs err {err:.2e}"
    print(f"{name} out{i}: {msg} {'ok' if good else 'FAIL'}")
    ok &= good
sys.exit(0 if ok else 1)
PY
done
exit $status
