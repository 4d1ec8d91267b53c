"""What the tests of the ONNX importer's recognized forms share
(test_onnx_chunked_scan.py, test_onnx_chunked_delta.py,
test_onnx_group_router.py): run a model compiled for the CPU beside
onnxruntime, print the module kestrelc builds, edit a committed model.
Import after pytest.importorskip("onnxruntime") and ("onnx")."""

from __future__ import annotations

import sys
from pathlib import Path

import onnx
import onnxruntime as ort

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402


def run_both(tmp_path, path, feeds):
    """Kestrel's CPU results and onnxruntime's for the inputs `feeds`
    (name -> array, in the graph's input order)."""
    so = tmp_path / (Path(path).stem + ".so")
    kestrelc(path, so, "--target=cpu")
    lib = CpuLibrary(so)
    ours = lib.call(next(iter(lib.manifest.functions)), *feeds.values())
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)
    return ours, ref


def emit_mlir(tmp_path, path, *flags):
    mlir = tmp_path / (Path(path).stem + ".mlir")
    kestrelc(path, mlir, "--emit=mlir", *flags)
    return mlir.read_text()


def edited(tmp_path, path, edit):
    """`path` with `edit(graph)` applied, saved beside the test."""
    model = onnx.load(str(path))
    edit(model.graph)
    out = tmp_path / "edited.onnx"
    onnx.save(model, str(out))
    return out


def set_constant(graph, node, index, array):
    """Points input `index` of `node` at a new initializer holding `array`
    (the exporter shares constants between nodes)."""
    name = f"edited_{node.name}_{index}"
    graph.initializer.append(onnx.numpy_helper.from_array(array, name))
    node.input[index] = name


def add_output(graph, name):
    """Makes the value `name` a graph output too."""
    graph.output.append(onnx.helper.make_tensor_value_info(
        name, onnx.TensorProto.FLOAT, None))


def constants_as_nodes(graph):
    """Moves every initializer into a Constant node at the graph's start,
    as the TorchScript exporter and graph optimizers write constants."""
    nodes = [onnx.helper.make_node("Constant", [], [t.name], value=t,
                                   name=f"constant_{t.name}")
             for t in graph.initializer]
    rest = list(graph.node)
    del graph.initializer[:]
    del graph.node[:]
    graph.node.extend(nodes + rest)
