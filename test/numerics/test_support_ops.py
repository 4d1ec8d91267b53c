"""kestrel.rms_norm, kestrel.rope and kestrel.gated_mlp compiled for the CPU
against the NumPy oracle (python/kestrel/reference/support.py).

Tolerances: |out - expected| <= atol + rtol * |expected|, the oracle in
float64 on the same (rounded) inputs, so the bound covers the compiler's f32
arithmetic plus one rounding to the storage type:
- rms_norm and gated_mlp: f32 rtol = atol = 1e-5; f16 rtol 1e-3 (two half
  ulps of f16), atol 1e-4; bf16 rtol 8e-3 (two half ulps of bf16), atol 1e-4.
- rope: as above but f32 atol 1e-4, because the op computes its angles
  pos * base^(-2i/R) in f32 and positions reach ~100 here (|x| <= 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import storage, value_of
from kestrel.reference import support as ref

TOL = {"f32": (1e-5, 1e-5), "f16": (1e-3, 1e-4), "bf16": (8e-3, 1e-4)}
ROPE_TOL = {"f32": (1e-5, 1e-4), "f16": (1e-3, 1e-4), "bf16": (8e-3, 1e-4)}


def check(out, expected, dtype, tol):
    got = value_of(out, dtype)
    assert np.isfinite(got).all()
    rtol, atol = tol[dtype]
    excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    assert excess.max() <= 0, \
        f"max error {np.abs(got - expected).max():.3g} beyond tolerance"


def ttype(shape, dtype):
    return f"tensor<{'x'.join(str(s) for s in shape)}x{dtype}>"


# ----------------------------------------------------------------- rms_norm

@pytest.mark.parametrize("shape,dtype,eps", [
    ((8, 64), "f32", 1e-6),
    ((2, 5, 48), "f32", 1e-5),
    ((33,), "f32", 1e-6),
    ((4, 3, 128), "f16", 1e-5),
    ((4, 7, 96), "bf16", 1e-6),
    ((3, 16), "bf16", 0.5),   # eps large enough to matter
])
def test_rms_norm(compile_cpu, shape, dtype, eps):
    rng = np.random.default_rng(len(shape) * 31 + shape[-1])
    x, xv = storage(rng.uniform(-2, 2, shape), dtype)
    w, wv = storage(rng.uniform(0.5, 1.5, shape[-1:]), dtype)
    xt, wt = ttype(shape, dtype), ttype(shape[-1:], dtype)
    lib = compile_cpu(f"""
func.func @f(%x: {xt}, %w: {wt}) -> {xt} {{
  %y = kestrel.rms_norm %x, %w eps = {eps:e} : {xt}, {wt} -> {xt}
  return %y : {xt}
}}""")
    (out,) = lib.f(x, w)
    check(out, ref.rms_norm(xv, wv, eps), dtype, TOL)


def test_rms_norm_constant_row(compile_cpu):
    """A row of equal values normalizes to ±w exactly (up to eps)."""
    x = np.full((2, 16), -3.0, np.float32)
    w = np.linspace(0.5, 2.0, 16).astype(np.float32)
    lib = compile_cpu("""
func.func @f(%x: tensor<2x16xf32>, %w: tensor<16xf32>) -> tensor<2x16xf32> {
  %y = kestrel.rms_norm %x, %w eps = 0.0 : tensor<2x16xf32>, tensor<16xf32> -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}""")
    (out,) = lib.f(x, w)
    assert np.abs(out + w).max() <= 1e-6


# --------------------------------------------------------------------- rope

ROPE_CASES = {
    # name: (B, H, T, D, attrs, with_positions, dtype)
    "rotate_half": (1, 2, 16, 32, {}, False, "f32"),
    "interleaved": (2, 3, 9, 16, {"interleaved": True}, False, "f32"),
    "partial_rotate_half": (1, 2, 12, 64, {"rotary_dim": 16}, False, "f32"),
    "partial_interleaved": (1, 2, 12, 40,
                            {"rotary_dim": 24, "interleaved": True}, False,
                            "f32"),
    "offset": (1, 4, 5, 32, {"offset": 77}, False, "f32"),
    "decode_offset_interleaved": (2, 4, 1, 64,
                                  {"offset": 100, "interleaved": True},
                                  False, "f32"),
    "base": (1, 2, 8, 32, {"base": 500000.0, "offset": 3}, False, "f32"),
    "positions": (2, 2, 8, 32, {}, True, "f32"),
    "positions_offset_partial": (2, 2, 8, 32,
                                 {"offset": 5, "rotary_dim": 8,
                                  "interleaved": True}, True, "f32"),
    "f16": (1, 2, 10, 32, {"offset": 7}, False, "f16"),
    "bf16_partial": (1, 2, 10, 32, {"rotary_dim": 16, "interleaved": True},
                     False, "bf16"),
}


def rope_mlir(B, H, T, D, attrs, with_positions, dtype) -> str:
    xt = ttype((B, H, T, D), dtype)
    parts, args = [], [f"%x: {xt}"]
    if with_positions:
        args.append(f"%p: tensor<{B}x{T}xi64>")
        parts.append(f"positions(%p : tensor<{B}x{T}xi64>)")
    if attrs.get("interleaved"):
        parts.append("interleaved")
    for key in ("rotary_dim", "base", "offset"):
        if key in attrs:
            value = attrs[key]
            parts.append(f"{key} = {value:e}" if isinstance(value, float)
                         else f"{key} = {value}")
    return f"""
func.func @f({', '.join(args)}) -> {xt} {{
  %y = kestrel.rope %x {' '.join(parts)} : {xt} -> {xt}
  return %y : {xt}
}}"""


@pytest.mark.parametrize("case", ROPE_CASES)
def test_rope(compile_cpu, case):
    B, H, T, D, attrs, with_positions, dtype = ROPE_CASES[case]
    rng = np.random.default_rng(sum(map(ord, case)))
    x, xv = storage(rng.uniform(-1, 1, (B, H, T, D)), dtype)
    inputs, positions = [x], None
    if with_positions:
        positions = rng.integers(0, 60, (B, T)).astype(np.int64)
        inputs.append(positions)
    lib = compile_cpu(rope_mlir(B, H, T, D, attrs, with_positions, dtype))
    (out,) = lib.f(*inputs)
    expected = ref.rope(xv, positions=positions, **attrs)
    check(out, expected, dtype, ROPE_TOL)
    rot = attrs.get("rotary_dim", D)
    # Features past rotary_dim are bit-exact copies.
    assert (out[..., rot:] == x[..., rot:]).all()


# ---------------------------------------------------------------- gated_mlp

@pytest.mark.parametrize("n,d,ff,dtype", [
    (4, 16, 40, "f32"),
    (1, 32, 64, "f32"),
    (7, 24, 56, "f16"),
    (5, 32, 88, "bf16"),
])
def test_gated_mlp(compile_cpu, n, d, ff, dtype):
    rng = np.random.default_rng(n * 1000 + d + ff)
    x, xv = storage(rng.uniform(-1, 1, (n, d)), dtype)
    w1, w1v = storage(rng.uniform(-1, 1, (d, ff)) / np.sqrt(d), dtype)
    w3, w3v = storage(rng.uniform(-1, 1, (d, ff)) / np.sqrt(d), dtype)
    w2, w2v = storage(rng.uniform(-1, 1, (ff, d)) / np.sqrt(ff), dtype)
    xt, w13t, w2t = ttype((n, d), dtype), ttype((d, ff), dtype), \
        ttype((ff, d), dtype)
    lib = compile_cpu(f"""
func.func @f(%x: {xt}, %w1: {w13t}, %w3: {w13t}, %w2: {w2t}) -> {xt} {{
  %y = kestrel.gated_mlp %x, %w1, %w3, %w2 : {xt}, {w13t}, {w13t}, {w2t} -> {xt}
  return %y : {xt}
}}""")
    (out,) = lib.f(x, w1, w3, w2)
    check(out, ref.gated_mlp(xv, w1v, w3v, w2v), dtype, TOL)


def test_strided_copies_need_no_runtime_library(compile_cpu):
    """A returned slice and a slice inserted into a column band bufferize
    to copies between strided views; they must run (no `memrefCopy` from
    MLIR's runner utilities, which compiled libraries do not link)."""
    lib = compile_cpu("""
func.func @f(%x: tensor<4x8xf32>, %y: tensor<4x2xf32>) -> (tensor<4x4xf32>, tensor<4x8xf32>) {
  %s = tensor.extract_slice %x[0, 2] [4, 4] [1, 1] : tensor<4x8xf32> to tensor<4x4xf32>
  %i = tensor.insert_slice %y into %x[0, 5] [4, 2] [1, 1] : tensor<4x2xf32> into tensor<4x8xf32>
  return %s, %i : tensor<4x4xf32>, tensor<4x8xf32>
}
""")
    x = np.arange(32, dtype=np.float32).reshape(4, 8)
    y = -np.arange(8, dtype=np.float32).reshape(4, 2)
    s, i = lib.f(x, y)
    np.testing.assert_array_equal(s, x[:, 2:6])
    want = x.copy()
    want[:, 5:7] = y
    np.testing.assert_array_equal(i, want)


def test_elementwise_ops_on_tensors(compile_cpu):
    """arith and math ops written directly on tensors (no linalg) compile
    (convert-elementwise-to-linalg in the high-level pipeline) and match
    NumPy in float64 within f32 rounding."""
    t = "tensor<3x33xf32>"
    lib = compile_cpu(f"""
func.func @f(%x: {t}, %y: {t}) -> ({t}, {t}) {{
  %s = arith.addf %x, %y : {t}
  %p = arith.mulf %s, %x : {t}
  %e = math.exp %y : {t}
  %m = arith.maximumf %p, %e : {t}
  %n = arith.negf %m : {t}
  return %m, %n : {t}, {t}
}}""")
    rng = np.random.default_rng(5)
    x = rng.uniform(-2, 2, (3, 33)).astype(np.float32)
    y = rng.uniform(-2, 2, (3, 33)).astype(np.float32)
    m, n = lib.f(x, y)
    xv, yv = x.astype(np.float64), y.astype(np.float64)
    want = np.maximum((xv + yv) * xv, np.exp(yv))
    np.testing.assert_allclose(m, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(n, -want, rtol=1e-5, atol=1e-6)
