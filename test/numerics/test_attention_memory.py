"""Peak memory of the fused CPU attention is O(T·D), not O(T·S).

f32 attention with H = 1, T = S = 32768, D = 64 runs in a child process
whose peak resident set must stay under 1 GiB; a T×S f32 score buffer alone
would be 4 GiB. Sampled output rows are checked against the NumPy oracle
(tolerance 1e-5), computed row by row so the check itself stays small.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from conftest import REPO
from kestrel.compiler import kestrelc

T = 32768
D = 64
GIB = 1 << 30


def test_long_sequence_peak_memory(tmp_path):
    mlir = f"""
func.func @attn(%q: tensor<1x1x{T}x{D}xf32>, %k: tensor<1x1x{T}x{D}xf32>,
                %v: tensor<1x1x{T}x{D}xf32>) -> tensor<1x1x{T}x{D}xf32> {{
  %o = kestrel.attention %q, %k, %v causal
      : tensor<1x1x{T}x{D}xf32>, tensor<1x1x{T}x{D}xf32>, tensor<1x1x{T}x{D}xf32>
      -> tensor<1x1x{T}x{D}xf32>
  return %o : tensor<1x1x{T}x{D}xf32>
}}
"""
    lib = tmp_path / "long.so"
    kestrelc(mlir, lib, "--target=cpu", "--emit=so")
    out = tmp_path / "out.npz"
    child = textwrap.dedent(f"""
        import resource, sys
        import numpy as np
        sys.path.insert(0, {str(REPO / 'python')!r})
        from kestrel.runtime import CpuLibrary
        rng = np.random.default_rng(0)
        q, k, v = (rng.uniform(-1, 1, (1, 1, {T}, {D})).astype(np.float32)
                   for _ in range(3))
        (o,) = CpuLibrary({str(lib)!r}).attn(q, k, v)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        np.savez({str(out)!r}, q=q, k=k, v=v, o=o, peak=peak)
    """)
    subprocess.run([sys.executable, "-c", child], check=True, timeout=600)
    data = np.load(out)
    peak = int(data["peak"])
    assert peak < GIB, f"peak resident set {peak / 2**20:.0f} MiB"

    q, k, v, o = (data[n].astype(np.float64)[0, 0] for n in "qkvo")
    scale = 1 / np.sqrt(D)
    for t in (0, 1, 63, 64, 4095, 20000, T - 2, T - 1):
        logits = scale * (k[: t + 1] @ q[t])
        p = np.exp(logits - logits.max())
        expected = (p / p.sum()) @ v[: t + 1]
        assert np.abs(o[t] - expected).max() <= 1e-5, f"row {t}"
