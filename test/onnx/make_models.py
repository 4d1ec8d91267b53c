"""Writes the small ONNX files the kestrelc lit tests import (generated,
never committed): python3 make_models.py OUTDIR"""

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
f = TensorProto.FLOAT


def attention_graph(batch):
    nodes = [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2], name="t"),
             helper.make_node("MatMul", ["q", "kt"], ["s"], name="qk"),
             helper.make_node("Mul", ["s", "scale"], ["ss"], name="scale"),
             helper.make_node("Softmax", ["ss"], ["p"], axis=-1, name="softmax"),
             helper.make_node("MatMul", ["p", "v"], ["o"], name="pv")]
    inputs = [helper.make_tensor_value_info(n, f, [batch, 2, 8, 4]) for n in "qkv"]
    scale = numpy_helper.from_array(np.array(0.5, np.float32), "scale")
    graph = helper.make_graph(nodes, "attention", inputs,
                              [helper.make_tensor_value_info("o", f, None)],
                              initializer=[scale])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


onnx.save(attention_graph(1), out / "attention.onnx")
onnx.save(attention_graph("B"), out / "symbolic.onnx")
bad = helper.make_graph(
    [helper.make_node("GridSample", ["x", "x"], ["y"], name="grid0"),
     helper.make_node("Resize", ["x", "", "s"], ["v"], name="resize0"),
     helper.make_node("FusedMatMul", ["x", "x"], ["z"], name="fused0",
                      domain="com.microsoft")],
    "unsupported", [helper.make_tensor_value_info("x", f, [2, 2])],
    [helper.make_tensor_value_info("v", f, None)])
onnx.save(helper.make_model(bad, opset_imports=[helper.make_opsetid("", 20)]),
          out / "unsupported.onnx")


def block_graph():
    """A transformer-block fragment as PyTorch exports it: Reshape targets
    built from Shape -> Gather -> Unsqueeze -> Concat, a causal mask from
    Range/Unsqueeze/Greater/Where, then LayerNormalization, Gelu, CumSum,
    Split and TopK."""
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    n = helper.make_node
    nodes = [
        n("Shape", ["x"], ["s"]),
        n("Gather", ["s", "c0"], ["b"], axis=0),
        n("Gather", ["s", "c1"], ["t"], axis=0),
        n("Unsqueeze", ["b", "ax0"], ["b1"]),
        n("Unsqueeze", ["t", "ax0"], ["t1"]),
        n("Concat", ["b1", "t1", "heads"], ["hshape"], axis=0),
        n("Reshape", ["x", "hshape"], ["xh"]),
        n("Transpose", ["xh"], ["q"], perm=[0, 2, 1, 3]),
        n("Transpose", ["q"], ["kt"], perm=[0, 1, 3, 2]),
        n("MatMul", ["q", "kt"], ["scores"]),
        n("Cast", ["t"], ["tf"], to=TensorProto.INT64),
        n("Range", ["c0", "tf", "c1"], ["r"]),
        n("Unsqueeze", ["r", "ax0"], ["rr"]),
        n("Unsqueeze", ["r", "ax1"], ["rc"]),
        n("Greater", ["rr", "rc"], ["future"]),
        n("Where", ["future", "neginf", "scores"], ["masked"]),
        n("Softmax", ["masked"], ["p"], axis=-1),
        n("MatMul", ["p", "q"], ["o"]),
        n("Transpose", ["o"], ["ot"], perm=[0, 2, 1, 3]),
        n("Concat", ["b1", "t1", "minus1"], ["oshape"], axis=0),
        n("Reshape", ["ot", "oshape"], ["y"]),
        n("LayerNormalization", ["y", "gamma", "beta"], ["ln"], axis=-1),
        n("Gelu", ["ln"], ["g"], approximate="tanh"),
        n("CumSum", ["g", "c1"], ["cs"]),
        n("Split", ["cs", "halves"], ["lo", "hi"], axis=2),
        n("TopK", ["lo", "k2"], ["top", "topi"], axis=-1),
    ]
    rng = np.random.default_rng(0)
    inits = [i64("c0", 0), i64("c1", 1), i64("ax0", [0]), i64("ax1", [1]),
             i64("heads", [2, 4]), i64("minus1", [-1]), i64("halves", [4, 4]),
             i64("k2", [2]),
             numpy_helper.from_array(np.array(-np.inf, np.float32), "neginf"),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), "gamma"),
             numpy_helper.from_array(rng.uniform(-0.5, 0.5, 8).astype(np.float32), "beta")]
    graph = helper.make_graph(
        nodes, "block", [helper.make_tensor_value_info("x", f, [2, 6, 8])],
        [helper.make_tensor_value_info(o, t, None)
         for o, t in [("hi", f), ("top", f), ("topi", TensorProto.INT64)]],
        initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])


onnx.save(block_graph(), out / "block.onnx")
(out / "truncated.onnx").write_bytes((out / "attention.onnx").read_bytes()[:40])
(out / "garbage.onnx").write_bytes(b"\x08\x07not protobuf" * 8)
