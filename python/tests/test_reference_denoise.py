"""The denoise_step oracle on hand-made cases whose answer is known."""

import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_splitmix64_known_values():
    """splitmix64 of small counters, from the published algorithm's
    constants (Steele, Lea, Flood: seed 0 gives 0xE220A8397B1DCDAF)."""
    from kestrel.reference.denoise import splitmix64
    assert splitmix64(0) == 0xE220A8397B1DCDAF
    assert splitmix64(0x9E3779B97F4A7C15) == 0x6E789E6AA1B965F4


def test_sampling_is_gumbel_max():
    """With a huge temperature the noise decides; with a tiny one the
    argmax does; the empirical distribution over many positions follows
    softmax(logits / T)."""
    logits = np.tile(np.log(np.array([0.1, 0.2, 0.7])), (1, 4000, 1))
    tokens = np.full((1, 4000), 9)
    new, _ = denoise_step(logits, tokens, 9, top_k=4000, temperature=1.0,
                          seed=3)
    freq = np.bincount(new[0], minlength=3) / 4000
    assert np.abs(freq - [0.1, 0.2, 0.7]).max() < 0.03
    cold, _ = denoise_step(logits[:, :50], tokens[:, :50], 9, top_k=50,
                           temperature=1e-6, seed=3)
    assert (cold == 2).all()


def test_sampled_confidence_is_unscaled_probability():
    logits = np.array([[[0.0, 1.0, 2.0]]])
    new, conf = denoise_step(logits, np.array([[5]]), 5, top_k=1,
                             temperature=3.0, seed=11)
    p = np.exp(logits[0, 0]) / np.exp(logits[0, 0]).sum()
    assert conf[0, 0] == pytest.approx(p[new[0, 0]])
