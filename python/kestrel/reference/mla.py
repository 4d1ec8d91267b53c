"""Multi-head latent attention (docs/ops.md §1, MLA), from its definition."""

from __future__ import annotations

import numpy as np

from kestrel.reference.attention import attention


def mla(q_c, q_r, c_kv, k_r, w_uk, w_uv, *, causal=False, scale=None):
    """q_c [B,H,T,dn], q_r [B,H,T,dr], c_kv [B,S,dc], k_r [B,S,dr],
    w_uk [H,dc,dn], w_uv [H,dc,dv] -> [B,H,T,dv] (float64).

    Keys and values are expanded per head exactly as written in docs/ops.md:
    k_h = [c_kv W_uk_h ; k_r], v_h = c_kv W_uv_h, q_h = [q_c_h ; q_r_h].
    """
    q_c, q_r, c_kv, k_r, w_uk, w_uv = (np.asarray(x, np.float64) for x in
                                       (q_c, q_r, c_kv, k_r, w_uk, w_uv))
    H = q_c.shape[1]
    k = np.stack([np.concatenate([c_kv @ w_uk[h], k_r], axis=-1)
                  for h in range(H)], axis=1)
    v = np.stack([c_kv @ w_uv[h] for h in range(H)], axis=1)
    q = np.concatenate([q_c, q_r], axis=-1)
    if scale is None:
        scale = 1.0 / np.sqrt(q.shape[-1])
    return attention(q, k, v, causal=causal, scale=scale)
