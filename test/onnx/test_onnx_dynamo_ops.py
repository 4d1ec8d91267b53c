"""ONNX operators of PyTorch's dynamo exporter (torch.onnx.export(...,
dynamo=True), opsets 18-21; Kestrel issue 17): Pad, Clip, Tile, Mod, OneHot,
IsNaN/IsInf, And/Or/Xor/Not, the Bitwise ops, GatherND/ScatterND,
GatherElements/ScatterElements, NonZero, the opset-18 axes inputs, external
data files and f16/bf16 models.

Each model is built with onnx.helper, compiled for the CPU by kestrelc and
compared with onnxruntime's CPU execution provider: float32 outputs to
max abs error 1e-6 (these ops copy or select values; Mod and Clip compute
exactly), float16 to 2e-3, integer and bool outputs exactly. Invalid models
must fail with one error located at the model that names the node, the op
and what is wrong (the conventions of test_onnx_bad_models.py).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kestrel.compiler import CompileError, kestrelc, kestrelc_path  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

RNG = np.random.default_rng(17)
TOL = {np.float32: 1e-6, np.float16: 2e-3}


def _vi(name, a):
    return helper.make_tensor_value_info(
        name, helper.np_dtype_to_tensor_dtype(a.dtype), a.shape)


def _model(nodes, inputs, outputs, inits=None, opset=18):
    """`inputs`: graph inputs name -> array; `inits`: initializers;
    `outputs`: names (types left to inference)."""
    if not isinstance(nodes, list):
        nodes = [nodes]
    graph = helper.make_graph(
        nodes, "g", [_vi(k, v) for k, v in inputs.items()],
        [onnx.ValueInfoProto(name=o) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v), k)
                     for k, v in (inits or {}).items()])
    model = helper.make_model(graph, ir_version=10, opset_imports=[
        helper.make_opsetid("", opset)])
    # Output types from ONNX shape inference (onnxruntime needs them).
    inferred = onnx.shape_inference.infer_shapes(model).graph
    known = {v.name: v for v in list(inferred.value_info) + list(inferred.output)}
    for o in model.graph.output:
        if o.name in known and known[o.name].type.tensor_type.elem_type:
            o.type.CopyFrom(known[o.name].type)
    return model


def _compile_and_compare(tmp_path, model, feeds, save=None, tol=None):
    """Compiles `model` for the CPU, runs it on `feeds` and compares every
    output with onnxruntime; returns the outputs."""
    path = tmp_path / "m.onnx"
    if save:
        save(model, path)
    else:
        onnx.save(model, path)
    so = tmp_path / "m.so"
    kestrelc(path, so, "--target=cpu")
    lib = CpuLibrary(so)
    (name,) = lib.manifest.functions
    ours = lib.call(name, *feeds.values())
    if not isinstance(ours, (list, tuple)):
        ours = [ours]
    refs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                                ).run(None, feeds)
    assert len(ours) == len(refs)
    for o, r in zip(ours, refs):
        assert o.shape == r.shape and o.dtype == r.dtype, (o.shape, o.dtype,
                                                           r.shape, r.dtype)
        if r.dtype.kind == "f":
            np.testing.assert_allclose(o.astype(np.float64), r.astype(np.float64),
                                       rtol=0, atol=tol or TOL[r.dtype.type])
        else:
            np.testing.assert_array_equal(o, r)
    return ours


def _f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _i64(*values):
    return np.array(values, np.int64)


def _node(op, ins, outs=("y",), **attrs):
    return helper.make_node(op, list(ins), list(outs), name=f"n_{op.lower()}",
                            **attrs)


# One case per feature: (node(s), graph inputs, initializers, opset).
def _cases():
    x = _f32(2, 3, 5)
    xi = RNG.integers(-20, 20, (3, 4)).astype(np.int64)
    bools = {"a": RNG.random((2, 3, 4)) < 0.5, "b": RNG.random((3, 4)) < 0.5}
    ints = {"a": RNG.integers(-100, 100, (2, 3, 4)).astype(np.int32),
            "b": RNG.integers(-100, 100, (3, 4)).astype(np.int32)}
    special = np.array([0.0, np.inf, -np.inf, np.nan, 1.5, -2.0], np.float32)
    data = _f32(4, 5, 3)
    c = {
        "pad_constant": (_node("Pad", ["x", "p", "v"], mode="constant"),
                         {"x": x}, {"p": _i64(0, 1, 2, 1, 0, 3),
                                    "v": np.array(1.5, np.float32)}, 18),
        "pad_reflect": (_node("Pad", ["x", "p"], mode="reflect"), {"x": x},
                        {"p": _i64(0, 2, 3, 0, 1, 4)}, 18),
        "pad_edge": (_node("Pad", ["x", "p"], mode="edge"), {"x": x},
                     {"p": _i64(1, 0, 2, 1, 2, 0)}, 18),
        "pad_negative_crop": (_node("Pad", ["x", "p"]), {"x": x},
                              {"p": _i64(0, -1, 1, 0, 0, -2)}, 13),
        "pad_axes_input_opset18": (
            _node("Pad", ["x", "p", "", "axes"], mode="constant"), {"x": x},
            {"p": _i64(1, 2, 3, 0), "axes": _i64(-1, 1)}, 18),
        "pad_runtime_value": (_node("Pad", ["x", "p", "v"]),
                              {"x": x, "v": np.array(-3.0, np.float32)},
                              {"p": _i64(0, 0, 1, 0, 0, 1)}, 18),
        "clip_inputs_opset13": (_node("Clip", ["x", "lo", "hi"]), {"x": x},
                                {"lo": np.array(-0.5, np.float32),
                                 "hi": np.array(0.7, np.float32)}, 13),
        "clip_runtime_min_only": (_node("Clip", ["x", "lo"]),
                                  {"x": x, "lo": np.array(0.1, np.float32)},
                                  {}, 18),
        "clip_int64": (_node("Clip", ["x", "lo", "hi"]), {"x": xi},
                       {"lo": np.array(-5, np.int64),
                        "hi": np.array(7, np.int64)}, 18),
        "clip_attributes_opset6": (_node("Clip", ["x"], min=-0.3, max=0.4),
                                   {"x": x}, {}, 6),
        "tile": (_node("Tile", ["x", "r"]), {"x": x}, {"r": _i64(2, 1, 3)}, 18),
        "mod_int_floor": (_node("Mod", ["a", "b"]),
                          {"a": xi, "b": np.array([3, -4, 5, -7], np.int64)},
                          {}, 18),
        "mod_int_fmod": (_node("Mod", ["a", "b"], fmod=1),
                         {"a": xi, "b": np.array([3, -4, 5, -7], np.int64)},
                         {}, 18),
        "mod_float_fmod": (_node("Mod", ["a", "b"], fmod=1),
                           {"a": x, "b": np.array([0.7, -1.3, 2.0, 0.4, -0.9],
                                                  np.float32)}, {}, 18),
        "onehot": (_node("OneHot", ["i", "d", "v"], axis=1),
                   {"i": np.array([[0, 3, -1], [2, 9, -4]], np.int64)},
                   {"d": np.array(4, np.int64),
                    "v": np.array([-1.0, 2.5], np.float32)}, 18),
        "isnan": (_node("IsNaN", ["x"]), {"x": special}, {}, 20),
        "isinf": (_node("IsInf", ["x"]), {"x": special}, {}, 20),
        "isinf_negative_only": (_node("IsInf", ["x"], detect_positive=0),
                                {"x": special}, {}, 20),
        **{f"logical_{op.lower()}": (_node(op, ["a", "b"]), bools, {}, 18)
           for op in ["And", "Or", "Xor"]},
        "logical_not": (_node("Not", ["a"]), {"a": bools["a"]}, {}, 18),
        **{f"bitwise_{op.lower()}": (_node("Bitwise" + op, ["a", "b"]), ints,
                                     {}, 18) for op in ["And", "Or", "Xor"]},
        "bitwise_not": (_node("BitwiseNot", ["a"]), {"a": ints["a"]}, {}, 18),
        "gather_elements": (_node("GatherElements", ["x", "i"], axis=1),
                            {"x": data},
                            {"i": RNG.integers(-5, 5, (4, 2, 3))}, 18),
        "gather_nd": (_node("GatherND", ["x", "i"]), {"x": data},
                      {"i": np.array([[[1, 4], [3, -1]], [[0, 0], [2, 2]]],
                                     np.int64)}, 18),
        "gather_nd_batch_dims": (_node("GatherND", ["x", "i"], batch_dims=1),
                                 {"x": data},
                                 {"i": np.array([[1], [4], [0], [2]],
                                                np.int64)}, 18),
        "gather_nd_runtime_indices": (
            _node("GatherND", ["x", "i"]),
            {"x": data, "i": np.array([[2, 1], [0, 4], [3, 3]], np.int64)},
            {}, 18),
        "scatter_nd": (_node("ScatterND", ["x", "i", "u"]), {"x": data},
                       {"i": np.array([[3], [0]], np.int64),
                        "u": _f32(2, 5, 3)}, 18),
        "scatter_nd_add_duplicates": (
            _node("ScatterND", ["x", "i", "u"], reduction="add"), {"x": data},
            {"i": np.array([[1, 2], [1, 2], [0, -1]], np.int64),
             "u": _f32(3, 3)}, 18),
        "scatter_elements": (_node("ScatterElements", ["x", "i", "u"], axis=1),
                             {"x": data, "u": _f32(4, 2, 3)},
                             {"i": np.array(np.broadcast_to(
                                 np.array([[[0], [3]]]), (4, 2, 3)),
                                 np.int64)}, 18),
        "scatter_elements_add": (
            _node("ScatterElements", ["x", "i", "u"], axis=0, reduction="add"),
            {"x": data, "u": _f32(3, 5, 3)},
            {"i": RNG.integers(-4, 4, (3, 5, 3))}, 18),
        "scatter_elements_runtime_indices": (
            _node("ScatterElements", ["x", "i", "u"], axis=2),
            {"x": data, "i": RNG.integers(0, 3, (4, 5, 1)),
             "u": _f32(4, 5, 1)}, {}, 18),
        "nonzero_constant": (
            [_node("NonZero", ["m"], ["nz"]),
             _node("Gather", ["x", "nz"], axis=0)],
            {"x": _f32(3, 2)},
            {"m": np.array([1, 0, 2], np.int64)}, 18),
        "split_num_outputs_opset18": (
            _node("Split", ["x"], ["y0", "y1"], axis=2, num_outputs=2),
            {"x": x}, {}, 18),
        "reduce_max_axes_input_opset18": (
            _node("ReduceMax", ["x", "ax"], keepdims=0), {"x": x},
            {"ax": _i64(0, 2)}, 18),
        # The TorchScript exporter's F.pad sizes: a [2, 3] table of
        # (begin, end) pairs transposed and flattened into Pad's pads, which
        # must fold to a constant (the transpose of an integer constant).
        "pad_sizes_through_transpose": (
            [helper.make_node("Transpose", ["tbl"], ["tt"], name="n_t",
                              perm=[1, 0]),
             helper.make_node("Reshape", ["tt", "shp"], ["pads"], name="n_r"),
             _node("Pad", ["x", "pads"])],
            {"x": x}, {"tbl": _i64(0, 1, 2, 0, 0, 1).reshape(2, 3),
                       "shp": _i64(6)}, 18),
    }
    return c


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matches_onnxruntime(name, tmp_path):
    nodes, inputs, inits, opset = CASES[name]
    outs = [o for n in (nodes if isinstance(nodes, list) else [nodes])
            for o in n.output][-2 if name.startswith("split") else -1:]
    model = _model(nodes, inputs, outs, inits, opset)
    _compile_and_compare(tmp_path, model, inputs)


def test_scatter_with_runtime_indices_clamps_out_of_range(tmp_path):
    """Runtime indices outside [-dim, dim) are clamped, never written out of
    bounds (onnxruntime rejects them, so NumPy is the reference here)."""
    x = np.zeros((3, 4), np.float32)
    idx = np.array([[7, -9, 1, 2]], np.int64)
    upd = np.ones((1, 4), np.float32)
    model = _model(_node("ScatterElements", ["x", "i", "u"], axis=0),
                   {"x": x, "i": idx, "u": upd}, ["y"])
    onnx.save(model, tmp_path / "m.onnx")
    kestrelc(tmp_path / "m.onnx", tmp_path / "m.so", "--target=cpu")
    (y,) = CpuLibrary(tmp_path / "m.so").call("g", x, idx, upd)
    want = np.zeros((3, 4), np.float32)
    want[2, 0] = want[0, 1] = want[1, 2] = want[2, 3] = 1
    np.testing.assert_array_equal(y, want)


# --------------------------------------------------------------------------
# f16 / bf16 models
# --------------------------------------------------------------------------


def _mlp(dtype, t):
    """x @ w + b -> Clip -> Pad -> Softmax in `dtype` (TensorProto type `t`)."""
    w = (0.3 * _f32(8, 6)).astype(dtype)
    b = _f32(6).astype(dtype)
    nodes = [_node("MatMul", ["x", "w"], ["h"]), _node("Add", ["h", "b"], ["a"]),
             _node("Clip", ["a", "lo", "hi"], ["c"]),
             _node("Pad", ["c", "p", "v"], ["q"]),
             _node("Softmax", ["q"], ["y"], axis=-1)]
    inits = {"w": w, "b": b, "lo": np.array(-1, dtype), "hi": np.array(1.5, dtype),
             "p": _i64(0, 1, 0, 2), "v": np.array(0.25, dtype)}
    return nodes, inits


def test_float16_model_matches_onnxruntime(tmp_path):
    nodes, inits = _mlp(np.float16, TensorProto.FLOAT16)
    x = _f32(4, 8).astype(np.float16)
    _compile_and_compare(tmp_path, _model(nodes, {"x": x}, ["y"], inits), {"x": x})


def test_bfloat16_model_matches_float32_of_rounded_values(tmp_path):
    """onnxruntime's CPU provider lacks these bf16 kernels: the reference is
    the float32 model on the same bf16-rounded weights and inputs, to 2e-2
    (bf16 keeps 8 significant bits: 3.9e-3 relative per rounding)."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf16 = ml_dtypes.bfloat16
    nodes, inits = _mlp(bf16, TensorProto.BFLOAT16)
    x = _f32(4, 8).astype(bf16)
    onnx.save(_model(nodes, {"x": x}, ["y"], inits), tmp_path / "m.onnx")
    kestrelc(tmp_path / "m.onnx", tmp_path / "m.so", "--target=cpu")
    (y,) = CpuLibrary(tmp_path / "m.so").call("g", x)
    y = np.asarray(y).view(bf16).astype(np.float32) if y.dtype == np.uint16 \
        else np.asarray(y).astype(np.float32)
    f32 = {k: (v.astype(np.float32) if v.dtype == bf16 else v)
           for k, v in inits.items()}
    path = tmp_path / "ref.onnx"
    onnx.save(_model(nodes, {"x": x.astype(np.float32)}, ["y"], f32), path)
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, {"x": x.astype(np.float32)})[0]
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() <= 2e-2


# --------------------------------------------------------------------------
# External data (model.onnx + model.onnx.data)
# --------------------------------------------------------------------------


def _external_model(tmp_path):
    w = _f32(64, 32)
    g = _f32(32)
    model = _model([_node("MatMul", ["x", "w"], ["h"]),
                    _node("Mul", ["h", "g"], ["y"])], {"x": _f32(2, 64)}, ["y"],
                   {"w": w, "g": g})

    def save(m, path):
        onnx.save_model(m, str(path), save_as_external_data=True,
                        all_tensors_to_one_file=True,
                        location=Path(path).name + ".data", size_threshold=0)
    return model, save


def test_external_data_file(tmp_path):
    model, save = _external_model(tmp_path)
    x = _f32(2, 64)
    _compile_and_compare(tmp_path, model, {"x": x}, save=save)
    assert (tmp_path / "m.onnx.data").stat().st_size == (64 * 32 + 32) * 4


def test_external_data_respects_max_tensor_bytes(tmp_path):
    model, save = _external_model(tmp_path)
    save(model, tmp_path / "m.onnx")
    with pytest.raises(CompileError) as err:
        kestrelc(tmp_path / "m.onnx", tmp_path / "m.mlir", "--emit=mlir",
                 "--max-tensor-bytes=4096")
    msg = str(err.value)
    assert "tensor 'w' of shape [64, 32] takes 8192 bytes, over the limit of " \
           "4096 (raise it with --max-tensor-bytes)" in msg, msg


# --------------------------------------------------------------------------
# Invalid models: one located error naming node, op and value
# --------------------------------------------------------------------------


BAD = {
    "nonzero_runtime_input": (
        _model(_node("NonZero", ["x"]), {"x": _f32(3)}, ["y"]),
        "node 'n_nonzero' (NonZero): NonZero 'n_nonzero': the output shape "
        "[rank, count] depends on the values of input 'x', which are only "
        "known at run time"),
    "pad_runtime_pads": (
        _model(_node("Pad", ["x", "p"]), {"x": _f32(3), "p": _i64(1, 1)}, ["y"]),
        "node 'n_pad' (Pad): pads 'p' must be an integer constant known at "
        "import time"),
    "pad_wrong_count": (
        _model(_node("Pad", ["x", "p"]), {"x": _f32(3, 2)}, ["y"],
               {"p": _i64(1, 1, 1)}),
        "node 'n_pad' (Pad): Pad 'n_pad' has 3 pads for 2 axes (expected 2 "
        "per axis)"),
    "pad_bad_mode": (
        _model(_node("Pad", ["x", "p"], mode="mirror"), {"x": _f32(3)}, ["y"],
               {"p": _i64(1, 1)}),
        "node 'n_pad' (Pad): Pad 'n_pad' has mode 'mirror' (expected constant, "
        "reflect, edge or wrap)"),
    "pad_axes_before_opset18": (
        _model(_node("Pad", ["x", "p", "", "a"]), {"x": _f32(3)}, ["y"],
               {"p": _i64(1, 1), "a": _i64(0)}, opset=13),
        "node 'n_pad' (Pad): Pad 'n_pad' has an axes input, which needs opset "
        "18 (opset 13)"),
    "pad_axes_out_of_range": (
        _model(_node("Pad", ["x", "p", "", "a"]), {"x": _f32(3)}, ["y"],
               {"p": _i64(1, 1), "a": _i64(2)}),
        "node 'n_pad' (Pad): axes [2]: axis 2 is out of range for an input of "
        "rank 1"),
    "pad_crops_too_much": (
        _model(_node("Pad", ["x", "p"]), {"x": _f32(3)}, ["y"],
               {"p": _i64(-2, -2)}),
        "node 'n_pad' (Pad): Pad 'n_pad' crops axis 0 of size 3 by more than "
        "its size"),
    "clip_min_not_scalar": (
        _model(_node("Clip", ["x", "lo"]), {"x": _f32(3)}, ["y"],
               {"lo": np.zeros(2, np.float32)}),
        "node 'n_clip' (Clip): Clip 'n_clip' min must hold one element, got "
        "shape [2] (opset 18)"),
    "tile_wrong_rank": (
        _model(_node("Tile", ["x", "r"]), {"x": _f32(3)}, ["y"],
               {"r": _i64(1, 2)}),
        "node 'n_tile' (Tile): Tile 'n_tile' has 2 repeats for an input of "
        "rank 1"),
    "and_on_floats": (
        _model(_node("And", ["x", "x"]), {"x": _f32(3)}, ["y"]),
        "node 'n_and' (And): And 'n_and' needs bool inputs"),
    "bitwise_on_bool": (
        _model(_node("BitwiseOr", ["x", "x"]), {"x": np.ones(3, bool)}, ["y"]),
        "node 'n_bitwiseor' (BitwiseOr): BitwiseOr 'n_bitwiseor' needs integer "
        "inputs"),
    "mod_constant_zero": (
        _model(_node("Mod", ["x", "z"]), {"x": _i64(1, 2)}, ["y"],
               {"z": _i64(0)}),
        "node 'n_mod' (Mod): Mod 'n_mod' divides by a constant zero"),
    "isnan_on_int": (
        _model(_node("IsNaN", ["x"]), {"x": _i64(1, 2)}, ["y"]),
        "node 'n_isnan' (IsNaN): IsNaN 'n_isnan' needs a float input"),
    "onehot_runtime_depth": (
        _model(_node("OneHot", ["i", "d", "v"]),
               {"i": _i64(1, 2), "d": _i64(3)}, ["y"],
               {"v": np.array([0, 1], np.float32)}),
        "node 'n_onehot' (OneHot): OneHot 'n_onehot' depth must be a "
        "one-element constant known at import time"),
    "gather_elements_constant_index_out_of_range": (
        _model(_node("GatherElements", ["x", "i"], axis=1), {"x": _f32(2, 3)},
               ["y"], {"i": np.array([[0, 3]], np.int64)}),
        "node 'n_gatherelements' (GatherElements): GatherElements "
        "'n_gatherelements' index 3 is out of range for axis 1 of size 3"),
    "gather_nd_index_too_long": (
        _model(_node("GatherND", ["x", "i"]), {"x": _f32(2, 3)}, ["y"],
               {"i": np.array([[0, 1, 0]], np.int64)}),
        "node 'n_gathernd' (GatherND): GatherND 'n_gathernd' indices' last "
        "dimension 3 must be in [1, 2]"),
    "scatter_nd_updates_shape": (
        _model(_node("ScatterND", ["x", "i", "u"]), {"x": _f32(4, 3)}, ["y"],
               {"i": np.array([[1]], np.int64), "u": _f32(2, 3)}),
        "node 'n_scatternd' (ScatterND): ScatterND 'n_scatternd' updates of "
        "shape [2, 3] must have shape [1, 3] (indices [1, 1], data [4, 3])"),
    "scatter_elements_bad_reduction": (
        _model(_node("ScatterElements", ["x", "i", "u"], reduction="mean"),
               {"x": _f32(4)}, ["y"],
               {"i": _i64(1), "u": _f32(1)}),
        "node 'n_scatterelements' (ScatterElements): ScatterElements "
        "'n_scatterelements' has reduction 'mean' (expected none, add, mul, "
        "max or min)"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_invalid_model_fails_with_located_error(name, tmp_path):
    model, message = BAD[name]
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    r = subprocess.run([kestrelc_path(), str(path), "--emit=mlir", "-o",
                        str(tmp_path / "out.mlir")], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, r.stderr
    assert errors[0].startswith(f"{path}:0:0: error: "), r.stderr
    assert message in errors[0], r.stderr
    assert not (tmp_path / "out.mlir").exists()


# --------------------------------------------------------------------------
# The attention of a dynamo export with SDPA (Hugging Face's default)
# --------------------------------------------------------------------------


def _sdpa_graph(T, H=2, D=16):
    """The graph PyTorch's dynamo exporter writes for a causal SDPA over
    static shapes, as in a Hugging Face Llama/Qwen3 export: the mask built by
    And over bool initializers (the exporter folds the comparisons, not the
    And) and Where(mask, 0, lowest), added to the scaled logits, softmax,
    the NaN guard Where(IsNaN(p), 0, p), then @ V."""
    tril = np.tril(np.ones((T, T), bool))[None, None]
    inits = {"one": np.array(True), "le": tril,
             "eq": np.ones((1, 1, T, T), bool),
             "zero": np.array(0.0, np.float32),
             "low": np.array(np.finfo(np.float32).min, np.float32),
             "scale": np.array(D ** -0.5, np.float32)}
    nodes = [_node("And", ["one", "le"], ["m0"]),
             _node("And", ["m0", "eq"], ["m1"]),
             _node("Where", ["m1", "zero", "low"], ["mask"]),
             _node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
             _node("MatMul", ["q", "kt"], ["s"]),
             _node("Mul", ["s", "scale"], ["ss"]),
             _node("Add", ["ss", "mask"], ["sm"]),
             _node("Softmax", ["sm"], ["p"], axis=-1),
             _node("IsNaN", ["p"], ["nan"]),
             _node("Where", ["nan", "zero", "p"], ["pg"]),
             _node("MatMul", ["pg", "v"], ["y"])]
    for i, n in enumerate(nodes):
        n.name = f"n{i}_{n.op_type}"
    feeds = {n: _f32(1, H, T, D) for n in "qkv"}
    return _model(nodes, feeds, ["y"], inits, opset=20), feeds


@pytest.mark.parametrize("T", [90, 91, 128, 512])
def test_sdpa_mask_folds_and_attention_is_recognized(T, tmp_path):
    """At every T (the exporter itself stops folding at T = 91) the mask is
    one constant at import and the whole chain becomes one causal
    kestrel.attention; the compiled library matches onnxruntime to 1e-5."""
    model, feeds = _sdpa_graph(T)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    kestrelc(path, tmp_path / "raw.mlir", "--emit=mlir", "--no-recognize")
    raw = (tmp_path / "raw.mlir").read_text()
    assert "arith.andi" not in raw  # the And nodes folded
    assert f"arith.constant dense" in raw and f"tensor<1x1x{T}x{T}xf32>" in raw
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir")
    text = (tmp_path / "m.mlir").read_text()
    assert text.count("kestrel.attention") == 1 and " causal " in text, text[:2000]
    assert "arith.cmpf uno" not in text
    so = tmp_path / "m.so"
    kestrelc(path, so, "--target=cpu")
    (ours,) = CpuLibrary(so).call("g", *feeds.values())
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)[0]
    assert np.abs(ours - ref).max() <= 1e-5


@pytest.mark.parametrize("arch", ["llama", "qwen3"])
def test_hugging_face_dynamo_export_compiles(arch, tmp_path):
    """A tiny Hugging Face Llama / Qwen3 (2 layers, d 64, 4 query and 2 KV
    heads, seed 0) exported with torch.onnx.export(dynamo=True) and the
    default SDPA attention at T = 128 (past the exporter's folding cliff):
    imports as exported (the And/Where mask folds to a constant), both
    layers' attention becomes a causal GQA kestrel.attention (SDPA's split
    sqrt(scale) factors, flattened K transpose and NaN guard included),
    RMSNorm and RoPE are recognized, and the CPU library matches
    onnxruntime to 1e-4. Needs transformers (skipped otherwise; the ops
    themselves are covered above)."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("onnxscript")
    torch.manual_seed(0)
    kw = dict(vocab_size=128, hidden_size=64, intermediate_size=128,
              num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
              max_position_embeddings=256)
    if arch == "llama":
        model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**kw))
    else:
        model = transformers.Qwen3ForCausalLM(
            transformers.Qwen3Config(head_dim=16, **kw))
    model.eval()

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, ids):
            return self.m(input_ids=ids, use_cache=False).logits

    ids = torch.randint(0, 128, (1, 128))
    path = tmp_path / "m.onnx"
    with torch.no_grad():
        torch.onnx.export(Logits(model), (ids,), str(path), dynamo=True)
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir")
    text = (tmp_path / "m.mlir").read_text()
    for op, n in [("kestrel.rms_norm", 5), ("kestrel.rope", 4)]:
        assert text.count(f"{op} ") >= n, (op, text.count(f"{op} "))
    attention = [line for line in text.splitlines() if "kestrel.attention" in line]
    assert len(attention) == 2, attention
    for line in attention:  # 4 query heads over 2 KV heads, d 16
        assert " causal scale = 2.500000e-01 : tensor<1x4x128x16xf32>, " \
               "tensor<1x2x128x16xf32>, tensor<1x2x128x16xf32>" in line, line
    assert "arith.andi" not in text
    so = tmp_path / "m.so"
    kestrelc(path, so, "--target=cpu")
    feeds = {"ids": ids.numpy()}
    lib = CpuLibrary(so)
    (name,) = lib.manifest.functions
    (ours,) = lib.call(name, ids.numpy())
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                               ).run(None, feeds)[0]
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() <= 1e-4


def test_dynamo_style_graph_with_the_new_ops(tmp_path):
    """One graph chaining the ops the issue lists as the import blockers of
    Mamba2 / GraniteMoeHybrid / DeepSeek-V3 / Qwen3-Next exports (opset 20):
    the sequence padded to a chunk multiple (Pad with the axes input), chunk
    positions by Mod over a Range, OneHot of them, Clip of a softplus'd dt,
    Tile, a top-k-style ScatterElements(add) into a zero tensor and its
    GatherElements, GatherND/ScatterND with constant indices, and a
    NaN/Inf-sanitizing Where(Or(IsNaN, IsInf)). Compiles for the CPU and
    matches onnxruntime to 1e-5."""
    T, D, C = 10, 8, 4
    x = _f32(1, T, D)
    x[0, 3, 2] = np.inf
    x[0, 5, 1] = np.nan
    inits = {
        "pads": _i64(0, 2), "pad_axes": _i64(1), "zero": np.array(0.0, np.float32),
        "start": np.array(0, np.int64), "limit": np.array(T + 2, np.int64),
        "one": np.array(1, np.int64), "chunk": np.array(C, np.int64),
        "depth": np.array(C, np.int64), "onoff": np.array([0.0, 1.0], np.float32),
        "dt_min": np.array(1e-3, np.float32), "dt_max": np.array(0.5, np.float32),
        "reps": _i64(1, 1, 2), "sum_axes": _i64(2),
        "top": np.array([[[0], [3]]] * 1, np.int64).repeat(D, axis=2)[:, :, :],
        "rows": np.array([[0, 1], [0, 7], [0, 11]], np.int64),
        "rows_upd": _f32(3, D),
    }
    nodes = [
        _node("IsNaN", ["x"], ["nan"]), _node("IsInf", ["x"], ["inf"]),
        _node("Or", ["nan", "inf"], ["bad"]),
        _node("Where", ["bad", "zero", "x"], ["xs"]),
        _node("Pad", ["xs", "pads", "", "pad_axes"], ["xp"]),       # [1, 12, D]
        _node("Range", ["start", "limit", "one"], ["pos"]),
        _node("Mod", ["pos", "chunk"], ["cpos"]),
        _node("OneHot", ["cpos", "depth", "onoff"], ["oh"]),         # [12, C]
        _node("Softplus", ["xp"], ["sp"]),
        _node("Clip", ["sp", "dt_min", "dt_max"], ["dt"]),
        _node("Tile", ["dt", "reps"], ["dt2"]),                     # [1, 12, 2D]
        _node("ReduceSum", ["dt2", "sum_axes"], ["dsum"], keepdims=0),  # [1, 12]
        _node("MatMul", ["dsum", "oh"], ["per_chunk"]),              # [1, C]
        _node("GatherND", ["xp", "rows"], ["picked"], batch_dims=0),  # [3, D]
        _node("ScatterND", ["xp", "rows", "rows_upd"], ["xw"], reduction="add"),
        _node("ScatterElements", ["xw", "top", "xw"], ["xt"], axis=1,
              reduction="add"),
        _node("GatherElements", ["xt", "top"], ["g"], axis=1),       # [1, 2, D]
    ]
    # ScatterElements' updates must match the indices' shape: slice them.
    nodes[-2] = _node("ScatterElements", ["xw", "top", "picked2"], ["xt"],
                      axis=1, reduction="add")
    nodes.insert(-2, _node("Slice", ["xw", "s0", "s1", "s_ax"], ["picked2"]))
    inits.update({"s0": _i64(0), "s1": _i64(2), "s_ax": _i64(1)})
    opset = 20
    model = _model(nodes, {"x": x}, ["per_chunk", "picked", "g", "xt"], inits,
                   opset=opset)
    onnx.checker.check_model(model, full_check=True)
    _compile_and_compare(tmp_path, model, {"x": x}, tol=1e-5)
