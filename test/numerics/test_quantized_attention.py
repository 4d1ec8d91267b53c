"""kestrel.quantized_attention on the CPU against the NumPy oracle.

The oracle quantizes in float32 like the op's definition; a quantization
level can still differ where f32 rounding of a block maximum or of the K
mean lands exactly on a .5 boundary, so the tolerance is 1e-4 (one level
flip would show as ~1e-2). The op is also within 2e-2 of unquantized
attention on these inputs.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference.attention import attention
from kestrel.reference.quantized import quantized_attention as reference

# (B, H, Hkv, T, S, D, block_q, block_k, causal, smooth_k, dtype)
CASES = {
    "causal_gqa_smooth": (1, 4, 2, 16, 16, 16, 4, 8, True, True, "f32"),
    "noncausal_no_smooth": (2, 2, 2, 8, 12, 8, 8, 4, False, False, "f32"),
    "decode": (1, 4, 1, 1, 32, 16, 1, 16, True, True, "f32"),
    "bf16": (1, 2, 1, 8, 8, 16, 4, 4, True, True, "bf16"),
}


def mlir(B, H, Hkv, T, S, D, bq, bk, causal, smooth, dtype):
    qt = f"tensor<{B}x{H}x{T}x{D}x{dtype}>"
    kt = f"tensor<{B}x{Hkv}x{S}x{D}x{dtype}>"
    attrs = " ".join(a for a, on in (("causal", causal), ("smooth_k", smooth)) if on)
    return f"""
func.func @qattn(%q: {qt}, %k: {kt}, %v: {kt}) -> {qt} {{
  %o = kestrel.quantized_attention %q, %k, %v {attrs} block_q = {bq} block_k = {bk}
      : {qt}, {kt}, {kt} -> {qt}
  return %o : {qt}
}}
"""


@pytest.mark.parametrize("case", CASES)
def test_quantized_attention(compile_cpu, case):
    B, H, Hkv, T, S, D, bq, bk, causal, smooth, dtype = CASES[case]
    rng = np.random.default_rng(11)
    q, qv = storage(rng.uniform(-1, 1, (B, H, T, D)), dtype)
    # A channel offset on K: what smooth_k is for.
    k, kv = storage(rng.uniform(-1, 1, (B, Hkv, S, D)) + 0.5, dtype)
    v, vv = storage(rng.uniform(-1, 1, (B, Hkv, S, D)), dtype)
    lib = compile_cpu(mlir(B, H, Hkv, T, S, D, bq, bk, causal, smooth, dtype))
    (out,) = lib.qattn(q, k, v)
    got = value_of(out, dtype)
    expected = reference(qv, kv, vv, block_q=bq, block_k=bk, causal=causal,
                         smooth_k=smooth)
    tolerance = 1e-4 if dtype == "f32" else 1.6e-2
    assert np.abs(got - expected).max() <= tolerance
    assert np.abs(got - attention(qv, kv, vv, causal=causal)).max() <= 2e-2
