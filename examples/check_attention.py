"""Runs the compiled examples/attention.mlir library on deterministic inputs
and checks it against the independent NumPy oracle.

    python3 examples/check_attention.py build/demo/attention.so
"""

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from kestrel.reference.attention import attention  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

TOLERANCE = 1e-5  # f32 storage, f32 accumulation, outputs of magnitude <= 1


def main(path: str) -> int:
    lib = CpuLibrary(path)
    rng = np.random.default_rng(2508_09834)
    q = rng.uniform(-1, 1, (1, 8, 256, 64)).astype(np.float32)
    k = rng.uniform(-1, 1, (1, 2, 256, 64)).astype(np.float32)
    v = rng.uniform(-1, 1, (1, 2, 256, 64)).astype(np.float32)

    lib.attention(q, k, v)  # warm-up
    times = []
    for _ in range(5):
        start = time.perf_counter()
        (out,) = lib.attention(q, k, v)
        times.append(time.perf_counter() - start)
    expected = attention(q, k, v, causal=True)
    err = float(np.abs(out - expected).max())
    ok = np.isfinite(out).all() and err <= TOLERANCE
    print(f"attention B=1 H=8 Hkv=2 T=S=256 D=64 f32 causal: "
          f"max abs error {err:.2e} (tolerance {TOLERANCE:.0e}), "
          f"median {1e3 * sorted(times)[2]:.2f} ms per call on the CPU")
    print("check:", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/demo/attention.so"))
