"""Malformed or hostile ONNX models (Kestrel issue 18, "never crash on bad
input"): each must give exactly one located error that names the node (name
and op type) or tensor and the bad value, exit status 1, leave no output file,
and take well under a second. Each case reproduces a crash, an out-of-memory
abort, a hang or a silently wrong import seen before the importer checked it.
"""

from __future__ import annotations

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
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

F32 = T.FLOAT


def vi(name, shape, elem=F32):
    return h.make_tensor_value_info(name, elem, shape)


def shapeless(name, elem=F32):
    """A graph input with an element type and no shape (unknown rank)."""
    return onnx.ValueInfoProto(name=name, type=onnx.TypeProto(
        tensor_type=onnx.TypeProto.Tensor(elem_type=elem)))


def model(nodes, inputs, outputs, inits=(), opset=17):
    g = h.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    return h.make_model(g, opset_imports=[h.make_opsetid("", opset)])


def i64(name, values):
    return nh.from_array(np.array(values, dtype=np.int64), name)


def const_of_shape(shape):
    return model([h.make_node("ConstantOfShape", ["s"], ["y"], name="cos",
                              value=nh.from_array(np.array([1.0], np.float32)))],
                 [], [vi("y", None)], [i64("s", shape)])


def external_weight(tmp_path, entries):
    """Add(x, w) with w [4] f32 stored externally with `entries`."""
    (tmp_path / "w.bin").write_bytes(b"\0" * 16)
    w = nh.from_array(np.zeros(4, np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = T.EXTERNAL
    for k, v in [("location", "w.bin")] + entries:
        e = w.external_data.add()
        e.key, e.value = k, v
    return model([h.make_node("Add", ["x", "w"], ["y"], name="add")],
                 [vi("x", [4])], [vi("y", None)], [w])


def short_tensor():
    """Initializer 'w' of shape [4] holding 3 floats."""
    t = T(name="w", data_type=F32, dims=[4])
    t.float_data.extend([1.0, 2.0, 3.0])
    return t


def compile_bad(tmp_path, m, *extra):
    path = tmp_path / "bad.onnx"
    onnx.save(m, str(path))
    out = tmp_path / "out.mlir"
    start = time.monotonic()
    r = subprocess.run([kestrelc_path(), str(path), "--emit=mlir", "-o",
                        str(out), *extra], capture_output=True, text=True,
                       timeout=60)
    elapsed = time.monotonic() - start
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, r.stderr
    assert errors[0].startswith(f"{path}:0:0: error: "), r.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("out.mlir.tmp-*"))
    assert elapsed < 5, f"took {elapsed:.1f} s"
    return errors[0].split("error: ", 1)[1]


def perm_model(perm):
    return model([h.make_node("Transpose", ["x"], ["y"], name="tr", perm=perm)],
                 [vi("x", [2, 3])], [vi("y", None)])


def axis_model(op, axis, n_out=1, **attrs):
    outs = [f"y{i}" for i in range(n_out)]
    ins = ["x", "x"] if op == "Concat" else ["x", "i"] if op == "Gather" else ["x"]
    inits = [i64("i", [0])] if op == "Gather" else []
    return model([h.make_node(op, ins, outs, name="n", axis=axis, **attrs)],
                 [vi("x", [2, 4])], [vi(o, None) for o in outs], inits)


CASES = {
    # Importer::reduce read the shape of a shapeless input: SIGSEGV.
    "shapeless_reduce": (
        lambda: model([h.make_node("ReduceMean", ["x"], ["y"], name="rm",
                                   axes=[0])],
                      [shapeless("x")], [vi("y", None)]),
        "graph input 'x' has no shape (unknown rank): give it with "
        "--input-shape x=DxDx..."),
    # ... and elsewhere it became a scalar, silently.
    "shapeless_relu": (
        lambda: model([h.make_node("Relu", ["x"], ["y"], name="r")],
                      [shapeless("x")], [vi("y", None)]),
        "graph input 'x' has no shape (unknown rank)"),
    "negative_input_dim": (
        lambda: model([h.make_node("Relu", ["x"], ["y"], name="r")],
                      [vi("x", [-3, 2])], [vi("y", None)]),
        "graph input 'x' has negative dimension -3 (axis 0 of shape [-3, 2])"),
    "huge_input": (
        lambda: model([h.make_node("Relu", ["x"], ["y"], name="r")],
                      [vi("x", [2**20, 2**20])], [vi("y", None)]),
        "graph input 'x' of shape [1048576, 1048576] takes 4398046511104 "
        "bytes, over the limit of 4294967296 (raise it with "
        "--max-tensor-bytes)"),
    # transpose / concatAffineMaps indexed out of range: SIGSEGV.
    "transpose_perm_length": (
        lambda: perm_model([1, 0, 2]),
        "node 'tr' (Transpose): perm [1, 0, 2] is not a permutation of the 2 "
        "dimensions of its input"),
    "transpose_perm_range": (
        lambda: perm_model([0, 5]),
        "node 'tr' (Transpose): perm [0, 5] is not a permutation"),
    "transpose_perm_repeated": (
        lambda: perm_model([0, 0]),
        "node 'tr' (Transpose): perm [0, 0] is not a permutation"),
    # matmul read the last two dims of a scalar: SIGSEGV.
    "matmul_rank0": (
        lambda: model([h.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                      [vi("x", [2, 3])], [vi("y", None)],
                      [nh.from_array(np.array(2.0, np.float32), "w")]),
        "node 'mm' (MatMul): MatMul operands must have rank >= 1, got shapes "
        "[2, 3] and []"),
    "matmul_contraction": (
        lambda: model([h.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                      [vi("x", [2, 3])], [vi("y", None)],
                      [nh.from_array(np.zeros((4, 5), np.float32), "w")]),
        "node 'mm' (MatMul): contraction dimensions differ: [2, 3] x [4, 5]"),
    # Range(0, 2^40) and ConstantOfShape([2^40]): LLVM out of memory.
    "range_huge": (
        lambda: model([h.make_node("Range", ["a", "b", "c"], ["y"], name="rg")],
                      [], [vi("y", None, T.INT64)],
                      [i64("a", 0), i64("b", 2**40), i64("c", 1)]),
        "node 'rg' (Range): the result of Range(0, 1099511627776, 1) has "
        "dimension 1099511627776 (axis 0), over the limit of 2^31 - 1"),
    "constant_of_shape_huge": (
        lambda: const_of_shape([2**40]),
        "node 'cos' (ConstantOfShape): shape [1099511627776] has dimension "
        "1099511627776 (axis 0), over the limit of 2^31 - 1"),
    "constant_of_shape_elements": (
        lambda: const_of_shape([2**21, 2**21]),
        "node 'cos' (ConstantOfShape): shape [2097152, 2097152] of shape "
        "[2097152, 2097152] has more than 2^40 elements"),
    # ConstantOfShape([-1]): std::length_error or tensor<-1xf32>.
    "constant_of_shape_negative": (
        lambda: const_of_shape([-1]),
        "node 'cos' (ConstantOfShape): shape [-1] has negative dimension -1"),
    # ReduceMean axes=[5] on rank 2 compiled and read out of bounds.
    "reduce_axis": (
        lambda: model([h.make_node("ReduceMean", ["x"], ["y"], name="rm",
                                   axes=[5])],
                      [vi("x", [2, 3])], [vi("y", None)]),
        "node 'rm' (ReduceMean): axes [5]: axis 5 is out of range for an input "
        "of rank 2"),
    "reduce_axis_input": (
        lambda: model([h.make_node("ReduceSum", ["x", "a"], ["y"], name="rs")],
                      [vi("x", [2, 3])], [vi("y", None)], [i64("a", [1, -1])]),
        "node 'rs' (ReduceSum): axes [1, -1] repeats axis -1"),
    "softmax_axis": (
        lambda: axis_model("Softmax", 7),
        "node 'n' (Softmax): axis 7 is out of range for an input of rank 2 "
        "(expected -2 to 1)"),
    "concat_axis": (lambda: axis_model("Concat", -3),
                    "node 'n' (Concat): axis -3 is out of range"),
    "gather_axis": (lambda: axis_model("Gather", 2),
                    "node 'n' (Gather): axis 2 is out of range"),
    "split_axis": (lambda: axis_model("Split", 4, n_out=2),
                   "node 'n' (Split): axis 4 is out of range"),
    "flatten_axis": (lambda: axis_model("Flatten", 3),
                     "node 'n' (Flatten): axis 3 is out of range for an input "
                     "of rank 2 (expected -2 to 2)"),
    "unsqueeze_axis": (
        lambda: model([h.make_node("Unsqueeze", ["x", "a"], ["y"], name="us")],
                      [vi("x", [2, 4])], [vi("y", None)], [i64("a", [9])]),
        "node 'us' (Unsqueeze): Unsqueeze 'us' has invalid or repeated axis 9"),
    "broadcast": (
        lambda: model([h.make_node("Add", ["x", "z"], ["y"], name="add")],
                      [vi("x", [2, 3]), vi("z", [4, 3])], [vi("y", None)]),
        "node 'add' (Add): input shapes [2, 3] and [4, 3] do not broadcast"),
    # Found by the long fuzz run (2026-12-04): Slice read the size of an
    # out-of-range axis before checking it: SIGSEGV.
    "slice_axis": (
        lambda: model([h.make_node("Slice", ["x", "s", "e", "a"], ["y"],
                                   name="sl")],
                      [vi("x", [2, 4])], [vi("y", None)],
                      [i64("s", [0]), i64("e", [1]), i64("a", [1 << 40])]),
        "node 'sl' (Slice): Slice 'sl' has an invalid axis or a zero step"),
    # Huge pads overflowed int64 arithmetic.
    "pad_huge": (
        lambda: model([h.make_node("Pad", ["x", "p"], ["y"], name="pd")],
                      [vi("x", [2, 4])], [vi("y", None)],
                      [i64("p", [0, 2**62, 0, 2**62])]),
        "node 'pd' (Pad): Pad 'pd' has pad 4611686018427387904 beyond the "
        "largest dimension (2147483647)"),
    # Found by the long fuzz run (2026-12-04, ONNX target): the product of
    # Reshape's target dims overflowed int64 (UBSan) before any check.
    "reshape_overflow": (
        lambda: model([h.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
                      [vi("x", [2, 4])], [vi("y", None)],
                      [i64("s", [2**60, 2**60, -1])]),
        "node 'rs' (Reshape): Reshape 'rs': the target shape's element count "
        "overflows int64"),
    "reshape_negative": (
        lambda: model([h.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
                      [vi("x", [2, 4])], [vi("y", None)], [i64("s", [-13, 8])]),
        "node 'rs' (Reshape): Reshape 'rs' has target dimension -13 at position "
        "0 (only one -1 is allowed, no other negative value)"),
    "reshape_two_inferred": (
        lambda: model([h.make_node("Reshape", ["x", "s"], ["y"], name="rs")],
                      [vi("x", [2, 4])], [vi("y", None)], [i64("s", [-1, -1])]),
        "node 'rs' (Reshape): Reshape 'rs' has target dimension -1 at position "
        "1 (only one -1 is allowed, no other negative value)"),
    # Found by the fuzz run of 2026-12-05 (ONNX target): the importer's
    # subgraph recognizers read output 0 of every node, also of one
    # without outputs (UBSan: null protobuf field).
    "node_without_output": (
        lambda: model([h.make_node("Reshape", ["x", "s"], [], name="rs"),
                       h.make_node("Relu", ["x"], ["y"], name="r")],
                      [vi("x", [2, 4])], [vi("y", None)], [i64("s", [4, 2])]),
        "node 'rs' (Reshape): Reshape 'rs' has no output"),
    # A value defined twice (not SSA): the recognizers look values up by
    # name, the conversion by position; now refused.
    "value_defined_twice": (
        lambda: model([h.make_node("Relu", ["x"], ["y"], name="r1"),
                       h.make_node("Neg", ["x"], ["y"], name="r2")],
                      [vi("x", [2, 4])], [vi("y", None)]),
        "value 'y' is defined twice: by node 'r2' (Neg) and by node 'r1'"),
    "output_named_like_initializer": (
        lambda: model([h.make_node("Relu", ["x"], ["s"], name="r")],
                      [vi("x", [2, 4])], [vi("s", None)], [i64("s", [4, 2])]),
        "value 's' is defined twice: by node 'r' (Relu) and by a graph input "
        "or initializer"),
    # Opset 99 was accepted.
    "opset_99": (
        lambda: model([h.make_node("Relu", ["x"], ["y"], name="r")],
                      [vi("x", [2])], [vi("y", None)], opset=99),
        "the model imports ONNX opset 99, Kestrel supports opsets 1 to 28"),
    "initializer_count": (
        lambda: model([h.make_node("Add", ["x", "w"], ["y"], name="add")],
                      [vi("x", [4])], [vi("y", None)],
                      [short_tensor()]),
        "tensor 'w' of shape [4] holds 3 values, expected 4"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_model(tmp_path, case):
    build, expected = CASES[case]
    assert compile_bad(tmp_path, build()).startswith(expected)


def test_external_data_length(tmp_path):
    # A declared length of 2^40 was allocated: LLVM out of memory.
    msg = compile_bad(tmp_path, external_weight(
        tmp_path, [("offset", "0"), ("length", str(2**40))]))
    assert msg == ("tensor 'w' declares external data length 1099511627776 "
                   "but its shape [4] needs 16 bytes")


def test_external_data_bad_offset(tmp_path):
    msg = compile_bad(tmp_path, external_weight(tmp_path,
                                                [("offset", "abc")]))
    assert msg == ("tensor 'w' has external data offset 'abc', not a "
                   "non-negative integer")


def test_external_data_truncated(tmp_path):
    msg = compile_bad(tmp_path, external_weight(tmp_path, [("offset", "8")]))
    assert msg == ("external data of tensor 'w' is truncated: 16 bytes at "
                   "offset 8 of a 16-byte file")


def test_max_tensor_bytes(tmp_path):
    # 1024 x 1024 f32 = 4 MiB: over a 1 MB limit, within the default.
    m = const_of_shape([1024, 1024])
    msg = compile_bad(tmp_path, m, "--max-tensor-bytes=1000000")
    assert msg == ("node 'cos' (ConstantOfShape): shape [1024, 1024] of shape "
                   "[1024, 1024] takes 4194304 bytes, over the limit of "
                   "1000000 (raise it with --max-tensor-bytes)")
    onnx.save(m, str(tmp_path / "ok.onnx"))
    r = subprocess.run([kestrelc_path(), str(tmp_path / "ok.onnx"),
                        "--emit=mlir", "--no-recognize", "-o", "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "tensor<1024x1024xf32>" in r.stdout


def test_large_range_is_computed_at_run_time(tmp_path):
    # Past the folding limit Range becomes a linalg.generic, not a constant
    # of 2^20 elements built at import time.
    m = model([h.make_node("Range", ["a", "b", "c"], ["y"], name="rg")],
              [], [vi("y", None, T.INT64)],
              [i64("a", 5), i64("b", 5 + 3 * 2**20), i64("c", 3)])
    onnx.save(m, str(tmp_path / "r.onnx"))
    r = subprocess.run([kestrelc_path(), str(tmp_path / "r.onnx"),
                        "--emit=mlir", "--no-recognize", "-o", "-"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "linalg.generic" in r.stdout and "tensor<1048576xi64>" in r.stdout


def test_slice_extreme_steps(tmp_path):
    """Steps of 2^63 - 1 and -2^63 are valid ONNX (one element each way);
    the length arithmetic overflowed int64 before. The result is
    x[0:2:2^63-1, 3:-9:-2^63] = [[x[0, 3]]], shape [1, 1]."""
    m = model([h.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"],
                           name="sl")],
              [vi("x", [2, 4])], [vi("y", None)],
              [i64("s", [0, 3]), i64("e", [2, -9]), i64("a", [0, 1]),
               i64("st", [2**63 - 1, -2**63])])
    path = tmp_path / "slice.onnx"
    onnx.save(m, str(path))
    r = subprocess.run([kestrelc_path(), str(path), "--emit=mlir"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "-> tensor<1x1xf32>" in r.stdout, r.stdout


def test_integer_overflow_is_left_to_run_time(tmp_path):
    """Folding int64 Mul/Add/Sub/Div of constants overflowed (UBSan, long
    fuzz run of 2026-12-04); such results are now computed at run time,
    which wraps like NumPy's int64 (the reference here)."""
    from kestrel.compiler import kestrelc
    from kestrel.runtime import CpuLibrary

    big = np.array([2**58 + 1, 7, -2**63, 3], np.int64)
    m = model([h.make_node("Mul", ["a", "b"], ["p"], name="mul"),
               h.make_node("Add", ["p", "a"], ["s"], name="add"),
               h.make_node("Div", ["a", "m1"], ["d"], name="div"),
               h.make_node("Add", ["x", "s"], ["y"], name="out"),
               h.make_node("Add", ["x", "d"], ["z"], name="out2")],
              [vi("x", [4], T.INT64)],
              [vi("y", None, T.INT64), vi("z", None, T.INT64)],
              [nh.from_array(big, "a"), i64("b", [64, 2, 2, 5]),
               i64("m1", [1, 1, -1, -1])])
    onnx.save(m, str(tmp_path / "o.onnx"))
    kestrelc(tmp_path / "o.onnx", tmp_path / "o.so", "--target=cpu")
    x = np.arange(4, dtype=np.int64)
    y, z = CpuLibrary(tmp_path / "o.so").call("bad", x)
    with np.errstate(over="ignore"):
        want_y = x + (big * np.array([64, 2, 2, 5], np.int64) + big)
    np.testing.assert_array_equal(y, want_y)
    # INT64_MIN / -1 wraps to INT64_MIN; 3 / -1 = -3.
    np.testing.assert_array_equal(z, x + np.array([2**58 + 1, 7, -2**63, -3],
                                                  np.int64))
