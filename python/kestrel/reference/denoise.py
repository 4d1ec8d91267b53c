"""One masked-diffusion unmasking step (OPS.md §4, LLaDA / Fast-dLLM).

Written from the description with plain loops and sorting, in float64:
confidences from a numerically stable softmax, the top-n by a stable sort
(ties to the lower position), the threshold rule with its "at least one"
fallback, and block restriction.
"""

from __future__ import annotations

import numpy as np


def denoise_step(logits: np.ndarray, tokens: np.ndarray, mask_id: int, *,
                 top_k: int | None = None, threshold: float | None = None,
                 block: tuple[int, int] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """logits [B, L, V], tokens [B, L] -> (new_tokens i64, confidence f64).

    Confidence is softmax(logits_p)[argmax] at masked positions, 0 elsewhere.
    Exactly one of top_k and threshold must be given.
    """
    assert (top_k is None) != (threshold is None)
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
            x = int(np.argmax(row))  # first maximum
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
