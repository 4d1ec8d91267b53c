"""Softmax attention (docs/ops.md §1), written directly from the formula."""

from __future__ import annotations

import numpy as np


def visibility_mask(T: int, S: int, causal: bool = False,
                    window: int | None = None,
                    sinks: int | None = None,
                    block_map: np.ndarray | None = None,
                    block_size: tuple[int, int] | None = None) -> np.ndarray:
    """Boolean [T, S]: may query t (the last T of S positions) see key s.

    With `block_map` (boolean [ceil(T/bq), ceil(S/bk)]) and `block_size`
    (bq, bk), key s is also hidden from row t unless
    block_map[t // bq, s // bk]."""
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
    if block_map is not None:
        bq, bk = block_size
        block_map = np.asarray(block_map, dtype=bool)
        assert block_map.shape == (-(-T // bq), -(-S // bk))
        rows = np.arange(T) // bq
        cols = np.arange(S) // bk
        visible &= block_map[rows[:, None], cols[None, :]]
    return visible


def attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, *,
              causal: bool = False, window: int | None = None,
              sinks: int | None = None, scale: float | None = None,
              softcap: float | None = None,
              block_map: np.ndarray | None = None,
              block_size: tuple[int, int] | None = None,
              key_lengths: np.ndarray | None = None,
              return_lse: bool = False):
    """q [B,H,T,D], k [B,Hkv,S,D], v [B,Hkv,S,Dv] -> [B,H,T,Dv] (float64).

    Query head h reads KV head h // (H // Hkv). `key_lengths` ([B] ints)
    hides keys s >= key_lengths[b] of batch row b. A query that sees no key
    yields zeros. With `return_lse`, also returns lse [B,H,T] = log of the
    sum of exp(logit) over the row's visible keys (-inf if there are none).
    """
    q, k, v = (np.asarray(x, dtype=np.float64) for x in (q, k, v))
    B, H, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    assert H % Hkv == 0
    scale = 1.0 / np.sqrt(D) if scale is None else scale
    static = visibility_mask(T, S, causal, window, sinks, block_map,
                             block_size)
    out = np.zeros((B, H, T, v.shape[3]))
    lse = np.full((B, H, T), -np.inf)
    for b in range(B):
        mask = static.copy()
        if key_lengths is not None:
            mask &= np.arange(S)[None, :] < int(key_lengths[b])
        for h in range(H):
            j = h // (H // Hkv)
            logits = scale * (q[b, h] @ k[b, j].T)
            if softcap is not None:
                logits = softcap * np.tanh(logits / softcap)
            logits = np.where(mask, logits, -np.inf)
            for t in range(T):
                if not mask[t].any():
                    continue
                top = logits[t].max()
                row = np.exp(logits[t] - top)
                out[b, h, t] = (row / row.sum()) @ v[b, j]
                lse[b, h, t] = top + np.log(row.sum())
    return (out, lse) if return_lse else out


def merge_partials(outs, lses):
    """Merges attention results over disjoint key sets (split-KV):
    lse = log Σ_i e^{lse_i}, out = Σ_i e^{lse_i - lse} out_i; rows that no
    part saw stay 0 with lse -inf."""
    lses = np.stack([np.asarray(x, np.float64) for x in lses])
    outs = np.stack([np.asarray(x, np.float64) for x in outs])
    top = lses.max(axis=0)
    finite = np.isfinite(top)
    safe_top = np.where(finite, top, 0.0)
    weights = np.exp(lses - safe_top)  # e^{-inf} = 0 for empty parts
    total = weights.sum(axis=0)
    lse = np.where(finite, safe_top + np.log(np.where(finite, total, 1.0)),
                   -np.inf)
    w = np.where(finite, weights / np.where(finite, total, 1.0), 0.0)
    return (w[..., None] * outs).sum(axis=0), lse
