"""kestrel.mla (expanded and absorbed forms) on the CPU against the NumPy
oracle, which expands keys and values per head as docs/ops.md writes them.

Tolerances (max absolute error; inputs uniform in [-0.5, 0.5), weights
scaled by 1/sqrt(fan-in)): f32 2e-5 (the absorbed form reassociates the
projections), bf16 3e-2 relative to the output range.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference.mla import mla as reference

# (B, H, T, S, d_nope, d_r, d_c, d_v, causal)
CASES = {
    "prefill": (1, 4, 12, 12, 8, 4, 16, 8, True),
    "decode_t1": (2, 4, 1, 33, 16, 8, 32, 16, True),
    "noncausal_t_lt_s": (1, 2, 5, 9, 8, 4, 16, 12, False),
    "prefill_with_cache": (1, 3, 4, 20, 8, 8, 24, 8, True),
}


def mla_mlir(B, H, T, S, dn, dr, dc, dv, causal, absorbed, dtype):
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + f"x{dtype}>"  # noqa: E731
    types = [t(B, H, T, dn), t(B, H, T, dr), t(B, S, dc), t(B, S, dr),
             t(H, dc, dn), t(H, dc, dv)]
    out = t(B, H, T, dv)
    attrs = " ".join(a for a, on in (("causal", causal), ("absorbed", absorbed)) if on)
    args = ", ".join(f"%a{i}: {ty}" for i, ty in enumerate(types))
    return f"""
func.func @mla({args}) -> {out} {{
  %o = kestrel.mla %a0, %a1, %a2, %a3, %a4, %a5 {attrs} : {', '.join(types)} -> {out}
  return %o : {out}
}}
"""


def run(compile_cpu, case, absorbed, dtype="f32", seed=0):
    B, H, T, S, dn, dr, dc, dv, causal = CASES[case]
    rng = np.random.default_rng(seed)
    shapes = [(B, H, T, dn), (B, H, T, dr), (B, S, dc), (B, S, dr),
              (H, dc, dn), (H, dc, dv)]
    fan_in = [1, 1, 1, 1, dc, dc]
    raw = [rng.uniform(-0.5, 0.5, s) / np.sqrt(f) for s, f in zip(shapes, fan_in)]
    stored = [storage(x, dtype) for x in raw]
    lib = compile_cpu(mla_mlir(B, H, T, S, dn, dr, dc, dv, causal, absorbed, dtype))
    (out,) = lib.mla(*[s[0] for s in stored])
    expected = reference(*[s[1] for s in stored], causal=causal)
    return value_of(out, dtype), expected


@pytest.mark.parametrize("absorbed", [False, True], ids=["expanded", "absorbed"])
@pytest.mark.parametrize("case", CASES)
def test_mla_f32(compile_cpu, case, absorbed):
    got, expected = run(compile_cpu, case, absorbed)
    assert np.abs(got - expected).max() <= 2e-5


@pytest.mark.parametrize("absorbed", [False, True], ids=["expanded", "absorbed"])
def test_mla_bf16(compile_cpu, absorbed):
    got, expected = run(compile_cpu, "decode_t1", absorbed, "bf16")
    assert np.abs(got - expected).max() <= 3e-2 * np.abs(expected).max()


def test_absorbed_equals_expanded(compile_cpu):
    """The two evaluation orders agree with each other, not only with the
    oracle."""
    a, _ = run(compile_cpu, "prefill_with_cache", False, seed=3)
    b, _ = run(compile_cpu, "prefill_with_cache", True, seed=3)
    assert np.abs(a - b).max() <= 2e-5
