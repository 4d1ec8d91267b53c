"""Softmax attention (OPS.md §1), written directly from the formula."""

from __future__ import annotations

import numpy as np


def visibility_mask(T: int, S: int, causal: bool = False,
                    window: int | None = None,
                    sinks: int | None = None) -> np.ndarray:
    """Boolean [T, S]: may query t (the last T of S positions) see key s."""
    t = np.arange(T)[:, None] + (S - T)  # absolute position of each query
    s = np.arange(S)[None, :]
    visible = np.ones((T, S), dtype=bool)
    if causal:
        visible &= s <= t
    if window is not None:
        in_window = s > t - window
        if sinks:
            in_window |= s < sinks
        visible &= in_window
    return visible


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, *,
              causal: bool = False, window: int | None = None,
              sinks: int | None = None, scale: float | None = None,
              softcap: float | None = None) -> np.ndarray:
    """q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv] -> [B,H,T,Dv] (float64).

    Query head h reads KV head h // (H // Hkv). A query that sees no key
    yields zeros.
    """
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    B, H, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    assert H % Hkv == 0
    scale = 1.0 / np.sqrt(D) if scale is None else scale
    mask = visibility_mask(T, S, causal, window, sinks)
    out = np.zeros((B, H, T, v.shape[3]))
    for b in range(B):
        for h in range(H):
            j = h // (H // Hkv)
            logits = scale * (q[b, h] @ k[b, j].T)
            if softcap is not None:
                logits = softcap * np.tanh(logits / softcap)
            logits = np.where(mask, logits, -np.inf)
            for t in range(T):
                if not mask[t].any():
                    continue
                row = np.exp(logits[t] - logits[t].max())
                out[b, h, t] = (row / row.sum()) @ v[b, j]
    return out
