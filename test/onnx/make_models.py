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
    [helper.make_node("Gelu", ["x"], ["y"], name="gelu0"),
     helper.make_node("TopK", ["y", "k"], ["v", "i"], name="topk0"),
     helper.make_node("FusedMatMul", ["x", "x"], ["z"], name="fused0",
                      domain="com.microsoft")],
    "unsupported", [helper.make_tensor_value_info("x", f, [2, 2])],
    [helper.make_tensor_value_info("v", f, None)])
onnx.save(helper.make_model(bad, opset_imports=[helper.make_opsetid("", 20)]),
          out / "unsupported.onnx")
(out / "truncated.onnx").write_bytes((out / "attention.onnx").read_bytes()[:40])
(out / "garbage.onnx").write_bytes(b"\x08\x07not protobuf" * 8)
