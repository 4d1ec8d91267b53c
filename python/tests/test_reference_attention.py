"""The attention oracle itself, checked against facts that do not depend on
its implementation: a single visible key returns that key's value, uniform
logits average the values, masks follow OPS.md's inequalities."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.attention import attention, visibility_mask  # noqa: E402


def test_mask_causal_with_offset():
    m = visibility_mask(2, 5, causal=True)
    # Queries are positions 3 and 4 of 5.
    assert m.tolist() == [[True, True, True, True, False], [True] * 5]


def test_mask_window_and_sinks():
    m = visibility_mask(6, 6, causal=True, window=2, sinks=1)
    for t in range(6):
        expected = [s <= t and (s > t - 2 or s < 1) for s in range(6)]
        assert m[t].tolist() == expected


def test_first_causal_row_returns_first_value():
    rng = np.random.default_rng(0)
    q, k, v = (rng.normal(size=(1, 2, 4, 8)) for _ in range(3))
    out = attention(q, k, v, causal=True)
    np.testing.assert_allclose(out[:, :, 0], v[:, :, 0])


def test_zero_queries_average_values():
    rng = np.random.default_rng(1)
    k, v = rng.normal(size=(1, 1, 5, 4)), rng.normal(size=(1, 1, 5, 4))
    out = attention(np.zeros((1, 2, 3, 4)), k, v)
    np.testing.assert_allclose(out[0, 1], np.tile(v[0, 0].mean(0), (3, 1)))


def test_gqa_matches_repeated_heads():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(1, 4, 3, 4))
    k, v = rng.normal(size=(1, 2, 3, 4)), rng.normal(size=(1, 2, 3, 4))
    grouped = attention(q, k, v, causal=True)
    repeated = attention(q, np.repeat(k, 2, 1), np.repeat(v, 2, 1), causal=True)
    np.testing.assert_allclose(grouped, repeated)
