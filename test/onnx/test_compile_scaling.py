"""Compile time and memory that scale (issue 17): the per-time-step unrolled
Mamba selective scan, as PyTorch's TorchScript exporter writes the
reference loop (`for i in range(T): state = dA[:, i] * state + dBx[:, i];
ys.append((state * C[:, i].unsqueeze(1)).sum(-1))`, 12 nodes per step),
generated here with onnx.helper node for node as the exporter emits it (no
torch needed).

- At T = 1090 the graph has more than 13,000 nodes; kestrelc must compile
  it for the CPU in under 30 s of wall time and 2 GB of peak memory, with
  the chain re-rolled into one kestrel.selective_scan.
- A deep graph of 32 stacked scan layers must compile in at most 32 times
  the time of one layer (linear in the layers; the fixed cost of a compile
  makes the real ratio far smaller), so a pass that grows superlinearly
  in the graph fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from kestrel.compiler import kestrelc_path  # noqa: E402

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

C, N = 16, 4  # channels, state size


def scan_model(path: Path, T: int, layers: int = 1) -> int:
    """Writes `layers` stacked unrolled scans over x [1, T, C] (each
    layer's y is the next layer's x; dt, B, C shared) and returns the node
    count."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    count = [0]

    def name(stem):
        count[0] += 1
        return f"/{stem}_{count[0]}"

    def const(value, dtype=np.int64):
        out = name("Constant") + "_output_0"
        nodes.append(helper.make_node(
            "Constant", [], [out], name=name("Constant"),
            value=numpy_helper.from_array(np.asarray(value, dtype))))
        return out

    def node(op, inputs, **attrs):
        out = name(op) + "_output_0"
        nodes.append(helper.make_node(op, inputs, [out], name=out[:-9],
                                      **attrs))
        return out

    x = "x"
    for layer in range(layers):
        a_log, d = f"A_log_{layer}", f"D_{layer}"
        inits.append(numpy_helper.from_array(
            np.log(np.tile(np.arange(1, N + 1, dtype=np.float32), (C, 1))),
            a_log))
        inits.append(numpy_helper.from_array(
            (1 + 0.1 * rng.standard_normal(C)).astype(np.float32), d))
        neg_a = node("Neg", [node("Exp", [a_log])])
        dA = node("Exp", [node("Mul", [node("Unsqueeze", ["dt", const([-1])]),
                                       neg_a])])
        dBx = node("Mul", [node("Unsqueeze", [node("Mul", ["dt", x]),
                                              const([-1])]),
                           node("Unsqueeze", ["bm", const([2])])])
        state = const(np.zeros((1, C, N)), np.float32)
        reduce_axes = const([-1])
        ys = []
        for i in range(T):
            step = const(i)
            state = node("Add", [
                node("Mul", [node("Gather", [dA, step], axis=1), state]),
                node("Gather", [dBx, step], axis=1)])
            c_i = node("Unsqueeze", [node("Gather", ["cm", step], axis=1),
                                     const([1])])
            ys.append(node("ReduceSum", [node("Mul", [state, c_i]),
                                         reduce_axes], keepdims=0))
        stacked = node("Concat", [node("Unsqueeze", [y, const([1])])
                                  for y in ys], axis=1)
        x = node("Add", [stacked, node("Mul", [x, d])])
    nodes[-1].output[0] = "y"
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "unrolled_scan",
        [helper.make_tensor_value_info("x", f32, [1, T, C]),
         helper.make_tensor_value_info("dt", f32, [1, T, C]),
         helper.make_tensor_value_info("bm", f32, [1, T, N]),
         helper.make_tensor_value_info("cm", f32, [1, T, N])],
        [helper.make_tensor_value_info("y", f32, [1, T, C])],
        initializer=inits)
    onnx.save(helper.make_model(graph, ir_version=8, opset_imports=[
        helper.make_opsetid("", 17)]), path)
    return len(nodes)


def compile_measured(model: Path, out: Path, *flags: str):
    """(wall seconds, peak RSS in MB) of one kestrelc run, measured by a
    child Python that waits for it (so other compiles of this process do
    not count)."""
    probe = ("import json, resource, subprocess, sys, time\n"
             "t = time.monotonic()\n"
             "p = subprocess.run(sys.argv[1:], capture_output=True, "
             "text=True)\n"
             "print(json.dumps([p.returncode, time.monotonic() - t, "
             "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / "
             "1024, p.stderr[-4000:]]))\n")
    cmd = [kestrelc_path(), str(model), "--target=cpu", "-o", str(out),
           *flags]
    proc = subprocess.run([sys.executable, "-c", probe, *cmd],
                          capture_output=True, text=True, check=True)
    rc, seconds, mb, stderr = json.loads(proc.stdout)
    assert rc == 0, stderr
    return seconds, mb


def test_13k_node_unrolled_scan_compiles_within_bound(tmp_path):
    model = tmp_path / "scan_t1090.onnx"
    n = scan_model(model, T=1090)
    assert n > 13000, n
    report = tmp_path / "report.txt"
    seconds, mb = compile_measured(model, tmp_path / "scan.so",
                                   f"--report={report}")
    text = report.read_text()
    assert "kestrel.selective_scan x1" in text, text
    print(f"{n} nodes: {seconds:.1f} s, {mb:.0f} MB peak")
    assert seconds < 30, f"{n} nodes took {seconds:.1f} s (bound 30 s)"
    assert mb < 2048, f"{n} nodes took {mb:.0f} MB (bound 2 GB)"


def test_deep_graph_compile_time_is_linear_in_layers(tmp_path):
    one, deep = tmp_path / "l1.onnx", tmp_path / "l32.onnx"
    scan_model(one, T=8, layers=1)
    n = scan_model(deep, T=8, layers=32)
    t1 = min(compile_measured(one, tmp_path / "l1.so")[0] for _ in range(2))
    t32, mb = compile_measured(deep, tmp_path / "l32.so")
    print(f"1 layer {t1:.2f} s; 32 layers ({n} nodes) {t32:.2f} s, "
          f"{mb:.0f} MB")
    assert t32 <= 32 * t1, (t1, t32)
