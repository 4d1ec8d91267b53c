"""The attention oracle itself, checked against facts that do not depend on
its implementation: a single visible key returns that key's value, uniform
logits average the values, masks follow docs/ops.md's inequalities."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.attention import (  # noqa: E402
    attention, merge_partials, visibility_mask)


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


def test_mask_block_map_ragged():
    # T = 5, S = 6 in 2 x 4 blocks: block rows {0,1}, {2,3}, {4}; block
    # columns {0..3}, {4,5}.
    blocks = np.array([[True, False], [False, True], [True, True]])
    m = visibility_mask(5, 6, block_map=blocks, block_size=(2, 4))
    assert m.tolist() == [
        [True] * 4 + [False] * 2,
        [True] * 4 + [False] * 2,
        [False] * 4 + [True] * 2,
        [False] * 4 + [True] * 2,
        [True] * 6,
    ]


def test_mask_block_map_composes_with_causal():
    blocks = np.array([[True, True], [False, True]])
    m = visibility_mask(4, 4, causal=True, block_map=blocks, block_size=(2, 2))
    expected = [[s <= t and (t < 2 or s >= 2) for s in range(4)]
                for t in range(4)]
    assert m.tolist() == expected


def test_single_visible_key_has_lse_equal_to_its_logit():
    # Row 0 under causal sees only key 0: out = v0, lse = scale · q0·k0.
    q = np.array([[[[1.0, 2.0], [0.0, 0.0]]]])
    k = np.array([[[[3.0, -1.0], [5.0, 5.0]]]])
    v = np.array([[[[7.0, 8.0], [9.0, 10.0]]]])
    out, lse = attention(q, k, v, causal=True, scale=0.5, return_lse=True)
    np.testing.assert_allclose(out[0, 0, 0], [7.0, 8.0])
    np.testing.assert_allclose(lse[0, 0, 0], 0.5 * (3.0 - 2.0))
    # Row 1 has q = 0: equal logits 0 over two keys, lse = log 2.
    np.testing.assert_allclose(lse[0, 0, 1], np.log(2.0))
    np.testing.assert_allclose(out[0, 0, 1], [8.0, 9.0])


def test_key_lengths_zero_gives_zero_and_minus_inf():
    rng = np.random.default_rng(3)
    q, k, v = (rng.normal(size=(2, 1, 3, 4)) for _ in range(3))
    out, lse = attention(q, k, v, key_lengths=np.array([0, 2]),
                         return_lse=True)
    assert (out[0] == 0).all() and np.isneginf(lse[0]).all()
    # Length 2 equals truncating the keys to the first two.
    trunc = attention(q[1:], k[1:, :, :2], v[1:, :, :2])
    np.testing.assert_allclose(out[1:], trunc)


def test_merge_of_halves_is_the_whole():
    rng = np.random.default_rng(4)
    q = rng.normal(size=(1, 2, 3, 4))
    k, v = rng.normal(size=(1, 2, 8, 4)), rng.normal(size=(1, 2, 8, 4))
    whole, whole_lse = attention(q, k, v, return_lse=True)
    parts = [attention(q, k[:, :, sl], v[:, :, sl], return_lse=True)
             for sl in (slice(0, 5), slice(5, 8))]
    out, lse = merge_partials([p[0] for p in parts], [p[1] for p in parts])
    np.testing.assert_allclose(out, whole)
    np.testing.assert_allclose(lse, whole_lse)
    # lse is log Σ exp(logits), directly.
    logits = (q[0, 1] @ k[0, 1].T) / 2.0
    np.testing.assert_allclose(whole_lse[0, 1], np.log(np.exp(logits).sum(1)))
