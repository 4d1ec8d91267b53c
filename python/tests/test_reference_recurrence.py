"""The chunked form of the recurrence oracle agrees with the recurrent form
(docs/ops.md §2) for every gate kind, chunk lengths that do and do not divide T,
and T = 1. Both are float64, so the tolerance is 1e-10."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kestrel.reference.recurrence import GATE_KINDS, chunked, recurrent  # noqa: E402


def make_inputs(gate, B=2, H=4, Hkv=2, T=13, Dk=5, Dv=3, seed=0,
                with_state=True):
    rng = np.random.default_rng(seed)
    q = rng.uniform(-1, 1, (B, H, T, Dk))
    # Unit-norm keys keep the delta rule's I − β k kᵀ a contraction, as in
    # DeltaNet (which L2-normalizes keys).
    k = rng.normal(size=(B, Hkv, T, Dk))
    k /= np.linalg.norm(k, axis=-1, keepdims=True)
    v = rng.uniform(-1, 1, (B, Hkv, T, Dv))
    args = {}
    if gate in ("scalar", "gated_delta"):
        args["log_gate"] = rng.uniform(-0.5, 0.0, (B, H, T))
    elif gate == "vector":
        args["log_gate"] = rng.uniform(-0.5, 0.0, (B, H, T, Dk))
    if gate in ("delta", "gated_delta"):
        args["beta"] = rng.uniform(0.0, 1.0, (B, H, T))
    if with_state:
        args["initial_state"] = rng.uniform(-1, 1, (B, H, Dk, Dv))
    return q, k, v, args


@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("chunk", [1, 3, 4, 13, 64])
def test_chunked_matches_recurrent(gate, chunk):
    q, k, v, args = make_inputs(gate)
    o_ref, s_ref = recurrent(q, k, v, gate, scale=0.7, **args)
    o, s = chunked(q, k, v, gate, scale=0.7, chunk=chunk, **args)
    assert np.abs(o - o_ref).max() < 1e-10
    assert np.abs(s - s_ref).max() < 1e-10


@pytest.mark.parametrize("gate", GATE_KINDS)
def test_single_token(gate):
    q, k, v, args = make_inputs(gate, T=1, with_state=False)
    o_ref, s_ref = recurrent(q, k, v, gate, **args)
    o, s = chunked(q, k, v, gate, chunk=4, **args)
    assert np.abs(o - o_ref).max() < 1e-12
    assert np.abs(s - s_ref).max() < 1e-12


def test_linear_attention_closed_form():
    """gate = none without a state is causal linear attention:
    o_t = Σ_{s≤t} (q_t·k_s) v_s."""
    q, k, v, _ = make_inputs("none", H=2, Hkv=2, with_state=False)
    o, _ = recurrent(q, k, v, "none")
    scores = np.tril(np.einsum("bhtd,bhsd->bhts", q, k))
    assert np.abs(o - scores @ v).max() < 1e-12


def test_delta_single_step_writes_value():
    """With β = 1 and a unit key, one delta step makes k S = v exactly."""
    q, k, v, args = make_inputs("delta", T=1, H=2, Hkv=2)
    args["beta"] = np.ones_like(args["beta"])
    _, s = recurrent(q, k, v, "delta", **args)
    ks = np.einsum("bhd,bhde->bhe", k[:, :, 0], s)
    assert np.abs(ks - v[:, :, 0]).max() < 1e-12
