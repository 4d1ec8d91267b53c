"""MoE routing and the expert layer (docs/ops.md §3, "Routing family").

Written from the formulas, in float64, with explicit per-token and
per-expert loops: selection is a sort by (-key, index) (so ties go to the
lower index), capacity is a running count per expert over tokens in order,
and the expert layer dispatches each kept (token, expert) pair one at a time
(the sparse form), where the compiler's reference lowering is dense.
"""

from __future__ import annotations

import math

import numpy as np


def scores(logits: np.ndarray, score: str) -> np.ndarray:
    """Router logits [N, E] -> scores: softmax over experts, or sigmoid."""
    r = np.asarray(logits, dtype=np.float64)
    if score == "softmax":
        z = np.exp(r - r.max(axis=-1, keepdims=True))
        return z / z.sum(axis=-1, keepdims=True)
    if score == "sigmoid":
        return 1.0 / (1.0 + np.exp(-r))
    raise ValueError(score)


def capacity(cf: float, n: int, k: int, e: int) -> int:
    """ceil(cf * N * k / E), evaluated left to right in double precision."""
    return int(math.ceil(cf * n * k / e))


def _top(keys, candidates, count):
    """The `count` candidates with the largest keys, best first; a tie goes
    to the lower candidate index."""
    return sorted(candidates, key=lambda c: (-keys[c], c))[:count]


def route(logits, *, score="softmax", k, bias=None, renormalize=False,
          n_groups=None, topk_groups=None, capacity_factor=None):
    """Token-choice routing. Returns (indices [N, k] int64, weights [N, k]).

    Selection uses u = s + bias; weights are the unbiased s (renormalized
    over the k selected when asked, before any drop). Group-limited: groups
    are contiguous runs of E / n_groups experts scored by the sum of their
    two largest u (DeepSeek-V3), the topk_groups best groups stay eligible.
    Capacity: expert e keeps the first C = ceil(cf N k / E) tokens (in token
    order) that selected it; later ones get weight 0 but keep the index.
    """
    s = scores(logits, score)
    n_tok, n_exp = s.shape
    u = s + (0.0 if bias is None else np.asarray(bias, dtype=np.float64))
    indices = np.zeros((n_tok, k), dtype=np.int64)
    weights = np.zeros((n_tok, k))
    for n in range(n_tok):
        eligible = list(range(n_exp))
        if n_groups is not None:
            size = n_exp // n_groups
            group_score = []
            for g in range(n_groups):
                members = range(g * size, (g + 1) * size)
                best_two = sorted((u[n, e] for e in members), reverse=True)[:2]
                group_score.append(sum(best_two))
            kept = _top(group_score, range(n_groups), topk_groups)
            eligible = [e for e in range(n_exp) if e // size in kept]
        chosen = _top(u[n], eligible, k)
        w = np.array([s[n, e] for e in chosen])
        if renormalize:
            w = w / w.sum()
        indices[n] = chosen
        weights[n] = w
    if capacity_factor is not None:
        cap = capacity(capacity_factor, n_tok, k, n_exp)
        taken = [0] * n_exp
        for n in range(n_tok):
            for j in range(k):
                e = indices[n, j]
                if taken[e] >= cap:
                    weights[n, j] = 0.0
                taken[e] += 1
    return indices, weights


def route_expert_choice(logits, *, score="softmax", k=1, capacity=None,
                        capacity_factor=None):
    """Expert-choice routing (Zhou et al. 2022). Returns (indices [E, c] of
    tokens, weights [E, c]); c = capacity, or min(N, ceil(cf N k / E))."""
    s = scores(logits, score)
    n_tok, n_exp = s.shape
    if capacity is None:
        capacity = min(n_tok, _capacity(capacity_factor, n_tok, k, n_exp))
    indices = np.zeros((n_exp, capacity), dtype=np.int64)
    weights = np.zeros((n_exp, capacity))
    for e in range(n_exp):
        chosen = _top(s[:, e], range(n_tok), capacity)
        indices[e] = chosen
        weights[e] = [s[n, e] for n in chosen]
    return indices, weights


_capacity = capacity


def silu(a):
    return a / (1.0 + np.exp(-a))


def gated_mlp(x, w1, w3, w2):
    """(silu(x W1) * (x W3)) W2."""
    return (silu(x @ w1) * (x @ w3)) @ w2


def moe(x, indices, weights, w1, w3, w2, *, shared=None,
        expert_choice=False):
    """out[n] = sum over routed (n, e, w) with w != 0 of w * expert_e(x_n),
    plus shared(x_n). Token choice: indices/weights [N, k] name experts;
    expert choice: [E, c] name tokens. Out-of-range indices select nothing.
    `shared` is (S1, S3, S2) or None."""
    x, w1, w3, w2 = (np.asarray(a, dtype=np.float64) for a in (x, w1, w3, w2))
    weights = np.asarray(weights, dtype=np.float64)
    n_tok = x.shape[0]
    n_exp = w1.shape[0]
    out = np.zeros_like(x)
    pairs = []  # (token, expert, weight)
    rows, cols = indices.shape
    for a in range(rows):
        for j in range(cols):
            if expert_choice:
                pairs.append((int(indices[a, j]), a, weights[a, j]))
            else:
                pairs.append((a, int(indices[a, j]), weights[a, j]))
    for n, e, w in pairs:
        if not (0 <= n < n_tok and 0 <= e < n_exp) or w == 0.0:
            continue
        out[n] += w * gated_mlp(x[n:n + 1], w1[e], w3[e], w2[e])[0]
    if shared is not None:
        s1, s3, s2 = (np.asarray(a, dtype=np.float64) for a in shared)
        out += gated_mlp(x, s1, s3, s2)
    return out
