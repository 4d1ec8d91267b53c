"""RMSNorm, RoPE and the gated MLP (docs/ops.md §1, "Supporting ops").

Written from the formulas, in float64, with explicit per-pair loops for RoPE
so that the two conventions are spelled out independently of any slicing
trick a compiler might use.
"""

from __future__ import annotations

import numpy as np


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    """x [..., N], w [N] -> x / sqrt(mean(x^2) + eps) * w."""
    x = np.asarray(x, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    ms = np.mean(x * x, axis=-1, keepdims=True)
    return x / np.sqrt(ms + eps) * w


def rope(x: np.ndarray, *, positions: np.ndarray | None = None,
         interleaved: bool = False, rotary_dim: int | None = None,
         base: float = 10000.0, offset: int = 0) -> np.ndarray:
    """x [B, H, T, D] -> rotated copy.

    Token t of batch row b sits at offset + (positions[b, t] if given else t).
    Pair i (0 <= i < R/2) is (i, i + R/2) for rotate-half (GPT-NeoX/Llama)
    and (2i, 2i+1) when interleaved (GPT-J); its angle is pos * base^(-2i/R).
    Features at and beyond R are copied unchanged.
    """
    x = np.asarray(x, dtype=np.float64)
    B, H, T, D = x.shape
    R = D if rotary_dim is None else rotary_dim
    assert R % 2 == 0 and R <= D
    out = x.copy()
    for b in range(B):
        for t in range(T):
            pos = offset + (int(positions[b, t]) if positions is not None
                            else t)
            for i in range(R // 2):
                theta = pos * base ** (-2.0 * i / R)
                c, s = np.cos(theta), np.sin(theta)
                j, k = (2 * i, 2 * i + 1) if interleaved else (i, i + R // 2)
                a, bb = x[b, :, t, j], x[b, :, t, k]
                out[b, :, t, j] = a * c - bb * s
                out[b, :, t, k] = bb * c + a * s
    return out


def silu(a: np.ndarray) -> np.ndarray:
    return a / (1.0 + np.exp(-a))


def gated_mlp(x: np.ndarray, w1: np.ndarray, w3: np.ndarray,
              w2: np.ndarray) -> np.ndarray:
    """(silu(x W1) * x W3) W2 for x [N, d], W1/W3 [d, ff], W2 [ff, d]."""
    x, w1, w3, w2 = (np.asarray(a, dtype=np.float64) for a in (x, w1, w3, w2))
    return (silu(x @ w1) * (x @ w3)) @ w2
