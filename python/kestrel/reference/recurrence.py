"""Gated linear recurrences (docs/ops.md §2), written directly from the formulas.

Two independent forms of `kestrel.gated_recurrence`:

* `recurrent` steps the state S ∈ R^{Dk×Dv} one token at a time;
* `chunked` processes chunks of C tokens with matrix products (cumulative
  log-gates for none/scalar/vector, the WY/UT representation for the delta
  rules), the way fast kernels do.

They share no code beyond argument handling, so agreement between them checks
both. Everything is float64. Gates are given in log space; heads of `k` and
`v` are shared by groups of `H / Hkv` query heads, while gates, beta and the
state are per query head.
"""

from __future__ import annotations

import numpy as np

GATE_KINDS = ("none", "scalar", "vector", "delta", "gated_delta")


def _prepare(q, k, v, gate, log_gate, beta, initial_state):
    """Float64 copies with k, v expanded to the H query heads, log-gates as
    [B, H, T, Dk] (0 where the kind has no decay), beta as [B, H, T]."""
    if gate not in GATE_KINDS:
        raise ValueError(f"unknown gate kind {gate!r}")
    q = np.asarray(q, np.float64)
    B, H, T, Dk = q.shape
    group = H // k.shape[1]
    k = np.repeat(np.asarray(k, np.float64), group, axis=1)
    v = np.repeat(np.asarray(v, np.float64), group, axis=1)
    Dv = v.shape[-1]
    if gate in ("scalar", "gated_delta"):
        g = np.broadcast_to(np.asarray(log_gate, np.float64)[..., None],
                            (B, H, T, Dk))
    elif gate == "vector":
        g = np.asarray(log_gate, np.float64)
    else:
        g = np.zeros((B, H, T, Dk))
    b = (np.asarray(beta, np.float64) if gate in ("delta", "gated_delta")
         else None)
    s0 = (np.zeros((B, H, Dk, Dv)) if initial_state is None
          else np.asarray(initial_state, np.float64))
    return q, k, v, g, b, s0


def recurrent(q, k, v, gate="none", log_gate=None, beta=None,
              initial_state=None, scale=1.0):
    """q [B,H,T,Dk], k [B,Hkv,T,Dk], v [B,Hkv,T,Dv] -> (o [B,H,T,Dv],
    final state [B,H,Dk,Dv]), one token at a time."""
    q, k, v, g, b, S = _prepare(q, k, v, gate, log_gate, beta, initial_state)
    S = S.copy()
    B, H, T, _ = q.shape
    o = np.zeros((B, H, T, v.shape[-1]))
    for bi in range(B):
        for h in range(H):
            for t in range(T):
                kt, vt = k[bi, h, t], v[bi, h, t]
                # diag(exp(g_t)) S: rows of S are indexed by key channels.
                S[bi, h] = np.exp(g[bi, h, t])[:, None] * S[bi, h]
                if b is not None:
                    delta = b[bi, h, t] * (vt - kt @ S[bi, h])
                    S[bi, h] = S[bi, h] + np.outer(kt, delta)
                else:
                    S[bi, h] = S[bi, h] + np.outer(kt, vt)
                o[bi, h, t] = scale * (q[bi, h, t] @ S[bi, h])
    return o, S


def _chunk_gated(Q, K, V, G, S):
    """One chunk of none/scalar/vector with cumulative log-gates
    b_i = Σ_{j≤i} g_j (per key channel): returns (O, S_next)."""
    b = np.cumsum(G, axis=0)                      # [C, Dk]
    C = Q.shape[0]
    # Intra-chunk: O_i = Σ_{j≤i} Σ_d q_id k_jd e^{b_id − b_jd} v_j. The
    # exponent is formed only for j ≤ i, where it is ≤ 0, so it never
    # overflows.
    causal = np.tril(np.ones((C, C), dtype=bool))
    expo = np.where(causal[:, :, None], b[:, None, :] - b[None, :, :], -np.inf)
    A = np.einsum("id,jd,ijd->ij", Q, K, np.exp(expo))
    O = A @ V + (Q * np.exp(b)) @ S               # intra + inter
    S_next = np.exp(b[-1])[:, None] * S + (K * np.exp(b[-1] - b)).T @ V
    return O, S_next


def _chunk_delta(Q, K, V, beta, G, S):
    """One chunk of the (gated) delta rule in the WY/UT representation.

    With γ_i = e^{b_i} the decay from the chunk start, the per-token
    corrections u_j = β_j (v_j − k_j α_j S_{j−1}) satisfy
    (I + A) U = diag(β) V − diag(βγ) K S_prev with
    A_ij = β_i (γ_i/γ_j) k_i·k_j for j < i (A = tril(diag(β) K Kᵀ, −1) when
    ungated), so U = T diag(β) V − T diag(βγ) K S_prev with
    T = (I + A)⁻¹."""
    C = Q.shape[0]
    b = np.cumsum(G[:, 0])                        # scalar gates: [C]
    strict = np.tril(np.ones((C, C), dtype=bool), -1)
    ratio = np.exp(np.where(strict, b[:, None] - b[None, :], -np.inf))
    A = beta[:, None] * (K @ K.T) * ratio
    Tm = np.linalg.inv(np.eye(C) + A)
    W = Tm @ (beta[:, None] * np.exp(b)[:, None] * K)
    U = Tm @ (beta[:, None] * V)
    U = U - W @ S                                 # the corrections u_j
    causal = np.tril(np.ones((C, C), dtype=bool))
    D = np.exp(np.where(causal, b[:, None] - b[None, :], -np.inf))
    O = (Q * np.exp(b)[:, None]) @ S + ((Q @ K.T) * D) @ U
    S_next = np.exp(b[-1]) * S + (K * np.exp(b[-1] - b)[:, None]).T @ U
    return O, S_next


def chunked(q, k, v, gate="none", log_gate=None, beta=None,
            initial_state=None, scale=1.0, chunk=64):
    """Same contract as `recurrent`, computed chunk by chunk (the last chunk
    may be shorter than `chunk`)."""
    q, k, v, g, b, S0 = _prepare(q, k, v, gate, log_gate, beta, initial_state)
    B, H, T, _ = q.shape
    o = np.zeros((B, H, T, v.shape[-1]))
    S_out = np.zeros_like(S0)
    for bi in range(B):
        for h in range(H):
            S = S0[bi, h]
            for c0 in range(0, T, chunk):
                sl = slice(c0, min(c0 + chunk, T))
                Q, K, V, G = q[bi, h, sl], k[bi, h, sl], v[bi, h, sl], g[bi, h, sl]
                if b is None:
                    O, S = _chunk_gated(Q, K, V, G, S)
                else:
                    O, S = _chunk_delta(Q, K, V, b[bi, h, sl], G, S)
                o[bi, h, sl] = scale * O
            S_out[bi, h] = S
    return o, S_out
