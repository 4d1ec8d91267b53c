"""Scatters with constant indices that write one box (torch's
select_scatter / slice assignment, as the dynamo exporter writes them: 127
of them in Qwen3-Next's chunked gated delta rule) import as one parallel
select generic instead of a loop per updated element
(lib/Frontend/Onnx/OnnxScatterOps.cpp). Checked: the imported MLIR has no
scf.for, and the results match onnxruntime (CPU) exactly (they copy
values). Near misses (indices not a box: permuted, repeated, or a
reduction) keep the loop and still match.
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

RNG = np.random.default_rng(5)


def _run(tmp_path, op, data_shape, indices, upd_shape, attrs):
    inits = [numpy_helper.from_array(np.asarray(indices, np.int64), "idx")]
    graph = helper.make_graph(
        [helper.make_node(op, ["x", "idx", "u"], ["y"], name="n_scatter",
                          **attrs)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, data_shape),
         helper.make_tensor_value_info("u", TensorProto.FLOAT, upd_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, data_shape)],
        initializer=inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 18)]), path)
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir", "--no-recognize")
    loops = "scf.for" in (tmp_path / "m.mlir").read_text()
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    feeds = {"x": RNG.standard_normal(data_shape).astype(np.float32),
             "u": RNG.standard_normal(upd_shape).astype(np.float32)}
    lib = CpuLibrary(tmp_path / "m.so")
    (name,) = lib.manifest.functions
    ours = lib.call(name, feeds["x"], feeds["u"])
    ours = ours[0] if isinstance(ours, (list, tuple)) else ours
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)[0]
    np.testing.assert_array_equal(ours, ref)
    return loops


def _row_indices(shape, value):
    return np.full(shape, value, np.int64)


CASES = [
    # (op, data, indices, updates, attrs, box?)
    # select_scatter: row 2 of axis 3 (Qwen3-Next's attn[..., i, :] = r).
    ("ScatterElements", [1, 2, 1, 5, 6], _row_indices([1, 2, 1, 1, 6], 2),
     [1, 2, 1, 1, 6], {"axis": 3}, True),
    # a negative row index, wrapped.
    ("ScatterElements", [3, 4], _row_indices([3, 1], -1), [3, 1],
     {"axis": 1}, True),
    # rows 1..2 of axis 0 over a sub-box of the columns.
    ("ScatterElements", [4, 5], np.array([[1, 1, 1], [2, 2, 2]]), [2, 3],
     {"axis": 0}, True),
    # ScatterND: slice 0 of the leading dim, and rows 1..2 (in order).
    ("ScatterND", [3, 4], np.array([[0]]), [1, 4], {}, True),
    ("ScatterND", [3, 4, 2], np.array([[1], [2]]), [2, 4, 2], {}, True),
    ("ScatterND", [3, 4], np.array([[1, 0], [1, 1], [2, 0], [2, 1]]), [4],
     {}, True),
    # Near misses: permuted rows, repeated rows, a reduction.
    ("ScatterND", [3, 4], np.array([[2], [1]]), [2, 4], {}, False),
    ("ScatterElements", [4, 5], np.array([[1, 1, 2], [2, 2, 2]]), [2, 3],
     {"axis": 0}, False),
    ("ScatterND", [3, 4], np.array([[0]]), [1, 4], {"reduction": "add"},
     False),
]


@pytest.mark.parametrize("op,data,indices,updates,attrs,box", CASES)
def test_box_scatter(tmp_path, op, data, indices, updates, attrs, box):
    loops = _run(tmp_path, op, data, indices, updates, attrs)
    assert loops != box
