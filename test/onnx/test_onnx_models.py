"""Whole ONNX graphs imported by kestrelc against onnxruntime on the same
inputs (tolerance 1e-5 absolute, f32)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")


def test_decomposed_attention_matches_onnxruntime(tmp_path):
    subprocess.run([sys.executable, str(REPO / "test/onnx/make_models.py"),
                    str(tmp_path)], check=True)
    model = tmp_path / "attention.onnx"
    kestrelc(model, tmp_path / "a.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "a.so")
    rng = np.random.default_rng(0)
    q, k, v = (rng.uniform(-1, 1, (1, 2, 8, 4)).astype(np.float32) for _ in range(3))
    (ours,) = lib.attention(q, k, v)
    (ref,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]
                                  ).run(None, {"q": q, "k": k, "v": v})
    assert np.abs(ours - ref).max() <= 1e-5


def test_block_with_shape_computations_matches_onnxruntime(tmp_path):
    subprocess.run([sys.executable, str(REPO / "test/onnx/make_models.py"),
                    str(tmp_path)], check=True)
    model = tmp_path / "block.onnx"
    kestrelc(model, tmp_path / "b.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "b.so")
    x = np.random.default_rng(1).uniform(-1, 1, (2, 6, 8)).astype(np.float32)
    ours = lib.block(x)
    ref = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]
                               ).run(None, {"x": x})
    assert len(ours) == len(ref) == 3
    for o, r in zip(ours, ref):
        assert o.shape == r.shape and o.dtype == r.dtype
    assert np.abs(ours[0] - ref[0]).max() <= 1e-5
    assert np.abs(ours[1] - ref[1]).max() <= 1e-5
    np.testing.assert_array_equal(ours[2], ref[2])


def _model(nodes, inputs, inits=(), opset=20):
    from onnx import TensorProto, helper, numpy_helper
    ins = [helper.make_tensor_value_info(n, t, s) for n, t, s in inputs]
    out = nodes[-1].output[0]
    graph = helper.make_graph(
        nodes, "bad", ins, [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(np.asarray(v), n) for n, v in inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _bad_cases():
    from onnx import TensorProto, helper
    F, I = TensorProto.FLOAT, TensorProto.INT64
    n = helper.make_node
    x = ("x", F, [2, 3])
    return {
        "runtime reshape target": (
            [n("Reshape", ["x", "s"], ["y"], name="r")], [x, ("s", I, [2])], (),
            "shape 's' must be an integer constant known at import time"),
        "missing Where input": (
            [n("Where", ["c", "", "x"], ["y"], name="w")], [x, ("c", TensorProto.BOOL, [2, 3])],
            (), "Where 'w' needs 3 inputs, input 1 is missing"),
        "float Gather indices": (
            [n("Gather", ["x", "i"], ["y"], name="g")], [x, ("i", F, [2])], (),
            "Gather 'g' has non-integer indices"),
        "constant Gather index out of range": (
            [n("Gather", ["x", "i"], ["y"], name="g")], [x], [("i", np.array([5], np.int64))],
            "index 5 is out of range for dimension 2"),
        "zero Slice step": (
            [n("Slice", ["x", "a", "b", "c", "d"], ["y"], name="s")], [x],
            [("a", np.array([0])), ("b", np.array([2])), ("c", np.array([1])),
             ("d", np.array([0]))], "has an invalid axis or a zero step"),
        "Split sizes": (
            [n("Split", ["x", "p"], ["y", "z"], axis=1, name="sp")], [x],
            [("p", np.array([1, 1]))], "into parts that do not add up to it"),
        "repeated Unsqueeze axes": (
            [n("Unsqueeze", ["x", "a"], ["y"], name="u")], [x], [("a", np.array([0, 0]))],
            "invalid or repeated axis"),
        "runtime Range": (
            [n("Range", ["a", "b", "c"], ["y"], name="rg")],
            [("a", F, []), ("b", F, []), ("c", F, [])], (),
            "must be scalar constants known at import time"),
        "TopK K too large": (
            [n("TopK", ["x", "k"], ["y", "i"], name="t")], [x], [("k", np.array([4]))],
            "K must be one value in [0, 3]"),
        "Cast to string": (
            [n("Cast", ["x"], ["y"], to=TensorProto.STRING, name="c")], [x], (),
            "casts to an unsupported type"),
        "Einsum ellipsis": (
            [n("Einsum", ["x"], ["y"], equation="...i->...", name="e")], [x], (),
            "no ellipsis"),
        "2-D Conv": (
            [n("Conv", ["x4", "w"], ["y"], name="cv")], [("x4", F, [1, 1, 4, 4])],
            [("w", np.ones((1, 1, 2, 2), np.float32))], "only 1-D convolution"),
        "Gemm shapes": (
            [n("Gemm", ["x", "x"], ["y"], name="gm")], [x], (), "inner dimensions differ (3 vs 2)"),
        "Gelu approximation": (
            [n("Gelu", ["x"], ["y"], approximate="fast", name="ge")], [x], (),
            "unknown approximate 'fast'"),
    }


@pytest.mark.parametrize("name", list(_bad_cases()))
def test_invalid_models_fail_cleanly(name, tmp_path):
    """Limits and malformed nodes end in one diagnostic naming the node, never
    a crash or an MLIR verifier error."""
    import onnx
    from kestrel.compiler import CompileError
    nodes, inputs, inits, message = _bad_cases()[name]
    path = tmp_path / "bad.onnx"
    onnx.save(_model(nodes, inputs, inits), str(path))
    with pytest.raises(CompileError) as err:
        kestrelc(path, tmp_path / "bad.so", "--target=cpu")
    text = str(err.value)
    assert message in text, text
    assert "cannot import node" in text and "Stack dump" not in text
    assert "op " not in text  # no verifier message ("'x.y' op ...")
    assert not (tmp_path / "bad.so").exists()
