"""The supporting-op oracles checked against facts independent of their
implementation: RoPE is a rotation (norms kept, position 0 is the identity,
relative positions only), the two conventions differ by a permutation,
RMSNorm yields unit RMS."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.support import gated_mlp, rms_norm, rope  # noqa: E402


def test_rms_norm_unit_rms():
    x = np.random.default_rng(0).normal(size=(3, 32))
    y = rms_norm(x, np.ones(32), 0.0)
    assert np.allclose(np.sqrt(np.mean(y * y, axis=-1)), 1.0)


def test_rope_position_zero_is_identity():
    x = np.random.default_rng(1).normal(size=(1, 2, 1, 16))
    assert np.allclose(rope(x), x)
    assert np.allclose(rope(x, interleaved=True), x)


def test_rope_keeps_pair_norms():
    x = np.random.default_rng(2).normal(size=(1, 1, 6, 8))
    y = rope(x, offset=9)
    n = lambda a: a[..., :4] ** 2 + a[..., 4:] ** 2  # noqa: E731
    assert np.allclose(n(x), n(y))


def test_rope_scores_depend_on_relative_position():
    rng = np.random.default_rng(3)
    q = rng.normal(size=(1, 1, 1, 16))
    k = rng.normal(size=(1, 1, 1, 16))
    s1 = (rope(q, offset=5) * rope(k, offset=2)).sum()
    s2 = (rope(q, offset=13) * rope(k, offset=10)).sum()
    assert np.isclose(s1, s2)


def test_rope_conventions_differ_by_permutation():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(1, 1, 5, 8))
    perm = np.array([0, 2, 4, 6, 1, 3, 5, 7])  # interleaved -> halves
    y_half = rope(x[..., perm], offset=3)
    y_int = rope(x, offset=3, interleaved=True)
    assert np.allclose(y_half, y_int[..., perm])


def test_rope_partial_passthrough():
    x = np.random.default_rng(5).normal(size=(1, 1, 4, 12))
    y = rope(x, rotary_dim=4, offset=1)
    assert np.array_equal(y[..., 4:], x[..., 4:])


def test_gated_mlp_zero_gate():
    x = np.random.default_rng(6).normal(size=(2, 4))
    w = np.random.default_rng(7).normal(size=(4, 6))
    assert np.allclose(gated_mlp(x, w, np.zeros((4, 6)), w.T), 0)
