"""Mamba1 selective scan and causal depthwise conv1d (docs/ops.md §2), from the
definitions.

Layout is channels-first, as in the reference Mamba code: x, delta, z, y are
[B, C, T]; Bm, Cm are [B, N, T]; A is [C, N]; states are [B, C, N] (scan)
and [B, C, K-1] (conv). Everything is float64.

Two forms of the scan are given: `selective_scan` steps the state one token
at a time, `selective_scan_closed` writes h_t as a sum over s <= t of
products of the discretized decays, computed with cumulative sums of
Δ·A in log space. They share only `softplus` and argument handling, so their
agreement checks both.
"""

from __future__ import annotations

import numpy as np


def softplus(x):
    """log(1 + e^x), with the x > 20 -> x shortcut of the Mamba kernels (the
    difference there is below e^-20, far under f32 resolution)."""
    x = np.asarray(x, np.float64)
    return np.where(x > 20.0, x, np.log1p(np.exp(np.minimum(x, 20.0))))


def silu(x):
    x = np.asarray(x, np.float64)
    return x / (1.0 + np.exp(-x))


def _discretize(delta, A, delta_bias, delta_softplus):
    d = np.asarray(delta, np.float64)
    if delta_bias is not None:
        d = d + np.asarray(delta_bias, np.float64)[None, :, None]
    if delta_softplus:
        d = softplus(d)
    return d, np.asarray(A, np.float64)


def _epilogue(y, x, D, z):
    if D is not None:
        y = y + np.asarray(D, np.float64)[None, :, None] * x
    if z is not None:
        y = y * silu(z)
    return y


def selective_scan(x, delta, A, Bm, Cm, D=None, z=None, delta_bias=None,
                   delta_softplus=False, initial_state=None):
    """Recurrent form: returns (y [B, C, T], final state [B, C, N])."""
    x = np.asarray(x, np.float64)
    Bm, Cm = np.asarray(Bm, np.float64), np.asarray(Cm, np.float64)
    d, A = _discretize(delta, A, delta_bias, delta_softplus)
    Bsz, C, T = x.shape
    N = A.shape[1]
    h = (np.zeros((Bsz, C, N)) if initial_state is None
         else np.array(initial_state, np.float64))
    y = np.zeros((Bsz, C, T))
    for t in range(T):
        dt = d[:, :, t][:, :, None]                       # [B, C, 1]
        abar = np.exp(dt * A[None])                       # [B, C, N]
        bbar = dt * Bm[:, None, :, t]                     # [B, C, N]
        h = abar * h + bbar * x[:, :, t][:, :, None]
        y[:, :, t] = np.einsum("bcn,bn->bc", h, Cm[:, :, t])
    return _epilogue(y, x, D, z), h


def selective_scan_closed(x, delta, A, Bm, Cm, D=None, z=None,
                          delta_bias=None, delta_softplus=False,
                          initial_state=None):
    """Closed form: h_t = e^{L_t} h_{-1} + Σ_{s<=t} e^{L_t - L_s} Δ_s B_s x_s
    with L_t = Σ_{r<=t} Δ_r A (per channel and state)."""
    x = np.asarray(x, np.float64)
    Bm, Cm = np.asarray(Bm, np.float64), np.asarray(Cm, np.float64)
    d, A = _discretize(delta, A, delta_bias, delta_softplus)
    Bsz, C, T = x.shape
    N = A.shape[1]
    h0 = (np.zeros((Bsz, C, N)) if initial_state is None
          else np.asarray(initial_state, np.float64))
    L = np.cumsum(d[:, :, :, None] * A[None, :, None, :], axis=2)  # B,C,T,N
    u = d[:, :, :, None] * np.transpose(Bm, (0, 2, 1))[:, None] \
        * x[:, :, :, None]                                           # B,C,T,N
    # decay[b, c, t, s, n] = e^{L_t - L_s} for s <= t, else 0.
    diff = L[:, :, :, None, :] - L[:, :, None, :, :]
    mask = np.tril(np.ones((T, T), bool))[None, None, :, :, None]
    decay = np.where(mask, np.exp(np.where(mask, diff, 0.0)), 0.0)
    H = np.einsum("bctsn,bcsn->bctn", decay, u) \
        + np.exp(L) * h0[:, :, None, :]
    y = np.einsum("bctn,bnt->bct", H, Cm)
    return _epilogue(y, x, D, z), H[:, :, -1]


def causal_conv1d(x, weight, bias=None, state=None, activation="none"):
    """x [B, C, T], weight [C, K], bias [C], state [B, C, K-1] ->
    (y [B, C, T], new state [B, C, K-1]).

    y[b, c, t] = act(Σ_i weight[c, i] · xs[b, c, t + i] + bias[c]) where xs
    is x with the state (or K-1 zeros) prepended."""
    if activation not in ("none", "silu"):
        raise ValueError(f"unknown activation {activation!r}")
    x = np.asarray(x, np.float64)
    w = np.asarray(weight, np.float64)
    Bsz, C, T = x.shape
    K = w.shape[1]
    s = (np.zeros((Bsz, C, K - 1)) if state is None
         else np.asarray(state, np.float64))
    xs = np.concatenate([s, x], axis=2)                   # [B, C, K-1+T]
    y = np.zeros((Bsz, C, T))
    for t in range(T):
        for i in range(K):
            y[:, :, t] += w[None, :, i] * xs[:, :, t + i]
    if bias is not None:
        y += np.asarray(bias, np.float64)[None, :, None]
    if activation == "silu":
        y = silu(y)
    return y, xs[:, :, xs.shape[2] - (K - 1):]
