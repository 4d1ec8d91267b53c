"""kestrel-cpu-static-workspace: intermediates of a compiled CPU function
live in one persistent workspace (docs/pipelines.md). A graph with several
large intermediates whose live ranges overlap and others that share bytes is
called repeatedly with fresh inputs (nothing may leak from the previous
call), and from several threads at once (calls that find the workspace taken
allocate their own), each result against a float64 NumPy computation.

Tolerance: |out - expected| <= 1e-4 + 1e-4 |expected|: f32 GEMMs with K =
256 (reassociated sums of products of inputs in [-1, 1]) and an
approximate tanh; the oracle is float64 on the same f32 inputs.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import kestrel  # noqa: E402

M, D, F = 1024, 256, 320  # M x F and M x D f32 intermediates over 1 MiB


def build():
    rng = np.random.default_rng(7)
    w1 = (rng.uniform(-1, 1, (D, F)) / 16).astype(np.float32)
    w2 = (rng.uniform(-1, 1, (F, D)) / 16).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Tanh", ["h"], ["t"]),
             helper.make_node("MatMul", ["t", "w2"], ["u"]),
             helper.make_node("Add", ["u", "x"], ["r"]),
             helper.make_node("Transpose", ["r"], ["rt"], perm=[1, 0]),
             helper.make_node("Mul", ["rt", "rt"], ["sq"]),
             helper.make_node("Transpose", ["sq"], ["s2"], perm=[1, 0]),
             helper.make_node("Add", ["s2", "r"], ["y"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [M, D])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [M, D])],
        initializer=[numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=9)
    return m, w1.astype(np.float64), w2.astype(np.float64)


def expected(x, w1, w2):
    r = np.tanh(x.astype(np.float64) @ w1) @ w2 + x
    return r * r + r


def check(got, want):
    excess = np.abs(got - want) - (1e-4 + 1e-4 * np.abs(want))
    assert excess.max() <= 0, f"max error {np.abs(got - want).max():.3g}"


@pytest.fixture(scope="module")
def compiled():
    m, w1, w2 = build()
    lib = kestrel.compile(m)
    return lib, next(iter(lib.manifest.functions)), w1, w2


def test_repeated_calls_fresh_inputs(compiled):
    lib, name, w1, w2 = compiled
    rng = np.random.default_rng(0)
    for scale in (1.0, 0.0, -3.0, 0.5):
        x = (scale * rng.uniform(-1, 1, (M, D))).astype(np.float32)
        (out,) = lib.call(name, x)
        check(out, expected(x, w1, w2))


def test_concurrent_calls(compiled):
    lib, name, w1, w2 = compiled
    xs = [np.random.default_rng(10 + i).uniform(-1, 1, (M, D)).astype(np.float32)
          for i in range(4)]
    outs: dict[int, list] = {i: [] for i in range(4)}

    def work(i):
        for _ in range(5):
            outs[i].append(lib.call(name, xs[i])[0])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, x in enumerate(xs):
        assert len(outs[i]) == 5
        for out in outs[i]:
            check(out, expected(x, w1, w2))
