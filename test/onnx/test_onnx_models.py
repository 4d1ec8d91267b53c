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
    assert "error: node '" in text and "Stack dump" not in text  # one error naming the node
    assert "op " not in text  # no verifier message ("'x.y' op ...")
    assert not (tmp_path / "bad.so").exists()


def _run_single(tmp_path, node, inputs, out_type, inits=()):
    """Compiles a one-node graph; returns (ours, onnxruntime's) outputs."""
    from onnx import helper, numpy_helper
    from onnx.helper import np_dtype_to_tensor_dtype as tt
    ins = [helper.make_tensor_value_info(n, tt(v.dtype), v.shape) for n, v in inputs]
    graph = helper.make_graph(
        [node], "single", ins, [helper.make_tensor_value_info(node.output[0], out_type, None)],
        initializer=[numpy_helper.from_array(v, n) for n, v in inits])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]),
              str(model))
    kestrelc(model, tmp_path / "m.so", "--target=cpu")
    (ours,) = CpuLibrary(tmp_path / "m.so").single(*[v for _, v in inputs])
    (ref,) = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]
                                  ).run(None, dict(inputs))
    return ours, ref


CASTS = [(np.float32, np.float16), (np.float16, np.float32), (np.float32, np.int32),
         (np.float32, np.int64), (np.int64, np.float32), (np.int32, np.int64),
         (np.int64, np.int32), (np.float32, np.bool_), (np.bool_, np.float32),
         (np.int8, np.float32), (np.int64, np.bool_), (np.bool_, np.int64)]


@pytest.mark.parametrize("src,dst", CASTS, ids=[f"{s.__name__}-{d.__name__}" for s, d in CASTS])
def test_cast_matches_numpy(src, dst, tmp_path):
    """Cast (its ONNX node tests all use types Kestrel lacks): NumPy astype is
    the oracle (float to int truncates toward zero; nonzero is true)."""
    from onnx import helper
    from onnx.helper import np_dtype_to_tensor_dtype as tt
    rng = np.random.default_rng(0)
    x = rng.uniform(-100, 100, (3, 5))
    x[0, :3] = [0.0, -0.0, 0.5]
    x = x.astype(src)
    ours, ref = _run_single(tmp_path, helper.make_node("Cast", ["x"], ["y"], to=tt(np.dtype(dst))),
                            [("x", x)], tt(np.dtype(dst)))
    expected = x.astype(dst)
    assert ours.dtype == expected.dtype and ref.dtype == expected.dtype
    np.testing.assert_array_equal(ours, expected)


CONVS = {
    "causal depthwise with bias": dict(c=4, oc=4, k=4, group=4, pads=[3, 0], bias=True),
    "dense strided dilated": dict(c=3, oc=5, k=3, group=1, strides=[2], dilations=[2],
                                  pads=[1, 2], bias=False),
    "grouped same_upper": dict(c=4, oc=6, k=2, group=2, auto_pad="SAME_UPPER", bias=True),
    "depthwise multiplier 2 valid": dict(c=3, oc=6, k=3, group=3, auto_pad="VALID",
                                         bias=False),
}


@pytest.mark.parametrize("name", list(CONVS))
def test_conv1d_matches_onnxruntime(name, tmp_path):
    from onnx import TensorProto, helper
    p = dict(CONVS[name])
    c, oc, k, group, bias = p.pop("c"), p.pop("oc"), p.pop("k"), p["group"], p.pop("bias")
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, c, 9)).astype(np.float32)
    w = rng.uniform(-1, 1, (oc, c // group, k)).astype(np.float32)
    inits = [("w", w)] + ([("b", rng.uniform(-1, 1, oc).astype(np.float32))] if bias else [])
    node = helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["y"], **p)
    ours, ref = _run_single(tmp_path, node, [("x", x)], TensorProto.FLOAT, inits)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("target", ["cpu", "cuda:sm_90a"])
def test_one_tensor_as_two_outputs(tmp_path, target):
    """An ONNX graph whose two outputs are one tensor (the second through
    an Identity the importer folds): kestrelc crashed in
    buffer-results-to-out-params on `return %r, %r`; now each output gets
    its own buffer (kestrel-read-only-arguments copies the repeat)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["y"]),
         helper.make_node("Identity", ["y"], ["z"])], "g", [x], [y, z])
    path = tmp_path / "two_outputs.onnx"
    onnx.save(helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    if target != "cpu":
        kestrelc(path, tmp_path / "m.ptx", f"--target={target}", "--emit=ptx")
        assert (tmp_path / "m.ptx").stat().st_size > 0
        return
    from kestrel.runtime import CpuLibrary
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "m.so")
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    got_y, got_z = lib.call(next(iter(lib.manifest.functions)), a)
    np.testing.assert_array_equal(got_y, 2 * a)
    np.testing.assert_array_equal(got_z, 2 * a)
