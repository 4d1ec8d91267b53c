"""Self-tests of the scan oracles (python/kestrel/reference/scan.py): the
recurrent and closed forms of the selective scan agree, both ops chain their
state (two pieces == one run), and causal_conv1d matches np.convolve. All
float64, so tolerances are 1e-10."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kestrel.reference.scan import (  # noqa: E402
    causal_conv1d, selective_scan, selective_scan_closed, softplus)


def scan_inputs(B=2, C=3, N=4, T=9, seed=0):
    rng = np.random.default_rng(seed)
    return dict(
        x=rng.normal(size=(B, C, T)),
        delta=rng.normal(size=(B, C, T)),
        A=-np.exp(rng.normal(size=(C, N))),
        Bm=rng.normal(size=(B, N, T)),
        Cm=rng.normal(size=(B, N, T)),
        D=rng.normal(size=C),
        z=rng.normal(size=(B, C, T)),
        delta_bias=rng.normal(size=C) * 0.1,
        initial_state=rng.normal(size=(B, C, N)))


def test_softplus_stable():
    x = np.array([-50.0, -1.0, 0.0, 1.0, 19.9, 20.0, 21.0, 1000.0])
    got = softplus(x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got[:6], np.log1p(np.exp(x[:6])), rtol=1e-14)
    np.testing.assert_array_equal(got[6:], x[6:])


@pytest.mark.parametrize("opts", [
    dict(),
    dict(delta_softplus=True),
    dict(delta_softplus=True, use_bias=True, use_D=True, use_z=True),
    dict(delta_softplus=True, use_state=True, use_D=True),
])
@pytest.mark.parametrize("T", [1, 9])
def test_scan_forms_agree(opts, T):
    a = scan_inputs(T=T)
    kw = dict(delta_softplus=opts.get("delta_softplus", False))
    for key, name in [("use_bias", "delta_bias"), ("use_D", "D"),
                      ("use_z", "z"), ("use_state", "initial_state")]:
        if opts.get(key):
            kw[name] = a[name]
    args = (a["x"], a["delta"], a["A"], a["Bm"], a["Cm"])
    y1, h1 = selective_scan(*args, **kw)
    y2, h2 = selective_scan_closed(*args, **kw)
    np.testing.assert_allclose(y1, y2, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h1, h2, rtol=1e-10, atol=1e-10)


def test_scan_single_step_by_hand():
    # One channel, one state, T = 1: y = C (exp(dA) h0 + d B x) + D x.
    y, h = selective_scan(np.array([[[2.0]]]), np.array([[[0.5]]]),
                          np.array([[-1.0]]), np.array([[[3.0]]]),
                          np.array([[[4.0]]]), D=np.array([0.25]),
                          initial_state=np.array([[[1.0]]]))
    h_want = np.exp(-0.5) * 1.0 + 0.5 * 3.0 * 2.0
    np.testing.assert_allclose(h[0, 0, 0], h_want, rtol=1e-14)
    np.testing.assert_allclose(y[0, 0, 0], 4.0 * h_want + 0.5, rtol=1e-14)


@pytest.mark.parametrize("split", [1, 4, 8])
def test_scan_state_chaining(split):
    a = scan_inputs(T=9)
    kw = dict(delta_softplus=True, delta_bias=a["delta_bias"], D=a["D"],
              z=a["z"])
    full_y, full_h = selective_scan(a["x"], a["delta"], a["A"], a["Bm"],
                                    a["Cm"], **kw)
    sl = [np.s_[..., :split], np.s_[..., split:]]
    ys, h = [], None
    for s in sl:
        y, h = selective_scan(a["x"][s], a["delta"][s], a["A"], a["Bm"][s],
                              a["Cm"][s], D=a["D"], z=a["z"][s],
                              delta_bias=a["delta_bias"], delta_softplus=True,
                              initial_state=h)
        ys.append(y)
    np.testing.assert_allclose(np.concatenate(ys, axis=2), full_y,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, full_h, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("K", [2, 4])
@pytest.mark.parametrize("activation", ["none", "silu"])
def test_conv_matches_convolve(K, activation):
    rng = np.random.default_rng(K)
    B, C, T = 2, 3, 7
    x = rng.normal(size=(B, C, T))
    w = rng.normal(size=(C, K))
    bias = rng.normal(size=C)
    y, st = causal_conv1d(x, w, bias, activation=activation)
    for b in range(B):
        for c in range(C):
            # Causal correlation == convolution with the reversed kernel,
            # truncated to the first T outputs (zero history).
            ref = np.convolve(x[b, c], w[c, ::-1])[:T] + bias[c]
            if activation == "silu":
                ref = ref / (1 + np.exp(-ref))
            np.testing.assert_allclose(y[b, c], ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(st, x[:, :, T - (K - 1):])


@pytest.mark.parametrize("K", [2, 4])
@pytest.mark.parametrize("split", [1, 2, 6])
def test_conv_state_chaining(K, split):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 7))
    w = rng.normal(size=(3, K))
    s0 = rng.normal(size=(2, 3, K - 1))
    full_y, full_s = causal_conv1d(x, w, state=s0, activation="silu")
    y1, s1 = causal_conv1d(x[..., :split], w, state=s0, activation="silu")
    y2, s2 = causal_conv1d(x[..., split:], w, state=s1, activation="silu")
    np.testing.assert_allclose(np.concatenate([y1, y2], 2), full_y,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s2, full_s)
