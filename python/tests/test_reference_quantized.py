"""The quantized-attention oracle on facts independent of its code."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kestrel.reference.attention import attention  # noqa: E402
from kestrel.reference.quantized import int8_levels, quantized_attention  # noqa: E402


def test_block_maximum_maps_to_127():
    x = np.zeros((1, 1, 4, 2), np.float32)
    x[0, 0, 1, 1] = -3.0
    x[0, 0, 2, 0] = 0.75  # second block: its own scale
    levels = int8_levels(x, 2)
    assert levels[0, 0, 1, 1] == -127 and levels[0, 0, 2, 0] == 127
    assert np.all(levels[0, 0, 0] == 0)


def test_close_to_float_attention():
    rng = np.random.default_rng(0)
    q, k, v = (rng.uniform(-1, 1, (1, 2, 16, 8)) for _ in range(3))
    exact = attention(q, k, v, causal=True)
    approx = quantized_attention(q, k, v, block_q=4, block_k=8, causal=True,
                                 smooth_k=True)
    assert np.abs(exact - approx).max() < 2e-2


def test_smoothing_removes_a_key_offset():
    """A constant offset on every key shifts all logits of a row equally:
    with smooth_k it vanishes before quantization."""
    rng = np.random.default_rng(1)
    q, k, v = (rng.uniform(-1, 1, (1, 1, 8, 4)) for _ in range(3))
    a = quantized_attention(q, k, v, block_q=8, block_k=8, smooth_k=True)
    b = quantized_attention(q, k + 5.0, v, block_q=8, block_k=8, smooth_k=True)
    assert np.abs(a - b).max() < 1e-5
