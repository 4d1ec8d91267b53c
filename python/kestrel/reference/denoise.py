"""One masked-diffusion unmasking step (docs/ops.md §4, LLaDA / Fast-dLLM).

Written from the description with plain loops and sorting, in float64:
confidences from a numerically stable softmax, the top-n by a stable sort
(ties to the lower position), the threshold rule with its "at least one"
fallback, and block restriction. With a temperature, predictions are
Gumbel-max samples whose noise comes from the counter-based hash the op's
description defines (splitmix64 of seed + (b·L + p)·V + v), so a seed
reproduces the same tokens here and in compiled code.
"""

from __future__ import annotations

import numpy as np


_MASK64 = (1 << 64) - 1


def splitmix64(x: int) -> int:
    """One splitmix64 output for the 64-bit counter x (Python integers,
    reduced modulo 2^64 after every step)."""
    z = (x + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def gumbel_noise(seed: int, b: int, p: int, L: int, V: int) -> np.ndarray:
    """-log(-log u) for the V tokens of position (b, p), u in (0, 1) from
    the top 53 bits of splitmix64(seed + (b·L + p)·V + v)."""
    base = seed + (b * L + p) * V
    u = np.array([((splitmix64((base + v) & _MASK64) >> 11) + 0.5) * 2.0 ** -53
                  for v in range(V)])
    return -np.log(-np.log(u))


def denoise_step(logits: np.ndarray, tokens: np.ndarray, mask_id: int, *,
                 top_k: int | None = None, threshold: float | None = None,
                 block: tuple[int, int] | None = None,
                 temperature: float | None = None, seed: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """logits [B, L, V], tokens [B, L] -> (new_tokens i64, confidence f64).

    The prediction is the argmax (greedy) or, with `temperature` and `seed`,
    argmax(logits / temperature + Gumbel noise). Confidence is
    softmax(logits_p)[prediction] at masked positions, 0 elsewhere.
    Exactly one of top_k and threshold must be given.
    """
    assert (top_k is None) != (threshold is None)
    assert (temperature is None) == (seed is None)
    logits = np.asarray(logits, dtype=np.float64)
    B, L, _ = logits.shape
    new = np.array(tokens, dtype=np.int64, copy=True)
    conf = np.zeros((B, L))
    lo, hi = (0, L) if block is None else (block[0], block[0] + block[1])
    for b in range(B):
        pred = {}
        for p in range(L):
            if tokens[b, p] != mask_id:
                continue
            row = logits[b, p]
            if temperature is None:
                x = int(np.argmax(row))  # first maximum
            else:
                noisy = row / temperature + gumbel_noise(seed, b, p, L,
                                                         row.shape[0])
                x = int(np.argmax(noisy))
            probs = np.exp(row - row.max())
            probs /= probs.sum()
            pred[p] = x
            conf[b, p] = probs[x]
        eligible = [p for p in pred if lo <= p < hi]
        # Most confident first; Python's sort is stable, so equal confidences
        # keep increasing position order.
        order = sorted(eligible, key=lambda p: -conf[b, p])
        if top_k is not None:
            chosen = order[:top_k]
        else:
            chosen = [p for p in order if conf[b, p] > threshold]
            if not chosen and order:
                chosen = order[:1]
        for p in chosen:
            new[b, p] = pred[p]
    return new, conf
