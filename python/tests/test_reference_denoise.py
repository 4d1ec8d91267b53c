"""The denoise_step oracle on hand-made cases whose answer is known."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.denoise import denoise_step  # noqa: E402

M = 9


def one_hot_logits(preds, strengths, V=4):
    """Logits whose argmax is preds[p] with margin strengths[p]."""
    logits = np.zeros((1, len(preds), V))
    for p, (x, s) in enumerate(zip(preds, strengths)):
        logits[0, p, x] = s
    return logits


def test_top_k_picks_most_confident_masked():
    logits = one_hot_logits([1, 2, 3, 0], [5.0, 1.0, 3.0, 9.0])
    tokens = np.array([[M, M, M, 7]])
    new, conf = denoise_step(logits, tokens, M, top_k=2)
    assert new.tolist() == [[1, M, 3, 7]]
    assert conf[0, 3] == 0 and conf[0, 0] > conf[0, 2] > conf[0, 1]


def test_confidence_formula():
    logits = one_hot_logits([2], [np.log(3.0)])
    _, conf = denoise_step(logits, np.array([[M]]), M, top_k=1)
    assert np.isclose(conf[0, 0], 3.0 / 6.0)


def test_threshold_falls_back_to_one():
    logits = one_hot_logits([1, 2], [0.1, 0.2])
    new, _ = denoise_step(logits, np.array([[M, M]]), M, threshold=0.99)
    assert new.tolist() == [[M, 2]]


def test_ties_and_block():
    logits = np.zeros((1, 4, 3))
    new, _ = denoise_step(logits, np.full((1, 4), M), M, top_k=1,
                          block=(1, 2))
    assert new.tolist() == [[M, 0, M, M]]
