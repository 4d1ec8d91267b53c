"""KV cache layouts, decode attention over a cache, appending to a cache and
Quest page selection (docs/ops.md §1: "Decode", "KV cache layouts",
"Training-free / dynamic KV selection"), written from the formulas.

A layout is one of "head_major" [B, Hkv, S, D], "token_major" [B, S, Hkv, D],
"paged" [num_pages, page_size, Hkv, D] with a block table [B, max_pages], and
"mla_latent" [B, S, D] (one KV head; values are its first Dv channels).
Everything is computed in float64 with explicit loops over rows.
"""

from __future__ import annotations

import math

import numpy as np

LAYOUTS = ("head_major", "token_major", "paged", "mla_latent")


def _page_of(block_table, b: int, s: int, page_size: int, num_pages: int) -> int:
    """Physical page of logical token s of row b; an entry outside
    [0, num_pages) is clamped into it (the op's documented behaviour)."""
    return min(max(int(block_table[b, s // page_size]), 0), num_pages - 1)


def to_head_major(cache, layout: str, *, block_table=None,
                  page_size: int | None = None, dim: int | None = None):
    """A cache of `layout` as a float64 head-major [B, Hkv, S, dim] array
    (dim defaults to the cache's last dimension; the MLA value view takes the
    first `dim` channels)."""
    cache = np.asarray(cache, dtype=np.float64)
    dim = cache.shape[-1] if dim is None else dim
    if layout == "head_major":
        return cache[..., :dim].copy()
    if layout == "token_major":
        return cache.transpose(0, 2, 1, 3)[..., :dim].copy()
    if layout == "mla_latent":
        return cache[:, None, :, :dim].copy()
    if layout == "paged":
        num_pages, P, Hkv, _ = cache.shape
        B, max_pages = block_table.shape
        out = np.zeros((B, Hkv, max_pages * P, dim))
        for b in range(B):
            for s in range(max_pages * P):
                page = _page_of(block_table, b, s, P, num_pages)
                out[b, :, s] = cache[page, s % P, :, :dim]
        return out
    raise ValueError(f"unknown layout {layout!r}")


def from_head_major(keys, layout: str, *, block_table=None,
                    num_pages: int | None = None, page_size: int | None = None):
    """Stores head-major [B, Hkv, S, D] keys in `layout` (for building test
    caches). Paged: token s of row b goes to page block_table[b, s // P];
    pages no row uses stay zero."""
    keys = np.asarray(keys)
    if layout == "head_major":
        return keys.copy()
    if layout == "token_major":
        return keys.transpose(0, 2, 1, 3).copy()
    if layout == "mla_latent":
        assert keys.shape[1] == 1, "the MLA latent cache has one KV head"
        return keys[:, 0].copy()
    if layout == "paged":
        B, Hkv, S, D = keys.shape
        assert S % page_size == 0 and block_table.shape == (B, S // page_size)
        cache = np.zeros((num_pages, page_size, Hkv, D), dtype=keys.dtype)
        for b in range(B):
            for s in range(S):
                cache[block_table[b, s // page_size], s % page_size] = keys[b, :, s]
        return cache
    raise ValueError(f"unknown layout {layout!r}")


def decode_attention(q, k_cache, v_cache, seq_lens, layout: str, *,
                     block_table=None, page_size: int | None = None,
                     value_dim: int | None = None,
                     scale: float | None = None):
    """-> (out [B, H, T, Dv], lse [B, H, T]), float64.

    Query t of row b is token seq_lens[b] - T + t and sees cache tokens
    s <= t + seq_lens[b] - T (s < S). A row that sees nothing gives 0 and
    lse = -inf. For "mla_latent" pass v_cache=None and value_dim = d_c.
    """
    q = np.asarray(q, dtype=np.float64)
    B, H, T, D = q.shape
    K = to_head_major(k_cache, layout, block_table=block_table,
                      page_size=page_size)
    if layout == "mla_latent":
        V = to_head_major(k_cache, layout, dim=value_dim)
    else:
        V = to_head_major(v_cache, layout, block_table=block_table,
                          page_size=page_size)
    Hkv, S = K.shape[1], K.shape[2]
    assert H % Hkv == 0
    g = H // Hkv
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    out = np.zeros((B, H, T, V.shape[3]))
    lse = np.full((B, H, T), -np.inf)
    for b in range(B):
        L = int(seq_lens[b])
        for h in range(H):
            j = h // g
            for t in range(T):
                last = min(t + L - T, S - 1)  # inclusive
                if last < 0:
                    continue
                x = scale * (K[b, j, :last + 1] @ q[b, h, t])
                m = x.max()
                w = np.exp(x - m)
                out[b, h, t] = (w @ V[b, j, :last + 1]) / w.sum()
                lse[b, h, t] = m + math.log(w.sum())
    return out, lse


def kv_append(cache, new, positions, layout: str, *, block_table=None,
              page_size: int | None = None):
    """The cache after writing new [B, Hkv, Tn, D] at positions[b] + i.

    Writes outside the cache (p < 0, p >= S, or a block table entry outside
    [0, num_pages)) are dropped; later writes (in b, i order) win."""
    cache = np.array(cache, copy=True)
    new = np.asarray(new)
    B, Hkv, Tn, D = new.shape
    if layout == "head_major":
        S = cache.shape[2]
    elif layout in ("token_major", "mla_latent"):
        S = cache.shape[1]
    elif layout == "paged":
        S = block_table.shape[1] * page_size
    else:
        raise ValueError(f"unknown layout {layout!r}")
    for b in range(B):
        for i in range(Tn):
            p = int(positions[b]) + i
            if not 0 <= p < S:
                continue
            row = new[b, :, i]  # [Hkv, D]
            if layout == "head_major":
                cache[b, :, p] = row
            elif layout == "token_major":
                cache[b, p] = row
            elif layout == "mla_latent":
                cache[b, p] = row[0]
            else:
                page = int(block_table[b, p // page_size])
                if 0 <= page < cache.shape[0]:
                    cache[page, p % page_size] = row
    return cache


def page_bounds(keys, page_size: int):
    """Elementwise min and max of the keys of every page: head-major keys
    [B, Hkv, S, D] (S a multiple of page_size) -> two [B, Hkv, S/P, D]."""
    keys = np.asarray(keys, dtype=np.float64)
    B, Hkv, S, D = keys.shape
    pages = keys.reshape(B, Hkv, S // page_size, page_size, D)
    return pages.min(axis=3), pages.max(axis=3)


def quest_scores(q, key_min, key_max):
    """score[b, j, p] = Σ over the query heads h of KV head j of
    Σ_d max(q_d · min_d, q_d · max_d). q is [B, H, D] or [B, H, 1, D]."""
    q = np.asarray(q, dtype=np.float64)
    if q.ndim == 4:
        q = q[:, :, 0]
    key_min = np.asarray(key_min, dtype=np.float64)
    key_max = np.asarray(key_max, dtype=np.float64)
    B, H, D = q.shape
    Hkv, P = key_min.shape[1], key_min.shape[2]
    g = H // Hkv
    score = np.zeros((B, Hkv, P))
    for b in range(B):
        for h in range(H):
            j = h // g
            for p in range(P):
                score[b, j, p] += np.maximum(q[b, h] * key_min[b, j, p],
                                             q[b, h] * key_max[b, j, p]).sum()
    return score


def select_kv_pages(q, key_min, key_max, seq_lens, k: int, page_size: int):
    """-> int32 [B, Hkv, k]: slot 0 the current (last valid) page, then the
    k-1 best other valid pages by Quest score (ties: lower index), -1 where
    fewer pages are valid."""
    score = quest_scores(q, key_min, key_max)
    B, Hkv, P = score.shape
    out = np.full((B, Hkv, k), -1, dtype=np.int32)
    for b in range(B):
        n = min(-(-max(int(seq_lens[b]), 0) // page_size), P)
        if n == 0:
            continue
        for j in range(Hkv):
            others = sorted(range(n - 1), key=lambda p: (-score[b, j, p], p))
            chosen = [n - 1] + others[:k - 1]
            out[b, j, :len(chosen)] = chosen
    return out
