"""The gated delta rule as Hugging Face's CPU path computes it
(`torch_chunk_gated_delta_rule`, the linear attention of Qwen3-Next's
Gated DeltaNet: chunks of L tokens, the UT transform by forward
substitution unrolled into L - 1 row updates, a scan over the chunks),
exported with torch.onnx (dynamo), must import as one
kestrel.gated_recurrence with gate gated_delta
(lib/Frontend/Onnx/OnnxChunkedDelta.cpp) and compute what a sequential
NumPy recurrence and onnxruntime compute.

test/onnx/models/gated_delta_chunked.onnx (export_chunked_delta.py: b 1,
T 20 in 3 chunks of 8, Hk 1, Hv 2, Dk = Dv = 8) is committed and checked
without torch, as are edits of it that change what it computes (each must
stay generic and still match onnxruntime); other shapes, HF's default
chunk of 64 among them, are exported here when torch and transformers are
installed (skipped otherwise, not counted as passing)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from recognized_forms import (REPO, add_output,  # noqa: E402
                              constants_as_nodes, edited, emit_mlir,
                              run_both, set_constant)

try:
    import torch
    from export_chunked_delta import ChunkedGatedDelta, export
except ImportError:  # torch or transformers missing
    torch = None
needs_torch = pytest.mark.skipif(
    torch is None, reason="torch or transformers is not installed")
COMMITTED = REPO / "test/onnx/models/gated_delta_chunked.onnx"
NAMES = ["q", "k", "v", "g", "beta"]


def _inputs(b, T, Hk, Hv, Dk, Dv, seed=4):
    rng = np.random.default_rng(seed)
    f = np.float32
    return [rng.standard_normal((b, T, Hk, Dk)).astype(f),
            rng.standard_normal((b, T, Hk, Dk)).astype(f),
            rng.standard_normal((b, T, Hv, Dv)).astype(f),
            -np.log1p(np.exp(rng.standard_normal((b, T, Hv)))).astype(f),
            (1 / (1 + np.exp(-rng.standard_normal((b, T, Hv))))).astype(f)]


def _reference(q, k, v, g, beta):
    """One token at a time in float64: q and k L2-normalized (eps 1e-6),
    q scaled by Dk^-1/2, value head h reading query/key head h // (Hv/Hk);
    S = e^g S, S += beta k^T (v - k S), o = q S."""
    q, k, v, g, beta = (np.asarray(t, np.float64) for t in (q, k, v, g, beta))
    b, T, Hk, Dk = q.shape
    Hv, Dv = v.shape[2:]
    norm = lambda x: x / np.sqrt((x * x).sum(-1, keepdims=True) + 1e-6)
    q, k = norm(q) * Dk ** -0.5, norm(k)
    o = np.zeros((b, T, Hv, Dv))
    for n in range(b):
        for h in range(Hv):
            j = h // (Hv // Hk)
            S = np.zeros((Dk, Dv))
            for t in range(T):
                S = np.exp(g[n, t, h]) * S
                S = S + beta[n, t, h] * np.outer(k[n, t, j],
                                                 v[n, t, h] - k[n, t, j] @ S)
                o[n, t, h] = q[n, t, j] @ S
    return o


def _run(tmp_path, path, arrays):
    return run_both(tmp_path, path, dict(zip(NAMES, arrays)))


def _check_recognized(tmp_path, path, shape):
    b, T, Hk, Hv, Dk, Dv, L = shape
    text = emit_mlir(tmp_path, path)
    assert text.count("kestrel.gated_recurrence ") == 1, text
    c = -(-T // L)
    # Over the padded tokens, heads before time, no initial state.
    assert "gate = gated_delta log_gate(" in text
    assert "beta(%" in text and f": tensor<{b}x{Hv}x{c * L}xf32>)" in text
    assert "initial_state" not in text
    # None of the row updates is left: the generic ops are the producers'
    # (normalization, padding, layout), a fraction of the form's.
    generic = emit_mlir(tmp_path, path, "--no-recognize").count("linalg.generic")
    assert text.count("linalg.generic") * 4 < generic, (text, generic)
    arrays = _inputs(b, T, Hk, Hv, Dk, Dv)
    ours, ref = _run(tmp_path, path, arrays)
    exact = _reference(*arrays)
    scale = max(1.0, float(np.abs(exact).max()))
    # f32 against float64 over at most 70 steps: 1e-4 of the output's
    # magnitude for both (observed ~1e-7).
    assert np.abs(ref[0] - exact).max() <= 1e-4 * scale
    assert np.abs(ours[0] - exact).max() <= 1e-4 * scale, \
        (np.abs(ours[0] - exact).max(), scale)


def test_committed_model(tmp_path):
    _check_recognized(tmp_path, COMMITTED, (1, 20, 1, 2, 8, 8, 8))


def test_constants_as_nodes(tmp_path):
    """The same form with its constants as Constant nodes (TorchScript's
    way) instead of initializers."""
    _check_recognized(tmp_path, edited(tmp_path, COMMITTED, constants_as_nodes),
                      (1, 20, 1, 2, 8, 8, 8))


# (b, T, Hk, Hv, Dk, Dv, chunk): T a multiple of the chunk with Dk != Dv
# and two batch rows; ragged T in one chunk; HF's default chunk of 64 (63
# row updates) over two chunks with grouped heads.
SHAPES = [(2, 16, 2, 2, 8, 16, 8), (1, 5, 1, 1, 4, 4, 8),
          (1, 70, 1, 2, 8, 8, 64)]


@needs_torch
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_exported_shapes(tmp_path, shape):
    b, T, Hk, Hv, Dk, Dv, L = shape
    example = tuple(torch.from_numpy(a) for a in _inputs(b, T, Hk, Hv, Dk, Dv))
    path = export(ChunkedGatedDelta(L).eval(), example, tmp_path / "d.onnx")
    _check_recognized(tmp_path, path, shape)


def _first(graph, op):
    return next(n for n in graph.node if n.op_type == op)


def _trilu_keeps_diagonal(graph):
    set_constant(graph, _first(graph, "Trilu"), 1, np.array(0, np.int64))


def _row_update_writes_another_row(graph):
    # The second row update (row 2) writes row 3 instead.
    scatter = [n for n in graph.node if n.op_type == "ScatterElements"][1]
    init = {t.name: t for t in graph.initializer}
    idx = onnx.numpy_helper.to_array(init[scatter.input[1]])
    set_constant(graph, scatter, 1, np.full_like(idx, 3))


def _identity_doubled(graph):
    add = next(n for n in graph.node if n.op_type == "Add" and
               any(t.name in n.input and len(t.dims) == 2
                   for t in graph.initializer))
    i = next(i for i, name in enumerate(add.input)
             if name in {t.name for t in graph.initializer})
    L = 8
    set_constant(graph, add, i, (2 * np.eye(L)).astype(np.float32))


def _output_larger_than_the_writes(graph):
    # O starts as [1, 2, 4, 8, 8]: the three chunk writes leave chunk 3 as
    # it was (here read by nobody: the result is the same, but the form's
    # output is not what the recurrence gives).
    first_write = next(n for n in graph.node if n.op_type == "ScatterElements"
                       and any(a.name == "axis" and a.i == 2
                               for a in n.attribute))
    set_constant(graph, first_write, 0, np.zeros((1, 2, 4, 8, 8), np.float32))
    reshape = next(n for n in graph.node if n.op_type == "Reshape"
                   and n.input[0] == "select_scatter_9")
    set_constant(graph, reshape, 1, np.array([1, 2, 32, 8], np.int64))


def _intermediate_read_outside(graph):
    # The UT transform's result becomes a second graph output.
    add = next(n for n in graph.node if n.op_type == "Add" and
               any(t.name in n.input and len(t.dims) == 2
                   for t in graph.initializer))
    add_output(graph, add.output[0])


@pytest.mark.parametrize("edit", [_trilu_keeps_diagonal,
                                  _row_update_writes_another_row,
                                  _identity_doubled,
                                  _output_larger_than_the_writes,
                                  _intermediate_read_outside],
                         ids=lambda f: f.__name__.strip("_"))
def test_edits_stay_generic(tmp_path, edit):
    """Each edit changes what the graph computes (or needs a value of its
    interior): not the rule; imported node by node, what onnxruntime
    computes."""
    path = edited(tmp_path, COMMITTED, edit)
    assert "kestrel.gated_recurrence" not in emit_mlir(tmp_path, path)
    arrays = _inputs(1, 20, 1, 2, 8, 8)
    ours, ref = _run(tmp_path, path, arrays)
    assert len(ours) == len(ref)
    for o, r in zip(ours, ref):
        assert np.abs(o - r).max() <= 1e-5 * max(1.0, float(np.abs(r).max()))
    if edit not in (_intermediate_read_outside, _output_larger_than_the_writes):
        # The edit matters: the result is not the rule's.
        exact = _reference(*arrays)
        assert np.abs(ref[0] - exact).max() > 1e-3


def test_no_recognize_keeps_the_nodes(tmp_path):
    text = emit_mlir(tmp_path, COMMITTED, "--no-recognize")
    assert "kestrel.gated_recurrence" not in text
    assert text.count("linalg.generic") > 20
