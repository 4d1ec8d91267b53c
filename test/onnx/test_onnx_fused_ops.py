"""Fused ONNX / com.microsoft ops imported straight to kestrel ops
(lib/Frontend/Onnx/OnnxFusedOps.cpp): SimplifiedLayerNormalization and
SkipSimplifiedLayerNormalization -> kestrel.rms_norm, opset 23 Attention ->
kestrel.attention, opset 23 and com.microsoft RotaryEmbedding -> one
linalg.generic reading the caches, com.microsoft MoE -> kestrel.route +
kestrel.moe.

Each model is built with onnx.helper, imported by kestrelc (the kestrel op
checked with FileCheck on `--emit=mlir`), compiled for the CPU and compared
with onnxruntime's CPU execution provider, which implements these ops
(f32, max abs error <= 1e-5 unless stated). Refused features must fail the
import with a located error naming what is not supported."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kestrel.compiler import CompileError, kestrelc  # noqa: E402
from kestrel.runtime import CpuLibrary  # noqa: E402

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from test_onnx_recognize_blocks import filecheck  # noqa: E402

TOL = 1e-5
RNG = np.random.default_rng(7)


def _rand(*shape, scale=1.0):
    return (scale * RNG.standard_normal(shape)).astype(np.float32)


def _model(node, inputs, outputs, inits=None, opset=23, ms=False):
    """One-node model. inputs: name -> array (graph inputs) ; inits likewise
    (initializers); outputs: names."""
    inits = inits or {}
    vi = []
    for k, v in inputs.items():
        et = helper.np_dtype_to_tensor_dtype(v.dtype)
        vi.append(helper.make_tensor_value_info(k, et, v.shape))
    graph = helper.make_graph(
        [node], "g", vi,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    opsets = [helper.make_opsetid("", opset)]
    if ms:
        opsets.append(helper.make_opsetid("com.microsoft", 1))
    return helper.make_model(graph, opset_imports=opsets, ir_version=10)


def _check(tmp_path, model, feeds, checks=None, tol=TOL, ref_model=None):
    """Imports (FileCheck `checks` on the MLIR), compiles for the CPU, runs
    with `feeds` and compares every graph output with onnxruntime (running
    `ref_model` when given, the same computation spelled as onnxruntime
    registers it)."""
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    if checks:
        kestrelc(path, tmp_path / "m.mlir", "--emit=mlir")
        filecheck((tmp_path / "m.mlir").read_text(), checks, tmp_path)
    so = tmp_path / "m.so"
    kestrelc(path, so, "--target=cpu")
    ours = CpuLibrary(so).g(*feeds.values())
    if not isinstance(ours, (list, tuple)):
        ours = [ours]
    if ref_model is not None:
        path = tmp_path / "ref.onnx"
        onnx.save(ref_model, path)
    refs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]
                                ).run(None, feeds)
    assert len(ours) == len(refs)
    errs = []
    for o, r in zip(ours, refs):
        assert o.shape == r.shape, (o.shape, r.shape)
        errs.append(float(np.abs(o - r).max()))
    assert max(errs) <= tol, errs
    return errs


def _refused(tmp_path, model, *fragments):
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    with pytest.raises(CompileError) as err:
        kestrelc(path, tmp_path / "bad.mlir", "--emit=mlir")
    msg = str(err.value)
    assert "error" in msg and "bad.onnx" in msg, msg  # located at the model
    for f in fragments:
        assert f in msg, msg
    assert not (tmp_path / "bad.mlir").exists() or not (tmp_path / "bad.mlir").read_text()


# --------------------------------------------------------------------------
# SimplifiedLayerNormalization / SkipSimplifiedLayerNormalization
# --------------------------------------------------------------------------


@pytest.mark.parametrize("axis,shape,domain", [
    (-1, (2, 5, 16), ""), (2, (2, 5, 16), "com.microsoft"), (1, (3, 4, 8), "")])
def test_simplified_layer_norm(tmp_path, axis, shape, domain):
    norm = shape[axis:] if axis >= 0 else shape[axis:]
    x, w = _rand(*shape), (1 + 0.1 * _rand(*norm))
    def make(dom):
        node = helper.make_node("SimplifiedLayerNormalization", ["x", "w"], ["y"],
                                name="sln", axis=axis, epsilon=1e-6, domain=dom)
        return _model(node, {"x": x}, ["y"], {"w": w}, ms=bool(dom))
    # onnxruntime registers the op in the default domain only; the
    # com.microsoft spelling (accepted by Kestrel) is checked against it.
    _check(tmp_path, make(domain), {"x": x},
           "CHECK: kestrel.rms_norm\nCHECK-SAME: eps = 9.99999997E-7\n", ref_model=make(""))


@pytest.mark.parametrize("bias,skip_shape,outs", [
    (False, (2, 5, 16), ["y"]),
    (True, (2, 5, 16), ["y", "", "", "sum"]),
    (True, (5, 16), ["y", "", "", "sum"])])
def test_skip_simplified_layer_norm(tmp_path, bias, skip_shape, outs):
    x, skip, w = _rand(2, 5, 16), _rand(*skip_shape), 1 + 0.1 * _rand(16)
    ins = ["x", "skip", "w"] + (["bias"] if bias else [])
    inits = {"w": w}
    if bias:
        inits["bias"] = _rand(16)
    node = helper.make_node("SkipSimplifiedLayerNormalization", ins, outs, name="ssln",
                            epsilon=1e-5, domain="com.microsoft")
    model = _model(node, {"x": x, "skip": skip}, [o for o in outs if o], inits, ms=True)
    _check(tmp_path, model, {"x": x, "skip": skip}, "CHECK: kestrel.rms_norm\n")


def test_skip_simplified_layer_norm_refuses_stats(tmp_path):
    x, w = _rand(2, 5, 16), np.ones(16, np.float32)
    node = helper.make_node("SkipSimplifiedLayerNormalization", ["x", "x", "w"],
                            ["y", "mean", "inv"], name="ssln", domain="com.microsoft")
    _refused(tmp_path, _model(node, {"x": x}, ["y", "mean", "inv"], {"w": w}, ms=True),
             "SkipSimplifiedLayerNormalization 'ssln'", "mean", "inv_std_var",
             "not supported")


def test_simplified_layer_norm_refuses_broadcast_scale(tmp_path):
    x = _rand(2, 5, 16)
    node = helper.make_node("SimplifiedLayerNormalization", ["x", "w"], ["y"], name="sln",
                            axis=1)
    _refused(tmp_path, _model(node, {"x": x}, ["y"], {"w": np.ones(16, np.float32)}),
             "SimplifiedLayerNormalization 'sln'", "normalized shape [5, 16]")


# --------------------------------------------------------------------------
# Attention (opset 23)
# --------------------------------------------------------------------------


def _attention(q, k, v, outs=("y",), extra_inputs=(), inits=None, **attrs):
    ins = ["q", "k", "v", *extra_inputs]
    node = helper.make_node("Attention", ins, list(outs), name="att", **attrs)
    return _model(node, {"q": q, "k": k, "v": v}, [o for o in outs if o], inits)


@pytest.mark.parametrize("case", [
    # (B, Hq, Hkv, T, S, D, Dv, attrs, FileCheck line)
    (2, 4, 4, 8, 8, 16, 16, {}, "CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} :"),
    (2, 4, 4, 8, 8, 16, 16, {"is_causal": 1}, "CHECK: kestrel.attention {{.*}} causal :"),
    (1, 8, 2, 8, 8, 16, 16, {"is_causal": 1},
     "CHECK: kestrel.attention {{.*}} causal : tensor<1x8x8x16xf32>, tensor<1x2x8x16xf32>"),
    (1, 4, 1, 6, 10, 8, 12, {"scale": 0.3},
     "CHECK: kestrel.attention {{.*}} scale = 3.000000e-01 :"),
    (1, 4, 2, 8, 8, 16, 16, {"is_causal": 1, "softcap": 2.0, "scale": 0.5},
     "CHECK: kestrel.attention {{.*}} causal scale = 5.000000e-01 softcap = 2.000000e+00 :"),
], ids=["plain", "causal", "gqa-causal", "mqa-scale-cross", "softcap"])
def test_attention_4d(tmp_path, case):
    B, H, Hkv, T, S, D, Dv, attrs, check = case
    q, k, v = _rand(B, H, T, D), _rand(B, Hkv, S, D), _rand(B, Hkv, S, Dv)
    model = _attention(q, k, v, **attrs)
    _check(tmp_path, model, {"q": q, "k": k, "v": v}, check + "\nCHECK-NOT: linalg.softmax\n")


@pytest.mark.parametrize("H,Hkv,causal", [(4, 4, 0), (6, 2, 1)])
def test_attention_3d(tmp_path, H, Hkv, causal):
    B, T, D = 2, 7, 8
    q, k, v = _rand(B, T, H * D), _rand(B, T, Hkv * D), _rand(B, T, Hkv * D)
    model = _attention(q, k, v, is_causal=causal, q_num_heads=H, kv_num_heads=Hkv)
    _check(tmp_path, model, {"q": q, "k": k, "v": v},
           f"CHECK: kestrel.attention {{{{.*}}}} : tensor<2x{H}x7x8xf32>, "
           f"tensor<2x{Hkv}x7x8xf32>\n")


def test_attention_present_outputs(tmp_path):
    """Without a cache, present_key / present_value are K and V."""
    q, k, v = _rand(1, 4, 5, 8), _rand(1, 2, 5, 8), _rand(1, 2, 5, 8)
    model = _attention(q, k, v, outs=("y", "pk", "pv"), is_causal=1)
    _check(tmp_path, model, {"q": q, "k": k, "v": v}, "CHECK: kestrel.attention\n")


def test_attention_refuses_mask_and_cache(tmp_path):
    q, k, v = _rand(1, 2, 4, 8), _rand(1, 2, 4, 8), _rand(1, 2, 4, 8)
    inits = {"mask": np.zeros((4, 4), np.float32), "pk": _rand(1, 2, 3, 8),
             "pv": _rand(1, 2, 3, 8)}
    model = _attention(q, k, v, outs=("y", "", "", "qk"),
                       extra_inputs=("mask", "pk", "pv"), inits=inits)
    _refused(tmp_path, model, "Attention 'att'", "unsupported input attn_mask",
             "input past_key", "input past_value", "output qk_matmul_output")


@pytest.mark.parametrize("T,S", [(3, 5), (6, 4)])
def test_attention_causal_top_left(tmp_path, T, S):
    """Without a cache ONNX aligns is_causal top-left (s <= t): T < S uses
    the first T keys, T > S splits the queries into a causal and an unmasked
    attention."""
    q, k, v = _rand(1, 4, T, 8), _rand(1, 2, S, 8), _rand(1, 2, S, 8)
    check = ("CHECK: kestrel.attention {{.*}} causal : tensor<1x4x3x8xf32>, tensor<1x2x3x8xf32>\n"
             if T < S else
             "CHECK: kestrel.attention {{.*}} causal : tensor<1x4x4x8xf32>, tensor<1x2x4x8xf32>\n"
             "CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x2x8xf32>\n"
             "CHECK: tensor.insert_slice\n")
    _check(tmp_path, _attention(q, k, v, is_causal=1), {"q": q, "k": k, "v": v}, check)


def test_attention_refuses_bad_heads(tmp_path):
    q, k, v = _rand(1, 3, 4, 8), _rand(1, 2, 4, 8), _rand(1, 2, 4, 8)
    _refused(tmp_path, _attention(q, k, v), "Attention 'att'",
             "3 query heads are not a multiple of 2 KV heads")
    q3 = _rand(1, 4, 24)
    _refused(tmp_path, _attention(q3, q3, q3), "3-D inputs need q_num_heads and kv_num_heads")


# --------------------------------------------------------------------------
# RotaryEmbedding (opset 23 and com.microsoft)
# --------------------------------------------------------------------------


def _caches(max_pos, half, base=10000.0):
    inv = base ** (-np.arange(half, dtype=np.float64) * 2 / (2 * half))
    ang = np.arange(max_pos)[:, None] * inv[None, :]
    return np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)


# Constant caches equal to the standard tables of a base, read by position,
# become kestrel.rope (which recomputes the angles in f32: positions < 32,
# |x| <~ 4, so 1e-5 absolute holds, as for the recognized RoPE of
# test_onnx_recognize_blocks.py); other caches (random values, runtime
# inputs, opset 23 [B, S, R/2] caches) the generic gather form.
ROPE_CHECK = {"table": "CHECK: kestrel.rope\n",
              "generic": "CHECK: func.func @g\nCHECK-NOT: kestrel.rope\nCHECK: linalg.generic\n"}


@pytest.mark.parametrize("rank,interleaved,rot_dim,caches", [
    (4, 0, 0, "table"), (4, 1, 0, "table"), (3, 0, 0, "table"), (3, 1, 8, "table"),
    (4, 0, 0, "random"), (3, 1, 8, "runtime"), (4, 0, 8, "direct"), (4, 1, 0, "direct")])
def test_rotary_embedding_onnx(tmp_path, rank, interleaved, rot_dim, caches):
    B, H, S, D = 2, 3, 5, 16
    R = rot_dim or D
    x = _rand(B, H, S, D) if rank == 4 else _rand(B, S, H * D)
    feeds = {"x": x}
    attrs = {"interleaved": interleaved}
    if rot_dim:
        attrs["rotary_embedding_dim"] = rot_dim
    if rank == 3:
        attrs["num_heads"] = H
    cos, sin = _caches(32, R // 2)
    ins = ["x", "cos", "sin", "pos"]
    if caches == "random":
        cos, sin = _rand(32, R // 2), _rand(32, R // 2)
    if caches == "direct":
        idx = RNG.integers(0, 32, (B, S))
        cos, sin = cos[idx], sin[idx]  # [B, S, R/2]
        ins = ["x", "cos", "sin"]
    else:
        feeds["pos"] = RNG.integers(0, 32, (B, S)).astype(np.int64)
    inits = {"cos": cos, "sin": sin}
    if caches == "runtime":
        feeds.update(inits)
        inits = {}
    node = helper.make_node("RotaryEmbedding", ins, ["y"], name="rope", **attrs)
    model = _model(node, feeds, ["y"], inits)
    _check(tmp_path, model, feeds, ROPE_CHECK["table" if caches == "table" else "generic"])


@pytest.mark.parametrize("rank,interleaved,pos_kind,caches", [
    (3, 0, "ids", "table"), (3, 1, "ids", "table"), (4, 0, "ids", "random"),
    (3, 0, "offset", "table"), (4, 1, "offset", "random"), (4, 0, "const-offset", "table")])
def test_rotary_embedding_microsoft(tmp_path, rank, interleaved, pos_kind, caches):
    B, H, S, D = 2, 2, 6, 8
    x = _rand(B, H, S, D) if rank == 4 else _rand(B, S, H * D)
    cos, sin = _caches(16, D // 2, base=500.0)
    if caches == "random":
        cos, sin = _rand(16, D // 2), _rand(16, D // 2)
    pos = (RNG.integers(0, 10, (B, S)) if pos_kind == "ids"
           else np.array([3])).astype(np.int64)
    attrs = {"interleaved": interleaved}
    if rank == 3:
        attrs["num_heads"] = H
    node = helper.make_node("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"],
                            name="rope", domain="com.microsoft", **attrs)
    feeds, inits = {"x": x}, {"cos": cos, "sin": sin}
    if pos_kind == "const-offset":
        inits["pos"] = pos
    else:
        feeds["pos"] = pos
    model = _model(node, feeds, ["y"], inits, ms=True)
    check = ROPE_CHECK["table" if caches == "table" else "generic"]
    if caches == "table":
        check += "CHECK-SAME: base = 5.000000e+02\n"
        if pos_kind == "const-offset":
            check += "CHECK-SAME: offset = 3\n"
    _check(tmp_path, model, feeds, check)


def test_rotary_embedding_refusals(tmp_path):
    x = _rand(1, 2, 4, 8)
    cos, sin = _caches(8, 4)
    node = helper.make_node("RotaryEmbedding", ["x", "pos", "cos", "sin"], ["y"],
                            name="rope", domain="com.microsoft", is_packed_batching=1)
    model = _model(node, {"x": x, "pos": np.zeros((1, 4), np.int64)}, ["y"],
                   {"cos": cos, "sin": sin}, ms=True)
    _refused(tmp_path, model, "RotaryEmbedding 'rope'", "is_packed_batching is not supported")
    node = helper.make_node("RotaryEmbedding", ["x", "cos", "sin"], ["y"], name="rope",
                            rotary_embedding_dim=6)
    model = _model(node, {"x": x}, ["y"], {"cos": cos, "sin": sin})
    _refused(tmp_path, model, "RotaryEmbedding 'rope'", "last dimension of the caches")


def test_microsoft_only_ops_need_their_domain(tmp_path):
    """SkipSimplifiedLayerNormalization in the default domain is not the
    com.microsoft op: listed as unsupported with its domain."""
    x = _rand(2, 4)
    node = helper.make_node("SkipSimplifiedLayerNormalization", ["x", "x", "w"], ["y"],
                            name="ssln")
    _refused(tmp_path, _model(node, {"x": x}, ["y"], {"w": np.ones(4, np.float32)}),
             "unsupported ONNX operators", "node 'ssln': SkipSimplifiedLayerNormalization "
             "(domain 'ai.onnx'")


# --------------------------------------------------------------------------
# com.microsoft GroupQueryAttention (prefill, no cache) / MultiHeadAttention
# --------------------------------------------------------------------------


def _gqa(q, k, v, seqlens, total, outs=("y",), extra=None, inits=None, **attrs):
    """GroupQueryAttention with inputs query, key, value, past_key (absent),
    past_value (absent), seqlens_k, total_sequence_length [, extra...]."""
    ins = ["q", "k", "v", "", "", "seqlens", "total", *(extra or [])]
    node = helper.make_node("GroupQueryAttention", ins, list(outs), name="gqa",
                            domain="com.microsoft", **attrs)
    feeds = {"q": q, "k": k, "v": v, "seqlens": seqlens}
    inits = dict(inits or {})
    inits["total"] = np.array(total, np.int32)
    return _model(node, feeds, [o for o in outs if o], inits, ms=True), feeds


@pytest.mark.parametrize("H,Hkv,attrs,check", [
    (4, 2, {}, "CHECK: kestrel.attention {{.*}} causal : tensor<2x4x6x8xf32>, tensor<2x2x6x8xf32>"),
    (4, 1, {"scale": 0.25}, "CHECK: kestrel.attention {{.*}} causal scale = 2.500000e-01 :"),
    (2, 2, {"softcap": 3.0}, "CHECK: kestrel.attention {{.*}} causal softcap = 3.000000e+00 :"),
], ids=["gqa", "mqa-scale", "mha-softcap"])
def test_group_query_attention(tmp_path, H, Hkv, attrs, check):
    B, S, D = 2, 6, 8
    q, k, v = _rand(B, S, H * D), _rand(B, S, Hkv * D), _rand(B, S, Hkv * D)
    seqlens = np.full(B, S - 1, np.int32)
    model, feeds = _gqa(q, k, v, seqlens, S, outs=("y", "pk", "pv"), num_heads=H,
                        kv_num_heads=Hkv, **attrs)
    _check(tmp_path, model, feeds, check + "\n")


@pytest.mark.parametrize("interleaved,half,caches,with_pos,D", [
    (0, 8, "table", False, 16), (1, 8, "table", False, 16), (0, 8, "random", False, 32),
    ], ids=["rope", "rope-interleaved", "partial-random-caches"])
def test_group_query_attention_rotary(tmp_path, interleaved, half, caches, with_pos, D):
    """do_rotary: Q and K rotated by the caches (kestrel.rope for standard
    constant tables, the generic form otherwise) before the attention
    (onnxruntime wants head sizes that are multiples of 16 here)."""
    B, S, H, Hkv = 2, 6, 4, 2
    q, k, v = _rand(B, S, H * D), _rand(B, S, Hkv * D), _rand(B, S, Hkv * D)
    cos, sin = _caches(16, half)
    if caches == "random":
        cos, sin = _rand(16, half), _rand(16, half)
    extra, inits = ["cos", "sin"], {"cos": cos, "sin": sin}
    if with_pos:
        extra.append("pos")
        inits["pos"] = np.array([[0, 1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7]], np.int64)
    model, feeds = _gqa(q, k, v, np.full(B, S - 1, np.int32), S, extra=extra, inits=inits,
                        outs=("y", "pk", "pv"), num_heads=H, kv_num_heads=Hkv, do_rotary=1,
                        rotary_interleaved=interleaved)
    check = ("CHECK: kestrel.rope\nCHECK: kestrel.rope\n" if caches == "table"
             else "CHECK-NOT: kestrel.rope\n")
    _check(tmp_path, model, feeds, check + "CHECK: kestrel.attention {{.*}} causal\n")


def test_group_query_attention_padded_rows(tmp_path):
    """Runtime seqlens_k shorter than the sequence (right padding): keys
    s <= seqlens_k[b] only, through key_lengths."""
    B, S, D, H, Hkv = 2, 6, 8, 4, 2
    q, k, v = _rand(B, S, H * D), _rand(B, S, Hkv * D), _rand(B, S, Hkv * D)
    model, feeds = _gqa(q, k, v, np.array([S - 1, 2], np.int32), S, num_heads=H,
                        kv_num_heads=Hkv)
    _check(tmp_path, model, feeds,
           "CHECK: %[[LEN:.*]] = linalg.generic\n"
           "CHECK: kestrel.attention {{.*}} key_lengths(%[[LEN]] : tensor<2xi32>) causal :\n")


def test_group_query_attention_refusals(tmp_path):
    B, S, D = 1, 4, 8
    q, k, v = _rand(B, S, 2 * D), _rand(B, S, D), _rand(B, S, D)
    seqlens = np.full(B, S - 1, np.int32)
    model, _ = _gqa(q, k, v, seqlens, S, extra=["cos", "sin", "", "bias"],
                    inits={"cos": _rand(8, 4), "sin": _rand(8, 4),
                           "bias": np.zeros((1, 1, S, S), np.float32)},
                    num_heads=2, kv_num_heads=1, local_window_size=2, smooth_softmax=1)
    _refused(tmp_path, model, "GroupQueryAttention 'gqa'", "unsupported input cos_cache",
             "input sin_cache", "input attention_bias", "local_window_size",
             "smooth_softmax")
    node = helper.make_node("GroupQueryAttention", ["q", "k", "v", "pk", "pv", "sl", "tot"],
                            ["y"], name="gqa", domain="com.microsoft", num_heads=2,
                            kv_num_heads=1)
    model = _model(node, {"q": q, "k": k, "v": v}, ["y"],
                   {"pk": _rand(1, 1, 2, D), "pv": _rand(1, 1, 2, D), "sl": seqlens,
                    "tot": np.array(S + 2, np.int32)}, ms=True)
    _refused(tmp_path, model, "unsupported input past_key, input past_value")
    # onnxruntime ignores position_ids in this form: not taken unchecked.
    model, _ = _gqa(q, k, v, seqlens, S, extra=["cos", "sin", "pos"],
                    inits={"cos": _rand(8, 4), "sin": _rand(8, 4),
                           "pos": np.zeros((B, S), np.int64)},
                    num_heads=2, kv_num_heads=1, do_rotary=1)
    _refused(tmp_path, model, "unsupported input position_ids")


@pytest.mark.parametrize("T,S,attrs,bias,check", [
    (5, 5, {}, False, "CHECK: kestrel.attention %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x5x8xf32>"),
    (5, 5, {"unidirectional": 1}, True, "CHECK: kestrel.attention {{.*}} causal :"),
    (4, 7, {"scale": 0.2}, True, "CHECK: kestrel.attention {{.*}} scale = 2.000000e-01 :"),
], ids=["plain", "causal-bias", "cross-scale-bias"])
def test_multi_head_attention(tmp_path, T, S, attrs, bias, check):
    B, H, D = 2, 3, 8
    q, k, v = _rand(B, T, H * D), _rand(B, S, H * D), _rand(B, S, H * D)
    ins = ["q", "k", "v"] + (["bias"] if bias else [])
    inits = {"bias": _rand(3 * H * D)} if bias else {}
    node = helper.make_node("MultiHeadAttention", ins, ["y"], name="mha",
                            domain="com.microsoft", num_heads=H, **attrs)
    feeds = {"q": q, "k": k, "v": v}
    _check(tmp_path, _model(node, feeds, ["y"], inits, ms=True), feeds, check + "\n")


def test_multi_head_attention_refusals(tmp_path):
    q = _rand(1, 4, 16)
    node = helper.make_node("MultiHeadAttention", ["q", "q", "q", "", "kpm"], ["y", "", "", "qk"],
                            name="mha", domain="com.microsoft", num_heads=2)
    model = _model(node, {"q": q}, ["y", "qk"], {"kpm": np.ones((1, 4), np.int32)}, ms=True)
    _refused(tmp_path, model, "MultiHeadAttention 'mha'",
             "unsupported input key_padding_mask, output qk")
    node = helper.make_node("MultiHeadAttention", ["q"], ["y"], name="mha",
                            domain="com.microsoft", num_heads=2)
    _refused(tmp_path, _model(node, {"q": q}, ["y"], ms=True),
             "packed QKV (key and value absent)")


# --------------------------------------------------------------------------
# com.microsoft MoE (SwiGLU experts: silu(x fc1) * (x fc3) -> fc2)
# --------------------------------------------------------------------------
# onnxruntime 1.32 stores expert weights [E, out, in] (fc1, fc3 [E, ff, d],
# fc2 [E, d, ff]); its CPU kernel does not run the fc3 form ("FC3 is not
# implemented for CPU MoE"), so the reference is the same experts spelled as
# its CPU kernel runs them: activation_type = swiglu, swiglu_fusion = 1 (fc1
# rows interleaved gate, up), activation_alpha = 1, activation_beta = 0 (no
# limit), which is silu(gate) * up.


def _moe(x, probs, w1, w2, w3, fused=False, **attrs):
    if fused:
        E, ff, d = w1.shape
        w13 = np.empty((E, 2 * ff, d), np.float32)
        w13[:, 0::2], w13[:, 1::2] = w1, w3
        node = helper.make_node("MoE", ["x", "r", "w1", "", "w2"], ["y"], name="moe",
                                domain="com.microsoft", activation_type="swiglu",
                                swiglu_fusion=1, activation_alpha=1.0,
                                activation_beta=0.0, **attrs)
        inits = {"w1": w13, "w2": w2}
    else:
        node = helper.make_node("MoE", ["x", "r", "w1", "", "w2", "", "w3"], ["y"],
                                name="moe", domain="com.microsoft",
                                activation_type="silu", **attrs)
        inits = {"w1": w1, "w2": w2, "w3": w3}
    feeds = {"x": x, "r": probs}
    return _model(node, feeds, ["y"], inits, ms=True), feeds


def _moe_numpy(x, probs, w1, w2, w3, k, normalize):
    """Independent f64 reference: softmax, top-k, gated experts."""
    xf = x.reshape(-1, x.shape[-1]).astype(np.float64)
    p = probs.astype(np.float64)
    s = np.exp(p - p.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    y = np.zeros_like(xf)
    for n in range(xf.shape[0]):
        idx = np.argsort(-s[n], kind="stable")[:k]
        w = s[n, idx] / (s[n, idx].sum() if normalize else 1.0)
        for e, we in zip(idx, w):
            g = xf[n] @ w1[e].T
            y[n] += we * ((g / (1 + np.exp(-g)) * (xf[n] @ w3[e].T)) @ w2[e].T)
    return y.reshape(x.shape)


@pytest.mark.parametrize("shape,k,normalize", [
    ((6, 16), 1, 0), ((6, 16), 2, 0), ((6, 16), 2, 1), ((2, 3, 16), 2, 1),
    ((2, 3, 16), 1, 1)], ids=["k1", "k2", "k2-norm", "3d-k2-norm", "3d-k1-norm"])
def test_moe(tmp_path, shape, k, normalize):
    E, ff = 4, 12
    d = shape[-1]
    n = int(np.prod(shape[:-1]))
    x, probs = _rand(*shape), _rand(n, E)
    w1, w3 = _rand(E, ff, d, scale=0.3), _rand(E, ff, d, scale=0.3)
    w2 = _rand(E, d, ff, scale=0.3)
    model, feeds = _moe(x, probs, w1, w2, w3, k=k, normalize_routing_weights=normalize)
    ref, _ = _moe(x, probs, w1, w2, w3, fused=True, k=k,
                  normalize_routing_weights=normalize)
    flat = f"{n}x{d}xf32"
    checks = (f"CHECK: %[[IDX:.*]], %[[W:.*]] = kestrel.route %{{{{.*}}}} score = softmax "
              f"k = {k}{' renormalize' if normalize else ''} : tensor<{n}x{E}xf32> -> "
              f"tensor<{n}x{k}xi64>, tensor<{n}x{k}xf32>\n"
              f"CHECK: kestrel.moe %{{{{.*}}}}, %[[IDX]], %[[W]] experts(%{{{{.*}}}}, "
              f"%{{{{.*}}}}, %{{{{.*}}}}) : tensor<{flat}>, {{{{.*}}}}, "
              f"tensor<{E}x{d}x{ff}xf32>, tensor<{E}x{d}x{ff}xf32>, "
              f"tensor<{E}x{ff}x{d}xf32> -> tensor<{flat}>\n")
    _check(tmp_path, model, feeds, checks, ref_model=ref)
    # The onnxruntime reference itself agrees with the NumPy definition.
    ort_y = ort.InferenceSession(ref.SerializeToString(),
                                 providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    np.testing.assert_allclose(ort_y, _moe_numpy(x, probs, w1, w2, w3, k, normalize),
                               atol=1e-5, rtol=0)


def _moe_refusal_model(ins, inits, **attrs):
    node = helper.make_node("MoE", ["x", "r", *ins], ["y"], name="moe",
                            domain="com.microsoft", **attrs)
    return _model(node, {"x": _rand(4, 8), "r": _rand(4, 2)}, ["y"], inits, ms=True)


_MOE_W = {"w1": _rand(2, 6, 8), "w2": _rand(2, 8, 6), "w3": _rand(2, 6, 8)}
_MOE_SILU = {"activation_type": "silu", "k": 1}


def test_moe_refuses_biases(tmp_path):
    inits = dict(_MOE_W, b1=_rand(2, 6), b2=_rand(2, 8), b3=_rand(2, 6))
    model = _moe_refusal_model(["w1", "b1", "w2", "b2", "w3", "b3"], inits, **_MOE_SILU)
    _refused(tmp_path, model, "MoE 'moe' (domain 'com.microsoft')",
             "unsupported input fc1_experts_bias, input fc2_experts_bias, "
             "input fc3_experts_bias")


@pytest.mark.parametrize("act", ["relu", "gelu", "identity"])
def test_moe_refuses_other_activations(tmp_path, act):
    model = _moe_refusal_model(["w1", "", "w2", "", "w3"], _MOE_W, activation_type=act, k=1)
    _refused(tmp_path, model, f"unsupported activation_type '{act}'")


def test_moe_refuses_silu_without_fc3(tmp_path):
    model = _moe_refusal_model(["w1", "", "w2"], _MOE_W, **_MOE_SILU)
    _refused(tmp_path, model, "unsupported silu without fc3_experts_weights")


def test_moe_refuses_sparse_mixer(tmp_path):
    model = _moe_refusal_model(["w1", "", "w2", "", "w3"], _MOE_W, use_sparse_mixer=1,
                               **_MOE_SILU)
    _refused(tmp_path, model, "unsupported use_sparse_mixer")


def test_moe_refuses_fused_swiglu(tmp_path):
    """The fused SwiGLU variant (activation parameters, limit) is refused, every
    offending attribute named once."""
    inits = {"w1": _rand(2, 12, 8), "w2": _rand(2, 8, 6)}
    model = _moe_refusal_model(["w1", "", "w2"], inits, activation_type="swiglu",
                               swiglu_fusion=1, activation_alpha=1.702,
                               activation_beta=1.0, swiglu_limit=7.0, k=1)
    _refused(tmp_path, model, "unsupported activation_type 'swiglu', ", "swiglu_fusion",
             "activation_alpha", "activation_beta", "swiglu_limit")


def test_moe_refuses_quantized_and_expert_parallel(tmp_path):
    """Inputs past fc3_experts_bias (quantization scales of later variants) and
    attributes the importer does not know (expert parallelism) are named."""
    inits = dict(_MOE_W, s=_rand(2, 6))
    model = _moe_refusal_model(["w1", "", "w2", "", "w3", "", "s"], inits,
                               local_experts_start_index=1, tensor_shards=2, **_MOE_SILU)
    _refused(tmp_path, model, "unsupported input 8, ", "local_experts_start_index",
             "tensor_shards")


def test_moe_refuses_bad_shapes(tmp_path):
    inits = dict(_MOE_W, w1=_rand(2, 8, 6))  # [E, hidden, inter]: not ORT's layout
    model = _moe_refusal_model(["w1", "", "w2", "", "w3"], inits, **_MOE_SILU)
    _refused(tmp_path, model, "MoE 'moe'", "must be [E, inter, hidden] = [2, 6, 8]")
    model = _moe_refusal_model(["w1", "", "w2", "", "w3"], _MOE_W, activation_type="silu",
                               k=3)
    _refused(tmp_path, model, "k = 3 must be in [1, 2]")


def test_moe_needs_microsoft_domain(tmp_path):
    node = helper.make_node("MoE", ["x", "r", "w1", "", "w2", "", "w3"], ["y"], name="moe",
                            activation_type="silu")
    model = _model(node, {"x": _rand(4, 8), "r": _rand(4, 2)}, ["y"], _MOE_W)
    _refused(tmp_path, model, "unsupported ONNX operators",
             "node 'moe': MoE (domain 'ai.onnx'")


def test_moe_runtime_weights(tmp_path):
    """Expert weights given as graph inputs are transposed at run time; checked
    against the NumPy definition (onnxruntime's CPU kernel needs the fused
    form, whose weights would be different inputs)."""
    E, ff, d, n, k = 3, 10, 8, 5, 2
    x, probs = _rand(n, d), _rand(n, E)
    w1, w3, w2 = _rand(E, ff, d, scale=0.3), _rand(E, ff, d, scale=0.3), _rand(E, d, ff, scale=0.3)
    node = helper.make_node("MoE", ["x", "r", "w1", "", "w2", "", "w3"], ["y"], name="moe",
                            domain="com.microsoft", activation_type="silu", k=k,
                            normalize_routing_weights=1)
    feeds = {"x": x, "r": probs, "w1": w1, "w2": w2, "w3": w3}
    path = tmp_path / "m.onnx"
    onnx.save(_model(node, feeds, ["y"], ms=True), path)
    kestrelc(path, tmp_path / "m.mlir", "--emit=mlir")
    filecheck((tmp_path / "m.mlir").read_text(),
              "CHECK: kestrel.route\nCHECK: kestrel.moe\n", tmp_path)
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    ours = CpuLibrary(tmp_path / "m.so").g(*feeds.values())
    if isinstance(ours, (list, tuple)):
        (ours,) = ours
    assert ours.shape == (n, d)
    np.testing.assert_allclose(ours, _moe_numpy(x, probs, w1, w2, w3, k, True),
                               atol=1e-5, rtol=0)


def test_moe_f16(tmp_path):
    """f16 input, router logits and expert weights: one rounding of an f32
    computation, checked against the NumPy definition on the f16 values
    (tolerance 2e-3: an f16 ulp at the outputs' magnitude, about 2)."""
    E, ff, d, n, k = 4, 12, 16, 6, 2
    x, probs = _rand(n, d).astype(np.float16), _rand(n, E).astype(np.float16)
    w1, w3, w2 = (_rand(*s, scale=0.3).astype(np.float16)
                  for s in [(E, ff, d), (E, ff, d), (E, d, ff)])
    model, feeds = _moe(x, probs, w1, w2, w3, k=k, normalize_routing_weights=1)
    model.graph.output[0].type.tensor_type.elem_type = TensorProto.FLOAT16
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    kestrelc(path, tmp_path / "m.so", "--target=cpu")
    ours = CpuLibrary(tmp_path / "m.so").g(*feeds.values())
    if isinstance(ours, (list, tuple)):
        (ours,) = ours
    assert ours.dtype == np.float16 and ours.shape == (n, d)
    f32 = [a.astype(np.float32) for a in (x, probs, w1, w2, w3)]
    np.testing.assert_allclose(ours.astype(np.float64), _moe_numpy(*f32, k, True),
                               atol=2e-3, rtol=0)
