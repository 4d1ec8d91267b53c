"""Elementwise chains, softmax, norms, reductions, transposes and broadcasts
(ONNX graphs built with onnx.helper) compiled for the CPU by kestrel.compile
— through kestrel-fuse-elementwise and kestrel-vectorize-generics — against
float64 NumPy computations of the same graphs.

Tolerance: |out - expected| <= ATOL + RTOL * |expected| with RTOL = ATOL =
2e-5: f32 arithmetic (rows of at most a few hundred elements summed in a
reassociated order) plus kestrel-approximate-math's exp/tanh/erf
polynomials (a few ulp); the oracle is float64 on the same f32 inputs.
Shapes mix innermost extents that are multiples of 64 and of 16 (blocked
loops), and odd ones (whole-row vectors), and rows > 1 on several leading
dimensions (the parallel loop).
"""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import kestrel  # noqa: E402

RTOL = ATOL = 2e-5


def model(nodes, inputs, output_shape, inits=None):
    """Graph of `nodes` with f32 inputs {name: shape}, output "y"."""
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, s)
         for k, s in inputs.items()],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, output_shape)],
        initializer=[numpy_helper.from_array(np.asarray(v), k)
                     for k, v in (inits or {}).items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)],
                             ir_version=9)


def run(m, feeds):
    lib = kestrel.compile(m)
    name = next(iter(lib.manifest.functions))
    (out,) = lib.call(name, *feeds)
    return out


def check(got, expected):
    assert got.shape == expected.shape
    assert np.isfinite(got).all()
    excess = np.abs(got - expected) - (ATOL + RTOL * np.abs(expected))
    assert excess.max() <= 0, f"max error {np.abs(got - expected).max():.3g}"


def rand(rng, *shape, lo=-2.0, hi=2.0):
    return rng.uniform(lo, hi, shape).astype(np.float32)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@pytest.mark.parametrize("shape", [(4, 96, 128), (3, 80), (2, 5, 37), (7, 1)])
def test_silu_gate_residual_chain(shape):
    """silu(a) * b + c: five ONNX nodes, one generic after fusion."""
    rng = np.random.default_rng(sum(shape))
    a, b, c = (rand(rng, *shape) for _ in range(3))
    m = model([helper.make_node("Sigmoid", ["a"], ["s"]),
               helper.make_node("Mul", ["a", "s"], ["silu"]),
               helper.make_node("Mul", ["silu", "b"], ["g"]),
               helper.make_node("Add", ["g", "c"], ["y"])],
              {"a": shape, "b": shape, "c": shape}, shape)
    a64, b64, c64 = (v.astype(np.float64) for v in (a, b, c))
    check(run(m, [a, b, c]), a64 * sigmoid(a64) * b64 + c64)


@pytest.mark.parametrize("shape", [(3, 7, 200), (16, 64), (5, 1000)])
def test_softmax_last_axis(shape):
    rng = np.random.default_rng(shape[-1])
    x = rand(rng, *shape, lo=-8, hi=8)
    m = model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)],
              {"x": shape}, shape)
    x64 = x.astype(np.float64)
    e = np.exp(x64 - x64.max(-1, keepdims=True))
    check(run(m, [x]), e / e.sum(-1, keepdims=True))


def test_decomposed_softmax_with_scale_and_mask():
    """x * s + mask, then Exp(x - ReduceMax) / ReduceSum: the attention
    scores pattern outside an attention op."""
    rng = np.random.default_rng(3)
    x, mask = rand(rng, 2, 24, 24), np.triu(np.full((24, 24), -1e9, np.float32), 1)
    axes = np.array([-1], np.int64)
    m = model([helper.make_node("Mul", ["x", "s"], ["xs"]),
               helper.make_node("Add", ["xs", "mask"], ["z"]),
               helper.make_node("ReduceMax", ["z", "axes"], ["mx"]),
               helper.make_node("Sub", ["z", "mx"], ["zc"]),
               helper.make_node("Exp", ["zc"], ["e"]),
               helper.make_node("ReduceSum", ["e", "axes"], ["se"]),
               helper.make_node("Div", ["e", "se"], ["y"])],
              {"x": (2, 24, 24)}, (2, 24, 24),
              inits={"s": np.float32(0.125), "mask": mask, "axes": axes})
    z = x.astype(np.float64) * 0.125 + mask
    e = np.exp(z - z.max(-1, keepdims=True))
    check(run(m, [x]), e / e.sum(-1, keepdims=True))


@pytest.mark.parametrize("shape", [(2, 16, 96), (5, 48)])
def test_layer_norm_decomposed(shape):
    rng = np.random.default_rng(11)
    x = rand(rng, *shape)
    w, bias = rand(rng, shape[-1], lo=0.5, hi=1.5), rand(rng, shape[-1])
    axes = np.array([-1], np.int64)
    m = model([helper.make_node("ReduceMean", ["x", "axes"], ["mu"]),
               helper.make_node("Sub", ["x", "mu"], ["xc"]),
               helper.make_node("Mul", ["xc", "xc"], ["sq"]),
               helper.make_node("ReduceMean", ["sq", "axes"], ["var"]),
               helper.make_node("Add", ["var", "eps"], ["ve"]),
               helper.make_node("Sqrt", ["ve"], ["sd"]),
               helper.make_node("Div", ["xc", "sd"], ["n"]),
               helper.make_node("Mul", ["n", "w"], ["nw"]),
               helper.make_node("Add", ["nw", "b"], ["y"])],
              {"x": shape}, shape,
              inits={"axes": axes, "eps": np.float32(1e-5), "w": w, "b": bias})
    x64 = x.astype(np.float64)
    xc = x64 - x64.mean(-1, keepdims=True)
    ref = xc / np.sqrt((xc * xc).mean(-1, keepdims=True) + 1e-5) * w + bias
    check(run(m, [x]), ref)


def test_rms_norm_decomposed():
    """Pow / ReduceMean / Add / Sqrt / Div / Mul as PyTorch exports it
    (recognized into kestrel.rms_norm, then lowered and vectorized)."""
    rng = np.random.default_rng(5)
    x, w = rand(rng, 1, 32, 256), rand(rng, 256, lo=0.5, hi=1.5)
    axes = np.array([-1], np.int64)
    m = model([helper.make_node("Pow", ["x", "two"], ["p"]),
               helper.make_node("ReduceMean", ["p", "axes"], ["ms"]),
               helper.make_node("Add", ["ms", "eps"], ["me"]),
               helper.make_node("Sqrt", ["me"], ["r"]),
               helper.make_node("Div", ["one", "r"], ["ir"]),
               helper.make_node("Mul", ["x", "ir"], ["n"]),
               helper.make_node("Mul", ["w", "n"], ["y"])],
              {"x": (1, 32, 256)}, (1, 32, 256),
              inits={"axes": axes, "two": np.float32(2), "one": np.float32(1),
                     "eps": np.float32(1e-6), "w": w})
    x64 = x.astype(np.float64)
    ref = w * x64 / np.sqrt((x64 * x64).mean(-1, keepdims=True) + 1e-6)
    check(run(m, [x]), ref)


@pytest.mark.parametrize("axis,keep", [(-1, 1), (1, 0), (0, 1)])
def test_reduce_max_and_mean(axis, keep):
    """Row reductions (last axis) and column reductions (left to loops)."""
    rng = np.random.default_rng(axis + 7)
    x = rand(rng, 6, 40, 33)
    axes = np.array([axis], np.int64)
    shape = list(np.max(x, axis=axis, keepdims=bool(keep)).shape)
    m = model([helper.make_node("ReduceMax", ["x", "axes"], ["mx"], keepdims=keep),
               helper.make_node("ReduceMean", ["x", "axes"], ["mu"], keepdims=keep),
               helper.make_node("Sub", ["mx", "mu"], ["y"])],
              {"x": (6, 40, 33)}, shape, inits={"axes": axes})
    x64 = x.astype(np.float64)
    ref = x64.max(axis, keepdims=bool(keep)) - x64.mean(axis, keepdims=bool(keep))
    check(run(m, [x]), ref)


@pytest.mark.parametrize("perm", [(0, 2, 1, 3), (0, 1, 3, 2), (3, 2, 1, 0)])
def test_transpose_into_elementwise(perm):
    """Transpose feeding Add and Mul: folded into the consumer's maps."""
    rng = np.random.default_rng(sum(perm))
    x = rand(rng, 2, 12, 4, 32)
    out_shape = tuple(x.shape[p] for p in perm)
    b = rand(rng, *out_shape)
    # (The second input was once named "y" like the output: not SSA, and
    # refused by the importer since.)
    m = model([helper.make_node("Transpose", ["x"], ["xt"], perm=list(perm)),
               helper.make_node("Add", ["xt", "b"], ["s"]),
               helper.make_node("Mul", ["s", "s"], ["y2"]),
               helper.make_node("Identity", ["y2"], ["y"])],
              {"x": x.shape, "b": out_shape}, out_shape)
    s = np.transpose(x.astype(np.float64), perm) + b
    check(run(m, [x, b]), s * s)


def test_transpose_alone():
    """A materialized transpose (no consumer to fold into)."""
    rng = np.random.default_rng(1)
    x = rand(rng, 3, 64, 48)
    m = model([helper.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1])],
              {"x": x.shape}, (3, 48, 64))
    check(run(m, [x]), np.transpose(x, (0, 2, 1)).astype(np.float64))


def test_broadcasts_and_gelu():
    """[8,1,64] + [1,5,64] broadcast both ways, then erf-GELU."""
    rng = np.random.default_rng(9)
    a, b = rand(rng, 8, 1, 64), rand(rng, 1, 5, 64)
    m = model([helper.make_node("Add", ["a", "b"], ["s"]),
               helper.make_node("Div", ["s", "sqrt2"], ["t"]),
               helper.make_node("Erf", ["t"], ["e"]),
               helper.make_node("Add", ["e", "one"], ["e1"]),
               helper.make_node("Mul", ["s", "e1"], ["h"]),
               helper.make_node("Mul", ["h", "half"], ["y"])],
              {"a": a.shape, "b": b.shape}, (8, 5, 64),
              inits={"sqrt2": np.float32(np.sqrt(2)), "one": np.float32(1),
                     "half": np.float32(0.5)})
    from math import erf
    s = a.astype(np.float64) + b
    ref = 0.5 * s * (1 + np.vectorize(erf)(s / np.sqrt(2)))
    check(run(m, [a, b]), ref)
