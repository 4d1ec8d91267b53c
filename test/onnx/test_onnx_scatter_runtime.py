"""Scatters with run-time indices (DeepSeek-V3's router:
group_mask.scatter_(1, group_idx, 1)): the importer writes a loop nest over
the updates (lib/Frontend/Onnx/OnnxScatterOps.cpp) marked
kestrel.scatter; on cuda kestrel-gpu-scatter turns it into a parallel loop,
one GPU thread per update (passes/CUDA/ScatterKernel.cpp).

Checked here, for ScatterElements and ScatterND with indices as a graph
input: the CPU library matches onnxruntime exactly (reduction none with
distinct indices; add / max / min with repeated ones, where the CPU loop
applies the updates in order as onnxruntime does); the cuda compile yields
PTX that ptxas accepts (plain stores for none, atom.* for the reductions);
reduction "mul" is refused on cuda with an error at the node.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import CompileError, kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

PTXAS = shutil.which("ptxas") or next(
    (p for p in ["/usr/local/cuda/bin/ptxas"] if Path(p).exists()), None)
RNG = np.random.default_rng(11)


def _model(tmp_path, op, data_shape, idx_shape, upd_shape, attrs):
    graph = helper.make_graph(
        [helper.make_node(op, ["x", "idx", "u"], ["y"], name="n_scatter",
                          **attrs)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, data_shape),
         helper.make_tensor_value_info("idx", TensorProto.INT64, idx_shape),
         helper.make_tensor_value_info("u", TensorProto.FLOAT, upd_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, data_shape)])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", 18)]), path)
    return path


# (op, data, indices, updates, attrs). Indices distinct per destination
# where the reduction is "none" (ONNX leaves duplicates unspecified).
CASES = [
    # DeepSeek-V3's group mask: [T, n_group] <- ones at [T, topk_group].
    ("ScatterElements", [16, 4], np.array([[3, 1]] * 8 + [[0, 2]] * 8),
     [16, 2], {"axis": 1}),
    ("ScatterElements", [4, 5], np.array([[1, 3, 0], [4, 2, -1]]), [2, 3],
     {"axis": 1}),
    ("ScatterElements", [5, 3], np.array([[4, 0, 2], [1, 1, 1]]), [2, 3],
     {"axis": 0, "reduction": "add"}),
    ("ScatterElements", [3, 6], np.array([[5, 5, 0], [2, 2, 2], [1, 0, 1]]),
     [3, 3], {"axis": 1, "reduction": "max"}),
    ("ScatterElements", [3, 6], np.array([[5, 5, 0], [2, 2, 2], [1, 0, 1]]),
     [3, 3], {"axis": 1, "reduction": "min"}),
    ("ScatterND", [4, 3], np.array([[2], [0]]), [2, 3], {}),
    ("ScatterND", [4, 3], np.array([[1, 2], [3, 0], [1, 2]]), [3],
     {"reduction": "add"}),
]


def _id(case):
    return f"{case[0]}-{case[4].get('reduction', 'none')}-" \
           f"{'x'.join(map(str, case[1]))}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_runtime_scatter(tmp_path, case):
    op, data_shape, indices, upd_shape, attrs = case
    indices = np.asarray(indices, np.int64)
    path = _model(tmp_path, op, data_shape, list(indices.shape), upd_shape,
                  attrs)
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir", "--no-recognize")
    reduction = attrs.get("reduction", "none")
    assert f'kestrel.scatter = "{reduction}"' in \
        (tmp_path / "m.mlir").read_text()

    feeds = {"x": RNG.standard_normal(data_shape).astype(np.float32),
             "idx": indices,
             "u": RNG.standard_normal(upd_shape).astype(np.float32)}
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    lib = CpuLibrary(tmp_path / "m.so")
    (name,) = lib.manifest.functions
    ours = lib.call(name, feeds["x"], feeds["idx"], feeds["u"])
    ours = ours[0] if isinstance(ours, (list, tuple)) else ours
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)[0]
    np.testing.assert_array_equal(ours, ref)

    ptx = tmp_path / "m.ptx"
    kestrelc(path, ptx, "--target=cuda:sm_90a")
    text = ptx.read_text()
    # Plain stores for "none", atomics (atom.* or a cas loop) otherwise.
    assert ("atom." in text) == (reduction != "none"), text
    if PTXAS is None:
        pytest.skip("ptxas not found: PTX compiled but not assembled")
    subprocess.run([PTXAS, "-arch=sm_90a", str(ptx), "-o",
                    str(tmp_path / "m.cubin")], check=True,
                   capture_output=True, text=True)


def test_runtime_scatter_mul_refused_on_cuda(tmp_path):
    path = _model(tmp_path, "ScatterElements", [3, 4], [3, 2], [3, 2],
                  {"axis": 1, "reduction": "mul"})
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    with pytest.raises(CompileError) as err:
        kestrelc(path, tmp_path / "m.ptx", "--target=cuda:sm_90a")
    msg = str(err.value)
    assert "node 'n_scatter' (ScatterElements)" in msg, msg
    assert "reduction 'mul' is not supported on cuda targets" in msg, msg
