"""Hugging Face's batched_mm MoE experts (transformers 5: the experts
implementation that exports; test/models/export_zoo.py) as a small ONNX
graph: a Softmax -> TopK -> renormalized router, the tokens repeated per
slot, GatherND(stacked weights, expert id) -> MatMul for gate_up and down,
Split, SiLU, weighting, sum over the slots. kestrelc must recognize it as
kestrel.route + kestrel.moe (passes/Transforms/RecognizeMoeGathered.cpp)
and match onnxruntime (CPU) to 1e-5; a near miss (down projection gathered
with other indices) stays generic and still matches.
"""

from __future__ import annotations

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
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

N, D, E, K, FF = 6, 8, 4, 2, 5


def _model(variant: str):
    rng = np.random.default_rng(3)
    inits = {
        "Wgu": (rng.standard_normal((E, 2 * FF, D)) * 0.5).astype(np.float32),
        "Wd": (rng.standard_normal((E, D, FF)) * 0.5).astype(np.float32),
        "K": np.array([K], np.int64), "last": np.array([-1], np.int64),
        "ax1": np.array([1], np.int64), "rep": np.array([1, K, 1], np.int64),
        "flat_d": np.array([-1, D], np.int64), "flat": np.array([-1], np.int64),
        "nkd": np.array([N, K, D], np.int64),
        "e_fixed": (np.arange(N * K, dtype=np.int64) % E)[:, None],
    }
    e_down = "e_fixed" if variant == "other_index" else "e"
    nodes = [
        ("Softmax", ["L"], ["p"], {"axis": -1}),
        ("TopK", ["p", "K"], ["v", "idx"], {"axis": -1}),
        ("ReduceSum", ["v", "last"], ["vs"], {"keepdims": 1}),
        ("Div", ["v", "vs"], ["w"], {}),
        ("Unsqueeze", ["x", "ax1"], ["x1"], {}),
        ("Expand", ["x1", "rep"], ["xe"], {}),
        ("Reshape", ["xe", "flat_d"], ["xr"], {}),
        ("Reshape", ["idx", "flat"], ["ef"], {}),
        ("Unsqueeze", ["ef", "last"], ["e"], {}),
        ("GatherND", ["Wgu", "e"], ["Gu"], {}),
        ("Unsqueeze", ["xr", "last"], ["xv"], {}),
        ("MatMul", ["Gu", "xv"], ["h3"], {}),
        ("Squeeze", ["h3", "last"], ["h"], {}),
        ("Split", ["h"], ["g", "u"], {"axis": 1, "num_outputs": 2}),
        ("Sigmoid", ["g"], ["sg"], {}),
        ("Mul", ["g", "sg"], ["silu"], {}),
        ("Mul", ["silu", "u"], ["a"], {}),
        ("GatherND", ["Wd", e_down], ["Gd"], {}),
        ("Unsqueeze", ["a", "last"], ["av"], {}),
        ("MatMul", ["Gd", "av"], ["y3"], {}),
        ("Squeeze", ["y3", "last"], ["y"], {}),
        ("Reshape", ["w", "flat"], ["wf"], {}),
        ("Unsqueeze", ["wf", "last"], ["wc"], {}),
        ("Mul", ["y", "wc"], ["yw"], {}),
        ("Reshape", ["yw", "nkd"], ["ynkd"], {}),
        ("ReduceSum", ["ynkd", "ax1"], ["out"], {"keepdims": 0}),
    ]
    graph = helper.make_graph(
        [helper.make_node(op, i, o, name=f"n{j}_{op}", **a)
         for j, (op, i, o, a) in enumerate(nodes)], "moe_gathered",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [N, D]),
         helper.make_tensor_value_info("L", TensorProto.FLOAT, [N, E])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [N, D])],
        initializer=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 20)])


@pytest.mark.parametrize("variant,recognized", [("batched_mm", True),
                                                ("other_index", False)])
def test_gathered_experts(tmp_path, variant, recognized):
    path = tmp_path / "m.onnx"
    onnx.save(_model(variant), path)
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir")
    text = (tmp_path / "m.mlir").read_text()
    assert ("kestrel.moe " in text) == recognized
    assert ("kestrel.route " in text) == recognized
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    rng = np.random.default_rng(4)
    feeds = {"x": rng.standard_normal((N, D)).astype(np.float32),
             "L": rng.standard_normal((N, E)).astype(np.float32)}
    lib = CpuLibrary(tmp_path / "m.so")
    (name,) = lib.manifest.functions
    ours = lib.call(name, feeds["x"], feeds["L"])
    ours = ours[0] if isinstance(ours, (list, tuple)) else ours
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)[0]
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5)
