"""SageAttention-style quantized attention (docs/ops.md §1), from its definition.

The quantization itself (centring K, block scales max|x|/127, rounding to
the int8 grid, half to even) is evaluated in float32, the precision the op
specifies for it, so that rounding decisions match a float32 implementation;
the scores and softmax are then evaluated in float64.
"""

from __future__ import annotations

import numpy as np

from kestrel.reference.attention import attention


def _int8_levels(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """x [B, heads, L, D] float32 -> (int levels in [-127, 127], step per row)."""
    B, Hx, L, D = x.shape
    blocks = np.abs(x).reshape(B, Hx, L // block, block * D).max(-1)
    step = (blocks / np.float32(127)).astype(np.float32)
    step_rows = np.repeat(step, block, axis=2)[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.rint(x / step_rows).astype(np.float32)
    levels = np.where(step_rows == 0, 0, np.clip(levels, -127, 127))
    return levels, step_rows


def quantized_attention(q, k, v, *, block_q: int, block_k: int,
                        causal: bool = False, smooth_k: bool = False,
                        scale: float | None = None) -> np.ndarray:
    """q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv] -> [B,H,T,Dv] float64."""
    q32 = np.asarray(q, np.float32)
    k32 = np.asarray(k, np.float32)
    if smooth_k:
        k32 = (k32 - (k32.sum(axis=2, keepdims=True, dtype=np.float32)
                      * np.float32(1.0 / k32.shape[2]))).astype(np.float32)
    q8, sq = _int8_levels(q32, block_q)
    k8, sk = _int8_levels(k32, block_k)
    # S = scale · (q8 · k8) · s_q · s_k, i.e. attention of q8·s_q over k8·s_k.
    qd = q8.astype(np.float64) * sq
    kd = k8.astype(np.float64) * sk
    return attention(qd, kd, v, causal=causal,
                     scale=1 / np.sqrt(q32.shape[-1]) if scale is None else scale)


def int8_levels(x, block):
    """The int8 grid points of x (for tests of the quantizer itself)."""
    return _int8_levels(np.asarray(x, np.float32), block)[0]
